"""A department's ticket for one report, and its append-only audit trail.

The :class:`Ticket` entity enforces the lifecycle (:mod:`departments.tickets.domain`): every action either moves it
by the transition table and seals the next audit entry (:mod:`departments.tickets.audit`), or raises
:class:`~departments.tickets.domain.IllegalTransition`. The ticket row keeps the chain's head (``audit_seq``,
``audit_head``), so appending needs no read of the trail and a trail cut short is detectable.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from departments.db import Base
from departments.tickets.audit import GENESIS_HASH, AuditEntry
from departments.tickets.clocks import (
    CENTRE_POLICY, CLOCKS, RUNNING_IN, Clock, DueEscalation, SlaPolicy, clock_origin, on_time, pending_escalations,
)
from departments.tickets.domain import CREATED, Action, Actor, RecordAction, check_record, next_state
from shared.db import UTCDateTime, utcnow
from shared.messaging.redelivery import next_attempt
from shared.events import TicketClocks, TicketDispatchedV1, TicketState
from shared.problems import Conflict, Forbidden, InvalidInput


_DUE_COLUMN: dict[Clock, str] = {"acknowledge": "acknowledge_due_at", "start": "start_due_at",
                                  "resolve": "resolve_due_at"}


class NotAllowedForRole(Forbidden):
    """The action belongs to the other role in the joint handling (lead vs assisting)."""

    slug = "not-allowed-for-role"
    title = "Not allowed for this ticket's role"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("report_id", "department", name="uq_tickets_report_id_department"),
        Index("ix_tickets_department_created_at_id", "department", "created_at", "id"),
        Index("ix_tickets_created_at_id", "created_at", "id"),
        Index("ix_tickets_department_escalation_level", "department", "escalation_level"),
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

    # service-level clocks (null on tickets created before clocks existed; see clocks.py for origin and reopen)
    acknowledge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    start_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledge_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    start_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    resolve_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    resolve_target_s: Mapped[float | None] = mapped_column(Float, nullable=True, doc="Scaled resolve target")
    level2_after_s: Mapped[float | None] = mapped_column(Float, nullable=True, doc="Scaled level-2 delay")
    # escalation: the current round (reopen starts a new one), the levels reached per clock in it, the highest level
    # ever reached, and when the next escalation is due (the scheduler's index)
    escalation_round: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    # assignment inside the department, and the resolution's outcome code
    assigned_unit: Mapped[str | None] = mapped_column(String(100), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # joint handling: an assisting department's pending request to be released
    release_requested_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    audit: Mapped[list[TicketAuditEntry]] = relationship(
        back_populates="ticket", lazy="raise", order_by="TicketAuditEntry.seq", viewonly=True)

    # --- creation -----------------------------------------------------------------------------------------

    @classmethod
    def from_dispatch(cls, data: TicketDispatchedV1, actor: Actor, *, at: datetime | None = None,
                      sla: SlaPolicy = CENTRE_POLICY) -> Ticket:
        """A new ticket for the dispatched (report, department), with its clocks set from its priority and its
        ``created`` audit entry pending."""
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
        origin = clock_origin(received_at=data.received_at, dispatched_at=data.dispatched_at, attempt=data.attempt)
        due = sla.due_times(data.priority, origin)
        ticket.acknowledge_due_at, ticket.start_due_at, ticket.resolve_due_at = (
            due["acknowledge"], due["start"], due["resolve"])
        ticket.resolve_target_s = sla.target(data.priority, "resolve").total_seconds()
        ticket.level2_after_s = sla.level2_after.total_seconds()
        ticket.escalation_round, ticket.escalated, ticket.escalation_level = 0, {}, 0
        ticket.reschedule_escalation()
        ticket._record(CREATED, None, "new", actor, at)
        return ticket

    def follow_routing(self, data: TicketDispatchedV1, actor: Actor, *, sla: SlaPolicy = CENTRE_POLICY,
                       at: datetime | None = None) -> AuditEntry | None:
        """A later routing attempt for this ticket's report (a centre operator routed it from triage, a transfer
        re-routed it, the lead added a department): take its role, lead, departments and priority, so that a report
        has one lead. A changed priority re-times the clocks whose step is still to be done, from this attempt's
        dispatch, and begins a new escalation round for them. Returns the ``reroute`` audit entry, or ``None`` for
        an attempt already taken (or older) or one that changes nothing for this ticket."""
        if data.attempt <= self.attempt:
            return None
        self.attempt = data.attempt
        changes = [f"{name} {old} → {new}" for name, old, new in (
            ("role", self.role, data.role), ("lead", self.lead_department, data.lead_department),
            ("priority", self.priority, data.priority)) if old != new]
        if list(self.departments) != list(data.departments):
            changes.append(f"departments {', '.join(data.departments)}")
        if not changes or self.status in ("transferred", "cancelled"):
            return None
        retime = data.priority != self.priority
        self.role, self.lead_department, self.departments = data.role, data.lead_department, list(data.departments)
        self.priority, self.police = data.priority, data.police
        entry = self._note("reroute", actor, at, reason=f"routing attempt {data.attempt}: " + "; ".join(changes))
        if retime and self.acknowledge_due_at is not None:
            due = sla.due_times(data.priority, data.dispatched_at)
            unmet = [c for c in CLOCKS if self.met[c] is None]
            for clock in unmet:
                setattr(self, _DUE_COLUMN[clock], due[clock])
            self.resolve_target_s = sla.target(data.priority, "resolve").total_seconds()
            self.escalation_round += 1
            self.escalated = {k: v for k, v in (self.escalated or {}).items() if k not in unmet}
            self.reschedule_escalation()
        return entry

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
        entry = self._apply("acknowledge", actor, at)
        self._met("acknowledge", entry.at)
        return entry

    def start(self, actor: Actor, *, at: datetime | None = None) -> AuditEntry:
        entry = self._apply("start", actor, at)
        self._met("start", entry.at)
        return entry

    def add_note(self, actor: Actor, note: str, *, at: datetime | None = None) -> AuditEntry:
        return self._apply("note", actor, at, note=_required("note", note))

    def resolve(self, actor: Actor, resolution: str, *, outcome: str | None = None,
                at: datetime | None = None) -> AuditEntry:
        """``outcome`` is an optional code (checked by the service against the department's list) recorded in the
        entry's note as ``outcome: <code>`` and carried on ``ticket.status_changed.v1``."""
        entry = self._apply("resolve", actor, at, resolution=_required("resolution", resolution),
                            note=f"outcome: {outcome}" if outcome else None)
        self.resolution, self.outcome = entry.resolution, outcome
        self._met("resolve", entry.at)
        return entry

    def close(self, actor: Actor, reason: str | None = None, *, at: datetime | None = None) -> AuditEntry:
        return self._apply("close", actor, at, reason=(reason or "").strip() or None)

    def reopen(self, actor: Actor, reason: str, *, at: datetime | None = None) -> AuditEntry:
        entry = self._apply("reopen", actor, at, reason=_required("reason", reason))
        self.resolution = self.outcome = None
        # the resolve clock restarts with the full target, and a new escalation round begins
        if self.resolve_target_s is not None:
            self.resolve_due_at = entry.at + timedelta(seconds=self.resolve_target_s)
        self.resolved_at = self.resolve_on_time = None
        self.escalation_round += 1
        self.escalated = {k: v for k, v in (self.escalated or {}).items() if k != "resolve"}
        self.reschedule_escalation()
        return entry

    def transfer(self, actor: Actor, reason: str, *, at: datetime | None = None) -> AuditEntry:
        entry = self._apply("transfer", actor, at, reason=_required("reason", reason))
        self.reschedule_escalation()
        return entry

    def cancel(self, actor: Actor, reason: str, *, at: datetime | None = None) -> AuditEntry:
        entry = self._apply("cancel", actor, at, reason=_required("reason", reason))
        self.release_requested_reason = None
        self.reschedule_escalation()
        return entry

    # --- recorded actions that keep the state (the RECORDS table decides where they are allowed) --------------

    def assign(self, actor: Actor, *, unit: str | None, assignee: str | None, reason: str,
               at: datetime | None = None) -> AuditEntry:
        """Give the matter to a unit and/or a staff member of the department, with the reason."""
        unit, assignee = (unit or "").strip() or None, (assignee or "").strip() or None
        if unit is None and assignee is None:
            raise InvalidInput("Name a unit, an assignee or both.",
                               errors=[{"field": "unit", "message": "unit or assignee is required"}])
        reason = _required("reason", reason)
        self.assigned_unit, self.assignee = unit, assignee
        return self._note("assign", actor, at, reason=reason,
                          note="; ".join(f"{k}: {v}" for k, v in (("unit", unit), ("assignee", assignee)) if v))

    def record_follow_up(self, actor: Actor, *, reached: bool, outcome: str, note: str | None,
                         at: datetime | None = None) -> AuditEntry:
        """A follow-up call (回访) by the lead department and its outcome."""
        if self.role != "lead":
            raise NotAllowedForRole("Follow-up calls are recorded by the lead department, on its ticket.")
        outcome = _required("outcome", outcome)
        text = f"reached: {'yes' if reached else 'no'}; outcome: {outcome}" + (f"; {note.strip()}" if note and
                                                                                 note.strip() else "")
        return self._note("follow_up", actor, at, note=text)

    def request_assistance(self, actor: Actor, department: str, reason: str, *, at: datetime | None = None
                           ) -> AuditEntry:
        if self.role != "lead":
            raise NotAllowedForRole("Only the lead department's ticket can ask another department to assist.")
        if department in self.departments:
            raise Conflict(f"{department} already handles this report.", department=department)
        return self._note("request_assist", actor, at, reason=_required("reason", reason),
                          note=f"department: {department}")

    def request_release(self, actor: Actor, reason: str, *, at: datetime | None = None) -> AuditEntry:
        """An assisting department asks the lead to release it from the joint handling."""
        if self.role != "assisting":
            raise NotAllowedForRole("Only an assisting department can ask to be released; the lead transfers "
                                    "or resolves instead.")
        if self.release_requested_reason is not None:
            raise Conflict("A release was already requested for this ticket; the lead has not decided yet.")
        self.release_requested_reason = _required("reason", reason)
        return self._note("request_release", actor, at, reason=self.release_requested_reason)

    def release(self, actor: Actor, department: str, reason: str, *, at: datetime | None = None) -> AuditEntry:
        """The lead releases an assisting department from the joint handling (it asked to be released)."""
        if self.role != "lead":
            raise NotAllowedForRole("Only the lead department's ticket can release an assisting department.")
        return self._note("release", actor, at, reason=_required("reason", reason), note=f"department: {department}")

    def escalate(self, escalation: DueEscalation, actor: Actor, *, at: datetime | None = None) -> AuditEntry:
        """Record one missed clock's escalation (the scheduler found it due) and schedule the next one."""
        check_record(self.status, "escalate")
        done = dict(self.escalated or {})
        done[escalation.clock] = max(done.get(escalation.clock, 0), escalation.level)
        self.escalated = done
        self.escalation_level = max(self.escalation_level or 0, escalation.level)
        whom = "the department's supervisors" if escalation.level == 1 else "the linkage centre"
        entry = self._note("escalate", actor, at,
                           reason=f"{escalation.clock} was due at {escalation.due_at.isoformat()}: level "
                                  f"{escalation.level}, {whom}")
        self.reschedule_escalation()
        return entry

    # --- clocks ---------------------------------------------------------------------------------------------

    @property
    def due(self) -> dict[Clock, datetime | None]:
        return {"acknowledge": self.acknowledge_due_at, "start": self.start_due_at, "resolve": self.resolve_due_at}

    @property
    def met(self) -> dict[Clock, datetime | None]:
        return {"acknowledge": self.acknowledged_at, "start": self.started_at, "resolve": self.resolved_at}

    def pending_escalations(self) -> list[DueEscalation]:
        if self.acknowledge_due_at is None:
            return []
        return pending_escalations(status=self.status, due=self.due, met=self.met,  # type: ignore[arg-type]
                                   done=self.escalated or {}, level2_after=timedelta(seconds=self.level2_after_s or 0))

    def due_escalations(self, now: datetime) -> list[DueEscalation]:
        return [e for e in self.pending_escalations() if e.escalate_at <= now]

    def overdue(self, now: datetime) -> list[Clock]:
        """The clocks whose step is still to be done and past its due time."""
        due = self.due
        return [c for c in CLOCKS if self.status in RUNNING_IN[c] and self.met[c] is None
                and (d := due[c]) is not None and d <= now]

    def clocks(self) -> TicketClocks | None:
        if self.acknowledge_due_at is None or self.start_due_at is None or self.resolve_due_at is None:
            return None
        return TicketClocks(
            acknowledge_due_at=self.acknowledge_due_at, start_due_at=self.start_due_at,
            resolve_due_at=self.resolve_due_at, acknowledged_at=self.acknowledged_at, started_at=self.started_at,
            resolved_at=self.resolved_at, acknowledge_on_time=self.acknowledge_on_time,
            start_on_time=self.start_on_time, resolve_on_time=self.resolve_on_time)

    def _met(self, clock: Clock, at: datetime) -> None:
        """A step happened: record when and whether it was on time (the first time only, except resolve after a
        reopen, whose clock restarted)."""
        due = self.due[clock]
        if self.met[clock] is None:
            if clock == "acknowledge":
                self.acknowledged_at = at
                self.acknowledge_on_time = on_time(at, due) if due else None
            elif clock == "start":
                self.started_at = at
                self.start_on_time = on_time(at, due) if due else None
            else:
                self.resolved_at = at
                self.resolve_on_time = on_time(at, due) if due else None
        self.reschedule_escalation()

    def reschedule_escalation(self) -> None:
        """When the next escalation falls due (the scheduler's index), or ``None`` when every clock is met or stopped."""
        pending = self.pending_escalations()
        self.next_escalation_at = pending[0].escalate_at if pending else None

    def _note(self, action: RecordAction, actor: Actor, at: datetime | None, **texts: str | None) -> AuditEntry:
        """Record an action that keeps the state (``RECORDS`` says where it is allowed)."""
        check_record(self.status, action)
        at = at or utcnow()
        self.updated_at = at
        return self._record(action, self.status, self.status, actor, at, **texts)

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



class TicketEscalation(Base):
    """One escalation of one missed clock. The unique (ticket, clock, round, level) key is the last guard against
    escalating twice, whatever the number of schedulers (the ticket row lock is the first)."""

    __tablename__ = "ticket_escalations"
    __table_args__ = (UniqueConstraint("ticket_id", "clock", "round", "level", name="uq_ticket_escalations_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    clock: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audit_seq: Mapped[int] = mapped_column(Integer)


class FollowUp(Base):
    """A follow-up call (回访) the lead department made about its ticket."""

    __tablename__ = "ticket_follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reached: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    audit_seq: Mapped[int] = mapped_column(Integer)


class ReportTicket(Base):
    """Projection of every department's tickets (from ``tickets.events``, all departments), so a ticket can show
    its report's other tickets even when another instance serves those departments."""

    __tablename__ = "report_tickets"

    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    department: Mapped[str] = mapped_column(String(32), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(36))
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    release_requested: Mapped[str | None] = mapped_column(Text, nullable=True)
