"""All SQL about tickets. The audit trail is only ever inserted and selected here (the database refuses the rest)."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from departments.tickets.audit import AuditEntry
from departments.tickets.clocks import RUNNING_IN
from departments.tickets.domain import ANNOUNCED_RECORDS
from departments.tickets.models import FollowUp, ReportTicket, Ticket, TicketAuditEntry, TicketEscalation
from shared.db import added_in_session, in_session
from shared.problems import InvalidInput


@dataclass(frozen=True)
class TicketFilter:
    department: str | None = None
    status: str | None = None
    report_id: str | None = None
    escalated: bool | None = None
    overdue: bool | None = None
    now: datetime | None = None


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
        """The report's ticket for this department: opened earlier in this transaction (not flushed yet), or
        stored."""
        return (added_in_session(self.session, Ticket, report_id=report_id, department=department)
                or await self.session.scalar(_FIND, {"report_id": report_id, "department": department}))

    async def page(self, flt: TicketFilter, *, limit: int, cursor: str | None) -> tuple[list[Ticket], str | None]:
        """Newest first (``created_at``, then ``id``), keyset-paginated."""
        query = select(Ticket)
        if flt.department:
            query = query.where(Ticket.department == flt.department)
        if flt.status:
            query = query.where(Ticket.status == flt.status)
        if flt.report_id:
            query = query.where(Ticket.report_id == flt.report_id)
        if flt.escalated is not None:
            query = query.where(Ticket.escalation_level >= 1 if flt.escalated else Ticket.escalation_level == 0)
        if flt.overdue is not None and flt.now is not None:
            overdue = overdue_clause(flt.now)
            query = query.where(overdue if flt.overdue else ~overdue)
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

    async def last_announced(self, ticket_id: str) -> TicketAuditEntry | None:
        """The latest entry announced on ``tickets.events`` (``service.is_announced``): creation, a state change or a
        re-routing; notes, assignments, escalations … are not."""
        return await self.session.scalar(
            select(TicketAuditEntry).where(
                TicketAuditEntry.ticket_id == ticket_id,
                or_(TicketAuditEntry.from_state.is_(None), TicketAuditEntry.from_state != TicketAuditEntry.to_state,
                    TicketAuditEntry.action.in_(ANNOUNCED_RECORDS)))
            .order_by(TicketAuditEntry.seq.desc()).limit(1))

    # --- escalation -----------------------------------------------------------------------------------------

    async def due_for_escalation(self, now: datetime, *, limit: int) -> list[Ticket]:
        """Tickets with an escalation due, locked; on PostgreSQL rows another scheduler holds are skipped (it is
        escalating them), so several instances share the work without doing any of it twice."""
        return list((await self.session.scalars(
            select(Ticket).where(Ticket.next_escalation_at <= now).order_by(Ticket.next_escalation_at)
            .limit(limit).with_for_update(skip_locked=True).execution_options(populate_existing=True))).all())

    def add_escalation(self, escalation: TicketEscalation) -> None:
        self.session.add(escalation)

    async def escalations(self, ticket_id: str) -> list[TicketEscalation]:
        return list((await self.session.scalars(
            select(TicketEscalation).where(TicketEscalation.ticket_id == ticket_id)
            .order_by(TicketEscalation.id))).all())

    # --- follow-up calls --------------------------------------------------------------------------------------

    def add_follow_up(self, follow_up: FollowUp) -> None:
        self.session.add(follow_up)

    async def follow_ups(self, ticket_id: str) -> list[FollowUp]:
        return list((await self.session.scalars(
            select(FollowUp).where(FollowUp.ticket_id == ticket_id).order_by(FollowUp.id))).all())

    # --- citizen feedback -------------------------------------------------------------------------------------

    async def lead_ticket_for_update(self, report_id: str, lead_department: str | None) -> Ticket | None:
        """The report's current lead ticket held here (not a lead that handed the matter back), locked."""
        query = select(Ticket).where(Ticket.report_id == report_id, Ticket.role == "lead",
                                     Ticket.status.not_in(("transferred", "cancelled")))
        if lead_department:
            query = query.where(Ticket.department == lead_department)
        return await self.session.scalar(query.order_by(Ticket.created_at.desc()).limit(1).with_for_update())

    async def find_for_update(self, report_id: str, department: str) -> Ticket | None:
        return await self.session.scalar(
            select(Ticket).where(Ticket.report_id == report_id, Ticket.department == department).with_for_update())

    # --- the joint-handling projection (every department's tickets, from tickets.events) -----------------------

    async def project(self, *, report_id: str, department: str, ticket_id: str, role: str, state: str,
                      sequence: int, at: datetime) -> None:
        """Upsert a ticket's state into the projection; an older sequence never overwrites a newer one."""
        await self.session.execute(_projection_upsert(self.session.bind.dialect.name), dict(
            report_id=report_id, department=department, ticket_id=ticket_id, role=role, state=state,
            sequence=sequence, updated_at=at))

    async def project_release_request(self, report_id: str, department: str, reason: str | None) -> None:
        row = await self.session.get(ReportTicket, (report_id, department), with_for_update=True)
        if row is not None and row.state not in ("transferred", "cancelled", "closed"):
            row.release_requested = reason

    async def report_tickets(self, report_id: str) -> list[ReportTicket]:
        return list((await self.session.scalars(
            select(ReportTicket).where(ReportTicket.report_id == report_id)
            .order_by(ReportTicket.role.desc(), ReportTicket.department))).all())

    async def audit_trail(self, ticket_id: str) -> list[TicketAuditEntry]:
        return list((await self.session.scalars(
            select(TicketAuditEntry).where(TicketAuditEntry.ticket_id == ticket_id)
            .order_by(TicketAuditEntry.seq))).all())


# Built once: the consumer runs it for every dispatch (a statement built per call cost a fifth of opening a ticket).
_FIND = select(Ticket).where(Ticket.report_id == bindparam("report_id"), Ticket.department == bindparam("department"))


@functools.cache
def _projection_upsert(dialect: str):  # type: ignore[no-untyped-def]
    """The projection's upsert, built once per dialect (the values are bound at execution): building it for every
    ticket event cost about a third of the CPU of opening a ticket."""
    table = ReportTicket.__table__  # Core, not the ORM's bulk-insert path (which cost as much as the statement)
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["report_id", "department"],
        set_={"ticket_id": excluded.ticket_id, "role": excluded.role, "state": excluded.state,
              "sequence": excluded.sequence, "updated_at": excluded.updated_at},
        where=or_(table.c.ticket_id != excluded.ticket_id, table.c.sequence < excluded.sequence))


def overdue_clause(now: datetime):  # type: ignore[no-untyped-def]
    """SQL for "a clock whose step is still to be done is past its due time" (the state says which steps are left:
    see ``clocks.RUNNING_IN``)."""
    return or_(*(and_(Ticket.status.in_(sorted(RUNNING_IN[clock])), column <= now)
                 for clock, column in (("acknowledge", Ticket.acknowledge_due_at), ("start", Ticket.start_due_at),
                                       ("resolve", Ticket.resolve_due_at))))
