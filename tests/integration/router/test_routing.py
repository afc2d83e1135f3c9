"""The router through its real app and database (SQLite and PostgreSQL): events in through the consumer's
handling path, events out through the outbox, decisions over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, update

from router.app import create_app
from router.db import OutboxMessage
from router.routing.models import Routing
from router.settings import RouterSettings
from shared.events import (
    Location, ReportReceived, ReportReceivedV1, TicketActor, TicketStatusChanged, TicketStatusChangedV1,
)
from shared.identity import IdentityStore
from tests.support import bearer, running_app


class Router:
    def __init__(self, client: httpx.AsyncClient, app: Any, keys: dict[str, str]) -> None:
        self.client, self.app, self.keys = client, app, keys

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    async def deliver(self, event: Any) -> bool:
        return bool(await self.runtime.consumer.handle_event(event))

    async def outbox(self, report_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        async with self.runtime.sessions() as s:
            rows = (await s.scalars(select(OutboxMessage).where(OutboxMessage.key == report_id)
                                    .order_by(OutboxMessage.id))).all()
        return [(r.topic, r.event_type, orjson.loads(r.payload)) for r in rows]

    async def clear_outbox(self) -> None:
        async with self.runtime.sessions() as s, s.begin():
            await s.execute(OutboxMessage.__table__.delete())


@pytest.fixture
async def router(db_url: str, tmp_path: Path) -> AsyncIterator[Router]:
    auth_url = f"sqlite+aiosqlite:///{tmp_path}/identity.db"
    store = IdentityStore(auth_url)
    await store.migrate()
    keys = {r: (await store.create_key(name=r, role=r)).secret for r in ("centre_operator", "call_centre")}
    await store.close()
    settings = RouterSettings(database_url=db_url, auth_database_url=auth_url, consumer_enabled=False,
                              kafka_bootstrap_servers="127.0.0.1:1", redelivery_after_s=0.05)
    app = create_app(settings)
    async with running_app(app) as client:
        yield Router(client, app, keys)


def received(report_id: str, text: str) -> ReportReceived:
    now = datetime.now(timezone.utc)
    return ReportReceived(source="/test", subject=report_id, data=ReportReceivedV1(
        report_id=report_id, text=text, channel="phone_12345", location=Location(address="x"), received_at=now))


def ticket_event(report_id: str, department: str, to_state: str, action: str, seq: int,
                 reason: str | None = None) -> TicketStatusChanged:
    return TicketStatusChanged(source="/test", subject=report_id, data=TicketStatusChangedV1(
        ticket_id=f"t-{department}", report_id=report_id, department=department, role="lead", sequence=seq,
        action=action, from_state=None if seq == 1 else "new", to_state=to_state, reason=reason,
        at=datetime.now(timezone.utc), actor=TicketActor(id="k", name="n", role="department_staff")))


async def test_a_new_report_is_routed_once_and_dispatched_per_department(router: Router) -> None:
    event = received("r-gas", "楼道里燃气味很大，邻居家好像漏气了")
    assert await router.deliver(event)
    out = await router.outbox("r-gas")
    assert [(t, ty) for t, ty, _ in out] == [("dept.gas", "ticket.dispatched.v1"), ("dept.fire", "ticket.dispatched.v1"),
                                             ("reports.routed", "report.routed.v1")]
    assert [d["role"] for _, _, d in out[:2]] == ["lead", "assisting"]
    assert out[2][2]["departments"] == ["gas", "fire"] and out[2][2]["priority"] == "P1"
    assert not await router.deliver(event)  # redelivered: nothing new
    assert len(await router.outbox("r-gas")) == 3

    r = await router.client.get("/v1/routings/r-gas", headers=bearer(router.keys["centre_operator"]))
    assert r.status_code == 200 and r.json()["lead"] == "gas" and r.json()["attempts"][0]["trigger"] == "received"
    assert (await router.client.get("/v1/routings/r-gas", headers=bearer(router.keys["call_centre"]))).status_code == 403
    missing = await router.client.get("/v1/routings/nope", headers=bearer(router.keys["centre_operator"]))
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_a_report_announced_again_gets_its_decision_again_not_a_second_routing(router: Router) -> None:
    await router.deliver(received("r-1", "垃圾桶三天没人清理了，臭气熏天"))
    await router.clear_outbox()
    await router.deliver(received("r-1", "垃圾桶三天没人清理了，臭气熏天"))  # a new event id: intake re-announced
    assert [ty for _, ty, _ in await router.outbox("r-1")] == ["report.routed.v1"]


async def test_unconfirmed_dispatches_are_sent_again_until_the_ticket_is_seen(router: Router) -> None:
    await router.deliver(received("r-2", "楼道里燃气味很大，邻居家好像漏气了"))
    await router.clear_outbox()
    await router.deliver(ticket_event("r-2", "gas", "new", "created", 1))  # gas confirmed, fire not yet
    async with router.runtime.sessions() as s, s.begin():  # its retry is due now
        await s.execute(update(Routing).values(next_redispatch_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
    assert await router.runtime.sweep_once() == 1
    assert [t for t, _, _ in await router.outbox("r-2")] == ["dept.fire"]
    await router.deliver(ticket_event("r-2", "fire", "new", "created", 1))
    async with router.runtime.sessions() as s:
        routing = await s.get(Routing, "r-2")
        assert routing is not None and routing.next_redispatch_at is None and sorted(routing.confirmed) == ["fire", "gas"]


async def test_a_transfer_reroutes_without_the_refusing_department(router: Router) -> None:
    await router.deliver(received("r-3", "垃圾桶三天没人清理了，臭气熏天"))
    await router.clear_outbox()
    await router.deliver(ticket_event("r-3", "sanitation", "transferred", "transfer", 4, reason="not ours"))
    out = await router.outbox("r-3")
    dispatched = [d["department"] for t, ty, d in out if ty == "ticket.dispatched.v1"]
    routed = next(d for _, ty, d in out if ty == "report.routed.v1")
    assert dispatched and "sanitation" not in dispatched
    assert routed["attempt"] == 2 and routed["excluded"] == ["sanitation"] and routed["lead"] == dispatched[0]
    await router.deliver(ticket_event("r-3", "sanitation", "transferred", "transfer", 4, reason="not ours"))
    assert len(await router.outbox("r-3")) == len(out)  # the same refusal again changes nothing


async def test_the_registry_is_listed_with_presence(router: Router) -> None:
    r = await router.client.get("/v1/departments", headers=bearer(router.keys["call_centre"]))
    rows = {d["code"]: d for d in r.json()}
    assert len(rows) == 21 and rows["heating"]["mode"] == "seasonal" and rows["heating"]["fallback"] == "housing"
    assert rows["water"]["topic"] == "dept.water" and rows["water"]["routable_now"] is True
    assert (await router.client.get("/v1/departments")).status_code == 401
