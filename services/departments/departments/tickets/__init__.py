"""Tickets: one department's work on one report, its lifecycle and its hash-chained audit trail."""
