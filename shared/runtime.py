"""What every service holds for its lifetime, built in the app's lifespan: database engine and sessions (migrated on
start), the identity store, the outbox relay and the event consumer. Nothing connects at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import create_engine, migrate, ping, session_factory
from shared.identity import IdentityStore
from shared.messaging import EventConsumer, Handler, OutboxRelay, Prefetch, make_consumer, make_producer
from shared.messaging.models import DeadLetterMixin, OutboxMixin, ProcessedEventMixin
from shared.registry import Registry, load_registry
from shared.settings import ServiceSettings

log = logging.getLogger("linkage.runtime")


@dataclass(frozen=True)
class PeriodicTask:
    """Work a service does every ``interval_s`` seconds in one transaction of its own (e.g. departments' escalation
    scheduler): ``run(session)`` returns how many items it handled (the outbox relay is woken when > 0)."""

    name: str
    interval_s: float
    run: Callable[[AsyncSession], Awaitable[int]]


class Runtime:
    def __init__(self, settings: ServiceSettings, *, migrations: Path, lock_id: int,
                 outbox_model: type[OutboxMixin] | None = None,
                 processed_model: type[ProcessedEventMixin] | None = None,
                 dead_letter_model: type[DeadLetterMixin] | None = None,
                 topics: Callable[[Registry], list[str]] | None = None,
                 handler_factory: Callable[["Runtime"], Handler] | None = None,
                 sweeper: Callable[[AsyncSession], Awaitable[int]] | None = None,
                 registry: Registry | None = None, prefetch: Prefetch | None = None,
                 periodic: Sequence[PeriodicTask] = ()) -> None:
        self.settings = settings
        self.registry: Registry = registry or load_registry(settings.registry_file)
        self._migrations = migrations
        self._lock_id = lock_id
        self._outbox_model = outbox_model
        self._processed_model = processed_model
        self._dead_letter_model = dead_letter_model
        self._topics = topics
        self._handler_factory = handler_factory
        self._sweeper = sweeper
        self._prefetch = prefetch
        self.periodic = list(periodic)
        self.engine: AsyncEngine = create_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.identity = IdentityStore(settings.auth_database_url)
        self.relay: OutboxRelay[Any] | None = None
        self.consumer: EventConsumer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await migrate(self.engine, self._migrations, lock_id=self._lock_id)
        await self.identity.migrate()
        if self._outbox_model is not None:
            self.relay = OutboxRelay(self.sessions, self._outbox_model, lambda: make_producer(self.settings),
                                     poll_interval=self.settings.outbox_poll_interval_s,
                                     linger=self.settings.outbox_linger_ms / 1000)
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self._topics is not None and self._handler_factory is not None:
            assert self._processed_model is not None and self._dead_letter_model is not None
            topics = self._topics(self.registry)
            self.consumer = EventConsumer(
                name=self.settings.consumer_group,
                consumer_factory=lambda: make_consumer(self.settings, topics),
                session_factory=self.sessions, processed_model=self._processed_model,
                dead_letter_model=self._dead_letter_model, handler=self._handler_factory(self),
                after_commit=self.notify_outbox, batch_size=self.settings.consumer_batch_size,
                prefetch=self._prefetch)
            if self.settings.consumer_enabled:
                self._tasks.append(asyncio.create_task(self.consumer.run(), name="event-consumer"))
        if self._sweeper is not None and self.settings.consumer_enabled:
            # the instances that consume also sweep (the database is shared): they see the confirmations that tell
            # lost work from a receiver that is merely behind (DownstreamProgress); an HTTP-only one would not
            self._tasks.append(asyncio.create_task(self._sweep_forever(), name="redelivery-sweeper"))
        for task in self.periodic:
            self._tasks.append(asyncio.create_task(self._run_forever(task), name=task.name))
        log.info("service started", extra={"database": self.engine.url.get_backend_name(),
                                           "kafka": self.settings.kafka_bootstrap_servers})

    async def sweep_once(self) -> int:
        """Run the service's redelivery sweep in one transaction; returns how many items it sent again."""
        assert self._sweeper is not None
        async with self.sessions() as session, session.begin():
            count = await self._sweeper(session)
        if count:
            log.info("redelivered unconfirmed work", extra={"count": count})
            self.notify_outbox()
        return count

    async def _sweep_forever(self) -> None:
        interval = max(0.2, min(5.0, self.settings.redelivery_after_s / 2))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redelivery sweep failed; will retry")

    async def run_once(self, task: PeriodicTask) -> int:
        """Run one periodic task once, in its own transaction."""
        async with self.sessions() as session, session.begin():
            count = await task.run(session)
        if count:
            self.notify_outbox()
        return count

    async def _run_forever(self, task: PeriodicTask) -> None:
        while True:
            await asyncio.sleep(task.interval_s)
            try:
                await self.run_once(task)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic task failed; will retry", extra={"task": task.name})

    def notify_outbox(self) -> None:
        if self.relay is not None:
            self.relay.notify()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=10)
            for task in stuck:
                log.error("background task did not stop within 10 s", extra={"task": task.get_name()})
        if self.relay is not None:
            await self.relay.stop()
        await self.identity.close()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        try:
            await asyncio.wait_for(ping(self.engine), 2)
            checks["database"] = True
        except Exception:
            checks["database"] = False
        try:
            await asyncio.wait_for(ping(self.identity.engine), 2)
            checks["identity_database"] = True
        except Exception:
            checks["identity_database"] = False
        if self.relay is not None:
            checks["broker"] = await self.relay.check_broker()
        if self.consumer is not None and self.settings.consumer_enabled:
            checks["consumer"] = self.consumer.assigned
        return checks
