"""The real departments app (lifespan, migrations, relay, consumer) over ASGI, against SQLite and PostgreSQL.

Every test runs once per database. SQLite: a file per test module. PostgreSQL (127.0.0.1:5432, trust auth): a
throwaway ``linkage_t_<random>`` database per test module, dropped afterwards; when the server is unreachable the
PostgreSQL runs are skipped, or fail when ``LINKAGE_TEST_REQUIRE_POSTGRES=1``. Kafka points at a port nobody
listens on: the relay and the consumer keep retrying in the background while the tests drive HTTP, and dispatches
are fed through the consumer's own handling path (``EventConsumer.handle_event``: inbox + one transaction).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from departments.app import create_app
from departments.settings import DepartmentsSettings
from shared.events import Location, TicketDispatched, TicketDispatchedV1, from_kafka
from shared.identity import IdentityStore
from shared.runtime import Runtime

PG_HOST = os.environ.get("LINKAGE_TEST_POSTGRES_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LINKAGE_TEST_POSTGRES_PORT", "5432"))
PG_USERS = [os.environ["LINKAGE_TEST_POSTGRES_USER"]] if "LINKAGE_TEST_POSTGRES_USER" in os.environ else ["root",
                                                                                                          "postgres"]
UNUSED_BROKER = "127.0.0.1:1"


async def _pg_admin() -> tuple[asyncpg.Connection, str] | None:
    for user in PG_USERS:
        try:
            return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=user, database="test", timeout=5), user
        except (OSError, asyncpg.PostgresError, TimeoutError):
            continue
    return None


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                       ) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('departments')}/departments.db"
        return
    admin = await _pg_admin()
    if admin is None:
        reason = (f"PostgreSQL at {PG_HOST}:{PG_PORT} (users {', '.join(PG_USERS)}, database `test`) is unreachable")
        if os.environ.get("LINKAGE_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} and LINKAGE_TEST_REQUIRE_POSTGRES=1")
        pytest.skip(f"{reason}; set LINKAGE_TEST_REQUIRE_POSTGRES=1 to make this a failure")
    conn, user = admin
    name = f"linkage_t_{uuid.uuid4().hex[:12]}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield f"postgresql+asyncpg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        admin = await _pg_admin()
        assert admin is not None
        await admin[0].execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin[0].close()


@dataclass
class Departments:
    """The running service and what a test needs around it."""

    app: FastAPI
    client: httpx.AsyncClient
    identity: IdentityStore
    keys: dict[tuple[str, str | None], dict[str, str]] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime

    @property
    def dialect(self) -> str:
        return self.runtime.engine.dialect.name

    async def auth(self, role: str, department: str | None = None, *, name: str | None = None) -> dict[str, str]:
        """``Authorization`` headers for a (new, cached) key of this role and department."""
        if (role, department) not in self.keys:
            issued = await self.identity.create_key(name=name or f"{role} {department or 'centre'}", role=role,
                                                    department=department)
            self.keys[(role, department)] = {"Authorization": f"Bearer {issued.secret}"}
        return self.keys[(role, department)]

    async def principal_id(self, role: str, department: str | None = None) -> str:
        headers = await self.auth(role, department)
        principal = await self.identity.authenticate(headers["Authorization"].removeprefix("Bearer "))
        assert principal is not None
        return principal.id

    async def deliver(self, event: Any) -> bool:
        """Hand an event to the consumer exactly as a fetched Kafka record would be (inbox, own transaction)."""
        assert self.runtime.consumer is not None
        return await self.runtime.consumer.handle_event(event)

    async def dispatched_ticket(self, department: str = "water", **overrides: Any) -> dict[str, Any]:
        """Dispatch a new report to ``department`` and return its ticket as the department's staff see it."""
        event = dispatch_event(department=department, **overrides)
        assert await self.deliver(event)
        return await self.ticket_of(event.data.report_id, department)

    async def ticket_of(self, report_id: str, department: str) -> dict[str, Any]:
        response = await self.client.get("/v1/tickets", params={"report_id": report_id},
                                         headers=await self.auth("department_staff", department))
        assert response.status_code == 200, response.text
        [ticket] = response.json()["items"]
        return ticket

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.runtime.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []

    async def outbox(self, report_id: str) -> list[dict[str, Any]]:
        """The events waiting in the outbox for this report (payload = the event's data), oldest first."""
        rows = await self.sql("SELECT topic, event_type, headers, payload FROM outbox WHERE key = :k ORDER BY id",
                              k=report_id)
        return [{"topic": r.topic, "type": r.event_type, "headers": dict(_headers(r.headers)),
                 "data": orjson.loads(r.payload)} for r in rows]


    async def outbox_events(self, report_id: str, event_type: str) -> list[tuple[str, Any]]:
        """This report's outbox rows of one type, parsed back into events exactly as a consumer would: (topic,
        event). To deliver what this instance published to itself (or to another instance)."""
        rows = await self.sql("SELECT topic, headers, payload FROM outbox WHERE key = :k AND event_type = :t "
                              "ORDER BY id", k=report_id, t=event_type)
        return [(r.topic, from_kafka(r.payload if isinstance(r.payload, bytes) else r.payload.encode(),
                                     [(k, v.encode()) for k, v in _headers(r.headers)])) for r in rows]


def _headers(value: Any) -> list[tuple[str, str]]:
    items = orjson.loads(value) if isinstance(value, (str, bytes)) else value
    return [(k, v) for k, v in items]


def dispatch_event(*, department: str = "water", report_id: str | None = None, role: str = "lead",
                   lead: str | None = None, departments: list[str] | None = None, attempt: int = 1,
                   text: str = "我们小区3号楼门口的自来水管爆了，水一直往外冒", priority: str = "P2") -> TicketDispatched:
    report_id = report_id or str(uuid.uuid4())
    lead = lead or department
    now = datetime.now(timezone.utc)
    return TicketDispatched(source="/linkage/router", subject=report_id, data=TicketDispatchedV1(
        report_id=report_id, department=department, role=role, lead_department=lead,  # type: ignore[arg-type]
        departments=departments or [lead] + ([department] if department != lead else []),
        priority=priority, police=False, text=text, channel="phone_12345",  # type: ignore[arg-type]
        location=Location(address="18 Xingfu Road, Building 3", lat=30.6586, lon=104.0648, grid_id="G-0412"),
        occurred_at=None, received_at=now, dispatched_at=now, attempt=attempt))


@pytest.fixture
async def service(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Departments]:
    monkeypatch.setenv("LINKAGE_ENV", "test")
    monkeypatch.setenv("LINKAGE_DEPARTMENTS_DATABASE_URL", database_url)
    monkeypatch.setenv("LINKAGE_AUTH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/identity.db")
    monkeypatch.setenv("LINKAGE_KAFKA_BOOTSTRAP_SERVERS", UNUSED_BROKER)
    monkeypatch.delenv("LINKAGE_DEPARTMENTS_SERVE", raising=False)
    app = create_app(DepartmentsSettings())
    async with app.router.lifespan_context(app):
        identity = IdentityStore(app.state.runtime.settings.auth_database_url)
        await identity.migrate()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://departments.test") as client:
            try:
                yield Departments(app=app, client=client, identity=identity)
            finally:
                await identity.close()
