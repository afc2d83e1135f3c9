"""Table mixins: each service maps them onto its own declarative base, so every database has its own outbox,
inbox (``processed_events``) and ``dead_letters``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.db import UTCDateTime, utcnow

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class OutboxMixin:
    """An event waiting to be published. Written in the same transaction as the change it announces; the relay
    deletes it once the broker has acknowledged it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(64))
    headers: Mapped[list[Any]] = mapped_column(JSON)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedEventMixin:
    """The inbox: ids of events already handled, recorded in the handling transaction."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consumer: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (Index("ix_processed_events_processed_at", "processed_at"),)


class DeadLetterMixin:
    """A message that could not be handled (not a valid event, or failing every retry): kept, not dropped."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(255))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    headers: Mapped[list[Any]] = mapped_column(JSON)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
