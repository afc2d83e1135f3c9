"""The outbox relay against a real broker and database: under a stream of commits it publishes once per linger
interval (every row, in few produce rounds); after a quiet spell a commit goes out at once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devtools.tansu import TansuBroker
from shared.db import create_engine, make_base, session_factory, utcnow
from shared.events import ReportReceived, ReportReceivedV1
from shared.messaging import Outbox, OutboxMixin, OutboxRelay

Base = make_base()


class Message(OutboxMixin, Base):  # type: ignore[misc, valid-type]
    pass


outbox = Outbox(Message)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield session_factory(engine)
    await engine.dispose()


async def _commit_one(sessions: async_sessionmaker[AsyncSession], topic: str, relay: OutboxRelay[Message]) -> str:
    report_id = str(uuid.uuid4())
    async with sessions() as session, session.begin():
        outbox.add(session, ReportReceived(source="/test", subject=report_id, data=ReportReceivedV1(
            report_id=report_id, text="burst pipe", channel="web", received_at=utcnow())), topic)
    relay.notify()
    return report_id


async def _until(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running_relay(sessions: async_sessionmaker[AsyncSession], broker: TansuBroker, linger: float
                        ) -> AsyncIterator[OutboxRelay[Message]]:
    """A relay publishing to the test broker, connected and running until the block ends."""
    relay = OutboxRelay(sessions, Message, lambda: AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=2),
                        poll_interval=5.0, linger=linger)
    task = asyncio.create_task(relay.run())
    try:
        await _until(lambda: relay.connected)
        yield relay
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.stop()


async def _received(broker: TansuBroker, topic: str, count: int) -> set[str]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    keys: set[str] = set()
    try:
        async with asyncio.timeout(20):
            while len(keys) < count:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    keys.update(r.key.decode() for r in records if r.key)
    finally:
        await consumer.stop()
    return keys


async def test_a_stream_of_commits_goes_out_once_per_linger_interval(
        sessions: async_sessionmaker[AsyncSession], broker: TansuBroker) -> None:
    topic = f"relay-burst-{uuid.uuid4().hex[:8]}"
    async with running_relay(sessions, broker, linger=0.25) as relay:
        sent = []
        for _ in range(40):  # 40 commits, 10 ms apart: about 0.5 s
            sent.append(await _commit_one(sessions, topic, relay))
            await asyncio.sleep(0.01)
        await _until(lambda: relay.published == 40)
        # one publish per 0.25 s of the burst (plus the first at once and the last), not one per commit
        assert relay.publishes <= 5, relay.publishes
    assert await _received(broker, topic, 40) == set(sent)


async def test_after_a_quiet_spell_a_commit_is_published_at_once(
        sessions: async_sessionmaker[AsyncSession], broker: TansuBroker) -> None:
    topic = f"relay-quiet-{uuid.uuid4().hex[:8]}"
    async with running_relay(sessions, broker, linger=1.0) as relay:
        await asyncio.sleep(0.2)  # connected and idle (its polls find nothing: they do not count as publishes)
        loop = asyncio.get_running_loop()
        started = loop.time()
        sent = await _commit_one(sessions, topic, relay)
        await _until(lambda: relay.published == 1)
        assert loop.time() - started < 0.5  # not held back for the linger
    assert await _received(broker, topic, 1) == {sent}
