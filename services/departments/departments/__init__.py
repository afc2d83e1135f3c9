"""Linkage departments: the tickets each city department works on, from dispatch to close, with a tamper-evident
audit trail."""
