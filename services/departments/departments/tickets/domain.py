"""A ticket's lifecycle: its states, the actions staff take on it, and the one table of which action is allowed in
which state. Pure domain code, no I/O.

::

    new ─acknowledge→ acknowledged ─start→ in_progress ─resolve→ resolved ─close→ closed
                                                ▲                   │  ▲            │
                                              start            reopen  resolve    reopen
                                                └──── reopened ◀───┘  └──────────┘ (and closed → reopen)

    transfer (new | acknowledged | in_progress | reopened) → transferred   "not our matter": final here, the router
                                                                            re-routes the report without us
    cancel   (any state but closed, transferred, cancelled) → cancelled
    note     (any state but transferred, cancelled)         → unchanged    audited, announces nothing
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

from shared.events import TicketActor, TicketState
from shared.identity import Principal
from shared.problems import Conflict, InvalidInput

Action = Literal["acknowledge", "start", "note", "resolve", "close", "reopen", "transfer", "cancel"]
ACTIONS: tuple[Action, ...] = get_args(Action)
STATES: tuple[TicketState, ...] = get_args(TicketState)
CREATED = "created"
"""The audit action of a ticket's first entry (``from_state`` is ``None``, ``to_state`` is ``new``)."""

TRANSITIONS: Mapping[tuple[TicketState, Action], TicketState] = MappingProxyType({
    ("new", "acknowledge"): "acknowledged",
    ("acknowledged", "start"): "in_progress",
    ("in_progress", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "reopened",
    ("closed", "reopen"): "reopened",
    ("reopened", "start"): "in_progress",
    ("reopened", "resolve"): "resolved",
    ("new", "transfer"): "transferred",
    ("acknowledged", "transfer"): "transferred",
    ("in_progress", "transfer"): "transferred",
    ("reopened", "transfer"): "transferred",
    ("new", "cancel"): "cancelled",
    ("acknowledged", "cancel"): "cancelled",
    ("in_progress", "cancel"): "cancelled",
    ("resolved", "cancel"): "cancelled",
    ("reopened", "cancel"): "cancelled",
    ("new", "note"): "new",
    ("acknowledged", "note"): "acknowledged",
    ("in_progress", "note"): "in_progress",
    ("resolved", "note"): "resolved",
    ("closed", "note"): "closed",
    ("reopened", "note"): "reopened",
})

RecordAction = Literal["assign", "follow_up", "request_assist", "request_release", "release", "escalate", "reroute"]
WORKING: frozenset[TicketState] = frozenset({"new", "acknowledged", "in_progress", "reopened"})
RECORDS: Mapping[RecordAction, frozenset[TicketState]] = MappingProxyType({
    "assign": WORKING,
    "follow_up": frozenset({"new", "acknowledged", "in_progress", "resolved", "closed", "reopened"}),
    "request_assist": WORKING,
    "request_release": WORKING,
    "release": WORKING,
    "escalate": WORKING,
    "reroute": frozenset({"new", "acknowledged", "in_progress", "resolved", "closed", "reopened"}),
})
"""Actions that leave the state unchanged but are recorded in the audit trail (like ``note``), and the states
that allow each: assignment inside the department, follow-up calls, asking for (or to be released from) joint
handling, the scheduler's escalations, and the router's re-routing of the report (the ticket takes its new role,
lead or priority)."""

ANNOUNCED_RECORDS: frozenset[str] = frozenset({"reroute"})
"""Recorded actions announced on ``tickets.events`` like a state change: they change what the other services show
of the ticket (its role and priority)."""

FINAL_STATES: frozenset[TicketState] = frozenset({"closed", "transferred", "cancelled"})
"""No work happens in these states (a closed ticket can still be reopened and noted)."""


def allowed_actions(state: str) -> list[Action]:
    """The actions the table allows in ``state``, in lifecycle order."""
    return [action for action in ACTIONS if (state, action) in TRANSITIONS]


GENERAL_OUTCOMES: tuple[str, ...] = ("resolved", "explained", "referred", "no_action_needed")
DEPARTMENT_OUTCOMES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "mediation": ("agreement", "no_agreement", "referred"),
})
"""Resolution outcome codes: a department's own list where it has one (people's mediation: agreement reached, no
agreement, referred to court or arbitration), otherwise the general list."""


def outcomes_for(department: str) -> tuple[str, ...]:
    return DEPARTMENT_OUTCOMES.get(department, GENERAL_OUTCOMES)


def check_outcome(department: str, outcome: str | None) -> None:
    if outcome is not None and outcome not in outcomes_for(department):
        raise InvalidInput(f"{outcome!r} is not a resolution outcome of {department}; use one of: "
                           f"{', '.join(outcomes_for(department))}.",
                           errors=[{"field": "outcome", "message": f"one of {list(outcomes_for(department))}"}])


class IllegalTransition(Conflict):
    """An action the ticket's current state does not allow (409), naming the state, the action and what is allowed."""

    slug = "illegal-transition"
    title = "Not allowed in the ticket's current state"

    def __init__(self, state: str, action: str) -> None:
        allowed = allowed_actions(state)
        super().__init__(
            f"Cannot {action} a ticket that is {state}; allowed now: {', '.join(allowed) or 'nothing'}.",
            state=state, action=action, allowed_actions=allowed)


class NotAllowedNow(Conflict):
    """A recorded action (assignment, follow-up, joint-handling request) the ticket's state does not allow (409)."""

    slug = "not-allowed-now"
    title = "Not allowed in the ticket's current state"

    def __init__(self, state: str, action: str, allowed_states: frozenset[str]) -> None:
        super().__init__(f"Cannot {action.replace('_', ' ')} on a ticket that is {state}; only when "
                         f"{', '.join(sorted(allowed_states))}.", state=state, action=action,
                         allowed_states=sorted(allowed_states))


def check_record(state: str, action: RecordAction) -> None:
    """:class:`NotAllowedNow` unless ``state`` allows the recorded ``action``."""
    if state not in RECORDS[action]:
        raise NotAllowedNow(state, action, RECORDS[action])


def next_state(state: TicketState, action: Action) -> TicketState:
    """The state ``action`` leads to from ``state``; :class:`IllegalTransition` when the table has no such move."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None


@dataclass(frozen=True)
class Actor:
    """Who did something to a ticket: a principal (from its API key, never from a request body) or a service."""

    id: str
    name: str
    role: str
    department: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(id=principal.id, name=principal.name, role=principal.role, department=principal.department)

    def to_event(self) -> TicketActor:
        return TicketActor(id=self.id, name=self.name, role=self.role, department=self.department)


SYSTEM_ROUTER = Actor(id="system:router", name="router", role="system")
"""The actor of a ticket's creation: the router's dispatch."""
SYSTEM_SLA = Actor(id="system:sla", name="service-level scheduler", role="system")
"""The actor of escalations."""
