"""Dispatches from the router become tickets, once per (report, department), through the real consumer path."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

import pytest

from shared.events import ReportReceived, ReportReceivedV1
from tests.support import consumer_records

from .conftest import Departments, dispatch_event


async def test_a_dispatch_opens_a_ticket_carrying_the_report(service: Departments) -> None:
    event = dispatch_event(department="water", departments=["water", "transport"], priority="P1")

    assert await service.deliver(event) is True

    ticket = await service.ticket_of(event.data.report_id, "water")
    assert ticket["status"] == "new" and ticket["allowed_actions"] == ["acknowledge", "note", "transfer", "cancel"]
    assert {k: ticket[k] for k in ("report_id", "department", "role", "lead_department", "departments", "priority",
                                   "channel", "text", "police")} == {
        "report_id": event.data.report_id, "department": "water", "role": "lead", "lead_department": "water",
        "departments": ["water", "transport"], "priority": "P1", "channel": "phone_12345",
        "text": event.data.text, "police": False}
    assert ticket["location"] == {"address": "18 Xingfu Road, Building 3", "lat": 30.6586, "lon": 104.0648,
                                  "grid_id": "G-0412"}

    audit = (await service.client.get(f"/v1/tickets/{ticket['id']}/audit",
                                      headers=await service.auth("department_staff", "water"))).json()
    assert [(e["seq"], e["action"], e["from_state"], e["to_state"], e["actor"]["id"]) for e in audit] == [
        (1, "created", None, "new", "system:router")]


async def test_a_redelivered_or_repeated_dispatch_creates_nothing(service: Departments) -> None:
    event = dispatch_event(department="water")
    assert await service.deliver(event) is True

    assert await service.deliver(event) is False  # same event id: the inbox has it
    again = dispatch_event(department="water", report_id=event.data.report_id, attempt=2)
    assert await service.deliver(again) is True  # a new event, handled, but the ticket exists

    response = await service.client.get("/v1/tickets", params={"report_id": event.data.report_id},
                                        headers=await service.auth("centre_operator"))
    assert len(response.json()["items"]) == 1
    # the copy is answered with the ticket's current state again (same sequence), which confirms it to the router
    announced = await service.outbox(event.data.report_id)
    assert [(e["data"]["action"], e["data"]["sequence"]) for e in announced] == [("created", 1), ("created", 1)]
    assert len({e["headers"]["ce_id"] for e in announced}) == 2


async def test_racing_dispatches_for_one_report_and_department_still_make_one_ticket(service: Departments) -> None:
    first = dispatch_event(department="water")
    events = [first] + [dispatch_event(department="water", report_id=first.data.report_id) for _ in range(3)]

    outcomes = await asyncio.gather(*[service.deliver(e) for e in events], return_exceptions=True)
    for event, outcome in zip(events, outcomes):  # a loser on the unique constraint is retried, as Kafka would
        if isinstance(outcome, Exception):
            assert await service.deliver(event) is True

    response = await service.client.get("/v1/tickets", params={"report_id": first.data.report_id},
                                        headers=await service.auth("admin"))
    assert len(response.json()["items"]) == 1
    assert {(e["data"]["action"], e["data"]["sequence"]) for e in await service.outbox(first.data.report_id)} == {
        ("created", 1)}


async def test_a_batch_with_a_copy_of_a_dispatch_still_makes_one_ticket_per_department(
        service: Departments, caplog: pytest.LogCaptureFixture) -> None:
    """A consumer batch is one transaction whose tickets are written at its commit: a copy of a dispatch later in
    the same batch (the router sent it again) must find the ticket the first one opened."""
    first = dispatch_event(department="water", departments=["water", "power"])
    copy = dispatch_event(department="water", report_id=first.data.report_id, departments=["water", "power"],
                          attempt=2)
    other = dispatch_event(department="power", report_id=first.data.report_id, role="assisting", lead="water",
                           departments=["water", "power"])
    assert service.runtime.consumer is not None
    with caplog.at_level(logging.INFO, logger="linkage.consumer"):
        await service.runtime.consumer.handle_batch(consumer_records("dept.water", [first, copy, other]))
    assert not [r for r in caplog.records if r.getMessage().startswith("batch failed")]  # one transaction did it

    response = await service.client.get("/v1/tickets", params={"report_id": first.data.report_id},
                                        headers=await service.auth("admin"))
    assert sorted(t["department"] for t in response.json()["items"]) == ["power", "water"]
    for department in ("water", "power"):
        ticket = await service.ticket_of(first.data.report_id, department)
        verify = (await service.client.get(f"/v1/tickets/{ticket['id']}/audit/verify",
                                           headers=await service.auth("admin"))).json()
        assert verify["intact"] is True and verify["entries"] == 1
    assert sorted((e["data"]["department"], e["data"]["action"]) for e in await service.outbox(
        first.data.report_id)) == [("power", "created"), ("water", "created")]


async def test_each_department_of_a_joint_report_gets_its_own_ticket(service: Departments) -> None:
    lead = dispatch_event(department="gas", departments=["gas", "fire"])
    assisting = dispatch_event(department="fire", report_id=lead.data.report_id, role="assisting", lead="gas",
                               departments=["gas", "fire"])
    assert await service.deliver(lead) and await service.deliver(assisting)

    gas = await service.ticket_of(lead.data.report_id, "gas")
    fire = await service.ticket_of(lead.data.report_id, "fire")
    assert (gas["role"], fire["role"], fire["lead_department"]) == ("lead", "assisting", "gas")
    assert gas["id"] != fire["id"]


async def test_creation_is_announced_in_the_outbox(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")

    [created] = await service.outbox(ticket["report_id"])
    assert (created["topic"], created["type"]) == ("tickets.events", "ticket.status_changed.v1")
    assert created["headers"]["ce_source"] == "/linkage/departments"
    assert created["headers"]["ce_subject"] == ticket["report_id"]
    data = created["data"]
    assert (data["ticket_id"], data["sequence"], data["action"], data["from_state"], data["to_state"]) == (
        ticket["id"], 1, "created", None, "new")
    assert data["actor"] == {"id": "system:router", "name": "router", "role": "system", "department": None}


async def test_events_of_other_types_are_ignored(service: Departments) -> None:
    event = ReportReceived(source="/linkage/intake", subject="r-ignored", data=ReportReceivedV1(
        report_id="r-ignored", text="x", channel="web", received_at=dispatch_event().data.received_at))
    assert await service.deliver(event) is True
    response = await service.client.get("/v1/tickets", params={"report_id": "r-ignored"},
                                        headers=await service.auth("admin"))
    assert response.json()["items"] == []


async def test_ticket_states_are_announced_again_only_when_intake_is_not_busy_with_earlier_ones(
        service: Departments) -> None:
    """Intake fell behind: it is not sent every unconfirmed ticket state again; a state it skipped past is, and
    every unconfirmed one once it confirms nothing for the redelivery delay."""
    from datetime import datetime, timezone

    from sqlalchemy import update

    from departments.tickets.models import Ticket
    from shared.events import TicketStatusObserved, TicketStatusObservedV1

    reports = []
    for _ in range(3):
        event = dispatch_event()
        assert await service.deliver(event)
        reports.append(event.data.report_id)
    first, second, third = reports
    ticket = await service.ticket_of(second, "water")
    assert await service.deliver(TicketStatusObserved(  # intake's receipt for the second ticket: the first skipped
        source="/linkage/intake", subject=second, data=TicketStatusObservedV1(
            ticket_id=ticket["id"], report_id=second, department="water", sequence=1,
            observed_at=datetime.now(timezone.utc))))
    async with service.runtime.sessions() as s, s.begin():
        await s.execute(update(Ticket).where(Ticket.report_id.in_(reports), Ticket.next_announce_at.is_not(None))
                        .values(next_announce_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))

    async def announced() -> list[int]:
        return [len(await service.outbox_events(r, "ticket.status_changed.v1")) for r in reports]

    assert await announced() == [1, 1, 1]  # each ticket's creation
    await service.runtime.sweep_once()  # (the database may hold other tests' tickets: count this test's own)
    assert await announced() == [2, 1, 1]
    # no receipt for the redelivery delay
    service.app.state.intake_progress.last_confirmation -= service.runtime.settings.redelivery_after_s + 1
    await service.runtime.sweep_once()
    assert await announced() == [2, 1, 2]


async def test_a_later_routing_attempt_gives_the_existing_ticket_its_new_role_and_priority(
        service: Departments) -> None:
    """A centre operator routed from triage a report whose grid ticket was dispatched as lead, P1, while it waited:
    the grid ticket becomes assisting, P3, audited and announced, so the report has one lead."""
    first = dispatch_event(department="grid", departments=["grid", "police"], priority="P1")
    assert await service.deliver(first) is True
    before = await service.ticket_of(first.data.report_id, "grid")
    assert before["clocks"]["acknowledge_due_at"]  # P1: one minute

    routed = dispatch_event(department="grid", report_id=first.data.report_id, role="assisting", lead="mediation",
                            departments=["mediation", "grid", "police"], priority="P3", attempt=2)
    assert await service.deliver(routed) is True
    ticket = await service.ticket_of(first.data.report_id, "grid")
    assert (ticket["role"], ticket["lead_department"], ticket["priority"], ticket["departments"]) == (
        "assisting", "mediation", "P3", ["mediation", "grid", "police"])
    assert ticket["status"] == "new"
    # the clocks not yet met start again at P3 (30 minutes to acknowledge) from the re-routing
    due = datetime.fromisoformat(ticket["clocks"]["acknowledge_due_at"])
    assert due - routed.data.dispatched_at == timedelta(minutes=30)

    audit = (await service.client.get(f"/v1/tickets/{ticket['id']}/audit",
                                      headers=await service.auth("department_staff", "grid"))).json()
    assert [(e["action"], e["from_state"], e["to_state"], e["actor"]["id"]) for e in audit] == [
        ("created", None, "new", "system:router"), ("reroute", "new", "new", "system:router")]
    assert audit[1]["reason"] == ("routing attempt 2: role lead → assisting; lead grid → mediation; priority P1 → "
                                  "P3; departments mediation, grid, police")
    announced = [e["data"] for e in await service.outbox(first.data.report_id)]
    assert [(e["action"], e["sequence"], e["role"], e["priority"]) for e in announced] == [
        ("created", 1, "lead", "P1"), ("reroute", 2, "assisting", "P3")]

    # a copy of that attempt, or an older one, changes nothing: the ticket's last announcement is repeated
    for again in (routed, dispatch_event(department="grid", report_id=first.data.report_id, priority="P1")):
        assert await service.deliver(
            again.model_copy(update={"id": str(uuid.uuid4())})) is True
    assert (await service.ticket_of(first.data.report_id, "grid"))["role"] == "assisting"
    announced = [e["data"] for e in await service.outbox(first.data.report_id)]
    assert [(e["action"], e["sequence"]) for e in announced] == [
        ("created", 1), ("reroute", 2), ("reroute", 2), ("reroute", 2)]
