"""End to end: the real broker and all three services as processes, driven through HTTP and Kafka."""

from __future__ import annotations

import asyncio
import random
import signal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from router.engine import RoutingEngine
from shared.events import from_kafka
from shared.registry import load_registry
from tests.e2e.conftest import Suite, eventually

pytestmark = pytest.mark.e2e
CLASSIFIER = RoutingEngine(load_registry())  # the router's default classifier
TEXTS = [
    "我们小区3号楼门口的自来水管爆了，水一直往外冒",
    "Caller states the street light outside 12 Elm Street has been out for a week",
    "楼下饭店后厨着火了，烟很大",
    "垃圾桶三天没人清理了，臭气熏天",
    "Someone broke into my car last night and stole my laptop",
    "老板拖欠我们三个月工资不发",
    "楼道里燃气味很大，邻居家好像漏气了",
    "A car hit a cyclist at the crossing, he is bleeding from the head",
]


async def file(http: httpx.AsyncClient, suite: Suite, text: str) -> httpx.Response:
    return await http.post(f"{suite.url('intake')}/v1/reports", headers=suite.headers("call_centre"),
                           json={"text": text, "channel": "phone_12345", "caller": {"phone": "13800138000"}})


async def tickets_of(http: httpx.AsyncClient, suite: Suite, report_id: str) -> list[dict[str, Any]]:
    r = await http.get(f"{suite.url('departments')}/v1/tickets", params={"report_id": report_id, "limit": 50},
                       headers=suite.headers("centre_operator"))
    r.raise_for_status()
    return list(r.json()["items"])


async def report(http: httpx.AsyncClient, suite: Suite, report_id: str) -> dict[str, Any]:
    r = await http.get(f"{suite.url('intake')}/v1/reports/{report_id}", headers=suite.headers("call_centre"))
    r.raise_for_status()
    return dict(r.json())


def expected_departments(text: str) -> set[str]:
    """The tickets a report should get: its departments, or, when the router is not sure and it waits in triage,
    only those dispatched while it waits (police for a possible police matter)."""
    decision = CLASSIFIER.classify(text)
    return set(decision.dispatch_while_review if decision.needs_review else decision.departments)


async def assert_exactly_expected_tickets(http: httpx.AsyncClient, suite: Suite, accepted: dict[str, str],
                                          timeout: float = 120) -> None:
    """Every accepted report ends with exactly one ticket per expected department, and intake knows them all."""
    pending = dict(accepted)

    async def settled() -> bool:
        for report_id, text in list(pending.items()):
            tickets = await tickets_of(http, suite, report_id)
            departments = [t["department"] for t in tickets]
            if sorted(departments) != sorted(expected_departments(text)):
                assert len(departments) == len(set(departments)), f"duplicate tickets for {report_id}"
                return False
            seen = await report(http, suite, report_id)
            if sorted(t["department"] for t in seen["tickets"]) != sorted(departments):
                return False
            del pending[report_id]
        return True

    await eventually(settled, timeout=timeout, what=f"{len(pending)} reports to become their tickets")


async def act(http: httpx.AsyncClient, suite: Suite, ticket: dict[str, Any], action: str,
              body: dict[str, Any] | None = None) -> httpx.Response:
    return await http.post(f"{suite.url('departments')}/v1/tickets/{ticket['id']}/{action}", json=body or {},
                           headers=suite.headers("department_staff", ticket["department"]))


async def test_a_joint_report_goes_from_post_to_closed_through_http_and_kafka(
        suite: Suite, http: httpx.AsyncClient) -> None:
    consumer = AIOKafkaConsumer("dept.gas", bootstrap_servers=suite.broker.bootstrap, group_id=None,
                                auto_offset_reset="earliest", fetch_max_wait_ms=20)
    await consumer.start()
    try:
        text = "楼道里燃气味很大，邻居家好像漏气了"
        created = await file(http, suite, text)
        assert created.status_code == 201
        report_id = created.json()["id"]

        async def both_tickets() -> list[dict[str, Any]] | None:
            tickets = await tickets_of(http, suite, report_id)
            return tickets if {t["department"] for t in tickets} == {"gas", "fire"} else None

        tickets = await eventually(both_tickets, timeout=90, what="tickets at gas and fire")
        assert {t["department"]: t["role"] for t in tickets} == {"gas": "lead", "fire": "assisting"}

        # a department system consuming its topic directly sees a CloudEvent keyed by the report id
        message = None
        while message is None:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                message = next((m for m in records if m.key == report_id.encode()), message)
        headers = dict(message.headers)
        assert headers["ce_type"] == b"ticket.dispatched.v1" and headers["ce_subject"] == report_id.encode()
        assert from_kafka(message.value, message.headers).data.department == "gas"
        assert b"13800138000" not in message.value
    finally:
        await consumer.stop()

    # another department cannot see these tickets
    other = await http.get(f"{suite.url('departments')}/v1/tickets/{tickets[0]['id']}",
                           headers=suite.headers("department_staff", "water"))
    assert other.status_code == 404

    for ticket in tickets:
        assert (await act(http, suite, ticket, "acknowledge")).status_code == 200
        assert (await act(http, suite, ticket, "start")).status_code == 200
        assert (await act(http, suite, ticket, "close")).status_code == 409  # not resolved yet
        assert (await act(http, suite, ticket, "resolve", {"resolution": "Leak sealed"})).status_code == 200

    await eventually(lambda: _status_is(http, suite, report_id, "resolved"), what="report resolved")
    for ticket in tickets:
        assert (await act(http, suite, ticket, "close")).status_code == 200
    final = await eventually(lambda: _status_is(http, suite, report_id, "closed"), what="report closed")
    assert final["police"] is False and final["departments"] == ["gas", "fire"] and final["priority"] == "P1"
    kinds = [e["kind"] for e in final["timeline"]]
    for kind in ("received", "routed", "dispatched", "ticket_created", "ticket_acknowledge", "ticket_start",
                 "ticket_resolve", "report_resolved", "ticket_close", "report_closed"):
        assert kind in kinds, kind
    for ticket in tickets:
        verify = await http.get(f"{suite.url('departments')}/v1/tickets/{ticket['id']}/audit/verify",
                                headers=suite.headers("department_staff", ticket["department"]))
        assert verify.json()["intact"] is True and verify.json()["entries"] == 5


async def _status_is(http: httpx.AsyncClient, suite: Suite, report_id: str, status: str) -> dict[str, Any] | None:
    current = await report(http, suite, report_id)
    return current if current["status"] == status else None


async def test_a_transfer_reroutes_the_report_without_the_refusing_department(
        suite: Suite, http: httpx.AsyncClient) -> None:
    report_id = (await file(http, suite, "垃圾桶三天没人清理了，臭气熏天")).json()["id"]
    first = (await eventually(lambda: tickets_of(http, suite, report_id), what="first ticket"))[0]
    assert first["department"] == "sanitation"
    refused = await act(http, suite, first, "transfer", {"reason": "private courtyard, not public sanitation"})
    assert refused.status_code == 200 and refused.json()["status"] == "transferred"

    async def rerouted_or_in_triage() -> str | None:
        if len(await tickets_of(http, suite, report_id)) == 2:
            return "rerouted"
        queue = await http.get(f"{suite.url('router')}/v1/triage", headers=suite.headers("centre_operator"))
        return "triage" if report_id in [i["report_id"] for i in queue.json()["items"]] else None

    # without sanitation the classifier either places it elsewhere, or is not sure and centre staff decide
    outcome = await eventually(rerouted_or_in_triage, what="a re-route or the triage queue")
    if outcome == "triage":
        seen = await eventually(lambda: _status_is(http, suite, report_id, "triage"), what="intake shows triage")
        assert any(e["kind"] == "triage" for e in seen["timeline"])
        routed = await http.post(f"{suite.url('router')}/v1/triage/{report_id}/route",
                                 headers=suite.headers("centre_operator"),
                                 json={"lead": "grid", "priority": "P3", "reason": "private courtyard: grid visit"})
        assert routed.status_code == 200, routed.text

    async def rerouted() -> list[dict[str, Any]] | None:
        tickets = await tickets_of(http, suite, report_id)
        return tickets if len(tickets) == 2 else None

    tickets = await eventually(rerouted, what="a ticket at another department")
    new = next(t for t in tickets if t["id"] != first["id"])
    assert new["department"] != "sanitation"
    routing = await http.get(f"{suite.url('router')}/v1/routings/{report_id}", headers=suite.headers("centre_operator"))
    assert routing.json()["excluded"] == ["sanitation"] and routing.json()["state"] == "routed"
    seen = await eventually(lambda: _status_has_ticket(http, suite, report_id, new["id"]), what="intake follows")
    assert "rerouted" in [e["kind"] for e in seen["timeline"]]


async def _status_has_ticket(http: httpx.AsyncClient, suite: Suite, report_id: str, ticket_id: str
                             ) -> dict[str, Any] | None:
    current = await report(http, suite, report_id)
    return current if ticket_id in [t["id"] for t in current["tickets"]] else None


async def _post_stream(http: httpx.AsyncClient, suite: Suite, count: int, rate: float, accepted: dict[str, str],
                       refused: list[int]) -> None:
    for i in range(count):
        text = f"{random.choice(TEXTS)} (#{i})"
        try:
            r = await file(http, suite, text)
            if r.status_code == 201:
                accepted[r.json()["id"]] = text
            else:
                refused.append(r.status_code)
        except httpx.TransportError:
            refused.append(0)  # the service was down: the caller knows it was not accepted
        await asyncio.sleep(1 / rate)


async def test_broker_restart_mid_stream_loses_and_duplicates_nothing(suite: Suite, http: httpx.AsyncClient) -> None:
    accepted: dict[str, str] = {}
    refused: list[int] = []
    stream = asyncio.create_task(_post_stream(http, suite, 120, 20, accepted, refused))
    await asyncio.sleep(2)
    await asyncio.to_thread(suite.broker.stop)  # Tansu's memory store is gone with it
    await asyncio.sleep(3)  # intake keeps accepting while the broker is down
    down_count = len(accepted)
    await asyncio.to_thread(suite.broker.start)
    await stream
    assert refused == [] and len(accepted) == 120 and down_count > 40
    await assert_exactly_expected_tickets(http, suite, accepted, timeout=180)


@pytest.mark.parametrize("victim", ["router", "departments", "intake"])
async def test_sigkill_of_a_service_mid_stream_loses_and_duplicates_nothing(
        suite: Suite, http: httpx.AsyncClient, victim: str) -> None:
    accepted: dict[str, str] = {}
    refused: list[int] = []
    stream = asyncio.create_task(_post_stream(http, suite, 60, 20, accepted, refused))
    for _ in range(200):  # mid-stream: once some reports are in (not after a fixed time: a busy machine is slower)
        if len(accepted) >= 15:
            break
        await asyncio.sleep(0.05)
    suite.services[victim].stop(signal.SIGKILL)
    await asyncio.sleep(1)
    await asyncio.to_thread(suite.restart, victim)
    await stream
    before = len(accepted)
    assert before >= 15 and before == 60 - len(refused)
    await _post_stream(http, suite, 10, 20, accepted, refused)  # the restarted suite takes new reports again
    assert len(accepted) == before + 10
    await assert_exactly_expected_tickets(http, suite, accepted, timeout=180)


async def test_a_second_caller_is_linked_to_the_incident_and_follows_it_to_closed(
        suite: Suite, http: httpx.AsyncClient) -> None:
    place = {"address": "18 Xingfu Road", "lat": 30.6586, "lon": 104.0648}

    async def post(text: str) -> str:
        r = await http.post(f"{suite.url('intake')}/v1/reports", headers=suite.headers("call_centre"),
                            json={"text": text, "channel": "phone_110", "location": place})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    first = await post("幸福路18号3号楼着火了，浓烟很大，火很大")
    tickets = await eventually(lambda: tickets_of(http, suite, first), what="the first caller's tickets")
    second = await post("幸福路18号3号楼着火了，浓烟滚滚，火很大")

    async def linked() -> dict[str, Any] | None:
        seen = await report(http, suite, second)
        return seen if seen["incident_id"] == first else None

    seen = await eventually(linked, what="the second report linked to the first")
    assert any(e["kind"] == "linked" for e in seen["timeline"])

    async def counted() -> list[dict[str, Any]] | None:
        current = await tickets_of(http, suite, first)
        return current if current and all(t["callers"] == 2 for t in current) else None

    tickets = await eventually(counted, what="departments counting two callers")
    assert await tickets_of(http, suite, second) == []  # no tickets of its own

    for ticket in tickets:
        for action, body in [("acknowledge", None), ("start", None), ("resolve", {"resolution": "Fire put out"}),
                             ("close", None)]:
            assert (await act(http, suite, ticket, action, body)).status_code == 200
    for report_id in (first, second):
        await eventually(lambda: _status_is(http, suite, report_id, "closed"), what=f"{report_id} closed")


async def test_a_dissatisfied_call_back_reopens_the_lead_ticket_across_the_services(
        suite: Suite, http: httpx.AsyncClient) -> None:
    text = "垃圾桶三天没人清理了，臭气熏天"
    created = await file(http, suite, text)
    assert created.status_code == 201
    report_id = created.json()["id"]
    (ticket,) = await eventually(lambda: tickets_of(http, suite, report_id), what="the sanitation ticket")
    assert ticket["department"] == "sanitation"
    for action, body in [("acknowledge", None), ("start", None), ("resolve", {"resolution": "Bins emptied"}),
                         ("close", None)]:
        assert (await act(http, suite, ticket, action, body)).status_code == 200
    await eventually(lambda: _status_is(http, suite, report_id, "closed"), what="report closed")

    feedback = await http.post(f"{suite.url('intake')}/v1/reports/{report_id}/feedback",
                               headers=suite.headers("call_centre"),
                               json={"satisfaction": "dissatisfied", "comment": "the bins are full again"})
    assert feedback.status_code == 201, feedback.text
    assert feedback.json()["reopen"] is True and feedback.json()["lead_department"] == "sanitation"

    # intake → reports.feedback → departments reopens the lead ticket → tickets.events → intake follows it
    async def reopened() -> dict[str, Any] | None:
        current = (await tickets_of(http, suite, report_id))[0]
        return current if current["status"] == "reopened" else None

    await eventually(reopened, what="the lead ticket reopened by the call-back")
    seen = await eventually(lambda: _status_is(http, suite, report_id, "in_progress"), what="report back in work")
    assert any(e["kind"] == "feedback" and "the bins are full again" in e["detail"] for e in seen["timeline"])
    audit = (await http.get(f"{suite.url('departments')}/v1/tickets/{ticket['id']}/audit",
                            headers=suite.headers("department_staff", "sanitation"))).json()
    entries = audit["items"] if isinstance(audit, dict) else audit
    last = entries[-1]
    assert last["to_state"] == "reopened" and "the bins are full again" in (last.get("reason") or last.get("note")
                                                                             or "")
    assert last["actor"]["role"] == "call_centre"
