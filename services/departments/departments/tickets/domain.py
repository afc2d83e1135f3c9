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
from shared.problems import Conflict

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

FINAL_STATES: frozenset[TicketState] = frozenset({"closed", "transferred", "cancelled"})
"""No work happens in these states (a closed ticket can still be reopened and noted)."""


def allowed_actions(state: str) -> list[Action]:
    """The actions the table allows in ``state``, in lifecycle order."""
    return [action for action in ACTIONS if (state, action) in TRANSITIONS]


class IllegalTransition(Conflict):
    """An action the ticket's current state does not allow (409), naming the state, the action and what is allowed."""

    slug = "illegal-transition"
    title = "Not allowed in the ticket's current state"

    def __init__(self, state: str, action: str) -> None:
        allowed = allowed_actions(state)
        super().__init__(
            f"Cannot {action} a ticket that is {state}; allowed now: {', '.join(allowed) or 'nothing'}.",
            state=state, action=action, allowed_actions=allowed)


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
