"""Helpers the tests share: real databases (SQLite files, throwaway PostgreSQL databases), apps with their
lifespan running, auth headers."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest


PG_HOST = os.environ.get("LINKAGE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LINKAGE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("LINKAGE_TEST_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("LINKAGE_TEST_PG_DB", "test")
REQUIRE_PG = os.environ.get("LINKAGE_TEST_REQUIRE_POSTGRES") == "1"
_pg_ok: bool | None = None


async def postgres_available() -> bool:
    global _pg_ok
    if _pg_ok is None:
        try:
            conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB, timeout=3)
            await conn.close()
            _pg_ok = True
        except Exception:
            _pg_ok = False
    return _pg_ok


async def require_postgres() -> None:
    if not await postgres_available():
        message = f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT} (user {PG_USER}, database {PG_ADMIN_DB})"
        if REQUIRE_PG:
            pytest.fail(message + " and LINKAGE_TEST_REQUIRE_POSTGRES=1")
        pytest.skip(message)


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; yields its SQLAlchemy URL."""
    await require_postgres()
    name = f"linkage_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def database(kind: str, tmp_path: Path, name: str = "svc") -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/{name}-{uuid.uuid4().hex[:6]}.db"
    else:
        async with postgres_database() as url:
            yield url


@contextlib.asynccontextmanager
async def running_app(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running (migrations, relay, consumer), and an HTTP client over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as client:
            yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def consumer_records(topic: str, events: list[Any]) -> list[Any]:
    """Events as the Kafka records a consumer fetches (offsets 0, 1, …), for handing one batch to its handler."""
    from aiokafka.structs import ConsumerRecord

    from shared.events import to_kafka

    records = []
    for offset, event in enumerate(events):
        key, value, headers = to_kafka(event)
        records.append(ConsumerRecord(topic, 0, offset, 0, 0, key, value, None, len(key), len(value), headers))
    return records
