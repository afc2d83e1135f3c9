"""The linkage centre's statistics: who may see which department, and the figures from the stored projection."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intake.query import as_utc, check_department, check_range
from intake.stats.repository import MEDIATION, StatsRepository, TicketGroup, Window
from intake.stats.schemas import (
    CLOCKS, ClockStats, DepartmentTickets, Durations, FeedbackStats, Mediation, OnTime, OnTimeGroup, Stats, Tickets,
)
from shared.db import utcnow
from shared.identity import Principal
from shared.problems import Forbidden
from shared.registry import Registry

CENTRE_ROLES = frozenset({"centre_operator", "admin"})
PRIORITY_ORDER = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


def scope(principal: Principal, department: str | None, registry: Registry) -> str | None:
    """The department a principal's statistics cover: centre operators and admins any (or all); a department
    supervisor only their own (no ``department`` means theirs); nobody else."""
    check_department(department, registry)
    if principal.role in CENTRE_ROLES:
        return department
    if principal.role == "department_supervisor" and principal.department:
        if department is not None and department != principal.department:
            raise Forbidden(f"A supervisor of {principal.department} sees only {principal.department}'s statistics.")
        return principal.department
    raise Forbidden(f"Role {principal.role} may not see the statistics.")


def window(start: datetime | None, end: datetime | None, now: datetime, department: str | None) -> Window:
    start, end = as_utc(start), as_utc(end) or now
    check_range(start, end, start_field="from", end_field="to")
    return Window(start, end, department)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _durations(count: int, median: float | None, p90: float | None, estimated: bool) -> Durations:
    """Rounded to milliseconds (the backends' float arithmetic differs in the last digits)."""
    return Durations(count=count, median_s=None if median is None else round(median, 3),
                     p90_s=None if p90 is None else round(p90, 3), estimated=estimated)


def _clock(on_time: int, late: int, overdue: int) -> ClockStats:
    return ClockStats(on_time=on_time, late=late, overdue=overdue, rate=_rate(on_time, on_time + late + overdue))


def _on_time(groups: list[TicketGroup]) -> OnTime:
    sums = {c: [sum(g.clocks[c][i] for g in groups) for i in range(3)] for c in CLOCKS}
    return OnTime(**{c: _clock(*sums[c]) for c in CLOCKS})


class StatsService:
    def __init__(self, session: AsyncSession, registry: Registry) -> None:
        self.stats = StatsRepository(session)
        self.registry = registry

    async def compute(self, principal: Principal, start: datetime | None, end: datetime | None,
                      department: str | None) -> Stats:
        department = scope(principal, department, self.registry)
        now = utcnow()
        w = window(start, end, now, department)
        await self.stats.prepare()
        reports = await self.stats.report_counts(w)
        groups = await self.stats.ticket_groups(w, now)
        acknowledged, resolved = sum(g.acknowledged for g in groups), sum(g.resolved for g in groups)
        pct = await self.stats.percentiles(w, {"acknowledge_s": acknowledged, "resolve_s": resolved})
        ack, res = (acknowledged, *pct["acknowledge_s"]), (resolved, *pct["resolve_s"])
        feedback = await self.stats.feedback_counts(w)

        mediation = [g for g in groups if g.department == MEDIATION]
        outcomes: dict[str, int] = defaultdict(int)
        for g in mediation:
            if g.outcome is not None:
                outcomes[g.outcome] += g.count
        by_department: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        by_state: dict[str, int] = defaultdict(int)
        per_group: dict[tuple[str, str | None], list[TicketGroup]] = defaultdict(list)
        for g in groups:
            by_department[g.department][g.state] += g.count
            by_state[g.state] += g.count
            per_group[(g.department, g.priority)].append(g)
        tickets = Tickets(total=sum(by_state.values()), by_state=dict(sorted(by_state.items())), by_department=[
            DepartmentTickets(department=d, total=sum(states.values()), by_state=dict(sorted(states.items())))
            for d, states in sorted(by_department.items())])
        on_time_groups = [OnTimeGroup(department=d, priority=p, **_on_time(gs).model_dump())  # type: ignore[arg-type]
                          for (d, p), gs in sorted(per_group.items(),
                                                   key=lambda kv: (kv[0][0], PRIORITY_ORDER.get(kv[0][1] or "", 9)))]
        count = sum(feedback.values())
        satisfied = feedback.get("satisfied", 0) + feedback.get("basically_satisfied", 0)
        return Stats(
            from_=w.start, to=w.end, department=department, generated_at=now,
            received=reports.received, police=reports.police, non_police=reports.non_police,
            unrouted=reports.received - reports.police - reports.non_police,
            diverted_from_police_line=reports.diverted_from_police_line, joint=reports.joint,
            disposed=reports.disposed, disposal_rate=_rate(reports.disposed, reports.received),
            tickets=tickets, on_time=_on_time(groups), on_time_by_department=on_time_groups,
            time_to_acknowledge=_durations(*ack), time_to_resolve=_durations(*res),
            mediation=Mediation(tickets=sum(g.count for g in mediation), outcomes=dict(sorted(outcomes.items()))),
            feedback=FeedbackStats(count=count, satisfied=feedback.get("satisfied", 0),
                                   basically_satisfied=feedback.get("basically_satisfied", 0),
                                   dissatisfied=feedback.get("dissatisfied", 0)),
            satisfaction_rate=_rate(satisfied, count),
            reopened=reports.reopened, reopen_rate=_rate(reports.reopened, reports.ever_disposed))
