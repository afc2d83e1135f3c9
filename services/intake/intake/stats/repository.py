"""The statistics' SQL: a handful of aggregate queries over intake's own projection of reports, tickets and
call-backs, each one scan of its table filtered by the received-time window (and department).

Every figure is about the reports *received* in the window: ``reports.created_at`` (index
``ix_reports_created_at_id``), and for tickets and call-backs the report's received time copied onto their rows
(``report_tickets.report_received_at``, ``feedback.report_received_at``) so that no query needs a join to filter by
time. Percentiles are ``percentile_cont`` on PostgreSQL; SQLite has no such aggregate, so there they are read with
two ordered ``LIMIT 2 OFFSET k`` lookups and interpolated the same way (identical results).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select, tablesample, text
from sqlalchemy.ext.asyncio import AsyncSession

from intake.reports.models import Feedback, Report, ReportDepartment, ReportTicket

OPEN_STATES = ("new", "acknowledged", "in_progress", "reopened")  # only these can be overdue
DISPOSED = ("resolved", "closed")
MEDIATION = "mediation"
EXACT_LIMIT = 100_000  # percentiles over more values than this are estimated from a sample (PostgreSQL)
SAMPLE_SEED = 7


@dataclass(frozen=True)
class Window:
    start: datetime | None
    end: datetime
    department: str | None = None


@dataclass(frozen=True)
class ReportCounts:
    received: int
    police: int
    non_police: int
    diverted_from_police_line: int
    joint: int
    disposed: int
    ever_disposed: int
    reopened: int


@dataclass(frozen=True)
class TicketGroup:
    """Tickets of one (department, priority, state): their count and, per clock, on time / late / overdue."""

    department: str
    priority: str | None
    state: str
    count: int
    clocks: dict[str, tuple[int, int, int]]
    acknowledged: int = 0  # tickets with an acknowledge duration
    resolved: int = 0  # tickets with a resolve duration
    outcome: str | None = None  # the resolution outcome (kept for mediation tickets only)


class StatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.postgres = session.bind.dialect.name == "postgresql"

    async def prepare(self) -> None:
        """Give this transaction's sorts (the percentiles) enough memory to stay off disk on PostgreSQL."""
        if self.postgres:
            await self.session.execute(text("SET LOCAL work_mem = '64MB'"))

    async def report_counts(self, w: Window) -> ReportCounts:
        r = Report
        query = select(
            func.count(),
            func.count().filter(r.police.is_(True)),
            func.count().filter(r.police.is_(False)),
            func.count().filter(and_(r.police.is_(False), r.channel == "phone_110")),
            func.count().filter(r.joint.is_(True)),
            func.count().filter(r.status.in_(DISPOSED)),
            func.count().filter(r.resolved_at.is_not(None)),
            func.count().filter(r.reopen_count > 0),
        ).select_from(r).where(*_between(r.created_at, w))
        if w.department:
            query = query.where(r.id.in_(select(ReportDepartment.report_id)
                                         .where(ReportDepartment.department == w.department)))
        row = (await self.session.execute(query)).one()
        return ReportCounts(*(int(v or 0) for v in row))

    async def ticket_groups(self, w: Window, now: datetime) -> list[TicketGroup]:
        """One scan: tickets per (department, priority, state, and for mediation outcome) with their clocks' on
        time / late / overdue counts and how many have an acknowledge and a resolve duration."""
        t = ReportTicket
        columns: list[Any] = [func.count(), func.count(t.acknowledge_s), func.count(t.resolve_s)]
        for clock in ("acknowledge", "start", "resolve"):
            on_time, due = getattr(t, f"{clock}_on_time"), getattr(t, f"{clock}_due_at")
            columns += [func.count().filter(on_time.is_(True)), func.count().filter(on_time.is_(False)),
                        func.count().filter(and_(on_time.is_(None), due < now))]
        # the outcome only for mediation tickets (others' outcomes would only multiply the groups)
        outcome = case((t.department == MEDIATION, t.outcome), else_=None).label("outcome")
        query = _tickets(select(t.department, t.priority, t.status, outcome, *columns), w).group_by(
            t.department, t.priority, t.status, outcome)
        groups = []
        for row in (await self.session.execute(query)).all():
            department, priority, state, outcome_code, count, acknowledged, resolved, *values = row
            open_ = state in OPEN_STATES  # a resolved, closed, transferred or cancelled ticket is not overdue
            clocks = {clock: (int(values[3 * i]), int(values[3 * i + 1]), int(values[3 * i + 2]) if open_ else 0)
                      for i, clock in enumerate(("acknowledge", "start", "resolve"))}
            groups.append(TicketGroup(department, priority, state, int(count), clocks, int(acknowledged),
                                      int(resolved), outcome_code))
        return groups

    async def percentiles(self, w: Window, counts: dict[str, int]) -> dict[str, tuple[float | None, float | None, bool]]:
        """(median, p90, estimated) of ticket duration columns (``acknowledge_s``, ``resolve_s``) over the tickets
        of the window that have one; ``counts`` says how many have each.

        Exact up to :data:`EXACT_LIMIT` values, in one query (one pass over the window's rows). Beyond, on
        PostgreSQL, they are estimated from a random sample of table blocks (``TABLESAMPLE SYSTEM … REPEATABLE``,
        sized for about :data:`EXACT_LIMIT` values, the same blocks on every call): sorting a million values is
        what made the full-range statistics slow."""
        result: dict[str, tuple[float | None, float | None, bool]] = {name: (None, None, False) for name in counts}
        measured = [name for name, n in counts.items() if n]
        if not measured:
            return result
        if not self.postgres:
            for name in measured:
                col = getattr(ReportTicket, name)
                result[name] = (await self._percentile_sqlite(col, w, counts[name], 0.5),
                                await self._percentile_sqlite(col, w, counts[name], 0.9), False)
            return result
        largest = max(counts[name] for name in measured)
        estimated = largest > EXACT_LIMIT
        table: Any = ReportTicket.__table__
        if estimated:
            table = tablesample(table, func.system(100.0 * EXACT_LIMIT / largest), name="sample",
                                seed=literal(SAMPLE_SEED))
        columns: list[Any] = []
        for name in measured:
            columns += [func.percentile_cont(0.5).within_group(table.c[name]),
                        func.percentile_cont(0.9).within_group(table.c[name])]
        query = select(*columns).select_from(table).where(*_between(table.c.report_received_at, w))
        if w.department:
            query = query.where(table.c.department == w.department)
        row = (await self.session.execute(query)).one()
        for i, name in enumerate(measured):
            result[name] = (_float(row[2 * i]), _float(row[2 * i + 1]), estimated)
        return result

    async def _percentile_sqlite(self, col: Any, w: Window, count: int, p: float) -> float | None:
        """``percentile_cont`` semantics: linear interpolation between the two ranks around p·(count − 1)."""
        if count == 0:
            return None
        position = p * (count - 1)
        low = math.floor(position)
        values = list((await self.session.scalars(_tickets(select(col), w).where(col.is_not(None))
                                                  .order_by(col).offset(low).limit(2))).all())
        if len(values) == 1 or position == low:
            return float(values[0])
        return float(values[0] + (values[1] - values[0]) * (position - low))

    async def feedback_counts(self, w: Window) -> dict[str, int]:
        f = Feedback
        query = select(f.satisfaction, func.count()).where(*_between(f.report_received_at, w)).group_by(
            f.satisfaction)
        if w.department:
            query = query.where(f.lead_department == w.department)
        return {str(s): int(n) for s, n in (await self.session.execute(query)).all()}


def _between(column: Any, w: Window) -> list[ColumnElement[bool]]:
    conditions = [column < w.end]
    if w.start is not None:
        conditions.append(column >= w.start)
    return conditions


def _tickets(query: Select[Any], w: Window) -> Select[Any]:
    query = query.select_from(ReportTicket).where(*_between(ReportTicket.report_received_at, w))
    if w.department:
        query = query.where(ReportTicket.department == w.department)
    return query


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
