"""The caller-facing report: what was filed, how it was routed, the state of its tickets and its timeline.

The report's status is derived from its tickets (one per department): it is ``resolved`` when all its active tickets
are resolved (or closed) and ``closed`` when all are closed. Transferred and cancelled tickets no longer count.
A dissatisfied call-back (:class:`Feedback`) makes a closed report ``reopened`` at once; when the lead department's
ticket reopens (its event arrives), the status follows the tickets again (``in_progress``).

Two routings make exceptions:

- ``triage``: the router was not sure where the report goes; it waits for centre staff (only police may have a
  ticket meanwhile) until an operator routes it;
- a **linked** report (another caller's report of an incident the centre already has, ``incident_id`` = the first
  report) has no tickets of its own: its status follows the incident's first report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.db import Base
from shared.events import TicketClocks
from shared.db import UTCDateTime, utcnow
from shared.messaging.models import BigIntPK
from shared.registry import POLICE_DEPARTMENT

ReportStatus = Literal["received", "triage", "routed", "acknowledged", "in_progress", "resolved", "closed",
                       "reopened"]
INACTIVE_TICKET_STATES = frozenset({"transferred", "cancelled"})


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_created_at_id", "created_at", "id"),)
    # created_at is when intake received the report: the statistics' time axis (ix_reports_created_at_id serves it)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    caller_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    caller_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    grid_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    external_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="received")
    police: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    priority: Mapped[str | None] = mapped_column(String(2), nullable=True)
    routing_attempt: Mapped[int] = mapped_column(Integer, default=0)
    announce_count: Mapped[int] = mapped_column(Integer, default=0)
    next_announce_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True, index=True, doc="When to announce the report again unless routed by then")
    in_triage: Mapped[bool] = mapped_column(Boolean, default=False, doc="Waiting for centre staff to route it")
    incident_id: Mapped[str | None] = mapped_column(
        String(36), nullable=True, index=True, doc="Linked report: the incident's first report, whose status it follows")
    linked_reports: Mapped[int] = mapped_column(Integer, default=0, doc="Other callers' reports linked to this one")
    filed_by: Mapped[str] = mapped_column(String(36))
    lead_department: Mapped[str | None] = mapped_column(String(32), nullable=True)
    joint: Mapped[bool | None] = mapped_column(Boolean, nullable=True, doc="Routed to more than one department")
    resolved_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True, doc="When the report first became resolved or closed")
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reopen_pending: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0", doc="Dissatisfied call-back; the lead ticket has not reopened yet")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    departments: Mapped[list[ReportDepartment]] = relationship(
        back_populates="report", lazy="raise", order_by="ReportDepartment.position", cascade="all, delete-orphan")
    tickets: Mapped[list[ReportTicket]] = relationship(
        back_populates="report", lazy="raise", order_by="ReportTicket.created_at", cascade="all, delete-orphan")
    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="report", lazy="raise", order_by="[TimelineEntry.at, TimelineEntry.id]",
        cascade="all, delete-orphan")
    feedback: Mapped[list[Feedback]] = relationship(
        lazy="raise", order_by="[Feedback.received_at, Feedback.id]", cascade="all, delete-orphan",
        passive_deletes=True)

    # --- domain behaviour -------------------------------------------------------------------------------------

    def record(self, kind: str, at: datetime, detail: str, department: str | None = None) -> TimelineEntry:
        """A new timeline entry for this report (appended by the repository, not loaded with the report)."""
        entry = TimelineEntry(report_id=self.id, kind=kind, at=at, detail=detail, department=department)
        self._pending.append(entry)
        return entry

    @property
    def _pending(self) -> list[TimelineEntry]:
        if "_pending_timeline" not in self.__dict__:
            self.__dict__["_pending_timeline"] = []
        return self.__dict__["_pending_timeline"]

    def take_new_timeline(self) -> list[TimelineEntry]:
        entries, self.__dict__["_pending_timeline"] = self._pending, []
        return entries

    def apply_routing(self, *, attempt: int, police: bool, departments: list[str], lead: str, priority: str,
                      dispatched: list[str], excluded: list[str], at: datetime, needs_review: bool = False,
                      incident_id: str | None = None, trigger: str | None = None) -> bool:
        """Take the router's decision; a stale or repeated attempt changes nothing (returns False). A decision that
        needs review puts the report in triage; a linked report takes its incident (the caller then follows the
        incident's status, :meth:`follow_incident`)."""
        if attempt <= self.routing_attempt:
            return False
        self.routing_attempt = attempt
        self.next_announce_at = None  # confirmed: the router has it
        self.police, self.priority = police, priority
        self.lead_department, self.joint = lead, len(departments) > 1
        assisting = [c for c in departments if c != lead]
        if needs_review:
            # only what was dispatched has the report; the rest is the classifier's suggestion
            on_it = [d.department for d in self.departments if d.department not in excluded]
            departments = list(dict.fromkeys([*on_it, *dispatched]))
            self.departments = [ReportDepartment(department=code, role="assisting", position=i)
                                for i, code in enumerate(departments)]
            self.in_triage = True
            # a possible police matter reaches police while it waits: police has it, so it is not diverted from
            # police (departments.md: a police matter is one with police among its departments)
            self.police = police or POLICE_DEPARTMENT in departments
            self.joint = len(departments) > 1
            if self.incident_id is not None:
                self.record("unlinked", at, f"unlinked from incident {self.incident_id} by centre staff")
                self.incident_id = None
            detail = (f"awaiting triage by centre staff (suggested: lead {lead}"
                      + (f", assisting {', '.join(assisting)}" if assisting else "") + f", priority {priority})")
            if excluded:
                detail += f"; refused by {', '.join(excluded)}"
            self.record("triage", at, detail)
        else:
            self.in_triage = False
            self.departments = [ReportDepartment(department=code, role="lead" if code == lead else "assisting",
                                                 position=i) for i, code in enumerate(departments)]
            detail = (f"{'police matter' if police else 'non-police matter'}; lead {lead}"
                      + (f"; assisting {', '.join(assisting)}" if assisting else "") + f"; priority {priority}")
            if incident_id is not None:
                self.incident_id = incident_id
                self.record("linked", at, f"linked to incident {incident_id}: another caller reported it first; "
                                          f"{detail}")
            else:
                if self.incident_id is not None:  # a centre operator unlinked it: it is routed on its own now
                    self.record("unlinked", at, f"unlinked from incident {self.incident_id} by centre staff")
                    self.incident_id = None
                if trigger == "triage":
                    detail += "; routed by centre staff from triage"
                elif trigger == "unlinked":
                    detail += "; routed on its own"
                elif trigger == "assistance":
                    detail += "; assisting department added at the lead department's request"
                elif trigger == "escalated":  # a linked caller's report added urgency or departments
                    detail += "; escalated by another caller's report"
                elif attempt > 1:
                    detail += f"; re-routed without {', '.join(excluded)}" if excluded else "; re-routed"
                self.record("routed" if attempt == 1 else "rerouted", at, detail)
        for code in dispatched:
            self.record("dispatched", at, f"dispatched to {code}", department=code)
        if self.incident_id is None:
            self._recompute_status(at)
        return True

    def follow_incident(self, incident: Report, at: datetime, detail: str | None = None) -> bool:
        """A linked report takes the status of its incident's first report; ``detail`` (what happened to the
        incident) goes into this report's timeline. True when the status changed. After a dissatisfied call-back on
        this report it stays ``reopened`` while the incident is still closed (its lead ticket has not reopened yet)."""
        before = self.status
        if self.reopen_pending and incident.status != "closed":
            self.reopen_pending = False  # the incident moved on: its lead ticket reopened after the call-back
        self.status = "reopened" if self.reopen_pending else (
            incident.status if incident.status != "received" else "routed")
        self.updated_at = at
        if detail:
            self.record("incident", at, f"incident {incident.id}: {detail}")
        if self.status != before and self.status in ("resolved", "closed"):
            self.record(f"report_{self.status}", at, f"report {self.status} with its incident {incident.id}")
        return self.status != before

    def follow_incident_routing(self, incident: Report) -> None:
        """A linked report takes its incident's routing as intake knows it: police, priority, lead and the
        departments with their roles (in triage: the departments that have it). The router linked it with the
        incident's routing; each later routing of the incident (a transfer, triage, an operator's choice) reaches
        it here. Its own ``routing_attempt`` stays: that counts the router's decisions about this report."""
        self.police, self.priority = incident.police, incident.priority
        self.lead_department, self.joint = incident.lead_department, incident.joint
        self.departments = [ReportDepartment(department=d.department, role=d.role, position=d.position)
                            for d in incident.departments]

    def last_routing_detail(self) -> str | None:
        """The detail of the routing entry recorded in this transaction (for linked reports' timelines)."""
        pending = [e for e in self._pending if e.kind in ("routed", "rerouted", "triage")]
        return pending[-1].detail if pending else None

    def apply_ticket_change(self, *, ticket_id: str, department: str, role: str, sequence: int, action: str,
                            to_state: str, reason: str | None, at: datetime, priority: str | None = None,
                            clocks: TicketClocks | None = None, outcome: str | None = None) -> bool:
        """Follow one ticket's state (and, from events 1.1 on, its priority, clocks and outcome); an older change
        than the one already known is ignored."""
        ticket = next((t for t in self.tickets if t.id == ticket_id), None)
        if ticket is None:
            ticket = ReportTicket(id=ticket_id, department=department, role=role, status=to_state, sequence=0,
                                  created_at=at, report_received_at=self.created_at, reopen_count=0)
            self.tickets.append(ticket)
        if sequence <= ticket.sequence:
            return False
        ticket.sequence, ticket.status, ticket.role, ticket.updated_at = sequence, to_state, role, at
        ticket.follow(priority=priority or ticket.priority or self.priority, clocks=clocks, outcome=outcome)
        answered = False
        if self.reopen_pending and (role == "lead" or department == self.lead_department) and to_state != "closed":
            self.reopen_pending, answered = False, True  # the lead department reopened it after the call-back
        if action == "reopen":
            ticket.reopen_count = (ticket.reopen_count or 0) + 1
            if not answered:  # a reopen the call-back did not ask for (that one is counted already)
                self.reopen_count = (self.reopen_count or 0) + 1
        past = {"created": "ticket created", "acknowledge": "acknowledged", "start": "handling started",
                "resolve": "resolved", "close": "closed", "reopen": "reopened", "transfer": "transferred back",
                "cancel": "cancelled"}.get(action, action)
        detail = (f"{department}'s ticket re-routed" if action == "reroute" else f"{past} by {department}") + (
            f": {reason}" if reason else "")
        self.record(f"ticket_{action}", at, detail, department=department)
        self._recompute_status(at)
        return True

    def receive_feedback(self, *, feedback_id: str, satisfaction: str, comment: str | None, actor_id: str,
                         actor_name: str, actor_role: str, at: datetime, incident_lead: str | None = None
                         ) -> Feedback:
        """The caller's call-back (回访) on a closed report. Dissatisfied reopens the report at once (the lead
        department's ticket reopens when its department consumes the feedback event). A linked report has no
        ticket of its own: the call-back goes to its incident's lead department (``incident_lead``, the incident's
        current lead), whose ticket reopens; this report then follows the incident again. The reopen counts once:
        on this report, or for a linked report on the incident, when its lead ticket's reopen arrives (the incident
        is not locked here: the consumer locks an incident before its linked reports)."""
        if self.status != "closed":
            raise ReportNotClosed(self.status)
        reopen = satisfaction == "dissatisfied"
        lead = incident_lead if self.incident_id is not None and incident_lead else self.lead_department
        feedback = Feedback(id=feedback_id, report_id=self.id, satisfaction=satisfaction, comment=comment,
                            reopen=reopen, lead_department=lead, actor_id=actor_id,
                            actor_name=actor_name, actor_role=actor_role, received_at=at,
                            report_received_at=self.created_at)
        label = satisfaction.replace("_", " ")
        self.record("feedback", at, f"feedback: {label}" + (f" — {comment}" if comment else "")
                    + f" (by {actor_name})")
        if reopen:
            self.reopen_pending = True
            if self.incident_id is None:  # a linked report's reopen happens on its incident, which counts it
                self.reopen_count = (self.reopen_count or 0) + 1
            self._recompute_status(at)
            ticket = f"incident {self.incident_id}'s ticket" if self.incident_id is not None else "its ticket"
            self.record("report_reopened", at, f"report reopened: the caller is dissatisfied; lead "
                        f"{lead or 'department'} asked to reopen {ticket}", department=lead)
        return feedback

    def last_ticket_detail(self) -> str | None:
        """The detail of the newest ticket entry recorded in this transaction (for linked reports' timelines)."""
        pending = [e for e in self._pending if e.kind.startswith("ticket_")]
        return pending[-1].detail if pending else None

    def _recompute_status(self, at: datetime) -> None:
        before = self.status
        self.status = self.derived_status()
        self.updated_at = at
        if self.status != before and self.status in ("resolved", "closed"):
            if self.resolved_at is None:
                self.resolved_at = at
            self.record(f"report_{self.status}", at, f"report {self.status}: every department has {self.status} it")

    def derived_status(self) -> ReportStatus:
        if self.in_triage:
            return "triage"
        if self.reopen_pending:
            return "reopened"
        active = [t.status for t in self.tickets if t.status not in INACTIVE_TICKET_STATES]
        if not active:
            return "routed" if self.routing_attempt > 0 else "received"
        if all(s == "closed" for s in active):
            return "closed"
        if all(s in ("resolved", "closed") for s in active):
            return "resolved"
        if any(s in ("in_progress", "resolved", "closed", "reopened") for s in active):
            return "in_progress"
        if any(s == "acknowledged" for s in active):
            return "acknowledged"
        return "routed"


class ReportNotClosed(Exception):
    """Feedback is taken only on a closed report."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class ReportDepartment(Base):
    """The departments a report was routed to (lead first), for display and for filtering by department."""

    __tablename__ = "report_departments"

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    department: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)

    report: Mapped[Report] = relationship(back_populates="departments", lazy="raise")


class ReportTicket(Base):
    """Intake's projection of one department's ticket: its state, and what the statistics need (priority,
    service-level clocks, outcome, the report's received time for the time-range filter)."""

    __tablename__ = "report_tickets"
    __table_args__ = (Index("ix_report_tickets_received_department", "report_received_at", "department"),
                      Index("ix_report_tickets_department_received", "department", "report_received_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    report_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    priority: Mapped[str | None] = mapped_column(String(2), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    acknowledge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    start_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledge_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    start_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    resolve_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    acknowledge_s: Mapped[float | None] = mapped_column(
        Float, nullable=True, doc="Seconds from the ticket's creation to its acknowledgement")
    resolve_s: Mapped[float | None] = mapped_column(
        Float, nullable=True, doc="Seconds from the ticket's creation to its (latest) resolution")

    report: Mapped[Report] = relationship(back_populates="tickets", lazy="raise")

    def follow(self, *, priority: str | None, clocks: TicketClocks | None, outcome: str | None) -> None:
        """Take the priority, clocks and outcome a ticket event carries (events before 1.1 carry none)."""
        self.priority = priority
        if outcome is not None:
            self.outcome = outcome
        if clocks is None:
            return
        for name in ("acknowledge_due_at", "start_due_at", "resolve_due_at", "acknowledged_at", "started_at",
                     "resolved_at", "acknowledge_on_time", "start_on_time", "resolve_on_time"):
            setattr(self, name, getattr(clocks, name))
        self.acknowledge_s = _seconds(self.created_at, clocks.acknowledged_at)
        self.resolve_s = _seconds(self.created_at, clocks.resolved_at)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else max(0.0, (end - start).total_seconds())


class Feedback(Base):
    """One call-back to the caller after the report was closed (回访). Every call-back is its own record."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_received_lead", "report_received_at", "lead_department"),
                      Index("ix_feedback_lead_received", "lead_department", "report_received_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    satisfaction: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    reopen: Mapped[bool] = mapped_column(Boolean)
    lead_department: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actor_id: Mapped[str] = mapped_column(String(36))
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    report_received_at: Mapped[datetime] = mapped_column(UTCDateTime, doc="The report's received time (stats)")


class TimelineEntry(Base):
    __tablename__ = "report_timeline"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[str] = mapped_column(Text)

    report: Mapped[Report] = relationship(back_populates="timeline", lazy="raise")


class IdempotencyRecord(Base):
    """A completed ``POST /v1/reports`` under an ``Idempotency-Key``, per principal: replayed, never redone."""

    __tablename__ = "idempotency_keys"

    principal_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
