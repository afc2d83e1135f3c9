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
from departments.tickets.clocks import SlaPolicies
from departments.tickets.domain import (
    ANNOUNCED_RECORDS, FINAL_STATES, SYSTEM_ROUTER, SYSTEM_SLA, Actor, allowed_actions, check_outcome, outcomes_for,
)
from departments.tickets.models import FollowUp, ReportTicket, Ticket, TicketAuditEntry, TicketEscalation
from departments.tickets.repository import TicketFilter, TicketRepository
from departments.tickets.schemas import (
    AuditEntryOut, AuditVerification, EscalationOut, FollowUpOut, TicketOut, TicketPage,
)
from shared.db import utcnow
from shared.events import (
    TICKETS_ESCALATIONS, TICKETS_EVENTS, IncidentReportLinked, IncidentReportUnlinked, ReportFeedbackReceived,
    TicketAssistanceRequested, TicketAssistanceRequestedV1, TicketDispatched, TicketEscalated, TicketEscalatedV1,
    TicketReleaseApproved, TicketReleaseApprovedV1, TicketReleaseRequested, TicketReleaseRequestedV1,
    TicketStatusChanged, TicketStatusChangedV1, TicketStatusObserved, department_topic,
)
from shared.identity import Principal
from shared.logging import report_context
from shared.messaging import Outbox
from shared.messaging.redelivery import DownstreamProgress
from shared.problems import Conflict, Forbidden, InvalidInput, NotFound

log = logging.getLogger("linkage.departments.tickets")
outbox = Outbox(OutboxMessage)
SOURCE = "/linkage/departments"


class TicketService:
    def __init__(self, session: AsyncSession, *, redelivery_after_s: float = 10.0, sla: SlaPolicies | None = None,
                 departments: frozenset[str] | None = None, intake_progress: DownstreamProgress | None = None) -> None:
        self.session = session
        self.intake_progress = intake_progress
        self.tickets = TicketRepository(session)
        self.redelivery_after_s = redelivery_after_s
        self.sla = sla or SlaPolicies({})
        self.departments = departments
        """The registry's department codes (to check a requested assisting department), when known."""

    # --- dispatches from the router ----------------------------------------------------------------------

    async def open_from_dispatch(self, event: TicketDispatched) -> Ticket | None:
        """One ticket per (report, department): a repeated dispatch (another event id, a later routing attempt)
        creates nothing and returns ``None``. A concurrent duplicate loses on the unique constraint and is retried
        by the consumer, which then finds the ticket."""
        data = event.data
        with report_context(data.report_id):
            existing = await self.tickets.find(data.report_id, data.department)
            if existing is not None:
                # A later routing attempt (triage, a re-route, an added department): the ticket takes its role,
                # lead and priority, audited and announced.
                if existing.follow_routing(data, SYSTEM_ROUTER, sla=self.sla(data.department)) is not None:
                    await self._record(existing, flush=False)
                    log.info("ticket follows the report's new routing", extra={
                        "ticket_id": existing.id, "role": existing.role, "priority": existing.priority,
                        "attempt": data.attempt})
                    return None
                # A copy of a dispatch (the router re-sends until it sees the ticket; the broker may have lost
                # our answer): create nothing, but announce the ticket's current state again, which confirms it.
                last = await self.tickets.last_announced(existing.id)
                if last is not None:
                    outbox.add(self.session, status_changed(existing, last), TICKETS_EVENTS)  # type: ignore[arg-type]
                log.info("dispatch for an existing ticket: state announced again", extra={
                    "ticket_id": existing.id, "department": data.department, "event_id": event.id,
                    "attempt": data.attempt})
                return None
            ticket = Ticket.from_dispatch(data, SYSTEM_ROUTER, sla=self.sla(data.department))
            self.tickets.add(ticket)
            # not flushed now: the commit writes the whole batch's tickets in one flush (a flush per ticket was
            # half the CPU of opening it); find() sees the tickets opened earlier in this transaction
            await self._record(ticket, flush=False)
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
            if self.intake_progress is not None:
                self.intake_progress.confirmed(ticket.updated_at)

    async def reannounce_unconfirmed(self, *, limit: int = 200) -> int:
        """Announce again the latest state of every ticket whose change intake has not confirmed in time (the
        broker may have lost the event). Intake ignores what it already has and answers with a receipt."""
        now = utcnow()
        due = await self.tickets.due_for_announcement(now, limit=limit)
        if self.intake_progress is not None:  # not while intake works through earlier ticket changes
            due = self.intake_progress.to_resend(due, lambda t: t.updated_at, downstream="intake")
        for ticket in due:
            last = await self.tickets.last_announced(ticket.id)
            if last is not None:
                outbox.add(self.session, status_changed(ticket, last), TICKETS_EVENTS)  # type: ignore[arg-type]
            ticket.reannounced(now, self.redelivery_after_s)
        return len(due)

    # --- reading ----------------------------------------------------------------------------------------

    async def page(self, principal: Principal, *, department: str | None, status: str | None,
                   report_id: str | None, limit: int, cursor: str | None, escalated: bool | None = None,
                   overdue: bool | None = None) -> TicketPage:
        if principal.is_department:
            if department is not None and department != principal.department:
                raise Forbidden(f"Your key belongs to {principal.department}; it cannot list {department}'s "
                                "tickets.")
            department = principal.department
        now = utcnow()
        flt = TicketFilter(department=department, status=status, report_id=report_id, escalated=escalated,
                           overdue=overdue, now=now)
        rows, next_cursor = await self.tickets.page(flt, limit=limit, cursor=cursor)
        return TicketPage(items=[to_out(t, now=now) for t in rows], next_cursor=next_cursor)

    async def get(self, principal: Principal, ticket_id: str) -> TicketOut:
        return await self._full(await self._visible(principal, ticket_id))

    async def _full(self, ticket: Ticket) -> TicketOut:
        """The ticket with its report's other tickets (joint handling) and its follow-up calls."""
        others = [r for r in await self.tickets.report_tickets(ticket.report_id) if r.ticket_id != ticket.id]
        follow_ups = await self.tickets.follow_ups(ticket.id)
        return to_out(ticket, joint=others, follow_ups=follow_ups)

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

    async def resolve(self, principal: Principal, ticket_id: str, resolution: str, outcome: str | None = None
                      ) -> TicketOut:
        def apply(ticket: Ticket, actor: Actor) -> AuditEntry:
            check_outcome(ticket.department, outcome)
            return ticket.resolve(actor, resolution, outcome=outcome)

        return await self._change(principal, ticket_id, apply)

    async def close(self, principal: Principal, ticket_id: str, reason: str | None) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.close(a, reason))

    async def reopen(self, principal: Principal, ticket_id: str, reason: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.reopen(a, reason))

    async def transfer(self, principal: Principal, ticket_id: str, reason: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.transfer(a, reason))

    async def cancel(self, principal: Principal, ticket_id: str, reason: str) -> TicketOut:
        return await self._change(principal, ticket_id, lambda t, a: t.cancel(a, reason))

    async def assign(self, principal: Principal, ticket_id: str, *, unit: str | None, assignee: str | None,
                     reason: str) -> TicketOut:
        return await self._change(principal, ticket_id,
                                  lambda t, a: t.assign(a, unit=unit, assignee=assignee, reason=reason))

    async def add_follow_up(self, principal: Principal, ticket_id: str, *, reached: bool, outcome: str,
                            note: str | None) -> TicketOut:
        def apply(ticket: Ticket, actor: Actor) -> AuditEntry:
            entry = ticket.record_follow_up(actor, reached=reached, outcome=outcome, note=note)
            self.tickets.add_follow_up(FollowUp(
                ticket_id=ticket.id, at=entry.at, reached=reached, outcome=outcome.strip(),
                note=(note or "").strip() or None, actor_id=actor.id, actor_name=actor.name, audit_seq=entry.seq))
            return entry

        return await self._change(principal, ticket_id, apply)

    async def escalations(self, principal: Principal, ticket_id: str) -> list[EscalationOut]:
        await self._visible(principal, ticket_id)
        return [EscalationOut(clock=e.clock, round=e.round, level=e.level, due_at=e.due_at,
                              escalated_at=e.escalated_at, audit_seq=e.audit_seq)
                for e in await self.tickets.escalations(ticket_id)]

    async def follow_ups(self, principal: Principal, ticket_id: str) -> list[FollowUpOut]:
        await self._visible(principal, ticket_id)
        return [follow_up_out(f) for f in await self.tickets.follow_ups(ticket_id)]

    # --- joint handling -------------------------------------------------------------------------------------

    async def request_assistance(self, principal: Principal, ticket_id: str, department: str, reason: str
                                 ) -> TicketOut:
        """The lead asks for another department: audited on the lead ticket; the router (owner of routing) adds
        the department and dispatches it through ``dept.<code>``, as for any dispatch."""
        if self.departments is not None and department not in self.departments:
            raise InvalidInput(f"{department} is not a department in the registry.",
                               errors=[{"field": "department", "message": "unknown department"}])

        def apply(ticket: Ticket, actor: Actor) -> AuditEntry:
            entry = ticket.request_assistance(actor, department, reason)
            outbox.add(self.session, TicketAssistanceRequested(
                source=SOURCE, subject=ticket.report_id, time=entry.at, data=TicketAssistanceRequestedV1(
                    ticket_id=ticket.id, report_id=ticket.report_id, lead_department=ticket.department,
                    department=department, reason=entry.reason or reason, actor=actor.to_event(),
                    requested_at=entry.at)), TICKETS_EVENTS)
            return entry

        return await self._change(principal, ticket_id, apply, check=self._not_joined(department))

    def _not_joined(self, department: str) -> Callable[[Ticket], Any]:
        async def check(ticket: Ticket) -> None:
            tickets = await self.tickets.report_tickets(ticket.report_id)
            if department in {r.department for r in tickets if r.state not in ("transferred", "cancelled")}:
                raise Conflict(f"{department} already handles this report.", department=department)
            if department in {r.department for r in tickets if r.state == "transferred"}:
                # the router never sends a report back to a department that refused it: asking would do nothing
                raise Conflict(f"{department} refused this report (transferred it); it cannot be asked to assist.",
                               department=department)
        return check

    async def request_release(self, principal: Principal, ticket_id: str, reason: str) -> TicketOut:
        """An assisting department asks to be released: audited on its ticket and announced, so the lead's
        ticket shows the request (``joint[].release_requested``) until the lead decides."""
        def apply(ticket: Ticket, actor: Actor) -> AuditEntry:
            entry = ticket.request_release(actor, reason)
            outbox.add(self.session, TicketReleaseRequested(
                source=SOURCE, subject=ticket.report_id, time=entry.at, data=TicketReleaseRequestedV1(
                    ticket_id=ticket.id, report_id=ticket.report_id, department=ticket.department,
                    lead_department=ticket.lead_department, reason=entry.reason or reason, actor=actor.to_event(),
                    requested_at=entry.at)), TICKETS_EVENTS)
            return entry

        out = await self._change(principal, ticket_id, apply)
        await self.tickets.project_release_request(out.report_id, out.department, out.release_requested)
        return out

    async def approve_release(self, principal: Principal, ticket_id: str, department: str, reason: str
                              ) -> TicketOut:
        """The lead releases an assisting department that asked for it: audited on the lead ticket; the assisting
        department's instance cancels its ticket with the reason (``ticket.release_approved.v1`` on its topic)."""
        async def check(ticket: Ticket) -> None:
            rows = {r.department: r for r in await self.tickets.report_tickets(ticket.report_id)}
            row = rows.get(department)
            if row is None or row.role != "assisting" or row.state in FINAL_STATES:
                raise Conflict(f"{department} is not assisting with this report.", department=department)
            if not row.release_requested:
                raise Conflict(f"{department} has not asked to be released.", department=department)

        def apply(ticket: Ticket, actor: Actor) -> AuditEntry:
            entry = ticket.release(actor, department, reason)
            outbox.add(self.session, TicketReleaseApproved(
                source=SOURCE, subject=ticket.report_id, time=entry.at, data=TicketReleaseApprovedV1(
                    report_id=ticket.report_id, department=department, lead_ticket_id=ticket.id,
                    lead_department=ticket.department, reason=entry.reason or reason, actor=actor.to_event(),
                    approved_at=entry.at)), department_topic(department))
            return entry

        return await self._change(principal, ticket_id, apply, check=check)

    async def apply_release(self, event: TicketReleaseApproved) -> None:
        """Consumed on the assisting department's topic: cancel its ticket with the lead's reason."""
        data = event.data
        ticket = await self.tickets.find_for_update(data.report_id, data.department)
        if ticket is None or ticket.status in FINAL_STATES:
            return
        with report_context(ticket.report_id):
            actor = Actor(data.actor.id, data.actor.name, data.actor.role, data.actor.department)
            ticket.cancel(actor, f"released by the lead ({data.lead_department}): {data.reason}")
            await self._record(ticket)

    async def project(self, event: TicketStatusChanged) -> None:
        """Any department's ticket event (``tickets.events``) updates the joint-handling projection."""
        d = event.data
        await self.tickets.project(report_id=d.report_id, department=d.department, ticket_id=d.ticket_id,
                                   role=d.role, state=d.to_state, sequence=d.sequence, at=d.at)

    async def project_release_request(self, event: TicketReleaseRequested) -> None:
        await self.tickets.project_release_request(event.data.report_id, event.data.department, event.data.reason)

    # --- citizen feedback (回访) ----------------------------------------------------------------------------

    async def apply_feedback(self, event: ReportFeedbackReceived) -> None:
        """Intake recorded the caller's satisfaction. Dissatisfied with ``reopen``: the lead ticket reopens with the
        comment (actor: the call centre, from the event). A lead ticket not resolved or closed cannot reopen: the
        comment is recorded as a note saying so. Other feedback is recorded as a note. Another instance's
        department (no lead ticket here): nothing to do. A linked report (another caller's report of an incident)
        has no tickets: its call-back goes to the incident's lead ticket (``incident_id``, events 1.1 on)."""
        data = event.data
        ticket = await self.tickets.lead_ticket_for_update(data.incident_id or data.report_id, data.lead_department)
        if ticket is None:
            return
        with report_context(ticket.report_id):
            actor = Actor(data.actor.id, data.actor.name, data.actor.role, data.actor.department)
            caller = f" from linked report {data.report_id} (another caller)" if data.incident_id else ""
            said = f"citizen feedback {data.feedback_id}{caller}: {data.satisfaction}" + (
                f"; comment: {data.comment}" if data.comment else "")
            if data.reopen and data.satisfaction == "dissatisfied":
                if ticket.status in ("resolved", "closed"):
                    ticket.reopen(actor, said, at=None)
                else:
                    ticket.add_note(actor, f"{said} (not reopened: the ticket is {ticket.status}, still being "
                                           "worked)")
            elif ticket.status not in ("transferred", "cancelled"):
                ticket.add_note(actor, said)
            await self._record(ticket)
            log.info("citizen feedback applied", extra={"ticket_id": ticket.id, "satisfaction": data.satisfaction,
                                                        "status": ticket.status})

    # --- escalation -----------------------------------------------------------------------------------------

    async def escalate_due(self, *, limit: int = 200) -> int:
        """Escalate every missed clock that is due: per escalation, in this one transaction, an audit entry
        (actor ``system:sla``), a ``ticket_escalations`` row (unique per ticket, clock, round and level) and a
        ``ticket.escalated.v1`` in the outbox. Returns how many escalations were made."""
        now = utcnow()
        made = 0
        for ticket in await self.tickets.due_for_escalation(now, limit=limit):
            due = ticket.due_escalations(now)
            if not due:
                ticket.reschedule_escalation()  # stale schedule (e.g. clocks met meanwhile): move it on
                continue
            with report_context(ticket.report_id):
                for escalation in due:
                    entry = ticket.escalate(escalation, SYSTEM_SLA, at=now)
                    self.tickets.add_escalation(TicketEscalation(
                        ticket_id=ticket.id, clock=escalation.clock, round=ticket.escalation_round,
                        level=escalation.level, due_at=escalation.due_at, escalated_at=now, audit_seq=entry.seq))
                    outbox.add(self.session, TicketEscalated(
                        source=SOURCE, subject=ticket.report_id, time=now, data=TicketEscalatedV1(
                            ticket_id=ticket.id, report_id=ticket.report_id, department=ticket.department,
                            priority=ticket.priority, clock=escalation.clock,  # type: ignore[arg-type]
                            level=escalation.level, due_at=escalation.due_at, escalated_at=now,
                            state=ticket.status)), TICKETS_ESCALATIONS)  # type: ignore[arg-type]
                    made += 1
                    log.warning("ticket escalated", extra={
                        "ticket_id": ticket.id, "department": ticket.department, "clock": escalation.clock,
                        "level": escalation.level, "due_at": escalation.due_at.isoformat()})
                await self._record(ticket)
        return made

    # --- the write path -------------------------------------------------------------------------------------

    async def _change(self, principal: Principal, ticket_id: str,
                      apply: Callable[[Ticket, Actor], AuditEntry],
                      check: Callable[[Ticket], Any] | None = None) -> TicketOut:
        ticket = await self._visible(principal, ticket_id, for_update=True)
        with report_context(ticket.report_id):
            if check is not None:
                await check(ticket)
            entry = apply(ticket, Actor.of(principal))
            await self._record(ticket)
            log.info("ticket changed", extra={"ticket_id": ticket.id, "department": ticket.department,
                                              "action": entry.action, "from_state": entry.from_state,
                                              "to_state": entry.to_state, "seq": entry.seq,
                                              "actor": principal.id})
        return await self._full(ticket)

    async def _record(self, ticket: Ticket, *, flush: bool = True) -> None:
        """Insert the ticket's new audit entries and, for each state change, its event in the outbox (and the
        joint-handling projection, so this instance's own tickets are current without waiting for the broker);
        ``flush=False`` leaves the rows to the commit."""
        entries = ticket.take_new_audit()
        self.tickets.append_audit(entries)
        for entry in entries:
            if is_announced(entry):
                outbox.add(self.session, status_changed(ticket, entry), TICKETS_EVENTS)
                ticket.announced(entry.seq, entry.at, self.redelivery_after_s)
                await self.tickets.project(report_id=ticket.report_id, department=ticket.department,
                                           ticket_id=ticket.id, role=ticket.role, state=entry.to_state,
                                           sequence=entry.seq, at=entry.at)
        if flush:
            await self.session.flush()

    async def _visible(self, principal: Principal, ticket_id: str, *, for_update: bool = False) -> Ticket:
        """The ticket if this principal may see it. Another department's ticket is "not found", exactly like a
        missing one, so its existence is not revealed."""
        ticket = await (self.tickets.get_for_update(ticket_id) if for_update else self.tickets.get(ticket_id))
        if ticket is None or not principal.can_see_department(ticket.department):
            raise NotFound(f"No ticket {ticket_id}.")
        return ticket


def is_announced(entry: AuditEntry | TicketAuditEntry) -> bool:
    """Creation, every move of the state, and a re-routing (new role or priority); not the other entries that keep
    the state (notes, assignments, escalations …). ``TicketRepository.last_announced`` selects the same."""
    return entry.from_state is None or entry.from_state != entry.to_state or entry.action in ANNOUNCED_RECORDS


def status_changed(ticket: Ticket, entry: AuditEntry | TicketAuditEntry) -> TicketStatusChanged:
    """The ``ticket.status_changed.v1`` event announcing one audit entry (``sequence`` = the entry's ``seq``)."""
    return TicketStatusChanged(
        id=str(uuid.uuid4()), source=SOURCE, subject=ticket.report_id, time=entry.at,
        data=TicketStatusChangedV1(
            ticket_id=ticket.id, report_id=ticket.report_id, department=ticket.department,
            role=ticket.role,  # type: ignore[arg-type]
            sequence=entry.seq, action=entry.action, from_state=entry.from_state,  # type: ignore[arg-type]
            to_state=entry.to_state,  # type: ignore[arg-type]
            actor=Actor(entry.actor_id, entry.actor_name, entry.actor_role, entry.actor_department).to_event(),
            reason=entry.reason, resolution=entry.resolution, at=entry.at,
            priority=ticket.priority, clocks=ticket.clocks(),  # type: ignore[arg-type]
            outcome=ticket.outcome if ticket.status in ("resolved", "closed") else None))


def to_out(ticket: Ticket, *, now: Any = None, joint: list[ReportTicket] | None = None,
           follow_ups: list[FollowUp] | None = None) -> TicketOut:
    view = _ticket_view(ticket)
    clocks = ticket.clocks()
    view.update({
        "clocks": clocks.model_dump() if clocks else None,
        "overdue": ticket.overdue(now or utcnow()),
        "escalation": {"level": ticket.escalation_level or 0, "round": ticket.escalation_round or 0,
                       "clocks": dict(ticket.escalated or {}), "next_at": ticket.next_escalation_at},
        "assignment": ({"unit": ticket.assigned_unit, "assignee": ticket.assignee}
                       if ticket.assigned_unit or ticket.assignee else None),
        "outcome": ticket.outcome, "outcomes": list(outcomes_for(ticket.department)),
        "release_requested": ticket.release_requested_reason,
        "joint": None if joint is None else [
            {"ticket_id": r.ticket_id, "department": r.department, "role": r.role, "status": r.state,
             "release_requested": r.release_requested if r.state not in FINAL_STATES else None}
            for r in joint],
        "follow_ups": None if follow_ups is None else [follow_up_out(f) for f in follow_ups],
    })
    if joint is not None:
        states = [r.state for r in joint if r.state not in ("transferred", "cancelled")]
        if ticket.status not in ("transferred", "cancelled"):
            states.append(ticket.status)
        view["report_resolved"] = bool(states) and all(s in ("resolved", "closed") for s in states)
    return TicketOut.model_validate(view)


def follow_up_out(f: FollowUp) -> FollowUpOut:
    return FollowUpOut(at=f.at, reached=f.reached, outcome=f.outcome, note=f.note,
                       actor={"id": f.actor_id, "name": f.actor_name}, audit_seq=f.audit_seq)


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

