"""Intake over real HTTP (ASGI), a real database (SQLite and PostgreSQL) and the real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select

from devtools.tansu import TansuBroker
from intake.app import create_app
from intake.db import OutboxMessage
from intake.reports.models import Report
from intake.settings import IntakeSettings
from shared.events import (
    REPORTS_RECEIVED, ReportRouted, ReportRoutedV1, TicketActor, TicketStatusChanged, TicketStatusChangedV1,
    from_kafka,
)
from shared.identity import IdentityStore
from tests.support import bearer, consumer_records, running_app

VALID = {"text": "我们小区3号楼门口的自来水管爆了，水一直往外冒", "channel": "phone_12345",
         "caller": {"name": "Ms Li", "phone": "13800138000"},
         "location": {"address": "18 Xingfu Road", "lat": 30.65, "lon": 104.06}}


class Intake:
    def __init__(self, client: httpx.AsyncClient, app: Any, keys: dict[str, str], store: IdentityStore) -> None:
        self.client, self.app, self.keys, self.store = client, app, keys, store

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    async def post(self, body: Any, key: str = "call_centre", **kw: Any) -> httpx.Response:
        return await self.client.post("/v1/reports", json=body, headers={**bearer(self.keys[key]),
                                                                          **kw.pop("headers", {})}, **kw)

    async def count(self, model: Any = Report) -> int:
        async with self.runtime.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def intake(db_url: str, tmp_path: Path, broker: TansuBroker) -> AsyncIterator[Intake]:
    auth_url = f"sqlite+aiosqlite:///{tmp_path}/identity.db"
    store = IdentityStore(auth_url)
    await store.migrate()
    keys = {role: (await store.create_key(name=role, role=role)).secret
            for role in ("call_centre", "centre_operator", "admin")}
    keys["department_staff"] = (await store.create_key(name="w", role="department_staff", department="water")).secret
    settings = IntakeSettings(database_url=db_url, auth_database_url=auth_url,
                              kafka_bootstrap_servers=broker.bootstrap, consumer_enabled=False)
    app = create_app(settings)
    async with running_app(app) as client:
        yield Intake(client, app, keys, store)
    await store.close()


async def test_filing_a_report_stores_it_and_answers_201_with_location(intake: Intake) -> None:
    r = await intake.post(VALID)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/v1/reports/{body['id']}"
    assert body["status"] == "received" and body["police"] is None and body["tickets"] == []
    got = await intake.client.get(r.headers["location"], headers=bearer(intake.keys["call_centre"]))
    assert got.status_code == 200
    assert got.json()["text"] == VALID["text"]
    assert [e["kind"] for e in got.json()["timeline"]] == ["received"]


@pytest.mark.parametrize("body, field, status", [
    ({**VALID, "text": ""}, "text", 422),
    ({**VALID, "text": "   "}, "text", 422),
    ({**VALID, "text": "x" * 4001}, "text", 422),
    ({**VALID, "location": {"lat": 91}}, "location.lat", 422),
    ({**VALID, "location": {"lon": -181}}, "location.lon", 422),
    ({**VALID, "location": {"lat": False}}, "location.lat", 422),  # not 0.0
    ({**VALID, "location": {"lat": 31.0}}, "location", 422),  # a latitude without its longitude
    ({**VALID, "location": {"address": "x", "lon": 104.0}}, "location", 422),
    ({**VALID, "channel": "carrier_pigeon"}, "channel", 422),
    ({**VALID, "text": 42}, "text", 422),
    ({**VALID, "caller": {"phone": "call me"}}, "caller.phone", 422),
    ({**VALID, "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at", 422),
    ({**VALID, "occurred_at": "2026-01-01T00:00:00"}, "occurred_at", 422),
    ({**VALID, "occurred_at": 1700000000}, "occurred_at", 422),  # not seconds since 1970
    ({**VALID, "occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at", 422),  # overflowed in UTC: a 500
    ({**VALID, "priority": "P1"}, "priority", 422),
    ({k: v for k, v in VALID.items() if k != "channel"}, "channel", 422),
])
async def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(
        intake: Intake, body: dict[str, Any], field: str, status: int) -> None:
    r = await intake.post(body)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == status and field in [e["field"] for e in problem["errors"]]
    assert await intake.count() == 0 and await intake.count(OutboxMessage) == 0


async def test_malformed_json_is_400_problem(intake: Intake) -> None:
    r = await intake.client.post("/v1/reports", content=b'{"text": "water', headers={
        **bearer(intake.keys["call_centre"]), "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["type"].endswith("/malformed-request")
    assert await intake.count() == 0


async def test_oversized_body_is_413(intake: Intake) -> None:
    r = await intake.client.post("/v1/reports", content=b"{" + b" " * 70_000 + b"}", headers={
        **bearer(intake.keys["call_centre"]), "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["status"] == 413


async def test_keys_and_roles_are_enforced(intake: Intake) -> None:
    assert (await intake.client.post("/v1/reports", json=VALID)).status_code == 401
    r = await intake.client.post("/v1/reports", json=VALID, headers=bearer("lk_not-a-key"))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert (await intake.post(VALID, key="department_staff")).status_code == 403
    issued = await intake.store.create_key(name="temp", role="call_centre")
    assert (await intake.client.post("/v1/reports", json=VALID, headers=bearer(issued.secret))).status_code == 201
    await intake.store.revoke(issued.id)
    intake.app.state.identity._cache.clear()  # the running service's cache bounds revocation delay (5 s)
    assert (await intake.client.post("/v1/reports", json=VALID, headers=bearer(issued.secret))).status_code == 401
    assert (await intake.client.get("/healthz")).status_code == 200


async def test_idempotency_key_replays_and_refuses_a_different_body(intake: Intake) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await intake.post(VALID, headers=key)
    again = await intake.post(VALID, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = await intake.post({**VALID, "text": "a different report"}, headers=key)
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
    assert await intake.count() == 1



async def test_a_blank_idempotency_key_is_refused_not_shared_by_every_client(intake: Intake) -> None:
    for key in ("", "   ", " padded"):
        r = await intake.post(VALID, headers={"Idempotency-Key": key})
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (key, r.text)
        assert r.json()["errors"][0]["field"].endswith("Idempotency-Key"), r.json()
    assert await intake.count() == 0


async def test_list_filters_and_cursor_pagination(intake: Intake) -> None:
    ids = []
    for i in range(5):
        r = await intake.post({**VALID, "text": f"report {i}", "channel": "web" if i % 2 else "sms"})
        ids.append(r.json()["id"])
    h = bearer(intake.keys["centre_operator"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await intake.client.get("/v1/reports", params=params, headers=h)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    web = (await intake.client.get("/v1/reports", params={"channel": "web"}, headers=h)).json()["items"]
    assert sorted(i["id"] for i in web) == sorted(ids[1::2])
    bad = await intake.client.get("/v1/reports", params={"cursor": "garbage"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    # a number is no date-time (pydantic alone would read it as seconds since 1970)
    bad = await intake.client.get("/v1/reports", params={"created_from": "1700000000"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "created_from"
    # a time that does not exist in UTC is refused, not a 500
    for name, value in (("created_from", "9999-12-31T23:59:59-12:00"), ("created_to", "0001-01-01T00:00:00+14:00")):
        bad = await intake.client.get("/v1/reports", params={name: value}, headers=h)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == name, bad.text


async def test_a_method_the_path_does_not_have_is_405_listing_every_method_it_has(intake: Intake) -> None:
    r = await intake.client.delete("/v1/reports", headers=bearer(intake.keys["centre_operator"]))
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST"}  # Starlette alone said "POST"
    assert (await intake.client.get("/v1/reports", headers=bearer(intake.keys["centre_operator"]))).status_code == 200
    assert await intake.count() == 0


async def test_report_received_event_reaches_the_broker_in_cloudevents_binary_mode(
        intake: Intake, broker: TansuBroker) -> None:
    r = await intake.post(VALID)
    report_id = r.json()["id"]
    consumer = AIOKafkaConsumer(REPORTS_RECEIVED, bootstrap_servers=broker.bootstrap, group_id=None,
                                auto_offset_reset="earliest", fetch_max_wait_ms=20)
    await consumer.start()
    try:
        found = None
        deadline = asyncio.get_running_loop().time() + 30
        while found is None and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for rec in records:
                    if rec.key == report_id.encode():
                        found = rec
    finally:
        await consumer.stop()
    assert found is not None, "report.received never reached the broker"
    headers = dict(found.headers)
    assert headers["ce_type"] == b"report.received.v1" and headers["ce_subject"] == report_id.encode()
    event = from_kafka(found.value, found.headers)
    assert event.data.text == VALID["text"]
    assert b"13800138000" not in found.value  # the caller's phone never leaves intake
    for _ in range(50):  # the relay deletes the row once the broker acknowledged it (its commit may trail a bit)
        if await intake.count(OutboxMessage) == 0:
            break
        await asyncio.sleep(0.1)
    assert await intake.count(OutboxMessage) == 0


async def test_status_follows_routing_and_ticket_events_and_ignores_redelivery(intake: Intake) -> None:
    report_id = (await intake.post(VALID)).json()["id"]
    now = datetime.now(timezone.utc)
    routed = ReportRouted(source="/test", subject=report_id, data=ReportRoutedV1(
        report_id=report_id, police=False, lead="water", assisting=["transport"], departments=["water", "transport"],
        dispatched=["water", "transport"], priority="P2", confidence=0.9, classifier="test", decided_at=now))
    consumer = intake.runtime.consumer
    assert await consumer.handle_event(routed)
    assert not await consumer.handle_event(routed)  # redelivered: nothing changes

    def change(ticket: str, dept: str, seq: int, action: str, frm: str | None, to: str) -> TicketStatusChanged:
        return TicketStatusChanged(source="/test", subject=report_id, data=TicketStatusChangedV1(
            ticket_id=ticket, report_id=report_id, department=dept, role="lead" if dept == "water" else "assisting",
            sequence=seq, action=action, from_state=frm, to_state=to, at=now,
            actor=TicketActor(id="k", name="n", role="department_staff", department=dept)))

    steps = [("t1", "water", 1, "created", None, "new"), ("t2", "transport", 1, "created", None, "new"),
             ("t1", "water", 2, "acknowledge", "new", "acknowledged"),
             ("t1", "water", 3, "start", "acknowledged", "in_progress"),
             ("t1", "water", 4, "resolve", "in_progress", "resolved"),
             ("t2", "transport", 2, "acknowledge", "new", "acknowledged"),
             ("t2", "transport", 3, "start", "acknowledged", "in_progress"),
             ("t2", "transport", 4, "resolve", "in_progress", "resolved")]
    for step in steps:
        await consumer.handle_event(change(*step))
    h = bearer(intake.keys["call_centre"])
    report = (await intake.client.get(f"/v1/reports/{report_id}", headers=h)).json()
    assert report["status"] == "resolved" and report["departments"] == ["water", "transport"]
    assert report["priority"] == "P2" and report["police"] is False
    assert {(t["department"], t["status"]) for t in report["tickets"]} == {("water", "resolved"),
                                                                          ("transport", "resolved")}
    stale = change("t1", "water", 2, "acknowledge", "new", "acknowledged")  # a new event id, an old change
    await consumer.handle_event(stale)
    for step in [("t1", "water", 5, "close", "resolved", "closed"),
                 ("t2", "transport", 5, "close", "resolved", "closed")]:
        await consumer.handle_event(change(*step))
    report = (await intake.client.get(f"/v1/reports/{report_id}", headers=h)).json()
    assert report["status"] == "closed"
    kinds = [e["kind"] for e in report["timeline"]]
    assert kinds[:4] == ["received", "routed", "dispatched", "dispatched"]
    assert kinds.count("ticket_acknowledge") == 2 and kinds[-1] == "report_closed"
    filtered = (await intake.client.get("/v1/reports", params={"department": "transport", "status": "closed"},
                                        headers=h)).json()["items"]
    assert [i["id"] for i in filtered] == [report_id]


async def test_an_event_for_an_unknown_report_is_dead_lettered_not_lost(intake: Intake) -> None:
    from intake.db import DeadLetter
    from aiokafka.structs import ConsumerRecord
    record = ConsumerRecord("reports.routed", 0, 7, 0, 0, b"nope", b"{not json", None, 9, 0,
                            [("ce_type", b"report.routed.v1"), ("ce_id", b"x")])
    await intake.runtime.consumer.handle_batch([record])
    assert await intake.count(DeadLetter) == 1


async def test_every_ticket_change_is_answered_with_a_receipt(intake: Intake, broker: TansuBroker) -> None:
    report_id = (await intake.post(VALID)).json()["id"]
    now = datetime.now(timezone.utc)
    created = TicketStatusChanged(source="/test", subject=report_id, data=TicketStatusChangedV1(
        ticket_id="t9", report_id=report_id, department="water", role="lead", sequence=1, action="created",
        from_state=None, to_state="new", at=now, actor=TicketActor(id="system:router", name="router", role="system")))
    await intake.runtime.consumer.handle_event(created)
    again = created.model_copy(update={"id": str(uuid.uuid4())})  # announced again by departments
    await intake.runtime.consumer.handle_event(again)
    receipts = await read_topic(broker, "tickets.receipts", report_id, want=2)
    assert [(r.data.ticket_id, r.data.sequence) for r in receipts] == [("t9", 1), ("t9", 1)]


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


async def test_a_report_not_routed_in_time_is_announced_again(intake: Intake) -> None:
    from sqlalchemy import update
    report_id = (await intake.post(VALID)).json()["id"]
    async with intake.runtime.sessions() as s, s.begin():
        await s.execute(update(Report).values(next_announce_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
    assert await intake.runtime.sweep_once() == 1
    async with intake.runtime.sessions() as s:
        report = await s.get(Report, report_id)
        assert report is not None and report.announce_count == 2 and report.next_announce_at is not None
    assert await intake.runtime.sweep_once() == 0  # not due again yet


async def test_reports_are_announced_again_only_when_the_router_is_not_busy_with_earlier_ones(
        intake: Intake) -> None:
    """A router that fell behind must not be sent its whole backlog again (that doubled its load in a 5-minute run
    at 100/s); a report it skipped past, or any report while it routes nothing, is announced again."""
    from sqlalchemy import update
    first, second, third = [(await intake.post(VALID)).json()["id"] for _ in range(3)]
    async with intake.runtime.sessions() as s, s.begin():
        await s.execute(update(Report).values(next_announce_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
    routed = ReportRouted(source="/test", subject=second, data=ReportRoutedV1(
        report_id=second, police=False, lead="water", departments=["water"], dispatched=["water"],
        priority="P3", confidence=0.9, classifier="test", decided_at=datetime.now(timezone.utc)))
    await intake.runtime.consumer.handle_batch(consumer_records("reports.routed", [routed]))

    async def announcements() -> dict[str, int]:
        async with intake.runtime.sessions() as s:
            return {r.id: r.announce_count for r in await s.scalars(select(Report))}

    # the router just routed `second`: `first`, filed before it, was skipped (lost); `third` is still queued
    assert await intake.runtime.sweep_once() == 1
    assert await announcements() == {first: 2, second: 1, third: 1}
    assert await intake.runtime.sweep_once() == 0
    progress = intake.app.state.router_progress
    # the router routed nothing for longer than the redelivery delay
    progress.last_confirmation -= intake.runtime.settings.redelivery_after_s + 1
    assert await intake.runtime.sweep_once() == 1
    assert await announcements() == {first: 2, second: 1, third: 2}


async def test_an_http_only_instance_leaves_the_redelivery_sweep_to_the_consuming_ones(
        db_url: str, tmp_path: Path, broker: TansuBroker) -> None:
    """Only a consuming instance sees the routings that tell a lost report from a router that is behind."""
    auth_url = f"sqlite+aiosqlite:///{tmp_path}/identity.db"
    store = IdentityStore(auth_url)
    await store.migrate()
    key = (await store.create_key(name="cc", role="call_centre")).secret
    app = create_app(IntakeSettings(database_url=db_url, auth_database_url=auth_url, consumer_enabled=False,
                                    kafka_bootstrap_servers=broker.bootstrap, redelivery_after_s=0.4))
    try:
        async with running_app(app) as client:
            report_id = (await client.post("/v1/reports", json=VALID, headers=bearer(key))).json()["id"]
            await asyncio.sleep(1.2)  # due after 0.4 s; a sweeper would look every 0.2 s
            async with app.state.runtime.sessions() as s:
                report = await s.get(Report, report_id)
                assert report is not None and report.announce_count == 1
    finally:
        await store.close()


async def test_a_batch_with_a_bad_event_handles_the_good_ones_and_dead_letters_the_bad(intake: Intake) -> None:
    from intake.db import DeadLetter
    good_id = (await intake.post(VALID)).json()["id"]
    now = datetime.now(timezone.utc)
    routed = ReportRouted(source="/test", subject=good_id, data=ReportRoutedV1(
        report_id=good_id, police=True, lead="police", departments=["police"], dispatched=["police"], priority="P1",
        confidence=0.9, classifier="test", decided_at=now))
    ghost = ReportRouted(source="/test", subject="ghost", data=routed.data.model_copy(update={"report_id": "ghost"}))
    await intake.runtime.consumer.handle_batch(consumer_records("reports.routed", [routed, ghost]))
    report = (await intake.client.get(f"/v1/reports/{good_id}", headers=bearer(intake.keys["call_centre"]))).json()
    assert report["status"] == "routed" and report["police"] is True
    assert await intake.count(DeadLetter) == 1
