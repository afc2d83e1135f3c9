"""A department's ticket for one report, and its append-only audit trail.

The :class:`Ticket` entity enforces the lifecycle (:mod:`departments.tickets.domain`): every action either moves it
by the transition table and seals the next audit entry (:mod:`departments.tickets.audit`), or raises
:class:`~departments.tickets.domain.IllegalTransition`. The ticket row keeps the chain's head (``audit_seq``,
``audit_head``), so appending needs no read of the trail and a trail cut short is detectable.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from departments.db import Base
from departments.tickets.audit import GENESIS_HASH, AuditEntry
from departments.tickets.domain import CREATED, Action, Actor, next_state
from shared.db import UTCDateTime, utcnow
from shared.messaging.redelivery import next_attempt
from shared.events import TicketDispatchedV1, TicketState
from shared.problems import InvalidInput


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("report_id", "department", name="uq_tickets_report_id_department"),
        Index("ix_tickets_department_created_at_id", "department", "created_at", "id"),
        Index("ix_tickets_created_at_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(36))
    department: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    lead_department: Mapped[str] = mapped_column(String(32))
    departments: Mapped[list[str]] = mapped_column(JSON)
    priority: Mapped[str] = mapped_column(String(2))
    police: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    grid_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), index=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    announced_seq: Mapped[int] = mapped_column(Integer, default=0, doc="Sequence of the last state change announced")
    observed_seq: Mapped[int] = mapped_column(Integer, default=0, doc="Highest sequence intake has confirmed")
    announce_count: Mapped[int] = mapped_column(Integer, default=0)
    next_announce_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True, index=True, doc="When to announce the state again unless intake confirms it")
    callers: Mapped[int] = mapped_column(Integer, default=1, doc="Reports (callers) linked to this incident, the "
                                                                "first included")
    callers_seq: Mapped[int] = mapped_column(Integer, default=0, doc="Sequence of the link/unlink event applied last")

    audit: Mapped[list[TicketAuditEntry]] = relationship(
        back_populates="ticket", lazy="raise", order_by="TicketAuditEntry.seq", viewonly=True)

    # --- creation -----------------------------------------------------------------------------------------

    @classmethod
    def from_dispatch(cls, data: TicketDispatchedV1, actor: Actor, *, at: datetime | None = None) -> Ticket:
        """A new ticket for the dispatched (report, department), with its ``created`` audit entry pending."""
        at = at or utcnow()
        ticket = cls(
            id=str(uuid.uuid4()), report_id=data.report_id, department=data.department, role=data.role,
            lead_department=data.lead_department, departments=list(data.departments), priority=data.priority,
            police=data.police, channel=data.channel, text=data.text, address=data.location.address,
            lat=data.location.lat, lon=data.location.lon, grid_id=data.location.grid_id,
            occurred_at=data.occurred_at, received_at=data.received_at, dispatched_at=data.dispatched_at,
            attempt=data.attempt, status="new", resolution=None, created_at=at, updated_at=at, audit_seq=0,
            audit_head=GENESIS_HASH, announced_seq=0, observed_seq=0, announce_count=0, callers=data.callers or 1,
            callers_seq=0)
        ticket._record(CREATED, None, "new", actor, at)
        return ticket

    def count_callers(self, callers: int, sequence: int) -> bool:
        """A report was linked to (or unlinked from) this ticket's incident: take the count of the highest
        ``sequence`` seen, so a repeated or late event changes nothing. True when it was applied."""
        if sequence <= self.callers_seq:
            return False
        self.callers, self.callers_seq = callers, sequence
        return True

    # --- end-to-end confirmation of state announcements ------------------------------------------------------

    def announced(self, seq: int, now: datetime, retry_after_s: float) -> None:
        """A state change was written to the outbox: expect intake's receipt, or announce it again later."""
        self.announced_seq = max(self.announced_seq, seq)
        self.announce_count = 0
        self.next_announce_at = next_attempt(now, 0, retry_after_s)

    def observed(self, seq: int) -> None:
        """Intake's receipt: it has every change up to ``seq``."""
        self.observed_seq = max(self.observed_seq, seq)
        if self.observed_seq >= self.announced_seq:
            self.next_announce_at = None

    def reannounced(self, now: datetime, retry_after_s: float) -> None:
        self.announce_count += 1
        self.next_announce_at = next_attempt(now, self.announce_count, retry_after_s)

    # --- the lifecycle (the transition table decides; these name the moves) ---------------------------------

    def acknowledge(self, actor: Actor, *, at: datetime | None = None) -> AuditEntry:
        return self._apply("acknowledge", actor, at)

    def start(self, actor: Actor, *, at: datetime | None = None) -> AuditEntry:
        return self._apply("start", actor, at)

    def add_note(self, actor: Actor, note: str, *, at: datetime | None = None) -> AuditEntry:
        return self._apply("note", actor, at, note=_required("note", note))

    def resolve(self, actor: Actor, resolution: str, *, at: datetime | None = None) -> AuditEntry:
        entry = self._apply("resolve", actor, at, resolution=_required("resolution", resolution))
        self.resolution = entry.resolution
        return entry

    def close(self, actor: Actor, reason: str | None = None, *, at: datetime | None = None) -> AuditEntry:
        return self._apply("close", actor, at, reason=(reason or "").strip() or None)

    def reopen(self, actor: Actor, reason: str, *, at: datetime | None = None) -> AuditEntry:
        entry = self._apply("reopen", actor, at, reason=_required("reason", reason))
        self.resolution = None
        return entry

    def transfer(self, actor: Actor, reason: str, *, at: datetime | None = None) -> AuditEntry:
        return self._apply("transfer", actor, at, reason=_required("reason", reason))

    def cancel(self, actor: Actor, reason: str, *, at: datetime | None = None) -> AuditEntry:
        return self._apply("cancel", actor, at, reason=_required("reason", reason))

    def _apply(self, action: Action, actor: Actor, at: datetime | None, **texts: str | None) -> AuditEntry:
        to_state = next_state(self.status, action)  # type: ignore[arg-type]
        at = at or utcnow()
        from_state, self.status, self.updated_at = self.status, to_state, at
        return self._record(action, from_state, to_state, actor, at, **texts)

    # --- the audit trail ------------------------------------------------------------------------------------

    def _record(self, action: str, from_state: TicketState | str | None, to_state: TicketState | str, actor: Actor,
                at: datetime, *, reason: str | None = None, note: str | None = None,
                resolution: str | None = None) -> AuditEntry:
        entry = AuditEntry.seal(
            prev_hash=self.audit_head, ticket_id=self.id, seq=self.audit_seq + 1, at=at, action=action,
            from_state=from_state, to_state=to_state, actor_id=actor.id, actor_name=actor.name,
            actor_role=actor.role, actor_department=actor.department, reason=reason, note=note,
            resolution=resolution)
        self.audit_seq, self.audit_head = entry.seq, entry.hash
        self._pending_audit.append(entry)
        return entry

    @property
    def _pending_audit(self) -> list[AuditEntry]:
        return self.__dict__.setdefault("_pending_audit_entries", [])

    def take_new_audit(self) -> list[AuditEntry]:
        """The audit entries sealed since the last call (for the repository to insert)."""
        entries = list(self._pending_audit)
        self._pending_audit.clear()
        return entries


class TicketAuditEntry(Base):
    """One sealed audit entry. Append-only: the repository only inserts and selects, and the migration installs
    triggers that refuse ``UPDATE`` and ``DELETE`` on this table."""

    __tablename__ = "ticket_audit"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_department: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    ticket: Mapped[Ticket] = relationship(back_populates="audit", lazy="raise", viewonly=True)

    @classmethod
    def of(cls, entry: AuditEntry) -> TicketAuditEntry:
        return cls(**dataclasses.asdict(entry))


def _required(field: str, value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"A {field} is required.", errors=[{"field": field, "message": "must not be empty"}])
    return value

