"""At-least-once, idempotent consumption.

A fetched batch is handled in one database transaction that also records every event id in ``processed_events``
(one transaction per batch keeps SQLite and PostgreSQL round trips per event low); if anything in the batch fails,
the transaction rolls back and the batch is handled again one event per transaction, with retries. A redelivered
event finds its id in ``processed_events`` and changes nothing. Kafka offsets are committed only after the database
commits of everything fetched, so a crash at any point redelivers rather than loses. A message that is not a valid
event, or whose handling fails every retry, is kept in ``dead_letters`` (and logged) instead of blocking its
partition forever or vanishing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import utcnow
from shared.events import ContractError, Event, from_kafka
from shared.logging import report_context
from shared.messaging.models import DeadLetterMixin, ProcessedEventMixin

log = logging.getLogger("linkage.consumer")

Handler = Callable[[AsyncSession, Event[Any]], Awaitable[None]]
Prefetch = Callable[[AsyncSession, list[Event[Any]]], Awaitable[Any]]


class PermanentError(Exception):
    """Raised by a handler for an event that can never succeed (e.g. it names a report this service does not
    have): dead-lettered at once instead of retried."""


class EventConsumer:
    def __init__(self, *, name: str, consumer_factory: Callable[[], AIOKafkaConsumer],
                 session_factory: async_sessionmaker[AsyncSession], processed_model: type[ProcessedEventMixin],
                 dead_letter_model: type[DeadLetterMixin], handler: Handler,
                 after_commit: Callable[[], None] | None = None, max_attempts: int = 5,
                 inbox_retention: timedelta = timedelta(days=7), batch_size: int = 200,
                 prefetch: Prefetch | None = None) -> None:
        self.name = name
        self._consumer_factory = consumer_factory
        self._sessions = session_factory
        self._processed = processed_model
        self._dead = dead_letter_model
        self._handler = handler
        self._after_commit = after_commit or (lambda: None)
        self._max_attempts = max_attempts
        self._retention = inbox_retention
        self._batch_size = batch_size
        self._prefetch = prefetch
        self._consumer: AIOKafkaConsumer | None = None
        self.handled = 0

    @property
    def assigned(self) -> bool:
        return self._consumer is not None and bool(self._consumer.assignment())

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                self._consumer = self._consumer_factory()
                await self._consumer.start()
                log.info("consumer started", extra={"consumer": self.name})
                backoff = 0.5
                await self._loop(self._consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer failed, restarting", extra={"consumer": self.name, "error": repr(exc),
                                                                  "retry_in_s": backoff})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                consumer, self._consumer = self._consumer, None
                if consumer is not None:
                    try:
                        await asyncio.shield(consumer.stop())
                    except Exception:
                        pass

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        last_prune = 0.0
        loop = asyncio.get_running_loop()
        while True:
            batch = await consumer.getmany(timeout_ms=1000, max_records=self._batch_size)
            records = [record for part in batch.values() for record in part]
            if records:
                await self.handle_batch(records)
                # only after every record above is committed in the database. A broker that lost its state (a
                # restarted memory store) rejects the commit forever: give up after a while and rejoin; the
                # records are safely in the database and a redelivery changes nothing.
                async with asyncio.timeout(15):
                    await consumer.commit()
            if loop.time() - last_prune > 3600:
                last_prune = loop.time()
                await self._prune_inbox()

    async def handle_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Handle records in one transaction; on any failure, fall back to one transaction per record."""
        events: list[tuple[ConsumerRecord[bytes, bytes], Event[Any]]] = []
        for record in records:
            try:
                events.append((record, from_kafka(record.value, record.headers)))
            except ContractError as exc:
                await self._dead_letter(record, str(exc))
        if not events:
            return
        if len(events) > 1:
            try:
                self.handled += await self._apply([e for _, e in events])
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("batch failed; handling its events one by one",
                         extra={"consumer": self.name, "events": len(events), "error": repr(exc)})
        for record, event in events:
            await self._handle_one(record, event)

    async def _handle_one(self, record: ConsumerRecord[bytes, bytes], event: Event[Any]) -> None:
        with report_context(event.subject):
            for attempt in range(1, self._max_attempts + 1):
                try:
                    if await self.handle_event(event):
                        self.handled += 1
                    return
                except asyncio.CancelledError:
                    raise
                except PermanentError as exc:
                    await self._dead_letter(record, f"permanent: {exc}")
                    return
                except Exception as exc:
                    if attempt == self._max_attempts:
                        log.exception("event failed every retry; dead-lettered",
                                      extra={"consumer": self.name, "event_id": event.id, "event_type": event.type})
                        await self._dead_letter(record, repr(exc))
                        return
                    log.warning("event handling failed, retrying", extra={
                        "consumer": self.name, "event_id": event.id, "attempt": attempt, "error": repr(exc)})
                    await asyncio.sleep(min(0.1 * 2 ** attempt, 3.0))

    async def handle_event(self, event: Event[Any]) -> bool:
        """Handle one event exactly once per database: False when it had been handled already."""
        return await self._apply([event]) == 1

    async def _apply(self, events: list[Event[Any]]) -> int:
        """Handle the events not yet in the inbox, and record them there, in one transaction; after the commit,
        wake the outbox relay. Returns how many were new."""
        handled = 0
        inbox: list[dict[str, Any]] = []
        async with self._sessions() as session:
            async with session.begin():
                seen = set((await session.scalars(select(self._processed.event_id).where(
                    self._processed.event_id.in_([e.id for e in events])))).all())
                fresh = [e for e in events if e.id not in seen]
                loaded = None  # what the whole batch needs, loaded in a few queries (kept alive while handling)
                if self._prefetch is not None and len(fresh) > 1:
                    loaded = await self._prefetch(session, fresh)
                for event in fresh:
                    if event.id in seen:  # the same event twice in one batch
                        continue
                    seen.add(event.id)
                    with report_context(event.subject):
                        await self._handler(session, event)
                    inbox.append({"event_id": event.id, "consumer": self.name, "event_type": event.type,
                                  "processed_at": utcnow()})
                    handled += 1
                del loaded
                if inbox:  # one multi-row INSERT, after the handlers' changes
                    await session.execute(insert(self._processed.__table__), inbox)  # type: ignore[attr-defined]
        if handled:
            self._after_commit()
        return handled

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], error: str) -> None:
        log.error("message dead-lettered", extra={"consumer": self.name, "topic": record.topic,
                                                  "partition": record.partition, "offset": record.offset,
                                                  "error": error[:500]})
        async with self._sessions() as session, session.begin():
            session.add(self._dead(
                consumer=self.name, topic=record.topic, partition=record.partition, offset=record.offset,
                key=record.key.decode("utf-8", "replace") if record.key else None,
                headers=[[k, v.decode("utf-8", "replace")] for k, v in record.headers or ()],
                payload=record.value, error=error))

    async def _prune_inbox(self) -> None:
        cutoff = utcnow() - self._retention
        async with self._sessions() as session, session.begin():
            await session.execute(delete(self._processed).where(self._processed.processed_at < cutoff))

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
