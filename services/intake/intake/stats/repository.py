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

from sqlalchemy import ColumnElement, Select, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from intake.reports.models import Feedback, Report, ReportDepartment, ReportTicket

INACTIVE = ("transferred", "cancelled")
DISPOSED = ("resolved", "closed")
MEDIATION = "mediation"


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
        t = ReportTicket
        active = t.status.not_in(INACTIVE)
        columns: list[Any] = []
        for clock in ("acknowledge", "start", "resolve"):
            on_time, due = getattr(t, f"{clock}_on_time"), getattr(t, f"{clock}_due_at")
            columns += [func.count().filter(on_time.is_(True)), func.count().filter(on_time.is_(False)),
                        func.count().filter(and_(on_time.is_(None), due < now, active))]
        query = _tickets(select(t.department, t.priority, t.status, func.count(), *columns), w).group_by(
            t.department, t.priority, t.status)
        groups = []
        for row in (await self.session.execute(query)).all():
            values = [int(v or 0) for v in row[3:]]
            clocks = {clock: (values[1 + 3 * i], values[2 + 3 * i], values[3 + 3 * i])
                      for i, clock in enumerate(("acknowledge", "start", "resolve"))}
            groups.append(TicketGroup(row[0], row[1], row[2], values[0], clocks))
        return groups

    async def durations(self, w: Window, column_name: str) -> tuple[int, float | None, float | None]:
        """(count, median, p90) of a ticket duration column (``acknowledge_s`` or ``resolve_s``), in seconds."""
        col = getattr(ReportTicket, column_name)
        if self.postgres:
            row = (await self.session.execute(_tickets(select(
                func.count(col), func.percentile_cont(0.5).within_group(col),
                func.percentile_cont(0.9).within_group(col)), w))).one()
            return int(row[0]), _float(row[1]), _float(row[2])
        count = int(await self.session.scalar(_tickets(select(func.count(col)), w)) or 0)
        return count, await self._percentile_sqlite(col, w, count, 0.5), await self._percentile_sqlite(col, w, count, 0.9)

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

    async def mediation_outcomes(self, w: Window) -> tuple[int, dict[str, int]]:
        t = ReportTicket
        if w.department not in (None, MEDIATION):
            return 0, {}
        rows = (await self.session.execute(_tickets(select(t.outcome, func.count()), Window(w.start, w.end, MEDIATION))
                                           .group_by(t.outcome))).all()
        return sum(int(n) for _, n in rows), {str(o): int(n) for o, n in rows if o is not None}

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
