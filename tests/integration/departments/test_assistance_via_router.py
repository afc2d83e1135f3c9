"""Joint handling across services and the real broker: the lead department asks for an assisting department; the
request travels on ``tickets.events`` to the router, which adds the department and dispatches its ticket on
``dept.<code>``; the departments service opens the assisting ticket, and the lead's ticket shows it.

Both services run in-process with their real lifespans; their relays publish to the session's Tansu broker, and
each hop is read back from the broker (CloudEvents binary mode) and handed to the receiving service's consumer path.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from devtools.tansu import TansuBroker
from router.app import create_app as create_router
from router.routing.models import Routing
from router.settings import RouterSettings
from shared.events import Location, ReportReceived, ReportReceivedV1, from_kafka
from tests.support import database, running_app

from .test_operations import _app


async def _read(broker: TansuBroker, topic: str, key: str, event_type: str, timeout: float = 30) -> Any:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id=None,
                                auto_offset_reset="earliest", fetch_max_wait_ms=20)
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for r in records:
                    if r.key == key.encode() and dict(r.headers).get("ce_type") == event_type.encode():
                        return from_kafka(r.value, r.headers)
    finally:
        await consumer.stop()
    raise AssertionError(f"no {event_type} for {key} on {topic}")


@pytest.mark.parametrize("db_kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_an_assistance_request_reaches_the_router_and_opens_an_assisting_ticket(
        db_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker: TansuBroker) -> None:
    async with database(db_kind, tmp_path, "router") as router_url, \
            database(db_kind, tmp_path, "departments") as departments_url:
        router_app = create_router(RouterSettings(
            database_url=router_url, auth_database_url=f"sqlite+aiosqlite:///{tmp_path}/router-identity.db",
            consumer_enabled=False, kafka_bootstrap_servers=broker.bootstrap, outbox_poll_interval_s=0.05))
        async with running_app(router_app), _app(
                departments_url, tmp_path, monkeypatch, LINKAGE_KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
                LINKAGE_CONSUMER_ENABLED="false", LINKAGE_OUTBOX_POLL_INTERVAL_S="0.05") as departments:
            router_consumer = router_app.state.runtime.consumer
            report_id = f"r-assist-{db_kind}-{tmp_path.name[-6:]}"
            await router_consumer.handle_event(ReportReceived(source="/test", subject=report_id, data=ReportReceivedV1(
                report_id=report_id, text="我们小区3号楼门口的自来水管爆了，水一直往外冒", channel="phone_12345",
                location=Location(address="18 Xingfu Road"), received_at=datetime.now(timezone.utc))))
            router_app.state.runtime.notify_outbox()
            lead_dispatch = await _read(broker, "dept.water", report_id, "ticket.dispatched.v1")
            assert await departments.deliver(lead_dispatch)
            lead = await departments.ticket_of(report_id, "water")

            asked = await departments.client.post(
                f"/v1/tickets/{lead['id']}/assistants", json={"department": "transport", "reason": "road undermined"},
                headers=await departments.auth("department_staff", "water"))
            assert asked.status_code == 200, asked.text
            request = await _read(broker, "tickets.events", report_id, "ticket.assistance_requested.v1")
            assert await router_consumer.handle_event(request)
            router_app.state.runtime.notify_outbox()

            dispatch = await _read(broker, "dept.transport", report_id, "ticket.dispatched.v1")
            assert (dispatch.data.role, dispatch.data.lead_department, dispatch.data.attempt) == (
                "assisting", "water", 2)
            assert dispatch.data.departments == ["water", "transport"]
            assert await departments.deliver(dispatch)
            assisting = await departments.ticket_of(report_id, "transport")
            assert (assisting["role"], assisting["status"]) == ("assisting", "new")
            # dispatched after the first routing: its clocks start at its own dispatch, not at the report's receipt
            assert assisting["clocks"]["acknowledge_due_at"] > lead["clocks"]["acknowledge_due_at"]
            view = (await departments.client.get(f"/v1/tickets/{lead['id']}",
                                                 headers=await departments.auth("department_staff", "water"))).json()
            assert ("transport", "assisting", "new") in {(j["department"], j["role"], j["status"])
                                                         for j in view["joint"]}

            # asked again (a department the report already has): the router dispatches nothing new
            assert await router_consumer.handle_event(request.model_copy(update={"id": str(uuid.uuid4())}))
            async with router_app.state.runtime.sessions() as session:
                routing = await session.get(Routing, report_id)
                assert routing is not None
                assert (routing.attempt, routing.departments, routing.dispatched) == (
                    2, ["water", "transport"], ["water", "transport"])
