"""Duplicate incidents at the departments: another caller's report linked to an incident counts on the incident's
ticket (``callers``), idempotently and whatever the order of the events."""

from __future__ import annotations

from datetime import datetime, timezone

from shared.events import (
    IncidentReportLinked, IncidentReportLinkedV1, IncidentReportUnlinked, IncidentReportUnlinkedV1, Location,
)

from .conftest import Departments, dispatch_event


def linked(incident_id: str, department: str, callers: int, report_id: str, sequence: int | None = None
           ) -> IncidentReportLinked:
    now = datetime.now(timezone.utc)
    return IncidentReportLinked(source="/linkage/router", subject=incident_id, data=IncidentReportLinkedV1(
        incident_id=incident_id, report_id=report_id, department=department, callers=callers,
        sequence=sequence or callers - 1,
        text="又有人打电话说水管爆了", channel="phone_12345", location=Location(address="18 Xingfu Road"),
        received_at=now, linked_at=now, similarity=0.8))


async def test_linked_callers_are_counted_on_the_incidents_ticket(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    assert ticket["callers"] == 1
    incident = ticket["report_id"]

    first = linked(incident, "water", 2, "r-2")
    assert await service.deliver(first)
    assert (await service.ticket_of(incident, "water"))["callers"] == 2
    assert not await service.deliver(first)  # redelivered: the inbox has it

    assert await service.deliver(linked(incident, "water", 4, "r-4"))
    assert await service.deliver(linked(incident, "water", 3, "r-3"))  # late: the count only grows
    after = await service.ticket_of(incident, "water")
    assert after["callers"] == 4 and after["status"] == "new" and after["audit_entries"] == 1
    assert await service.outbox(incident) == [e for e in await service.outbox(incident)
                                              if e["data"]["action"] == "created"]  # no ticket events for counting

    # an operator unlinks one: the count goes down; a late copy of an older link changes nothing
    now = datetime.now(timezone.utc)
    unlinked = IncidentReportUnlinked(source="/linkage/router", subject=incident, data=IncidentReportUnlinkedV1(
        incident_id=incident, report_id="r-3", department="water", callers=3, sequence=4, reason="not the same",
        unlinked_at=now))
    assert await service.deliver(unlinked)
    assert (await service.ticket_of(incident, "water"))["callers"] == 3
    assert await service.deliver(linked(incident, "water", 4, "r-4", sequence=3))
    assert (await service.ticket_of(incident, "water"))["callers"] == 3

    # a ticket dispatched later (e.g. after a transfer) starts with the incident's count
    later = dispatch_event(department="transport", report_id="r-later")
    later = later.model_copy(update={"data": later.data.model_copy(update={"callers": 4})})
    assert await service.deliver(later)
    assert (await service.ticket_of("r-later", "transport"))["callers"] == 4


async def test_a_linked_caller_for_a_ticket_not_here_changes_nothing(service: Departments) -> None:
    assert await service.deliver(linked("r-unknown", "water", 2, "r-x"))
    r = await service.client.get("/v1/tickets", params={"report_id": "r-unknown"},
                                 headers=await service.auth("centre_operator"))
    assert r.json()["items"] == []
