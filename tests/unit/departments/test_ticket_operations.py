"""Recorded actions that keep a ticket's state: assignment, follow-up calls, joint-handling requests, outcomes."""

from __future__ import annotations

import pytest

from departments.tickets.domain import Actor, NotAllowedNow, check_outcome
from departments.tickets.models import NotAllowedForRole, Ticket
from shared.problems import Conflict, InvalidInput
from tests.unit.departments.conftest import dispatch

STAFF = Actor(id="k1", name="Wang Fang", role="department_staff", department="water")
ROUTER = Actor(id="system:router", name="router", role="system")


def test_assignment_needs_a_reason_and_someone_and_keeps_the_state(new_ticket: Ticket) -> None:
    with pytest.raises(InvalidInput):
        new_ticket.assign(STAFF, unit="North crew", assignee=None, reason=" ")
    with pytest.raises(InvalidInput):
        new_ticket.assign(STAFF, unit=None, assignee="  ", reason="nearest")
    entry = new_ticket.assign(STAFF, unit="North crew", assignee=None, reason="nearest")
    assert (entry.action, entry.from_state, entry.to_state, entry.reason, entry.note) == (
        "assign", "new", "new", "nearest", "unit: North crew")
    assert (new_ticket.status, new_ticket.assigned_unit, new_ticket.assignee) == ("new", "North crew", None)


def test_a_closed_ticket_cannot_be_assigned(new_ticket: Ticket) -> None:
    for step in (lambda: new_ticket.acknowledge(STAFF), lambda: new_ticket.start(STAFF),
                 lambda: new_ticket.resolve(STAFF, "done"), lambda: new_ticket.close(STAFF)):
        step()
    with pytest.raises(NotAllowedNow) as raised:
        new_ticket.assign(STAFF, unit="x", assignee=None, reason="y")
    assert raised.value.status == 409
    new_ticket.record_follow_up(STAFF, reached=True, outcome="satisfied", note=None)  # but a follow-up call can


def test_only_the_lead_records_follow_ups_and_asks_for_assistance_only_assisting_asks_for_release() -> None:
    lead = Ticket.from_dispatch(dispatch(), ROUTER)
    assisting = Ticket.from_dispatch(dispatch(department="transport", role="assisting"), ROUTER)
    with pytest.raises(NotAllowedForRole):
        assisting.record_follow_up(STAFF, reached=False, outcome="no answer", note=None)
    with pytest.raises(NotAllowedForRole):
        assisting.request_assistance(STAFF, "gas", "smell")
    with pytest.raises(NotAllowedForRole):
        lead.request_release(STAFF, "not ours")
    with pytest.raises(Conflict):
        lead.request_assistance(STAFF, "transport", "already on it")
    assert lead.request_assistance(STAFF, "gas", "smell").note == "department: gas"
    assisting.request_release(STAFF, "road not damaged")
    with pytest.raises(Conflict):
        assisting.request_release(STAFF, "again")
    assert assisting.release_requested_reason == "road not damaged"


def test_outcome_codes_are_per_department() -> None:
    check_outcome("mediation", "agreement")
    check_outcome("water", "resolved")
    check_outcome("water", None)
    with pytest.raises(InvalidInput):
        check_outcome("water", "agreement")
    with pytest.raises(InvalidInput):
        check_outcome("mediation", "resolved")
