"""Working tickets: the departments bounded context's use cases.

Each change loads the ticket (locked), lets the :class:`Ticket` entity apply it, and writes in the caller's
transaction: the ticket, its new audit entry and (for state changes, not notes) a ``ticket.status_changed.v1``
event in the outbox. Nothing here commits; the entrypoint (HTTP unit of work or the event consumer) does.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from departments.db import OutboxMessage
from departments.tickets.audit import AuditEntry, ChainVerification, verify_chain
from departments.tickets.domain import SYSTEM_ROUTER, Actor, allowed_actions
from departments.tickets.models import Ticket, TicketAuditEntry
from departments.tickets.repository import TicketFilter, TicketRepository
from departments.tickets.schemas import AuditEntryOut, AuditVerification, TicketOut, TicketPage
from shared.db import utcnow
from shared.events import (
    TICKETS_EVENTS, IncidentReportLinked, IncidentReportUnlinked, TicketDispatched, TicketStatusChanged,
    TicketStatusChangedV1,
    TicketStatusObserved,
)
from shared.identity import Principal
from shared.logging import report_context
from shared.messaging import Outbox
from shared.problems import Forbidden, NotFound

log = logging.getLogger("linkage.departments.tickets")
outbox = Outbox(OutboxMessage)
SOURCE = "/linkage/departments"


class TicketService:
    def __init__(self, session: AsyncSession, *, redelivery_after_s: float = 10.0) -> None:
        self.session = session
        self.tickets = TicketRepository(session)
        self.redelivery_after_s = redelivery_after_s

    # --- dispatches from the router ----------------------------------------------------------------------

    async def open_from_dispatch(self, event: TicketDispatched) -> Ticket | None:
        """One ticket per (report, department): a repeated dispatch (another event id, a later routing attempt)
        creates nothing and returns ``None``. A concurrent duplicate loses on the unique constraint and is retried
        by the consumer, which then finds the ticket."""
        data = event.data
        with report_context(data.report_id):
            existing = await self.tickets.find(data.report_id, data.department)
            if existing is not None:
                # A copy of a dispatch (the router re-sends until it sees the ticket; the broker may have lost
                # our answer): create nothing, but announce the ticket's current state again, which confirms it.
                last = await self.tickets.last_state_change(existing.id)
                if last is not None:
                    outbox.add(self.session, status_changed(existing, last), TICKETS_EVENTS)  # type: ignore[arg-type]
                log.info("dispatch for an existing ticket: state announced again", extra={
                    "ticket_id": existing.id, "department": data.department, "event_id": event.id,
                    "attempt": data.attempt})
                return None
            ticket = Ticket.from_dispatch(data, SYSTEM_ROUTER)
            self.tickets.add(ticket)
            await self._record(ticket)
            log.info("ticket opened", extra={"ticket_id": ticket.id, "department": ticket.department,
                                             "role": ticket.role, "priority": ticket.priority})
            return ticket

    async def count_linked_caller(self, event: IncidentReportLinked | IncidentReportUnlinked) -> None:
        """Another caller reported the incident of one of our tickets (or an operator unlinked a report from it):
        take the new caller count. A ticket not here (yet) needs nothing: the router's dispatch carries the count."""
        data = event.data
        with report_context(data.incident_id):
            ticket = await self.tickets.find(data.incident_id, data.department)
            if ticket is None:
                log.warning("linked caller for a ticket not here; its dispatch will carry the count",
                            extra={"department": data.department, "linked_report_id": data.report_id})
                return
            if ticket.count_callers(data.callers, data.sequence):
                log.info("caller linked to the ticket's incident", extra={
                    "ticket_id": ticket.id, "callers": ticket.callers, "linked_report_id": data.report_id})

    # --- end-to-end confirmation with intake ------------------------------------------------------------

    async def record_receipt(self, event: TicketStatusObserved) -> None:
        ticket = await self.tickets.get_for_receipt(event.data.ticket_id)
        if ticket is not None:
            ticket.observed(event.data.sequence)

    async def reannounce_unconfirmed(self, *, limit: int = 200) -> int:
        """Announce again the latest state of every ticket whose change intake has not confirmed in time (the
        broker may have lost the event). Intake ignores what it already has and answers with a receipt."""
        now = utcnow()
        due = await self.tickets.due_for_announcement(now, limit=limit)
        for ticket in due:
            last = await self.tickets.last_state_change(ticket.id)
            if last is not None:
                outbox.add(self.session, status_changed(ticket, last), TICKETS_EVENTS)  # type: ignore[arg-type]
            ticket.reannounced(now, self.redelivery_after_s)
        return len(due)

    # --- reading ----------------------------------------------------------------------------------------

    async def page(self, principal: Principal, *, department: str | None, status: str | None,
                   report_id: str | None, limit: int, cursor: str | None) -> TicketPage:
        if principal.is_department:
            if department is not None and department != principal.department:
                raise Forbidden(f"Your key belongs to {principal.department}; it cannot list {department}'s "
                                "tickets.")
            department = principal.department
        flt = TicketFilter(department=department, status=status, report_id=report_id)
        rows, next_cursor = await self.tickets.page(flt, limit=limit, cursor=cursor)
        return TicketPage(items=[to_out(t) for t in rows], next_cursor=next_cursor)

    async def get(self, principal: Principal, ticket_id: str) -> TicketOut:
        return to_out(await self._visible(principal, ticket_id))

    async def audit_trail(self, principal: Principal, ticket_id: str) -> list[AuditEntryOut]:
        await self._visible(principal, ticket_id)
        return [audit_out(e) for e in await self.tickets.audit_trail(ticket_id)]

    async def verify_audit(self, principal: Principal, ticket_id: str) -> AuditVerification:
        ticket = await self._visible(principal, ticket_id)
        result: ChainVerification = verify_chain(await self.tickets.audit_trail(ticket_id),
                                                 expected_length=ticket.audit_seq, expected_head=ticket.audit_head)
        if not result.intact:
            with report_context(ticket.report_id):
                log.error("audit chain broken", extra={"ticket_id": ticket.id,
                                                       "first_broken_seq": result.first_broken_seq,
                                                       "detail": result.detail})
        return AuditVerification(intact=result.intact, entries=result.entries,
                                 first_broken_seq=result.first_broken_seq, head_hash=result.head_hash,
                                 detail=result.detail)

    # --- staff actions (the entity decides what is legal) -------------------------------------------------

    async def acknowledge(self, principal: Principal, ticket_id: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.acknowledge(a))

    async def start(self, principal: Principal, ticket_id: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.start(a))

    async def add_note(self, principal: Principal, ticket_id: str, note: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.add_note(a, note))

    async def resolve(self, principal: Principal, ticket_id: str, resolution: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.resolve(a, resolution))

    async def close(self, principal: Principal, ticket_id: str, reason: str | None) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.close(a, reason))

    async def reopen(self, principal: Principal, ticket_id: str, reason: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.reopen(a, reason))

    async def transfer(self, principal: Principal, ticket_id: str, reason: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.transfer(a, reason))

    async def cancel(self, principal: Principal, ticket_id: str, reason: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.cancel(a, reason))

    async def _change(self, principal: Principal, ticket_id: str,
                      apply: Callable[[Ticket, Actor], AuditEntry]) -> TicketOut:
        ticket = await self._visible(principal, ticket_id, for_update=True)
        with report_context(ticket.report_id):
            entry = apply(ticket, Actor.of(principal))
            await self._record(ticket)
            log.info("ticket changed", extra={"ticket_id": ticket.id, "department": ticket.department,
                                              "action": entry.action, "from_state": entry.from_state,
                                              "to_state": entry.to_state, "seq": entry.seq,
                                              "actor": principal.id})
        return to_out(ticket)

    async def _record(self, ticket: Ticket) -> None:
        """Insert the ticket's new audit entries and, for each state change, its event in the outbox."""
        entries = ticket.take_new_audit()
        self.tickets.append_audit(entries)
        for entry in entries:
            if entry.action != "note":
                outbox.add(self.session, status_changed(ticket, entry), TICKETS_EVENTS)
                ticket.announced(entry.seq, entry.at, self.redelivery_after_s)
        await self.session.flush()

    async def _visible(self, principal: Principal, ticket_id: str, *, for_update: bool = False) -> Ticket:
        """The ticket if this principal may see it. Another department's ticket is "not found", exactly like a
        missing one, so its existence is not revealed."""
        ticket = await (self.tickets.get_for_update(ticket_id) if for_update else self.tickets.get(ticket_id))
        if ticket is None or not principal.can_see_department(ticket.department):
            raise NotFound(f"No ticket {ticket_id}.")
        return ticket


def status_changed(ticket: Ticket, entry: AuditEntry) -> TicketStatusChanged:
    """The ``ticket.status_changed.v1`` event announcing one audit entry (``sequence`` = the entry's ``seq``)."""
    return TicketStatusChanged(
        id=str(uuid.uuid4()), source=SOURCE, subject=ticket.report_id, time=entry.at,
        data=TicketStatusChangedV1(
            ticket_id=ticket.id, report_id=ticket.report_id, department=ticket.department,
            role=ticket.role,  # type: ignore[arg-type]
            sequence=entry.seq, action=entry.action, from_state=entry.from_state,  # type: ignore[arg-type]
            to_state=entry.to_state,  # type: ignore[arg-type]
            actor=Actor(entry.actor_id, entry.actor_name, entry.actor_role, entry.actor_department).to_event(),
            reason=entry.reason, resolution=entry.resolution, at=entry.at))


def to_out(ticket: Ticket) -> TicketOut:
    return TicketOut.model_validate(_ticket_view(ticket))


def _ticket_view(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id, "report_id": ticket.report_id, "department": ticket.department, "role": ticket.role,
        "lead_department": ticket.lead_department, "departments": ticket.departments, "status": ticket.status,
        "allowed_actions": allowed_actions(ticket.status), "priority": ticket.priority, "police": ticket.police,
        "channel": ticket.channel, "text": ticket.text,
        "location": {"address": ticket.address, "lat": ticket.lat, "lon": ticket.lon, "grid_id": ticket.grid_id},
        "occurred_at": ticket.occurred_at, "received_at": ticket.received_at, "dispatched_at": ticket.dispatched_at,
        "resolution": ticket.resolution, "audit_entries": ticket.audit_seq, "callers": ticket.callers, "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


def audit_out(entry: TicketAuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq, at=entry.at, action=entry.action, from_state=entry.from_state,  # type: ignore[arg-type]
        to_state=entry.to_state,  # type: ignore[arg-type]
        actor={"id": entry.actor_id, "name": entry.actor_name, "role": entry.actor_role,  # type: ignore[arg-type]
               "department": entry.actor_department},
        reason=entry.reason, note=entry.note, resolution=entry.resolution, prev_hash=entry.prev_hash,
        hash=entry.hash)

