"""Transactional outbox and its relay.

A service never publishes inside a request or a handler: it calls :meth:`Outbox.add` in the transaction that
changes its state, and the :class:`OutboxRelay` publishes committed rows, oldest first, deleting each row only after
the broker acknowledged it. A crash between the two publishes a row twice at worst; consumers dedupe by event id.

PostgreSQL: rows are claimed with ``FOR UPDATE SKIP LOCKED`` inside the publishing transaction, so several instances
of a service can relay side by side. SQLite (one process): rows are read, published and deleted in separate short
transactions, so a broker outage never holds the database's single write lock.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaProducer
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from shared.db import insert_at_commit, pending_rows, sync_session, utcnow
from shared.events import Event, to_kafka
from shared.messaging.models import OutboxMixin

log = logging.getLogger("linkage.outbox")

M = TypeVar("M", bound=OutboxMixin)


class Outbox(Generic[M]):
    """Writes events into the service's outbox table within the caller's transaction.

    :meth:`add` only queues the row on the session (:func:`shared.db.insert_at_commit`): every queued row is
    inserted with one multi-row Core INSERT just before the transaction commits (no ORM unit-of-work per event:
    handlers of a batch may queue hundreds). A rolled-back transaction drops its queue with it."""

    def __init__(self, model: type[M]) -> None:
        self.model = model

    def add(self, session: AsyncSession | Session, event: Event[Any], topic: str) -> None:
        key, value, headers = to_kafka(event)
        row = {"event_id": event.id, "event_type": event.type, "topic": topic, "key": key.decode(),
               "headers": [[k, v.decode()] for k, v in headers], "payload": value, "created_at": utcnow(),
               "attempts": 0}
        if not insert_at_commit(session, self.model.__table__, [row]):  # type: ignore[attr-defined]
            # inside a savepoint, which may roll back alone: let the ORM track the row with it
            sync_session(session).add(self.model(**row))

    def pending(self, session: AsyncSession | Session) -> int:
        """How many rows are queued on this session (not yet inserted)."""
        return pending_rows(session, self.model.__table__)  # type: ignore[attr-defined]


class OutboxRelay(Generic[M]):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], model: type[M],
                 producer_factory: Callable[[], AIOKafkaProducer], *, poll_interval: float = 0.5, batch_size: int = 500,
                 linger: float = 0.0) -> None:
        self._sessions = session_factory
        self._model = model
        self._producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._linger = linger
        self._wake = asyncio.Event()
        self._started = False
        self.published = 0  # events
        self.publishes = 0  # non-empty batches (one produce round each)
        self._last_publish = -math.inf  # loop time of the last non-empty batch

    @property
    def connected(self) -> bool:
        return self._started

    def notify(self) -> None:
        """Wake the relay now (called after a commit that wrote outbox rows)."""
        self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = 0.2
        while True:
            try:
                if not self._started:
                    self._producer = self._producer_factory()
                    await self._producer.start()
                    self._started = True
                    log.info("outbox relay connected to the broker")
                while await self.publish_batch() >= self._batch_size:  # a full batch: more may be waiting
                    pass
                backoff = 0.2
                try:  # not asyncio.wait_for: on 3.11 it can swallow a cancellation that races a wake-up
                    async with asyncio.timeout(self._poll_interval):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                if self._wake.is_set():
                    # Woken by a commit: publish at once after a quiet spell, otherwise no sooner than ``linger``
                    # after the last publish, so that the commits meanwhile go out with it. Under load that is one
                    # publish (a read, a produce request, a delete) per interval instead of one per commit, and
                    # fewer, larger record batches on every topic, which the broker, too, stores and scans (at
                    # 100 reports/s, 5 ms after each wake-up still meant about one batch per report).
                    wait = self._linger - (loop.time() - self._last_publish)
                    if wait > 0:
                        await asyncio.sleep(wait)
                self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker down or slow: rows stay in the outbox; try again later
                log.warning("outbox relay could not publish, will retry", extra={"error": repr(exc),
                                                                                   "retry_in_s": backoff})
                if not self._started and self._producer is not None:
                    try:
                        await self._producer.stop()
                    except Exception:
                        pass
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def publish_batch(self) -> int:
        """Publish up to one batch of pending rows; returns how many were published."""
        async with self._sessions() as session:
            if session.bind.dialect.name == "postgresql":
                async with session.begin():
                    rows = (await session.scalars(
                        select(self._model).order_by(self._model.id).limit(self._batch_size)
                        .with_for_update(skip_locked=True))).all()
                    if rows:
                        await self._send(rows)
                        await session.execute(delete(self._model).where(self._model.id.in_([r.id for r in rows])))
            else:
                async with session.begin():
                    rows = (await session.scalars(
                        select(self._model).order_by(self._model.id).limit(self._batch_size))).all()
                if rows:
                    try:
                        await self._send(rows)
                    except Exception:
                        async with session.begin():
                            await session.execute(update(self._model)
                                                  .where(self._model.id.in_([r.id for r in rows]))
                                                  .values(attempts=self._model.attempts + 1))
                        raise
                    async with session.begin():
                        await session.execute(delete(self._model).where(self._model.id.in_([r.id for r in rows])))
        if rows:
            self.published += len(rows)
            self.publishes += 1
            self._last_publish = asyncio.get_running_loop().time()
        return len(rows)

    async def _send(self, rows: list[M]) -> None:
        assert self._producer is not None
        futures = []
        for row in rows:
            headers = [(k, v.encode()) for k, v in row.headers]
            futures.append(await self._producer.send(row.topic, value=row.payload, key=row.key.encode(),
                                                     headers=headers))
        await asyncio.gather(*futures)

    async def stop(self) -> None:
        if self._producer is not None:
            self._started = False
            await self._producer.stop()

    async def check_broker(self, timeout: float = 2.0) -> bool:
        """True when the producer is connected and the broker answers a metadata request."""
        if not self._started or self._producer is None:
            return False
        try:
            return bool(await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout))
        except Exception:
            return False
