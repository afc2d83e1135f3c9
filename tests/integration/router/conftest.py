"""The real router app (lifespan, migrations, relay, consumer) over ASGI, against SQLite and PostgreSQL. Kafka points
at a port nobody listens on: events are fed through the consumer's own handling path (inbox + one transaction) and
read back from the outbox."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from router.app import create_app
from router.db import OutboxMessage
from router.routing.classifier import Classifier
from router.settings import RouterSettings
from shared.events import (
    Location, ReportReceived, ReportReceivedV1, TicketActor, TicketStatusChanged, TicketStatusChangedV1,
)
from shared.identity import IdentityStore
from shared.registry import Registry
from tests.support import bearer, running_app

ROLES = ("centre_operator", "call_centre", "admin", "department_staff")


class Router:
    def __init__(self, client: httpx.AsyncClient, app: Any, keys: dict[str, str]) -> None:
        self.client, self.app, self.keys = client, app, keys

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def auth(self, role: str) -> dict[str, str]:
        return bearer(self.keys[role])

    async def deliver(self, event: Any) -> bool:
        return bool(await self.runtime.consumer.handle_event(event))

    async def outbox(self, key: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
        async with self.runtime.sessions() as s:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if key is not None:
                query = query.where(OutboxMessage.key == key)
            rows = (await s.scalars(query)).all()
        return [(r.topic, r.event_type, orjson.loads(r.payload)) for r in rows]

    async def dispatched(self, report_id: str) -> list[str]:
        """Departments that got a dispatch, in order (a re-dispatch of an unconfirmed ticket counts once)."""
        return list(dict.fromkeys(d["department"] for _, ty, d in await self.outbox(report_id)
                                  if ty == "ticket.dispatched.v1"))

    async def routed(self, report_id: str) -> list[dict[str, Any]]:
        return [d for _, ty, d in await self.outbox(report_id) if ty == "report.routed.v1"]

    async def clear_outbox(self) -> None:
        async with self.runtime.sessions() as s, s.begin():
            await s.execute(OutboxMessage.__table__.delete())


@contextlib.asynccontextmanager
async def start_router(db_url: str, tmp_path: Path, *, registry_file: Path | None = None,
                       classifier_factory: Callable[[Registry], Classifier] | None = None,
                       **settings: Any) -> AsyncIterator[Router]:
    auth_url = f"sqlite+aiosqlite:///{tmp_path}/identity.db"
    store = IdentityStore(auth_url)
    await store.migrate()
    keys = {}
    for role in ROLES:
        keys[role] = (await store.create_key(name=f"{role} key", role=role,
                                             department="water" if role == "department_staff" else None)).secret
    await store.close()
    extra = {"registry_file": registry_file} if registry_file is not None else {}
    app = create_app(RouterSettings(database_url=db_url, auth_database_url=auth_url, consumer_enabled=False,
                                    kafka_bootstrap_servers="127.0.0.1:1", **extra,
                                    **{"redelivery_after_s": 60.0, **settings}), classifier_factory)
    async with running_app(app) as client:
        yield Router(client, app, keys)


@pytest.fixture
async def router(db_url: str, tmp_path: Path) -> AsyncIterator[Router]:
    async with start_router(db_url, tmp_path) as r:
        yield r


def received(report_id: str, text: str, *, location: Location | None = None, at: datetime | None = None,
             channel: str = "phone_12345") -> ReportReceived:
    now = at or datetime.now(timezone.utc)
    return ReportReceived(source="/test", subject=report_id, data=ReportReceivedV1(
        report_id=report_id, text=text, channel=channel,  # type: ignore[arg-type]
        location=location or Location(address="x"), received_at=now))


def ticket_event(report_id: str, department: str, to_state: str, action: str, seq: int,
                 reason: str | None = None) -> TicketStatusChanged:
    return TicketStatusChanged(source="/test", subject=report_id, data=TicketStatusChangedV1(
        ticket_id=f"t-{report_id}-{department}", report_id=report_id, department=department, role="lead",
        sequence=seq, action=action, from_state=None if seq == 1 else "new", to_state=to_state,  # type: ignore[arg-type]
        reason=reason, at=datetime.now(timezone.utc), actor=TicketActor(id="k", name="n", role="department_staff")))
