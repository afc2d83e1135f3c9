"""Intake follows the router's triage queue and duplicate incidents: a report awaiting triage says so; another
caller's report linked to an incident has no tickets of its own and follows the incident's status."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from shared.events import ReportRouted, ReportRoutedV1, TicketActor, TicketStatusChanged, TicketStatusChangedV1
from tests.integration.intake.test_reports_http import VALID, Intake, intake  # noqa: F401  (the fixture)
from tests.support import bearer


def routed(report_id: str, attempt: int = 1, **data: Any) -> ReportRouted:
    base: dict[str, Any] = dict(report_id=report_id, attempt=attempt, police=False, lead="water", assisting=[],
                                departments=["water"], dispatched=["water"], priority="P2", confidence=0.9,
                                classifier="test", decided_at=datetime.now(timezone.utc))
    return ReportRouted(source="/test", subject=report_id, data=ReportRoutedV1(**{**base, **data}))


def change(report_id: str, ticket: str, dept: str, seq: int, action: str, frm: str | None, to: str
           ) -> TicketStatusChanged:
    return TicketStatusChanged(source="/test", subject=report_id, data=TicketStatusChangedV1(
        ticket_id=ticket, report_id=report_id, department=dept, role="lead", sequence=seq, action=action,
        from_state=frm, to_state=to, at=datetime.now(timezone.utc),  # type: ignore[arg-type]
        actor=TicketActor(id="k", name="n", role="department_staff", department=dept)))


async def get(intake: Intake, report_id: str) -> dict[str, Any]:
    r = await intake.client.get(f"/v1/reports/{report_id}", headers=bearer(intake.keys["call_centre"]))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_report_awaiting_triage_says_so_until_an_operator_routes_it(intake: Intake) -> None:
    report_id = (await intake.post(VALID)).json()["id"]
    consumer = intake.runtime.consumer
    await consumer.handle_event(routed(report_id, police=True, lead="police", assisting=["power"],
                                       departments=["police", "power"], dispatched=["police"], needs_review=True,
                                       confidence=0.3, trigger="received"))
    report = await get(intake, report_id)
    assert report["status"] == "triage" and report["departments"] == ["police"]  # only what has it
    assert [e["kind"] for e in report["timeline"]] == ["received", "triage", "dispatched"]
    assert "awaiting triage" in report["timeline"][1]["detail"]
    await consumer.handle_event(change(report_id, "tp", "police", 1, "created", None, "new"))
    assert (await get(intake, report_id))["status"] == "triage"  # still waiting for its lead
    listed = (await intake.client.get("/v1/reports", params={"status": "triage"},
                                      headers=bearer(intake.keys["call_centre"]))).json()["items"]
    assert [i["id"] for i in listed] == [report_id]

    await consumer.handle_event(routed(report_id, attempt=2, lead="power", assisting=["police"], police=True,
                                       departments=["power", "police"], dispatched=["power"], trigger="triage"))
    report = await get(intake, report_id)
    assert report["status"] == "routed" and report["departments"] == ["power", "police"]
    assert "routed by centre staff from triage" in report["timeline"][-2]["detail"]


async def test_a_possible_police_matter_in_triage_counts_with_police_not_as_diverted(intake: Intake) -> None:
    """Not decided a police matter, but police has it while an operator decides: the report says police, and the
    statistics do not count it as diverted from the 110 line (departments.md: police among its departments)."""
    assault = {**VALID, "channel": "phone_110", "text": "我老婆被人打了，脸肿了，人已经跑了"}
    report_id = (await intake.post(assault)).json()["id"]
    await intake.runtime.consumer.handle_event(routed(
        report_id, police=False, lead="ems", assisting=["police"], departments=["ems", "police"],
        dispatched=["ems", "police"], needs_review=True, confidence=0.6, trigger="received"))
    report = await get(intake, report_id)
    assert (report["status"], report["police"], report["departments"]) == ("triage", True, ["ems", "police"])
    stats = (await intake.client.get("/v1/stats", headers=bearer(intake.keys["admin"]))).json()
    assert (stats["police"], stats["non_police"], stats["diverted_from_police_line"], stats["joint"]) == (1, 0, 0, 1)


async def test_a_linked_report_follows_its_incidents_status(intake: Intake) -> None:
    first, second = await linked_incident(intake)
    consumer = intake.runtime.consumer

    linked = await get(intake, second)
    assert linked["incident_id"] == first and linked["status"] == "acknowledged"  # caught up at once
    assert (await get(intake, first))["linked_reports"] == 1
    assert [t["id"] for t in linked["tickets"]] == ["t1"]  # the incident's tickets
    assert any(e["kind"] == "linked" and f"linked to incident {first}" in e["detail"] for e in linked["timeline"])

    for seq, action, frm, to in [(3, "start", "acknowledged", "in_progress"), (4, "resolve", "in_progress", "resolved"),
                                 (5, "close", "resolved", "closed")]:
        await consumer.handle_event(change(first, "t1", "water", seq, action, frm, to))
    linked = await get(intake, second)
    assert linked["status"] == "closed" and (await get(intake, first))["status"] == "closed"
    assert [e["kind"] for e in linked["timeline"]][-2:] == ["incident", "report_closed"]
    assert linked["tickets"] == [{"id": "t1", "department": "water", "role": "lead", "status": "closed",
                                  "priority": "P2", "outcome": None}]
    closed = (await intake.client.get("/v1/reports", params={"status": "closed"},
                                      headers=bearer(intake.keys["call_centre"]))).json()["items"]
    assert {i["id"] for i in closed} == {first, second}
    assert {i["id"]: i["incident_id"] for i in closed} == {first: None, second: first}


async def test_an_unlinked_report_stops_following_the_incident(intake: Intake) -> None:
    first, second = await linked_incident(intake)
    consumer = intake.runtime.consumer
    assert (await get(intake, second))["status"] == "acknowledged"

    await consumer.handle_event(routed(second, attempt=2, lead="housing", departments=["housing"],
                                       dispatched=["housing"], trigger="unlinked"))
    report = await get(intake, second)
    assert report["incident_id"] is None and report["status"] == "routed" and report["tickets"] == []
    assert (await get(intake, first))["linked_reports"] == 0
    assert "unlinked" in [e["kind"] for e in report["timeline"]]
    await consumer.handle_event(change(first, "t1", "water", 3, "start", "acknowledged", "in_progress"))
    assert (await get(intake, second))["status"] == "routed"  # no longer follows the incident


async def linked_incident(intake: Intake) -> tuple[str, str]:
    """An incident (water, acknowledged) and another caller's report linked to it."""
    first = (await intake.post(VALID)).json()["id"]
    second = (await intake.post({**VALID, "text": "门口水管爆了，到处是水"})).json()["id"]
    consumer = intake.runtime.consumer
    await consumer.handle_event(routed(first))
    await consumer.handle_event(change(first, "t1", "water", 1, "created", None, "new"))
    await consumer.handle_event(change(first, "t1", "water", 2, "acknowledge", "new", "acknowledged"))
    await consumer.handle_event(routed(second, dispatched=[], incident_id=first, linked=True, trigger="linked"))
    return first, second


async def listed(intake: Intake, **params: str) -> set[str]:
    r = await intake.client.get("/v1/reports", params=params, headers=bearer(intake.keys["call_centre"]))
    assert r.status_code == 200, r.text
    return {i["id"] for i in r.json()["items"]}


def routing(report: dict[str, Any]) -> tuple[Any, ...]:
    return report["status"], report["departments"], report["priority"], report["police"]


async def test_linked_reports_follow_their_incident_into_triage_and_out_of_it(intake: Intake) -> None:
    first, second = await linked_incident(intake)
    consumer = intake.runtime.consumer
    # the lead department hands the incident back; nobody else is sure: the incident waits in triage
    await consumer.handle_event(change(first, "t1", "water", 3, "transfer", "acknowledged", "transferred"))
    to_triage = routed(first, attempt=2, dispatched=[], excluded=["water"], needs_review=True, confidence=0.3,
                       trigger="transfer")
    await consumer.handle_event(to_triage)
    incident, linked = await get(intake, first), await get(intake, second)
    assert routing(incident) == ("triage", [], "P2", False)
    assert routing(linked) == routing(incident)
    assert linked["timeline"][-1]["kind"] == "incident" and "awaiting triage" in linked["timeline"][-1]["detail"]

    # a centre operator routes it: the linked report takes the new routing at once, not at the next ticket change
    from_triage = routed(first, attempt=3, police=True, lead="housing", assisting=["police"],
                         departments=["housing", "police"], dispatched=["housing", "police"], excluded=["water"],
                         priority="P1", trigger="triage")
    await consumer.handle_event(from_triage)
    incident, linked = await get(intake, first), await get(intake, second)
    assert routing(incident) == ("routed", ["housing", "police"], "P1", True)
    assert routing(linked) == routing(incident) and linked["incident_id"] == first
    assert "routed by centre staff from triage" in linked["timeline"][-1]["detail"]
    assert await listed(intake, department="housing") == {first, second}
    assert await listed(intake, department="water") == set()
    assert await listed(intake, status="triage") == set()

    # redelivered and stale decisions change nothing, on the incident or its linked report
    entries = len(linked["timeline"])
    assert not await consumer.handle_event(from_triage)  # the same event again: the inbox has it
    await consumer.handle_event(to_triage.model_copy(update={"id": "a-new-id-for-an-old-decision"}))
    await consumer.handle_event(from_triage.model_copy(update={"id": "a-new-id-for-the-same-decision"}))
    linked = await get(intake, second)
    assert routing(linked) == ("routed", ["housing", "police"], "P1", True) and len(linked["timeline"]) == entries

    # and it keeps following the incident's tickets
    await consumer.handle_event(change(first, "t2", "housing", 1, "created", None, "new"))
    await consumer.handle_event(change(first, "t2", "housing", 2, "acknowledge", "new", "acknowledged"))
    assert routing(await get(intake, second)) == ("acknowledged", ["housing", "police"], "P1", True)


async def test_a_linked_report_takes_the_latest_routing_whatever_order_the_decisions_arrive_in(
        intake: Intake) -> None:
    first, second = await linked_incident(intake)
    consumer = intake.runtime.consumer
    # the operator's choice arrives before the transfer's triage decision it followed
    await consumer.handle_event(routed(first, attempt=3, lead="housing", departments=["housing"],
                                       dispatched=["housing"], excluded=["water"], priority="P3", trigger="triage"))
    await consumer.handle_event(routed(first, attempt=2, dispatched=[], excluded=["water"], needs_review=True,
                                       confidence=0.3, trigger="transfer"))
    assert routing(await get(intake, second)) == routing(await get(intake, first))
    assert (await get(intake, second))["departments"] == ["housing"]


async def test_a_report_linked_after_its_incident_was_routed_again_takes_the_incidents_routing(
        intake: Intake) -> None:
    """The router linked it while the incident was still water's; intake had the re-route already (another
    partition). It takes what intake knows of the incident, and follows later changes as every linked report."""
    first = (await intake.post(VALID)).json()["id"]
    second = (await intake.post({**VALID, "text": "门口水管爆了，到处是水"})).json()["id"]
    consumer = intake.runtime.consumer
    await consumer.handle_event(routed(first))
    await consumer.handle_event(routed(first, attempt=2, lead="housing", departments=["housing"],
                                       dispatched=["housing"], excluded=["water"], priority="P3", trigger="transfer"))
    await consumer.handle_event(routed(second, dispatched=[], incident_id=first, linked=True, trigger="linked"))
    linked = await get(intake, second)
    assert routing(linked) == ("routed", ["housing"], "P3", False) and linked["incident_id"] == first
