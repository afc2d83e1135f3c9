"""The statistics as CSV: one flat table, one figure per row.

Columns ``metric,department,priority,clock,key,value``; a dimension that does not apply is empty. ``department``
is empty for centre-wide figures (when the request named a department, every figure is already limited to it and
the ``department`` row says which). ``key`` is a ticket state, a mediation outcome or a satisfaction answer.
Rates are fractions (0–1), durations seconds; a rate or percentile with nothing to measure is an empty value.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from intake.stats.schemas import CLOCKS, ClockStats, OnTime, Stats

COLUMNS = ("metric", "department", "priority", "clock", "key", "value")
SCALARS = ("received", "police", "non_police", "unrouted", "diverted_from_police_line", "joint", "disposed",
           "disposal_rate", "satisfaction_rate", "reopened", "reopen_rate")


def to_csv(stats: Stats) -> str:
    rows: list[tuple[Any, ...]] = []

    def add(metric: str, value: Any, department: str | None = None, priority: str | None = None,
            clock: str | None = None, key: str | None = None) -> None:
        rows.append((metric, department or "", priority or "", clock or "", key or "",
                     "" if value is None else value.isoformat() if hasattr(value, "isoformat") else value))

    add("from", stats.from_)
    add("to", stats.to)
    add("department", stats.department)
    add("generated_at", stats.generated_at)
    for name in SCALARS:
        add(name, getattr(stats, name))
    add("tickets", stats.tickets.total)
    for state, n in stats.tickets.by_state.items():
        add("tickets", n, key=state)
    for dept in stats.tickets.by_department:
        for state, n in dept.by_state.items():
            add("tickets", n, department=dept.department, key=state)

    def clocks(on_time: OnTime, department: str | None = None, priority: str | None = None) -> None:
        for clock in CLOCKS:
            c: ClockStats = getattr(on_time, clock)
            for field in ("on_time", "late", "overdue"):
                add(f"on_time.{field}", getattr(c, field), department, priority, clock)
            add("on_time.rate", c.rate, department, priority, clock)

    clocks(stats.on_time)
    for group in stats.on_time_by_department:
        clocks(group, group.department, group.priority or "none")
    for name in ("time_to_acknowledge", "time_to_resolve"):
        d = getattr(stats, name)
        add(f"{name}.count", d.count)
        add(f"{name}.median_s", d.median_s)
        add(f"{name}.p90_s", d.p90_s)
        add(f"{name}.estimated", str(d.estimated).lower())
    add("mediation.tickets", stats.mediation.tickets)
    for outcome, n in stats.mediation.outcomes.items():
        add("mediation.outcome", n, key=outcome)
    add("feedback.count", stats.feedback.count)
    for answer in ("satisfied", "basically_satisfied", "dissatisfied"):
        add("feedback", getattr(stats.feedback, answer), key=answer)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()
