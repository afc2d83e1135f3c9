"""Department operations through the real app and database (SQLite and PostgreSQL): service-level clocks and
escalation (with LINKAGE_SLA_SCALE small, the real scheduler task), joint handling, assignment, follow-up calls,
resolution outcomes and citizen feedback. Events come in through the consumer's handling path; what goes out is read
from the outbox (the broker is unreachable here, so nothing leaves it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from departments.app import create_app
from departments.settings import DepartmentsSettings
from shared.events import (
    ReportFeedbackReceived, ReportFeedbackReceivedV1, TicketActor, TicketStatusChanged, TicketStatusChangedV1,
)
from shared.identity import IdentityStore

from .conftest import UNUSED_BROKER, Departments, dispatch_event

SCALE = 0.01
LEVEL2_AFTER_S = 100.0  # × SCALE = 1 s after the due time


@pytest.fixture
async def ops(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Departments]:
    """The departments app with clocks scaled down to drill speed and the scheduler looking every 0.1 s."""
    async with _app(database_url, tmp_path, monkeypatch) as service:
        yield service


def _settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> DepartmentsSettings:
    monkeypatch.setenv("LINKAGE_ENV", "test")
    monkeypatch.setenv("LINKAGE_DEPARTMENTS_DATABASE_URL", database_url)
    monkeypatch.setenv("LINKAGE_AUTH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/identity.db")
    monkeypatch.setenv("LINKAGE_KAFKA_BOOTSTRAP_SERVERS", UNUSED_BROKER)
    monkeypatch.setenv("LINKAGE_SLA_SCALE", str(SCALE))
    monkeypatch.setenv("LINKAGE_DEPARTMENTS_ESCALATION_INTERVAL_S", "0.1")
    monkeypatch.setenv("LINKAGE_DEPARTMENTS_ESCALATION_LEVEL2_AFTER_S", str(LEVEL2_AFTER_S))
    monkeypatch.delenv("LINKAGE_DEPARTMENTS_SERVE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return DepartmentsSettings()


class _app:
    def __init__(self, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
        self.settings = _settings(database_url, tmp_path, monkeypatch, **env)

    async def __aenter__(self) -> Departments:
        self.app = create_app(self.settings)
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        self.identity = IdentityStore(self.settings.auth_database_url)
        await self.identity.migrate()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://departments.test")
        return Departments(app=self.app, client=self.client, identity=self.identity)

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.aclose()
        await self.identity.close()
        await self._lifespan.__aexit__(*exc)


def _received_at(event: Any, at: datetime) -> Any:
    return event.model_copy(update={"data": event.data.model_copy(update={"received_at": at, "dispatched_at": at})})


async def _audit(service: Departments, ticket_id: str, department: str = "water") -> list[dict[str, Any]]:
    response = await service.client.get(f"/v1/tickets/{ticket_id}/audit",
                                        headers=await service.auth("department_supervisor", department))
    assert response.status_code == 200, response.text
    return response.json()


async def _escalations_out(service: Departments, report_id: str) -> list[dict[str, Any]]:
    return [e for e in await service.outbox(report_id) if e["type"] == "ticket.escalated.v1"]


# --- clocks ---------------------------------------------------------------------------------------------------


async def test_clocks_are_set_from_priority_and_scale_shown_and_carried_on_every_status_event(
        ops: Departments) -> None:
    event = dispatch_event(department="water", priority="P3")
    received = event.data.received_at
    await ops.deliver(event)
    ticket = await ops.ticket_of(event.data.report_id, "water")
    due = {k: datetime.fromisoformat(v) for k, v in ticket["clocks"].items() if k.endswith("_due_at")}
    assert due == {"acknowledge_due_at": received + timedelta(seconds=1800 * SCALE),
                   "start_due_at": received + timedelta(seconds=4 * 3600 * SCALE),
                   "resolve_due_at": received + timedelta(seconds=3 * 86400 * SCALE)}
    headers = await ops.auth("department_staff", "water")
    acked = (await ops.client.post(f"/v1/tickets/{ticket['id']}/acknowledge", headers=headers)).json()
    assert acked["clocks"]["acknowledged_at"] is not None and acked["clocks"]["acknowledge_on_time"] is True
    assert acked["clocks"]["start_on_time"] is None

    events = [e for e in await ops.outbox(event.data.report_id) if e["type"] == "ticket.status_changed.v1"]
    assert [e["data"]["action"] for e in events] == ["created", "acknowledge"]
    assert all(e["data"]["priority"] == "P3" and e["data"]["clocks"] for e in events)
    assert events[1]["data"]["clocks"]["acknowledge_on_time"] is True
    assert datetime.fromisoformat(events[1]["data"]["clocks"]["resolve_due_at"]) == due["resolve_due_at"]


# --- escalation -----------------------------------------------------------------------------------------------


async def test_a_p1_ticket_nobody_touches_escalates_within_seconds_then_to_level_two_each_once(
        ops: Departments) -> None:
    event = dispatch_event(department="water", priority="P1")  # acknowledge due in 0.6 s, start in 1.8 s
    await ops.deliver(event)
    ticket = await ops.ticket_of(event.data.report_id, "water")
    expected = {("acknowledge", 1), ("acknowledge", 2), ("start", 1), ("start", 2)}  # level 2: 1 s after due

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        escalated = await _escalations_out(ops, event.data.report_id)
        if len(escalated) >= 4:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a few more scheduler rounds: nothing may be escalated twice

    escalated = await _escalations_out(ops, event.data.report_id)
    assert sorted((e["data"]["clock"], e["data"]["level"]) for e in escalated) == sorted(expected)
    assert {e["topic"] for e in escalated} == {"tickets.escalations"}
    entries = [e for e in await _audit(ops, ticket["id"]) if e["action"] == "escalate"]
    assert len(entries) == 4 and {e["actor"]["id"] for e in entries} == {"system:sla"}
    assert all(e["from_state"] == e["to_state"] == "new" for e in entries)

    supervisor = await ops.auth("department_supervisor", "water")
    records = (await ops.client.get(f"/v1/tickets/{ticket['id']}/escalations", headers=supervisor)).json()
    assert sorted((r["clock"], r["level"]) for r in records) == sorted(expected)
    assert all(r["round"] == 0 and r["escalated_at"] >= r["due_at"] for r in records)
    listed = (await ops.client.get("/v1/tickets", params={"escalated": "true", "overdue": "true"},
                                   headers=supervisor)).json()["items"]
    mine = [t for t in listed if t["id"] == ticket["id"]]
    assert mine and mine[0]["escalation"]["level"] == 2
    assert mine[0]["overdue"] == ["acknowledge", "start"]
    fresh = dispatch_event(department="water", priority="P4")
    await ops.deliver(fresh)
    listed_ids = {t["id"] for t in (await ops.client.get("/v1/tickets", params={"overdue": "true"},
                                                          headers=supervisor)).json()["items"]}
    assert (await ops.ticket_of(fresh.data.report_id, "water"))["id"] not in listed_ids
    other = await ops.client.get("/v1/tickets", params={"escalated": "true", "department": "gas"},
                                 headers=supervisor)
    assert other.status_code == 403


async def test_escalation_state_survives_a_restart_and_missed_clocks_are_caught_up_once(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    event = _received_at(dispatch_event(department="water", priority="P1"), long_ago)
    # the scheduler "down" (it looks only every hour): the ticket misses every clock meanwhile
    async with _app(database_url, tmp_path, monkeypatch,
                    LINKAGE_DEPARTMENTS_ESCALATION_INTERVAL_S="3600") as first:
        await first.deliver(event)
        ticket = await first.ticket_of(event.data.report_id, "water")
        [task] = first.runtime.periodic
        # every clock (resolve: 864 s scaled) is past due and past level 2: all six in one pass
        assert await first.runtime.run_once(task) >= 6
        await first.runtime.run_once(task)
        assert len(await _escalation_rows(first, ticket["id"])) == 6
    async with _app(database_url, tmp_path, monkeypatch,
                    LINKAGE_DEPARTMENTS_ESCALATION_INTERVAL_S="3600") as second:
        [task] = second.runtime.periodic
        await second.runtime.run_once(task)  # restarted: the state is in the database, nothing is done twice
        await second.runtime.run_once(task)
        assert await _escalation_rows(second, ticket["id"]) == [
            ("acknowledge", 1), ("acknowledge", 2), ("resolve", 1), ("resolve", 2), ("start", 1), ("start", 2)]
        assert len(await _escalations_out(second, event.data.report_id)) == 6
        assert len([e for e in await _audit(second, ticket["id"]) if e["action"] == "escalate"]) == 6


async def _escalation_rows(service: Departments, ticket_id: str) -> list[tuple[str, int]]:
    rows = await service.sql("SELECT clock, level FROM ticket_escalations WHERE ticket_id = :t", t=ticket_id)
    return sorted((r[0], r[1]) for r in rows)


async def test_a_reopened_ticket_can_escalate_its_new_resolve_deadline(ops: Departments) -> None:
    long_ago = datetime.now(timezone.utc) - timedelta(days=2)
    event = _received_at(dispatch_event(department="water", priority="P1"), long_ago)
    await ops.deliver(event)
    ticket = await ops.ticket_of(event.data.report_id, "water")
    headers = await ops.auth("department_staff", "water")
    for action, body in (("acknowledge", None), ("start", None), ("resolve", {"resolution": "fixed"})):
        assert (await ops.client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body,
                                      headers=headers)).status_code == 200
    reopened = (await ops.client.post(f"/v1/tickets/{ticket['id']}/reopen", json={"reason": "back"},
                                      headers=headers)).json()
    assert reopened["clocks"]["resolved_at"] is None and reopened["escalation"]["round"] == 1
    assert datetime.fromisoformat(reopened["clocks"]["resolve_due_at"]) > datetime.now(timezone.utc)
    [task] = ops.runtime.periodic
    await ops.runtime.run_once(task)
    rows = await ops.sql("SELECT clock, round, level FROM ticket_escalations WHERE ticket_id = :t", t=ticket["id"])
    # acknowledge / start were done late, not escalated: the scheduler does not run for steps already done;
    # the restarted resolve clock (864 s scaled) is not due yet
    assert [tuple(r) for r in rows if r[0] == "resolve" and r[1] == 1] == []


# --- assignment and transfers ---------------------------------------------------------------------------------


async def test_assignment_needs_a_reason_and_is_shown_and_audited(ops: Departments) -> None:
    ticket = await ops.dispatched_ticket("water")
    headers = await ops.auth("department_supervisor", "water")
    missing = await ops.client.post(f"/v1/tickets/{ticket['id']}/assign", json={"unit": "North crew"},
                                    headers=headers)
    assert missing.status_code == 422
    nobody = await ops.client.post(f"/v1/tickets/{ticket['id']}/assign", json={"reason": "x"}, headers=headers)
    assert nobody.status_code == 422
    done = await ops.client.post(f"/v1/tickets/{ticket['id']}/assign",
                                 json={"unit": "North crew", "assignee": "Li Wei", "reason": "nearest crew"},
                                 headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["assignment"] == {"unit": "North crew", "assignee": "Li Wei"}
    entry = (await _audit(ops, ticket["id"]))[-1]
    assert (entry["action"], entry["reason"], entry["note"], entry["actor"]["role"]) == (
        "assign", "nearest crew", "unit: North crew; assignee: Li Wei", "department_supervisor")


async def test_the_audit_shows_who_refused_a_matter_and_why(ops: Departments) -> None:
    ticket = await ops.dispatched_ticket("water")
    issued = await ops.identity.create_key(name="Zhao Lei (water desk)", role="department_staff", department="water")
    headers = {"Authorization": f"Bearer {issued.secret}"}
    await ops.client.post(f"/v1/tickets/{ticket['id']}/transfer", json={"reason": "private pipe"}, headers=headers)
    entry = (await _audit(ops, ticket["id"]))[-1]
    assert (entry["action"], entry["reason"], entry["actor"]["name"], entry["actor"]["department"]) == (
        "transfer", "private pipe", "Zhao Lei (water desk)", "water")


# --- follow-ups and outcomes ----------------------------------------------------------------------------------


async def test_the_lead_records_follow_up_calls_on_its_ticket(ops: Departments) -> None:
    lead = await ops.dispatched_ticket("water", departments=["water", "transport"])
    assisting_event = dispatch_event(department="transport", report_id=lead["report_id"], role="assisting",
                                     lead="water", departments=["water", "transport"])
    await ops.deliver(assisting_event)
    assisting = await ops.ticket_of(lead["report_id"], "transport")
    water = await ops.auth("department_staff", "water")
    first = await ops.client.post(f"/v1/tickets/{lead['id']}/follow-ups",
                                  json={"reached": False, "outcome": "no answer"}, headers=water)
    second = await ops.client.post(f"/v1/tickets/{lead['id']}/follow-ups",
                                   json={"reached": True, "outcome": "water back", "note": "thanks"}, headers=water)
    assert first.status_code == second.status_code == 200, first.text
    assert [(f["reached"], f["outcome"], f["note"]) for f in second.json()["follow_ups"]] == [
        (False, "no answer", None), (True, "water back", "thanks")]
    listed = (await ops.client.get(f"/v1/tickets/{lead['id']}/follow-ups", headers=water)).json()
    assert len(listed) == 2
    assert [e["note"] for e in await _audit(ops, lead["id"]) if e["action"] == "follow_up"] == [
        "reached: no; outcome: no answer", "reached: yes; outcome: water back; thanks"]
    refused = await ops.client.post(f"/v1/tickets/{assisting['id']}/follow-ups",
                                    json={"reached": True, "outcome": "x"},
                                    headers=await ops.auth("department_staff", "transport"))
    assert refused.status_code == 403


async def test_a_mediation_outcome_is_validated_stored_and_carried_on_the_event(ops: Departments) -> None:
    ticket = await ops.dispatched_ticket("mediation")
    headers = await ops.auth("department_staff", "mediation")
    for action in ("acknowledge", "start"):
        await ops.client.post(f"/v1/tickets/{ticket['id']}/{action}", headers=headers)
    wrong = await ops.client.post(f"/v1/tickets/{ticket['id']}/resolve",
                                  json={"resolution": "talked", "outcome": "fixed"}, headers=headers)
    assert wrong.status_code == 422 and "agreement" in wrong.json()["detail"]
    assert (await ops.ticket_of(ticket["report_id"], "mediation"))["status"] == "in_progress"  # nothing half-written
    done = await ops.client.post(f"/v1/tickets/{ticket['id']}/resolve",
                                 json={"resolution": "quiet hours agreed", "outcome": "agreement"}, headers=headers)
    assert done.status_code == 200 and done.json()["outcome"] == "agreement"
    last = [e for e in await ops.outbox(ticket["report_id"]) if e["type"] == "ticket.status_changed.v1"][-1]
    assert (last["data"]["action"], last["data"]["outcome"]) == ("resolve", "agreement")
    water = await ops.dispatched_ticket("water")
    whead = await ops.auth("department_staff", "water")
    for action in ("acknowledge", "start"):
        await ops.client.post(f"/v1/tickets/{water['id']}/{action}", headers=whead)
    assert (await ops.client.post(f"/v1/tickets/{water['id']}/resolve",
                                  json={"resolution": "x", "outcome": "agreement"}, headers=whead)).status_code == 422


# --- citizen feedback -----------------------------------------------------------------------------------------


def _feedback(report_id: str, satisfaction: str, comment: str, *, reopen: bool) -> ReportFeedbackReceived:
    return ReportFeedbackReceived(source="/linkage/intake", subject=report_id, data=ReportFeedbackReceivedV1(
        feedback_id="fb-1", report_id=report_id, satisfaction=satisfaction,  # type: ignore[arg-type]
        comment=comment, reopen=reopen, lead_department="water",
        actor=TicketActor(id="cc-key", name="12345 call centre, desk 4", role="call_centre"),
        received_at=datetime.now(timezone.utc)))


async def test_dissatisfied_feedback_reopens_a_closed_lead_ticket_with_the_comment(ops: Departments) -> None:
    ticket = await ops.dispatched_ticket("water")
    headers = await ops.auth("department_staff", "water")
    for action, body in (("acknowledge", None), ("start", None), ("resolve", {"resolution": "fixed"}),
                         ("close", None)):
        assert (await ops.client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body,
                                      headers=headers)).status_code == 200
    assert await ops.deliver(_feedback(ticket["report_id"], "dissatisfied", "still leaking", reopen=True))
    reopened = await ops.ticket_of(ticket["report_id"], "water")
    assert reopened["status"] == "reopened" and reopened["clocks"]["resolved_at"] is None
    entry = (await _audit(ops, ticket["id"]))[-1]
    assert (entry["action"], entry["actor"]["id"], entry["actor"]["role"]) == ("reopen", "cc-key", "call_centre")
    assert "still leaking" in entry["reason"] and "dissatisfied" in entry["reason"]
    last = [e for e in await ops.outbox(ticket["report_id"]) if e["type"] == "ticket.status_changed.v1"][-1]
    assert (last["data"]["action"], last["data"]["to_state"]) == ("reopen", "reopened")

    # more feedback while it is being worked again: recorded as a note that says it did not reopen
    again = _feedback(ticket["report_id"], "dissatisfied", "nobody came", reopen=True)
    assert await ops.deliver(again.model_copy(update={"id": "another"}))
    entry = (await _audit(ops, ticket["id"]))[-1]
    assert entry["action"] == "note" and "nobody came" in entry["note"] and "not reopened" in entry["note"]
    assert (await ops.ticket_of(ticket["report_id"], "water"))["status"] == "reopened"


async def test_dissatisfied_feedback_on_a_linked_report_reopens_the_incidents_lead_ticket(ops: Departments) -> None:
    """A linked report has no tickets of its own: the event names its incident (``incident_id``, 1.1), whose lead
    ticket reopens with the comment; the audit says which caller's report it came from."""
    ticket = await ops.dispatched_ticket("water")
    incident = ticket["report_id"]
    headers = await ops.auth("department_staff", "water")
    for action, body in (("acknowledge", None), ("start", None), ("resolve", {"resolution": "fixed"}),
                         ("close", None)):
        assert (await ops.client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body,
                                      headers=headers)).status_code == 200

    def on_linked(comment: str, event_id: str) -> ReportFeedbackReceived:
        event = _feedback("linked-report-2", "dissatisfied", comment, reopen=True)
        return event.model_copy(update={"id": event_id, "subject": "linked-report-2",
                                        "data": event.data.model_copy(update={"incident_id": incident})})

    assert await ops.deliver(on_linked("still leaking", "fb-linked-1"))
    reopened = await ops.ticket_of(incident, "water")
    assert reopened["status"] == "reopened"
    entry = (await _audit(ops, ticket["id"]))[-1]
    assert (entry["action"], entry["actor"]["id"]) == ("reopen", "cc-key")
    assert "still leaking" in entry["reason"] and "linked report linked-report-2" in entry["reason"]
    last = [e for e in await ops.outbox(incident) if e["type"] == "ticket.status_changed.v1"][-1]
    assert (last["data"]["action"], last["data"]["to_state"]) == ("reopen", "reopened")

    # while it is worked again, another linked caller's complaint is a note on the incident's lead ticket
    assert await ops.deliver(on_linked("nobody came", "fb-linked-2"))
    entry = (await _audit(ops, ticket["id"]))[-1]
    assert entry["action"] == "note" and "nobody came" in entry["note"] and "not reopened" in entry["note"]


# --- joint handling -------------------------------------------------------------------------------------------


async def test_every_ticket_shows_the_reports_other_tickets_and_whether_the_report_is_resolved(
        ops: Departments) -> None:
    lead = await ops.dispatched_ticket("water", departments=["water", "transport"])
    report_id = lead["report_id"]
    await ops.deliver(dispatch_event(department="transport", report_id=report_id, role="assisting", lead="water",
                                     departments=["water", "transport"]))
    # a third department served by another instance: known only from its tickets.events
    await ops.deliver(TicketStatusChanged(source="/linkage/departments", subject=report_id, data=TicketStatusChangedV1(
        ticket_id="gas-ticket", report_id=report_id, department="gas", role="assisting", sequence=2,
        action="acknowledge", from_state="new", to_state="acknowledged", at=datetime.now(timezone.utc),
        actor=TicketActor(id="k", name="gas desk", role="department_staff", department="gas"))))
    water = await ops.auth("department_staff", "water")
    view = (await ops.client.get(f"/v1/tickets/{lead['id']}", headers=water)).json()
    assert {(j["department"], j["role"], j["status"]) for j in view["joint"]} == {
        ("transport", "assisting", "new"), ("gas", "assisting", "acknowledged")}
    assert view["report_resolved"] is False

    transport = await ops.ticket_of(report_id, "transport")
    theads = await ops.auth("department_staff", "transport")
    await ops.client.post(f"/v1/tickets/{transport['id']}/acknowledge", headers=theads)
    view = (await ops.client.get(f"/v1/tickets/{lead['id']}", headers=water)).json()
    assert ("transport", "acknowledged") in {(j["department"], j["status"]) for j in view["joint"]}
    tview = (await ops.client.get(f"/v1/tickets/{transport['id']}", headers=theads)).json()
    assert ("water", "lead", "new") in {(j["department"], j["role"], j["status"]) for j in tview["joint"]}


async def test_an_assisting_department_asks_to_be_released_and_the_lead_releases_it(ops: Departments) -> None:
    lead = await ops.dispatched_ticket("water", departments=["water", "transport"])
    report_id = lead["report_id"]
    await ops.deliver(dispatch_event(department="transport", report_id=report_id, role="assisting", lead="water",
                                     departments=["water", "transport"]))
    transport = await ops.ticket_of(report_id, "transport")
    theads = await ops.auth("department_staff", "transport")
    water = await ops.auth("department_staff", "water")

    early = await ops.client.post(f"/v1/tickets/{lead['id']}/assistants/transport/release",
                                  json={"reason": "ok"}, headers=water)
    assert early.status_code == 409  # it has not asked
    assert (await ops.client.post(f"/v1/tickets/{lead['id']}/release", json={"reason": "x"},
                                  headers=water)).status_code == 403  # the lead does not ask to be released
    asked = await ops.client.post(f"/v1/tickets/{transport['id']}/release",
                                  json={"reason": "road not damaged"}, headers=theads)
    assert asked.status_code == 200 and asked.json()["release_requested"] == "road not damaged"
    requests = [e for e in await ops.outbox(report_id) if e["type"] == "ticket.release_requested.v1"]
    assert len(requests) == 1 and requests[0]["topic"] == "tickets.events"
    [(_, request_event)] = await ops.outbox_events(report_id, "ticket.release_requested.v1")
    assert await ops.deliver(request_event)
    view = (await ops.client.get(f"/v1/tickets/{lead['id']}", headers=water)).json()
    [row] = [j for j in view["joint"] if j["department"] == "transport"]
    assert row["release_requested"] == "road not damaged"

    approved = await ops.client.post(f"/v1/tickets/{lead['id']}/assistants/transport/release",
                                     json={"reason": "agreed, nothing for transport"}, headers=water)
    assert approved.status_code == 200, approved.text
    [(topic, release)] = await ops.outbox_events(report_id, "ticket.release_approved.v1")
    assert topic == "dept.transport"
    assert await ops.deliver(release)
    cancelled = await ops.ticket_of(report_id, "transport")
    assert cancelled["status"] == "cancelled"
    entry = (await _audit(ops, transport["id"], "transport"))[-1]
    assert entry["action"] == "cancel" and "agreed, nothing for transport" in entry["reason"]
    assert entry["actor"]["department"] == "water"
    lead_audit = [e["action"] for e in await _audit(ops, lead["id"])]
    assert "release" in lead_audit


async def test_the_lead_asks_for_an_assisting_department_through_the_router(ops: Departments) -> None:
    lead = await ops.dispatched_ticket("water")
    water = await ops.auth("department_staff", "water")
    unknown = await ops.client.post(f"/v1/tickets/{lead['id']}/assistants",
                                    json={"department": "nosuch", "reason": "x"}, headers=water)
    assert unknown.status_code == 422
    itself = await ops.client.post(f"/v1/tickets/{lead['id']}/assistants",
                                   json={"department": "water", "reason": "x"}, headers=water)
    assert itself.status_code == 409
    asked = await ops.client.post(f"/v1/tickets/{lead['id']}/assistants",
                                  json={"department": "transport", "reason": "road undermined"}, headers=water)
    assert asked.status_code == 200, asked.text
    [request] = [e for e in await ops.outbox(lead["report_id"]) if e["type"] == "ticket.assistance_requested.v1"]
    assert request["topic"] == "tickets.events"
    assert (request["data"]["department"], request["data"]["reason"], request["data"]["lead_department"]) == (
        "transport", "road undermined", "water")
    entry = (await _audit(ops, lead["id"]))[-1]
    assert (entry["action"], entry["reason"], entry["note"]) == ("request_assist", "road undermined",
                                                                "department: transport")


async def test_a_department_that_refused_the_report_cannot_be_asked_to_assist(ops: Departments) -> None:
    """The router never sends a report back to a department that transferred it: asking it would be accepted and
    then do nothing, so it is refused, with nothing audited."""
    refused = await ops.dispatched_ticket("sanitation")
    r = await ops.client.post(f"/v1/tickets/{refused['id']}/transfer", json={"reason": "a burst main, not bins"},
                              headers=await ops.auth("department_staff", "sanitation"))
    assert r.status_code == 200, r.text
    assert await ops.deliver(dispatch_event(department="water", report_id=refused["report_id"], attempt=2))
    lead = await ops.ticket_of(refused["report_id"], "water")
    water = await ops.auth("department_staff", "water")
    asked = await ops.client.post(f"/v1/tickets/{lead['id']}/assistants",
                                  json={"department": "sanitation", "reason": "debris"}, headers=water)
    assert asked.status_code == 409 and asked.headers["content-type"] == "application/problem+json", asked.text
    assert "refused" in asked.json()["detail"]
    assert "request_assist" not in [e["action"] for e in await _audit(ops, lead["id"])]
