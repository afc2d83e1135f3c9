"""The outbox queues rows on the session and inserts them just before the commit; a rollback drops them, and a
savepoint's rows roll back with the savepoint only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Session

from shared.events import ReportReceived, ReportReceivedV1
from shared.messaging import Outbox, OutboxMixin
from shared.db import utcnow


class Base(DeclarativeBase):
    pass


class Message(OutboxMixin, Base):
    pass


def _event(n: int) -> ReportReceived:
    return ReportReceived(source="/t", subject=f"r{n}", data=ReportReceivedV1(
        report_id=f"r{n}", text="x", channel="web", received_at=utcnow()))


def test_rows_arrive_at_commit_and_vanish_with_a_rollback_or_their_savepoint(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/o.db")
    Base.metadata.create_all(engine)
    outbox = Outbox(Message)
    count = select(func.count()).select_from(Message)
    with Session(engine) as s, s.begin():
        outbox.add(s, _event(1), "t")
        assert outbox.pending(s) == 1 and s.scalar(count) == 0  # queued, not yet inserted
    with Session(engine) as s:
        with s.begin():
            outbox.add(s, _event(2), "t")
            s.rollback()
        assert outbox.pending(s) == 0
    with Session(engine) as s, s.begin():
        outbox.add(s, _event(3), "t")
        nested = s.begin_nested()
        outbox.add(s, _event(4), "t")
        nested.rollback()
    with Session(engine) as s:
        assert set(s.scalars(select(Message.key))) == {"r1", "r3"}
