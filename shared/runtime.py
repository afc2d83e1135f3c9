"""What every service holds for its lifetime, built in the app's lifespan: database engine and sessions (migrated on
start), the identity store, the outbox relay and the event consumer. Nothing connects at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import create_engine, migrate, ping, session_factory
from shared.identity import IdentityStore
from shared.messaging import EventConsumer, Handler, OutboxRelay, make_consumer, make_producer
from shared.messaging.models import DeadLetterMixin, OutboxMixin, ProcessedEventMixin
from shared.registry import Registry, load_registry
from shared.settings import ServiceSettings

log = logging.getLogger("linkage.runtime")


class Runtime:
    def __init__(self, settings: ServiceSettings, *, migrations: Path, lock_id: int,
                 outbox_model: type[OutboxMixin] | None = None,
                 processed_model: type[ProcessedEventMixin] | None = None,
                 dead_letter_model: type[DeadLetterMixin] | None = None,
                 topics: Callable[[Registry], list[str]] | None = None,
                 handler_factory: Callable[["Runtime"], Handler] | None = None) -> None:
        self.settings = settings
        self.registry: Registry = load_registry(settings.registry_file)
        self._migrations = migrations
        self._lock_id = lock_id
        self._outbox_model = outbox_model
        self._processed_model = processed_model
        self._dead_letter_model = dead_letter_model
        self._topics = topics
        self._handler_factory = handler_factory
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
                                     poll_interval=self.settings.outbox_poll_interval_s)
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self._topics is not None and self._handler_factory is not None:
            assert self._processed_model is not None and self._dead_letter_model is not None
            topics = self._topics(self.registry)
            self.consumer = EventConsumer(
                name=self.settings.consumer_group,
                consumer_factory=lambda: make_consumer(self.settings, topics),
                session_factory=self.sessions, processed_model=self._processed_model,
                dead_letter_model=self._dead_letter_model, handler=self._handler_factory(self),
                after_commit=self.notify_outbox)
            self._tasks.append(asyncio.create_task(self.consumer.run(), name="event-consumer"))
        log.info("service started", extra={"database": self.engine.url.get_backend_name(),
                                           "kafka": self.settings.kafka_bootstrap_servers})

    def notify_outbox(self) -> None:
        if self.relay is not None:
            self.relay.notify()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
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
        if self.consumer is not None:
            checks["consumer"] = self.consumer.assigned
        return checks
