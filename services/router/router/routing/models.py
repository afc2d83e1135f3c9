"""A report's routing: the current decision, every attempt behind it, and which departments got a dispatch.

Each report is routed once when it arrives and again whenever a department hands its ticket back as not its
matter (a transfer): the new attempt excludes every department that refused, keeps the departments still working
on it, and dispatches only to departments that never had a ticket for the report.

A routing is in one of three states:

- ``routed``: dispatched to its departments (the usual case);
- ``triage``: the classifier was not sure enough (or every candidate refused it); it waits for a centre operator to
  choose its departments. Only the decision's ``dispatch_while_review`` departments (police when it may be a police
  matter; the lead and assisting ones too when only the police question is open) were dispatched meanwhile;
- ``linked``: another caller's report of the same incident: it was linked to that first report's incident
  (``incident_id``) and dispatched nowhere; the departments' tickets count its caller (``callers`` on the first
  report's routing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from router.db import Base
from shared.db import UTCDateTime


@dataclass(frozen=True)
class Plan:
    """What one routing attempt decided to do."""

    attempt: int
    lead: str
    departments: list[str]  # lead first
    dispatch: list[str]     # departments to send a new ticket to


RoutingState = Literal["routed", "triage", "linked"]
ROUTED, TRIAGE, LINKED = "routed", "triage", "linked"
DONE_TICKET_STATES = frozenset({"resolved", "closed"})
GONE_TICKET_STATES = frozenset({"transferred", "cancelled"})


class Routing(Base):
    __tablename__ = "routings"
    __table_args__ = (
        # the triage queue: only the reports waiting in it (a partial index; the queue's query names the state as a
        # literal so that every planner can use it), so no other query mistakes it for an index on every state
        Index("ix_routings_triage_queue", "triage_since", "report_id", sqlite_where=text("state = 'triage'"),
              postgresql_where=text("state = 'triage'")),
        # duplicate candidates: same place (cell, grid cell or address), same lead, recent first — an index seek per
        # place, however many reports the window holds
        Index("ix_routings_cell_lead_received_at", "cell", "lead", "received_at"),
        Index("ix_routings_grid_lead_received_at", "grid_id", "lead", "received_at"),
        Index("ix_routings_address_lead_received_at", "address_key", "lead", "received_at"),
    )

    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    location: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(Integer)
    police: Mapped[bool] = mapped_column(Boolean)
    lead: Mapped[str] = mapped_column(String(32), index=True)
    departments: Mapped[list[str]] = mapped_column(JSON)
    dispatched: Mapped[list[str]] = mapped_column(JSON, doc="Every department that ever got a ticket")
    excluded: Mapped[list[str]] = mapped_column(JSON, doc="Departments that refused the report")
    confirmed: Mapped[list[str]] = mapped_column(JSON, doc="Departments whose ticket is known to exist")
    redispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    next_redispatch_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True, index=True, doc="When to dispatch again to departments that did not confirm")
    priority: Mapped[str] = mapped_column(String(2))
    confidence: Mapped[float] = mapped_column(Float)
    needs_review: Mapped[bool] = mapped_column(Boolean, index=True)
    explanation: Mapped[str] = mapped_column(Text)
    classifier: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=ROUTED, doc="routed | triage | linked")
    triage_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True,
                                                          doc="When it entered the triage queue (while in it)")
    incident_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True,
                                                    doc="Linked reports: the incident's first report id")
    callers: Mapped[int] = mapped_column(Integer, default=1, doc="An incident's first report: reports linked, "
                                                                 "itself included")
    link_seq: Mapped[int] = mapped_column(Integer, default=0, doc="An incident's first report: link and unlink "
                                                                  "events so far (orders them for departments)")
    ticket_states: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True,
                                                                 doc="Last known ticket state per department")
    incident_open: Mapped[bool] = mapped_column(Boolean, default=True,
                                                doc="False once every active ticket is resolved or closed")
    # where the report is, as columns (the duplicate-candidate query filters on them); from `location`
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    grid_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    address_key: Mapped[str | None] = mapped_column(String(500), nullable=True, doc="Normalised address")
    cell: Mapped[str | None] = mapped_column(String(32), nullable=True, doc="Geographic cell of lat/lon (0.01°)")

    attempts: Mapped[list[RoutingAttempt]] = relationship(
        back_populates="routing", lazy="raise", order_by="RoutingAttempt.attempt", cascade="all, delete-orphan")

    def unconfirmed(self) -> list[str]:
        """Departments that were dispatched to, have not refused, and whose ticket has not been seen yet."""
        return [d for d in self.dispatched if d not in self.confirmed and d not in self.excluded]

    def follow_ticket(self, department: str, to_state: str) -> None:
        """Remember the department's ticket state; the incident stays open (and can take linked reports) until
        every active ticket is resolved or closed."""
        states = self.ticket_states = {**(self.ticket_states or {}), department: to_state}
        # every department dispatched and not refused counts; one whose ticket was not seen yet is still open
        active = [states.get(d, "new") for d in dict.fromkeys([*self.dispatched, *states])
                  if d not in self.excluded and states.get(d) not in GONE_TICKET_STATES]
        self.incident_open = not active or not all(s in DONE_TICKET_STATES for s in active)

    def await_triage(self, at: datetime) -> None:
        self.state, self.needs_review = TRIAGE, True
        if self.triage_since is None:
            self.triage_since = at

    @property
    def awaiting_triage(self) -> bool:
        return self.state == TRIAGE

    def plan_triage(self, lead: str, assisting: list[str]) -> Plan:
        """A centre operator's choice for a report in triage. Departments already dispatched (police while it
        waited, departments still on it after a transfer) stay on the report as assisting: their tickets exist,
        and a department that is not concerned transfers its ticket back as usual."""
        kept = [d for d in self.dispatched if d not in self.excluded]
        departments = list(dict.fromkeys([lead, *assisting, *kept]))
        return Plan(self.attempt + 1, lead, departments, [d for d in departments if d not in self.dispatched])

    def role_of(self, department: str) -> str:
        """The ticket role this routing gives ``department``."""
        return "lead" if department == self.lead else "assisting"

    def link_to(self, incident: Routing) -> None:
        """This report is another caller's report of ``incident``'s incident: no tickets of its own."""
        self.state, self.incident_id, self.dispatched = LINKED, incident.report_id, []
        self.follow(incident)
        incident.callers += 1
        incident.link_seq += 1

    def follow(self, incident: Routing) -> None:
        """A linked report shows its incident's routing: police, lead, departments, priority."""
        self.police, self.lead, self.departments = incident.police, incident.lead, list(incident.departments)
        self.priority = incident.priority

    def unlink_from(self, incident: Routing) -> None:
        """A centre operator says this report is not ``incident``'s incident: it is routed on its own."""
        self.state, self.incident_id = ROUTED, None
        incident.callers = max(1, incident.callers - 1)
        incident.link_seq += 1

    def confirm(self, department: str) -> bool:
        """A ticket event from ``department`` proves its ticket exists; True when that is news."""
        if department in self.confirmed:
            return False
        self.confirmed = [*self.confirmed, department]
        if not self.unconfirmed():
            self.next_redispatch_at = None
        return True

    def acting_lead(self) -> str | None:
        """While the report waits in triage after a transfer: the department that leads meanwhile, if one holds a
        live ticket (dispatched, not refused, not cancelled): the current lead while it still does, else the first
        such department still on the report, preferring one whose ticket is not done yet. None: no one holds it."""
        states = self.ticket_states or {}
        live = [d for d in dict.fromkeys([self.lead, *self.departments]) if d in self.dispatched
                and d not in self.excluded and states.get(d) not in GONE_TICKET_STATES]
        if self.lead in live:
            return self.lead
        return next((d for d in live if states.get(d) not in DONE_TICKET_STATES), live[0] if live else None)

    def plan_triage_after_transfer(self, suggested: list[str], dispatch: list[str], fallback: str) -> Plan:
        """The report waits in triage after a transfer (``excluded`` already has the refusing department): a
        department holding a live ticket leads meanwhile (:meth:`acting_lead`), else the classifier's suggestion;
        the departments still on it stay (``fallback`` leads when there are none); ``dispatch`` is what must not
        wait (police for a possible police matter)."""
        still_on_it = [d for d in self.departments if d not in self.excluded]
        lead = self.acting_lead() or (suggested[0] if suggested else (still_on_it[0] if still_on_it else fallback))
        departments = list(dict.fromkeys([lead, *suggested, *still_on_it]))
        return Plan(self.attempt + 1, lead, departments, dispatch)

    def plan_reroute(self, refused_by: str, proposed_lead: str, proposed: list[str]) -> Plan:
        """After ``refused_by`` handed its ticket back: keep the departments still on it, add the classifier's
        proposal (which already excludes every refusing department), lead = the proposal's lead."""
        excluded = set(self.excluded) | {refused_by}
        still_on_it = [d for d in self.departments if d not in excluded]
        lead = proposed_lead if proposed_lead not in excluded else (still_on_it[0] if still_on_it else proposed_lead)
        departments = list(dict.fromkeys([lead, *still_on_it, *[d for d in proposed if d not in excluded]]))
        dispatch = [d for d in departments if d not in self.dispatched]
        return Plan(self.attempt + 1, lead, departments, dispatch)


class RoutingAttempt(Base):
    """One decision in a report's routing history (first routing, then each re-route), kept for the audit."""

    __tablename__ = "routing_attempts"

    report_id: Mapped[str] = mapped_column(ForeignKey("routings.report_id", ondelete="CASCADE"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(
        String(200), doc="`received`, `transferred by <code>: <reason>`, `triage` (a centre operator's choice), or "
                         "`linked to incident <id>`")
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True, doc="Triage: the operator's key id")
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True, doc="Triage: why the operator chose this")
    needs_review: Mapped[bool | None] = mapped_column(Boolean, nullable=True,
                                                      doc="Whether this attempt sent the report to triage")
    police: Mapped[bool] = mapped_column(Boolean)
    lead: Mapped[str] = mapped_column(String(32))
    departments: Mapped[list[str]] = mapped_column(JSON)
    dispatched: Mapped[list[str]] = mapped_column(JSON)
    priority: Mapped[str] = mapped_column(String(2))
    confidence: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    classifier: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)

    routing: Mapped[Routing] = relationship(back_populates="attempts", lazy="raise")
