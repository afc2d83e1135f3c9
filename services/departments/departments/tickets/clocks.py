"""Service-level clocks and escalation levels: pure domain code, no I/O.

Every ticket carries three clocks — **acknowledge**, **start** (handling) and **resolve**, the counterparts of
Zammad's first-response, update and close escalation times — each a due time computed
from the ticket's priority: the centre's targets (:data:`CENTRE_TARGETS`, from ``shared/departments.md``) unless the
department registry overrides them for that department (``[departments.sla.P1] acknowledge = 60, start_handling =
180, resolve = 86400``), times ``LINKAGE_SLA_SCALE``.

**Origin: the caller's wait counts.** The three targets are measured from when intake received the report
(``received_at``), not from when the ticket reached the department ("1 minute to see police, 3 minutes to respond"
are minutes of the caller's wait). Exception: a ticket dispatched *later* than the report's first routing (a
re-route after another department refused the matter, ``attempt > 1``, or an assisting department the lead added)
starts its clocks at its own ``dispatched_at``: that department could not have acted earlier, and the delay
before it stays on the record of the department that refused (its ticket's clocks).

**Reopen** (the caller is not satisfied, or the department reopens): the resolve clock restarts from the reopen
time with the full resolve target; ``resolved_at``/``resolve_on_time`` go back to ``null`` and a new escalation
*round* begins, so the new resolve deadline can escalate again. The acknowledge and start clocks keep their history.

**Escalation**: a clock whose step is not done by its due time escalates to level 1 (the department's supervisors);
still not done ``level2_after`` later (scaled), to level 2 (the linkage centre). Each (clock, round, level) happens
once. A clock only runs while its step can still happen: acknowledge while ``new``; start while ``new`` or
``acknowledged``; resolve while ``new``, ``acknowledged``, ``in_progress`` or ``reopened``. Final states stop
every clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

Clock = Literal["acknowledge", "start", "resolve"]
CLOCKS: tuple[Clock, ...] = get_args(Clock)
LEVELS = (1, 2)

# Registry targets are named acknowledge / start_handling / resolve (seconds).
_REGISTRY_NAME: Mapping[Clock, str] = {"acknowledge": "acknowledge", "start": "start_handling", "resolve": "resolve"}

MINUTE, HOUR, DAY = 60, 3600, 86400
CENTRE_TARGETS: Mapping[str, Mapping[Clock, int]] = {
    "P1": {"acknowledge": 1 * MINUTE, "start": 3 * MINUTE, "resolve": 24 * HOUR},
    "P2": {"acknowledge": 5 * MINUTE, "start": 30 * MINUTE, "resolve": 24 * HOUR},
    "P3": {"acknowledge": 30 * MINUTE, "start": 4 * HOUR, "resolve": 3 * DAY},
    "P4": {"acknowledge": 24 * HOUR, "start": 3 * DAY, "resolve": 7 * DAY},
}
"""The centre's service-level targets in seconds, per priority (``shared/departments.md``)."""

DEFAULT_LEVEL2_AFTER_S = 10 * MINUTE

RUNNING_IN: Mapping[Clock, frozenset[str]] = {
    "acknowledge": frozenset({"new"}),
    "start": frozenset({"new", "acknowledged"}),
    "resolve": frozenset({"new", "acknowledged", "in_progress", "reopened"}),
}
"""The states in which a clock's step is still to be done (so it can be missed and escalate)."""


@dataclass(frozen=True)
class SlaPolicy:
    """How long each step may take for a priority, for one department: the centre's targets, the registry's
    per-department overrides (seconds), and the scale (``LINKAGE_SLA_SCALE``) that multiplies every interval."""

    overrides: Mapping[str, Mapping[str, int]]
    scale: float = 1.0
    level2_after_s: float = DEFAULT_LEVEL2_AFTER_S

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError("the SLA scale must be > 0")

    def target(self, priority: str, clock: Clock) -> timedelta:
        """The scaled interval allowed for ``clock`` at ``priority``."""
        seconds = self.overrides.get(priority, {}).get(_REGISTRY_NAME[clock], CENTRE_TARGETS[priority][clock])
        return timedelta(seconds=seconds * self.scale)

    @property
    def level2_after(self) -> timedelta:
        """How long after level 1 an unmet clock goes to level 2 (scaled)."""
        return timedelta(seconds=self.level2_after_s * self.scale)

    def due_times(self, priority: str, origin: datetime) -> dict[Clock, datetime]:
        return {clock: origin + self.target(priority, clock) for clock in CLOCKS}


CENTRE_POLICY = SlaPolicy(overrides={})


def clock_origin(*, received_at: datetime, dispatched_at: datetime, attempt: int, late_dispatch: bool = False
                 ) -> datetime:
    """Where a new ticket's clocks start: the report's ``received_at`` (the caller's wait counts), or the ticket's
    own ``dispatched_at`` when it was dispatched after the first routing (``attempt > 1`` or ``late_dispatch``)."""
    return dispatched_at if attempt > 1 or late_dispatch else received_at


@dataclass(frozen=True)
class DueEscalation:
    clock: Clock
    level: int
    due_at: datetime
    """The clock's due time (what was missed)."""
    escalate_at: datetime
    """When this level fires: ``due_at`` for level 1, ``due_at + level2_after`` for level 2."""


def pending_escalations(*, status: str, due: Mapping[Clock, datetime], met: Mapping[Clock, datetime | None],
                        done: Mapping[str, int], level2_after: timedelta) -> list[DueEscalation]:
    """Every escalation still to come for a ticket (whatever its time), earliest first.

    ``done`` maps a clock to the highest level already escalated in the current round.
    """
    pending: list[DueEscalation] = []
    for clock in CLOCKS:
        if status not in RUNNING_IN[clock] or met.get(clock) is not None:
            continue
        for level in LEVELS:
            if done.get(clock, 0) >= level:
                continue
            at = due[clock] + (level2_after if level == 2 else timedelta(0))
            pending.append(DueEscalation(clock=clock, level=level, due_at=due[clock], escalate_at=at))
    return sorted(pending, key=lambda e: (e.escalate_at, e.level))


def on_time(met_at: datetime, due_at: datetime) -> bool:
    return met_at <= due_at


class SlaPolicies:
    """One :class:`SlaPolicy` per department: the registry's overrides (``Department.sla``), one scale and level-2
    delay for all. Unknown departments (retired from the registry) get the centre's targets."""

    def __init__(self, overrides: Mapping[str, Mapping[str, Mapping[str, int]]], *, scale: float = 1.0,
                 level2_after_s: float = DEFAULT_LEVEL2_AFTER_S) -> None:
        self._policies = {code: SlaPolicy(o, scale, level2_after_s) for code, o in overrides.items()}
        self._default = SlaPolicy({}, scale, level2_after_s)

    @classmethod
    def from_registry(cls, registry: Any, *, scale: float = 1.0,
                      level2_after_s: float = DEFAULT_LEVEL2_AFTER_S) -> SlaPolicies:
        return cls({d.code: d.sla for d in registry}, scale=scale, level2_after_s=level2_after_s)

    def __call__(self, department: str) -> SlaPolicy:
        return self._policies.get(department, self._default)
