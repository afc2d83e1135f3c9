"""Call-backs (回访) and the centre's statistics over real HTTP (ASGI), a real database (SQLite and PostgreSQL)
and the real broker. Routing and ticket states arrive as the events the router and departments publish."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from devtools.tansu import TansuBroker
from intake.app import create_app
from intake.settings import IntakeSettings
from shared.events import (
    REPORTS_FEEDBACK, ReportRouted, ReportRoutedV1, TicketActor, TicketClocks, TicketStatusChanged,
    TicketStatusChangedV1, from_kafka,
)
from shared.identity import IdentityStore
from tests.support import bearer, running_app

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
SLA = {"P1": (60, 180, 86400), "P2": (300, 1800, 86400), "P3": (1800, 14400, 259200)}


class Intake:
    def __init__(self, client: httpx.AsyncClient, app: Any, keys: dict[str, str]) -> None:
        self.client, self.app, self.keys = client, app, keys

    async def file(self, channel: str = "phone_12345", text: str = "水管爆了") -> str:
        r = await self.client.post("/v1/reports", json={"text": text, "channel": channel},
                                   headers=bearer(self.keys["call_centre"]))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def event(self, event: Any) -> None:
        await self.app.state.runtime.consumer.handle_event(event)

    async def route(self, report_id: str, departments: list[str], police: bool, priority: str = "P2") -> None:
        await self.event(ReportRouted(source="/test", subject=report_id, data=ReportRoutedV1(
            report_id=report_id, police=police, lead=departments[0], assisting=departments[1:],
            departments=departments, dispatched=departments, priority=priority, confidence=0.9, classifier="test",
            decided_at=T0)))

    async def ticket(self, report_id: str, ticket_id: str, department: str, seq: int, action: str, to: str, *,
                     lead: bool = True, at: datetime = T0, priority: str | None = "P2",
                     clocks: TicketClocks | None = None, outcome: str | None = None, reason: str | None = None
                     ) -> None:
        await self.event(TicketStatusChanged(source="/test", subject=report_id, data=TicketStatusChangedV1(
            ticket_id=ticket_id, report_id=report_id, department=department, role="lead" if lead else "assisting",
            sequence=seq, action=action, from_state=None if seq == 1 else "new", to_state=to, at=at,
            actor=TicketActor(id="k", name="desk", role="department_staff", department=department),
            priority=priority, clocks=clocks, outcome=outcome, reason=reason)))

    async def get(self, path: str, key: str = "centre_operator", **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers={**bearer(self.keys[key]), **kw.pop("headers", {})}, **kw)

    async def feedback(self, report_id: str, body: Any, key: str = "call_centre", **kw: Any) -> httpx.Response:
        return await self.client.post(f"/v1/reports/{report_id}/feedback", json=body,
                                      headers={**bearer(self.keys[key]), **kw.pop("headers", {})})


@pytest.fixture
async def intake(db_url: str, tmp_path: Path, broker: TansuBroker) -> AsyncIterator[Intake]:
    auth_url = f"sqlite+aiosqlite:///{tmp_path}/identity.db"
    store = IdentityStore(auth_url)
    await store.migrate()
    keys = {role: (await store.create_key(name=role, role=role)).secret
            for role in ("call_centre", "centre_operator", "admin")}
    keys["department_staff"] = (await store.create_key(name="w", role="department_staff", department="water")).secret
    keys["water_supervisor"] = (await store.create_key(name="ws", role="department_supervisor",
                                                       department="water")).secret
    settings = IntakeSettings(database_url=db_url, auth_database_url=auth_url,
                              kafka_bootstrap_servers=broker.bootstrap, consumer_enabled=False)
    app = create_app(settings)
    async with running_app(app) as client:
        yield Intake(client, app, keys)
    await store.close()


def clocks(priority: str, created: datetime, ack_s: float | None = None, start_s: float | None = None,
           resolve_s: float | None = None) -> TicketClocks:
    ack, start, resolve = SLA[priority]

    def at(s: float | None) -> datetime | None:
        return None if s is None else created + timedelta(seconds=s)

    return TicketClocks(
        acknowledge_due_at=created + timedelta(seconds=ack), start_due_at=created + timedelta(seconds=start),
        resolve_due_at=created + timedelta(seconds=resolve), acknowledged_at=at(ack_s), started_at=at(start_s),
        resolved_at=at(resolve_s), acknowledge_on_time=None if ack_s is None else ack_s <= ack,
        start_on_time=None if start_s is None else start_s <= start,
        resolve_on_time=None if resolve_s is None else resolve_s <= resolve)


def lead_ticket(report_id: str) -> str:
    return report_id[:34] + "-t"


async def closed_report(intake: Intake, department: str = "water") -> str:
    report_id = await intake.file()
    await intake.route(report_id, [department], police=False)
    tid = lead_ticket(report_id)
    for seq, action, to in [(1, "created", "new"), (2, "acknowledge", "acknowledged"), (3, "start", "in_progress"),
                            (4, "resolve", "resolved"), (5, "close", "closed")]:
        await intake.ticket(report_id, tid, department, seq, action, to)
    return report_id


async def read_topic(broker: TansuBroker, topic: str, key: str, want: int, timeout: float = 30) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id=None,
                                auto_offset_reset="earliest", fetch_max_wait_ms=20)
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += [from_kafka(r.value, r.headers) for r in records if r.key == key.encode()]
    finally:
        await consumer.stop()
    return found


# --- feedback ------------------------------------------------------------------------------------------------------

async def test_dissatisfied_feedback_reopens_the_report_and_is_published_for_the_lead_department(
        intake: Intake, broker: TansuBroker) -> None:
    report_id = await closed_report(intake)
    ok = await intake.feedback(report_id, {"satisfaction": "basically_satisfied"})
    assert ok.status_code == 201, ok.text
    assert (await intake.get(f"/v1/reports/{report_id}")).json()["status"] == "closed"

    r = await intake.feedback(report_id, {"satisfaction": "dissatisfied", "comment": "水管还在漏"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["satisfaction"], body["reopen"], body["lead_department"], body["comment"]) == (
        "dissatisfied", True, "water", "水管还在漏")
    report = (await intake.get(f"/v1/reports/{report_id}")).json()
    assert report["status"] == "reopened"
    assert [f["satisfaction"] for f in report["feedback"]] == ["basically_satisfied", "dissatisfied"]
    details = [e["detail"] for e in report["timeline"] if e["kind"] in ("feedback", "report_reopened")]
    assert details[0].startswith("feedback: basically satisfied")
    assert details[1].startswith("feedback: dissatisfied — 水管还在漏") and "call_centre" in details[1]
    assert details[2].startswith("report reopened")

    events = await read_topic(broker, REPORTS_FEEDBACK, report_id, want=2)
    assert [(e.type, e.data.satisfaction, e.data.reopen) for e in events] == [
        ("report.feedback_received.v1", "basically_satisfied", False),
        ("report.feedback_received.v1", "dissatisfied", True)]
    assert events[1].data.lead_department == "water" and events[1].data.comment == "水管还在漏"
    assert events[1].data.feedback_id == body["id"] and events[1].data.actor.role == "call_centre"
    assert events[1].data.incident_id is None  # a report with tickets of its own

    # the departments side reopens the lead ticket: the report follows its ticket again, counted as one reopen
    await intake.ticket(report_id, lead_ticket(report_id), "water", 6, "reopen", "reopened", reason="水管还在漏")
    report = (await intake.get(f"/v1/reports/{report_id}")).json()
    assert report["status"] == "in_progress"
    stats = (await intake.get("/v1/stats")).json()
    assert (stats["reopened"], stats["reopen_rate"], stats["disposed"]) == (1, 1.0, 0)
    assert stats["feedback"] == {"count": 2, "satisfied": 0, "basically_satisfied": 1, "dissatisfied": 1}
    assert stats["satisfaction_rate"] == 0.5


async def test_dissatisfied_feedback_on_a_linked_report_goes_to_the_incidents_lead_ticket(
        intake: Intake, broker: TansuBroker) -> None:
    """A linked report (another caller's report of an incident) has no tickets: the call-back names the incident,
    whose lead ticket departments reopen; the linked report stays reopened until then, and follows the incident
    again afterwards, as every linked report does."""
    incident = await intake.file()
    await intake.route(incident, ["water"], police=False)
    linked = await intake.file(text="门口水管爆了，到处是水")
    await intake.event(ReportRouted(source="/test", subject=linked, data=ReportRoutedV1(
        report_id=linked, police=False, lead="water", departments=["water"], dispatched=[], priority="P2",
        confidence=0.9, classifier="test", decided_at=T0, incident_id=incident, linked=True, trigger="linked")))
    tid = lead_ticket(incident)
    for seq, action, to in [(1, "created", "new"), (2, "acknowledge", "acknowledged"), (3, "start", "in_progress"),
                            (4, "resolve", "resolved"), (5, "close", "closed")]:
        await intake.ticket(incident, tid, "water", seq, action, to)
    assert (await intake.get(f"/v1/reports/{linked}")).json()["status"] == "closed"

    r = await intake.feedback(linked, {"satisfaction": "dissatisfied", "comment": "还是漏水"})
    assert r.status_code == 201, r.text
    assert (r.json()["reopen"], r.json()["lead_department"]) == (True, "water")
    report = (await intake.get(f"/v1/reports/{linked}")).json()
    assert report["status"] == "reopened"
    assert f"incident {incident}'s ticket" in report["timeline"][-1]["detail"]
    [event] = await read_topic(broker, REPORTS_FEEDBACK, linked, want=1)
    assert (event.data.report_id, event.data.incident_id, event.data.lead_department, event.data.reopen) == (
        linked, incident, "water", True)

    # an incident change that leaves it closed (its ticket re-routed) does not undo the call-back's reopening
    await intake.ticket(incident, tid, "water", 6, "reroute", "closed")
    assert (await intake.get(f"/v1/reports/{linked}")).json()["status"] == "reopened"
    # departments reopen the incident's lead ticket: the linked report follows the incident again
    await intake.ticket(incident, tid, "water", 7, "reopen", "reopened", reason="还是漏水")
    assert (await intake.get(f"/v1/reports/{linked}")).json()["status"] == "in_progress"
    stats = (await intake.get("/v1/stats")).json()
    assert stats["reopened"] == 1  # one call-back, one reopen: the incident's, not the linked report's as well
    for seq, action, to in [(8, "resolve", "resolved"), (9, "close", "closed")]:
        await intake.ticket(incident, tid, "water", seq, action, to)
    report = (await intake.get(f"/v1/reports/{linked}")).json()
    assert report["status"] == "closed" and (await intake.get(f"/v1/reports/{incident}")).json()["status"] == "closed"
    again = await intake.feedback(linked, {"satisfaction": "satisfied"})
    assert again.status_code == 201 and (await intake.get(f"/v1/reports/{linked}")).json()["status"] == "closed"


async def test_feedback_is_refused_unless_the_report_is_closed_and_nothing_is_written(intake: Intake) -> None:
    report_id = await intake.file()
    r = await intake.feedback(report_id, {"satisfaction": "satisfied"})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert "closed" in r.json()["detail"]
    assert (await intake.get(f"/v1/reports/{report_id}")).json()["feedback"] == []
    missing = await intake.feedback(str(uuid.uuid4()), {"satisfaction": "satisfied"})
    assert missing.status_code == 404
    closed = await closed_report(intake)
    bad = await intake.feedback(closed, {"satisfaction": "meh"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "satisfaction"
    extra = await intake.feedback(closed, {"satisfaction": "satisfied", "stars": 5})
    assert extra.status_code == 422
    assert (await intake.feedback(closed, {"satisfaction": "satisfied"}, key="department_staff")).status_code == 403
    assert (await intake.get(f"/v1/reports/{closed}")).json()["feedback"] == []


async def test_feedback_idempotency_key_replays_instead_of_recording_twice(intake: Intake) -> None:
    report_id = await closed_report(intake)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await intake.feedback(report_id, {"satisfaction": "dissatisfied", "comment": "x"}, headers=key)
    again = await intake.feedback(report_id, {"satisfaction": "dissatisfied", "comment": "x"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await intake.feedback(report_id, {"satisfaction": "satisfied"}, headers=key)
    assert other.status_code == 422
    assert len((await intake.get(f"/v1/reports/{report_id}")).json()["feedback"]) == 1


# --- statistics ----------------------------------------------------------------------------------------------------

async def seed(intake: Intake) -> dict[str, str]:
    """Four reports: a police matter (P1, on time), a non-police one off the 110 line (water, late acknowledge),
    a joint one (gas lead + fire, fire still new and overdue) and a mediation (agreement), plus call-backs."""
    police = await intake.file(channel="phone_110", text="有人在打架")
    await intake.route(police, ["police"], police=True, priority="P1")
    await intake.ticket(police, "tp", "police", 1, "created", "new", priority="P1", clocks=clocks("P1", T0))
    await intake.ticket(police, "tp", "police", 2, "resolve", "resolved", priority="P1",
                        clocks=clocks("P1", T0, 30, 100, 1000))

    water = await intake.file(channel="phone_110", text="水管爆了")
    await intake.route(water, ["water"], police=False)
    await intake.ticket(water, "tw", "water", 1, "created", "new", clocks=clocks("P2", T0))
    await intake.ticket(water, "tw", "water", 2, "close", "closed", clocks=clocks("P2", T0, 600, 900, 5000))

    gas = await intake.file(text="燃气味很大")
    await intake.route(gas, ["gas", "fire"], police=False, priority="P1")
    await intake.ticket(gas, "tg", "gas", 1, "created", "new", priority="P1", clocks=clocks("P1", T0))
    await intake.ticket(gas, "tg", "gas", 2, "acknowledge", "acknowledged", priority="P1",
                        clocks=clocks("P1", T0, 50))
    await intake.ticket(gas, "tf", "fire", 1, "created", "new", lead=False, priority="P1", clocks=clocks("P1", T0))

    neighbours = await intake.file(text="邻居吵架")
    await intake.route(neighbours, ["mediation"], police=False, priority="P3")
    await intake.ticket(neighbours, "tm", "mediation", 1, "created", "new", priority="P3", clocks=clocks("P3", T0))
    await intake.ticket(neighbours, "tm", "mediation", 2, "close", "closed", priority="P3", outcome="agreement",
                        clocks=clocks("P3", T0, 100, 200, 3000))
    for rid, answer in [(water, "satisfied"), (neighbours, "dissatisfied")]:
        assert (await intake.feedback(rid, {"satisfaction": answer})).status_code == 201
    return {"police": police, "water": water, "gas": gas, "mediation": neighbours}


async def test_stats_count_what_the_stored_reports_tickets_and_call_backs_say(intake: Intake) -> None:
    await seed(intake)
    r = await intake.get("/v1/stats")
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["received"], s["police"], s["non_police"], s["unrouted"], s["diverted_from_police_line"],
            s["joint"]) == (4, 1, 3, 0, 1, 1)
    # police resolved and water closed; the mediation was closed but its dissatisfied call-back reopened it
    assert (s["disposed"], s["disposal_rate"]) == (2, 0.5)
    assert s["tickets"]["total"] == 5
    assert s["tickets"]["by_state"] == {"acknowledged": 1, "closed": 2, "new": 1, "resolved": 1}
    assert {d["department"]: d["by_state"] for d in s["tickets"]["by_department"]}["fire"] == {"new": 1}
    # acknowledge: police 30 s ≤ 60 on time, water 600 > 300 late, gas 50 on time, mediation on time, fire overdue
    assert s["on_time"]["acknowledge"] == {"on_time": 3, "late": 1, "overdue": 1, "rate": 0.6}
    assert s["on_time"]["resolve"]["on_time"] == 3 and s["on_time"]["resolve"]["overdue"] == 2
    water = next(g for g in s["on_time_by_department"] if g["department"] == "water")
    assert water["priority"] == "P2" and water["acknowledge"] == {"on_time": 0, "late": 1, "overdue": 0, "rate": 0.0}
    assert s["time_to_acknowledge"] == {"count": 4, "median_s": 75.0, "p90_s": 450.0, "estimated": False}  # 30, 50, 100, 600
    assert s["time_to_resolve"] == {"count": 3, "median_s": 3000.0, "p90_s": 4600.0, "estimated": False}  # 1000, 3000, 5000
    assert s["mediation"] == {"tickets": 1, "outcomes": {"agreement": 1}}
    assert (s["satisfaction_rate"], s["reopened"], s["reopen_rate"]) == (0.5, 1, 0.3333)  # 1 of 3 ever disposed
    assert s["department"] is None and s["from"] is None and s["to"] is not None and s["generated_at"]


async def test_stats_window_and_department_filters(intake: Intake) -> None:
    await seed(intake)
    now = datetime.now(timezone.utc)
    past = (await intake.get("/v1/stats", params={"to": (now - timedelta(days=1)).isoformat()})).json()
    assert past["received"] == 0 and past["tickets"]["total"] == 0 and past["disposal_rate"] is None
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
    assert (await intake.get("/v1/stats", params=window)).json()["received"] == 4
    fire = (await intake.get("/v1/stats", params={"department": "fire"})).json()
    assert (fire["department"], fire["received"], fire["joint"], fire["tickets"]["total"]) == ("fire", 1, 1, 1)
    assert fire["on_time"]["acknowledge"] == {"on_time": 0, "late": 0, "overdue": 1, "rate": 0.0}
    assert fire["mediation"]["tickets"] == 0 and fire["feedback"]["count"] == 0


async def test_supervisors_see_only_their_department_and_other_roles_none(intake: Intake) -> None:
    await seed(intake)
    own = await intake.get("/v1/stats", key="water_supervisor")
    assert own.status_code == 200 and own.json()["department"] == "water" and own.json()["received"] == 1
    assert own.json()["feedback"]["satisfied"] == 1
    other = await intake.get("/v1/stats", key="water_supervisor", params={"department": "gas"})
    assert other.status_code == 403 and other.headers["content-type"] == "application/problem+json"
    for role in ("call_centre", "department_staff"):
        assert (await intake.get("/v1/stats", key=role)).status_code == 403
    assert (await intake.get("/v1/stats", key="admin", params={"department": "gas"})).json()["received"] == 1


@pytest.mark.parametrize("params, field", [
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-13-01T00:00:00Z"}, "to"),
    ({"to": "0.5"}, "to"),  # not seconds since 1970
    ({"to": "9999-12-31T23:59:59-12:00"}, "to"),  # no such time in UTC: was a 500
    ({"from": "0001-01-01T00:00:00+14:00"}, "from"),
    ({"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
    ({"department": "ministry_of_magic"}, "department"),
])
async def test_bad_stats_parameters_are_422_problems_naming_the_field(
        intake: Intake, params: dict[str, str], field: str) -> None:
    r = await intake.get("/v1/stats", params=params)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_stats_as_csv_carry_the_same_figures(intake: Intake) -> None:
    await seed(intake)
    r = await intake.get("/v1/stats", headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == ["metric", "department", "priority", "clock", "key", "value"]

    def value(metric: str, **dims: str) -> str:
        match = [row["value"] for row in rows if row["metric"] == metric
                 and all(row[k] == dims.get(k, "") for k in ("department", "priority", "clock", "key"))]
        assert len(match) == 1, (metric, dims, match)
        return match[0]

    assert value("received") == "4" and value("non_police") == "3" and value("disposal_rate") == "0.5"
    assert value("tickets", department="fire", key="new") == "1"
    assert value("on_time.rate", clock="acknowledge") == "0.6"
    assert value("on_time.late", department="water", priority="P2", clock="acknowledge") == "1"
    assert value("time_to_resolve.p90_s") == "4600.0"
    assert value("mediation.outcome", key="agreement") == "1"
    assert value("feedback", key="dissatisfied") == "1" and value("department") == ""


async def test_openapi_documents_json_and_csv_for_stats(intake: Intake) -> None:
    spec = (await intake.client.get("/openapi.json")).json()
    content = spec["paths"]["/v1/stats"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(content)
    assert set(spec["paths"]["/v1/stats"]["get"]["responses"]["403"]["content"]) == {"application/problem+json"}
    assert "/v1/reports/{report_id}/feedback" in spec["paths"]


async def test_a_step_skipped_on_a_resolved_ticket_is_not_overdue(intake: Intake) -> None:
    report_id = await intake.file(text="路灯不亮")
    await intake.route(report_id, ["power"], police=False, priority="P3")
    await intake.ticket(report_id, "tpw", "power", 1, "created", "new", priority="P3", clocks=clocks("P3", T0))
    before = (await intake.get("/v1/stats", params={"department": "power"})).json()["on_time"]
    assert before["start"] == {"on_time": 0, "late": 0, "overdue": 1, "rate": 0.0}  # T0 is long past
    await intake.ticket(report_id, "tpw", "power", 2, "resolve", "resolved", priority="P3",
                        clocks=clocks("P3", T0, ack_s=30, resolve_s=600))  # resolved without "start"
    after = (await intake.get("/v1/stats", params={"department": "power"})).json()["on_time"]
    assert after["start"] == {"on_time": 0, "late": 0, "overdue": 0, "rate": None}
    assert after["resolve"] == {"on_time": 1, "late": 0, "overdue": 0, "rate": 1.0}
