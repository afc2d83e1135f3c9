"""All SQL about tickets. The audit trail is only ever inserted and selected here (the database refuses the rest)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from departments.tickets.audit import AuditEntry
from departments.tickets.models import Ticket, TicketAuditEntry
from shared.db import in_session
from shared.problems import InvalidInput


@dataclass(frozen=True)
class TicketFilter:
    department: str | None = None
    status: str | None = None
    report_id: str | None = None


def encode_cursor(ticket: Ticket) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([ticket.created_at.isoformat(), ticket.id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, ticket_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created), str(ticket_id)
    except Exception as exc:
        raise InvalidInput("The cursor is not one this service issued.",
                           errors=[{"field": "cursor", "message": "invalid cursor"}]) from exc


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, ticket: Ticket) -> None:
        self.session.add(ticket)

    def append_audit(self, entries: list[AuditEntry]) -> None:
        self.session.add_all([TicketAuditEntry.of(e) for e in entries])

    async def get(self, ticket_id: str) -> Ticket | None:
        return await self.session.get(Ticket, ticket_id)

    async def get_for_update(self, ticket_id: str) -> Ticket | None:
        """The ticket, locked until the transaction ends on PostgreSQL (SQLite's ``BEGIN IMMEDIATE`` already
        serialises writers), so two staff acting at once take turns instead of forking the audit chain."""
        return await self.session.scalar(
            select(Ticket).where(Ticket.id == ticket_id).with_for_update().execution_options(populate_existing=True))

    async def receipt_targets(self, ticket_ids: list[str]) -> list[Ticket]:
        """Load (and lock) the tickets a batch of receipts concerns, in one query."""
        if not ticket_ids:
            return []
        return list((await self.session.scalars(
            select(Ticket).where(Ticket.id.in_(ticket_ids)).with_for_update())).all())

    async def get_for_receipt(self, ticket_id: str) -> Ticket | None:
        return in_session(self.session, Ticket, ticket_id) or await self.get_for_update(ticket_id)

    async def find(self, report_id: str, department: str) -> Ticket | None:
        return await self.session.scalar(
            select(Ticket).where(Ticket.report_id == report_id, Ticket.department == department))

    async def page(self, flt: TicketFilter, *, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        """Newest first (``created_at``, then ``id``), keyset-paginated."""
        query = select(Ticket)
        if flt.department:
            query = query.where(Ticket.department == flt.department)
        if flt.status:
            query = query.where(Ticket.status == flt.status)
        if flt.report_id:
            query = query.where(Ticket.report_id == flt.report_id)
        if cursor:
            created, ticket_id = decode_cursor(cursor)
            query = query.where(or_(Ticket.created_at < created,
                                    and_(Ticket.created_at == created, Ticket.id < ticket_id)))
        rows = list((await self.session.scalars(
            query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit + 1))).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (encode_cursor(rows[-1]) if more and rows else None)

    async def due_for_announcement(self, now: datetime, *, limit: int) -> list[Ticket]:
        return list((await self.session.scalars(
            select(Ticket).where(Ticket.next_announce_at <= now).order_by(Ticket.next_announce_at)
            .limit(limit).with_for_update(skip_locked=True))).all())

    async def last_state_change(self, ticket_id: str) -> TicketAuditEntry | None:
        return await self.session.scalar(
            select(TicketAuditEntry).where(TicketAuditEntry.ticket_id == ticket_id, TicketAuditEntry.action != "note")
            .order_by(TicketAuditEntry.seq.desc()).limit(1))

    async def audit_trail(self, ticket_id: str) -> list[TicketAuditEntry]:
        return list((await self.session.scalars(
            select(TicketAuditEntry).where(TicketAuditEntry.ticket_id == ticket_id)
            .order_by(TicketAuditEntry.seq))).all())
