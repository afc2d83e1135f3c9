"""The ticket lifecycle: one transition table, named moves on the entity, 409 on anything else."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from departments.tickets.audit import GENESIS_HASH, verify_chain
from departments.tickets.domain import ACTIONS, STATES, TRANSITIONS, Actor, IllegalTransition, allowed_actions
from departments.tickets.models import Ticket
from shared.problems import Conflict, InvalidInput

STAFF = Actor(id="key-water-1", name="Wang Fang", role="department_staff", department="water")

MOVES: dict[str, Callable[[Ticket, Actor], object]] = {
    "acknowledge": lambda t, a: t.acknowledge(a),
    "start": lambda t, a: t.start(a),
    "note": lambda t, a: t.add_note(a, "called the caller back"),
    "resolve": lambda t, a: t.resolve(a, "pipe replaced"),
    "close": lambda t, a: t.close(a),
    "reopen": lambda t, a: t.reopen(a, "leaking again"),
    "transfer": lambda t, a: t.transfer(a, "private pipe: housing's matter"),
    "cancel": lambda t, a: t.cancel(a, "duplicate"),
}

# The specification, state by state, written out independently of the table it checks.
SPEC: dict[str, set[str]] = {
    "new": {"acknowledge", "note", "transfer", "cancel"},
    "acknowledged": {"start", "note", "transfer", "cancel"},
    "in_progress": {"note", "resolve", "transfer", "cancel"},
    "resolved": {"note", "close", "reopen", "cancel"},
    "closed": {"note", "reopen"},
    "reopened": {"start", "note", "resolve", "transfer", "cancel"},
    "transferred": set(),
    "cancelled": set(),
}


def in_state(ticket: Ticket, state: str) -> Ticket:
    ticket.status = state
    ticket.take_new_audit()
    return ticket


def test_every_action_has_a_named_move_on_the_entity() -> None:
    assert set(MOVES) == set(ACTIONS)


@pytest.mark.parametrize("state", STATES)
def test_each_state_allows_exactly_what_the_specification_says(state: str) -> None:
    assert set(allowed_actions(state)) == SPEC[state]


@pytest.mark.parametrize(("state", "action"), sorted(TRANSITIONS))
def test_every_legal_move_reaches_its_state_and_is_audited(new_ticket: Ticket, state: str, action: str) -> None:
    ticket = in_state(new_ticket, state)
    seq_before = ticket.audit_seq

    MOVES[action](ticket, STAFF)

    assert ticket.status == TRANSITIONS[(state, action)]  # type: ignore[index]
    [entry] = ticket.take_new_audit()
    assert (entry.action, entry.from_state, entry.to_state, entry.seq) == (action, state, ticket.status,
                                                                          seq_before + 1)
    assert (entry.actor_id, entry.actor_role, entry.actor_department) == ("key-water-1", "department_staff", "water")


ILLEGAL = [(s, a) for s in STATES for a in ACTIONS if (s, a) not in TRANSITIONS]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_an_illegal_move_is_a_409_naming_state_action_and_allowed_actions(new_ticket: Ticket, state: str,
                                                                          action: str) -> None:
    ticket = in_state(new_ticket, state)

    with pytest.raises(IllegalTransition) as raised:
        MOVES[action](ticket, STAFF)

    problem = raised.value
    assert isinstance(problem, Conflict) and problem.status == 409
    assert problem.extensions == {"state": state, "action": action, "allowed_actions": allowed_actions(state)}
    assert state in problem.detail and action in problem.detail
    assert ticket.status == state and ticket.take_new_audit() == []


def test_a_refused_move_changes_nothing_and_seals_nothing(new_ticket: Ticket) -> None:
    head = (new_ticket.audit_seq, new_ticket.audit_head)
    with pytest.raises(IllegalTransition):
        new_ticket.close(STAFF, "done")
    assert (new_ticket.audit_seq, new_ticket.audit_head) == head


def test_creation_is_the_first_audit_entry_by_the_router(new_ticket: Ticket) -> None:
    [created] = new_ticket.take_new_audit()
    assert new_ticket.status == "new"
    assert (created.seq, created.action, created.from_state, created.to_state) == (1, "created", None, "new")
    assert (created.actor_id, created.prev_hash) == ("system:router", GENESIS_HASH)
    assert (new_ticket.audit_seq, new_ticket.audit_head) == (1, created.hash)


def test_a_full_lifecycle_builds_an_intact_chain(new_ticket: Ticket) -> None:
    new_ticket.acknowledge(STAFF)
    new_ticket.start(STAFF)
    new_ticket.add_note(STAFF, "crew on site")
    new_ticket.resolve(STAFF, "pipe replaced")
    new_ticket.close(STAFF)
    new_ticket.reopen(STAFF, "leaking again")
    new_ticket.resolve(STAFF, "joint resealed")
    entries = new_ticket.take_new_audit()

    assert [e.action for e in entries] == ["created", "acknowledge", "start", "note", "resolve", "close", "reopen",
                                           "resolve"]
    assert verify_chain(entries, expected_length=new_ticket.audit_seq, expected_head=new_ticket.audit_head).intact
    assert new_ticket.status == "resolved" and new_ticket.resolution == "joint resealed"


def test_a_note_keeps_the_state_and_records_the_note(new_ticket: Ticket) -> None:
    entry = new_ticket.add_note(STAFF, "  caller says water reaches the street  ")
    assert new_ticket.status == "new"
    assert (entry.from_state, entry.to_state, entry.note) == ("new", "new", "caller says water reaches the street")


def test_reopening_clears_the_resolution(new_ticket: Ticket) -> None:
    ticket = in_state(new_ticket, "in_progress")
    ticket.resolve(STAFF, "pipe replaced")
    ticket.reopen(STAFF, "leaking again")
    assert ticket.resolution is None


@pytest.mark.parametrize(("state", "move"), [
    ("in_progress", lambda t: t.resolve(STAFF, "   ")), ("closed", lambda t: t.reopen(STAFF, "")),
    ("new", lambda t: t.transfer(STAFF, " ")), ("new", lambda t: t.cancel(STAFF, "")),
    ("new", lambda t: t.add_note(STAFF, "\n")),
])
def test_required_texts_cannot_be_blank(new_ticket: Ticket, state: str, move: Callable[[Ticket], object]) -> None:
    in_state(new_ticket, state)
    with pytest.raises(InvalidInput):
        move(new_ticket)
    assert new_ticket.status == state and new_ticket.take_new_audit() == []
