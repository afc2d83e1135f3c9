"""The ``data`` of each event type, version 1. Published contracts: add optional fields at most; anything else is a
new version."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["phone_110", "phone_12345", "web", "app", "sms", "grid_worker", "other"]
Priority = Literal["P1", "P2", "P3", "P4"]
TicketRole = Literal["lead", "assisting"]
TicketState = Literal["new", "acknowledged", "in_progress", "resolved", "closed", "reopened", "transferred",
                      "cancelled"]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Location(_Data):
    address: str | None = Field(None, max_length=500, examples=["18 Xingfu Road, Building 3"])
    lat: float | None = Field(None, ge=-90, le=90, examples=[30.6586])
    lon: float | None = Field(None, ge=-180, le=180, examples=[104.0648])
    grid_id: str | None = Field(None, max_length=64, description="Community grid cell (网格) id", examples=["G-0412"])


class ReportReceivedV1(_Data):
    """A citizen report accepted by intake (``reports.received``). Carries no caller phone number."""

    report_id: str
    text: str
    channel: Channel
    location: Location = Field(default_factory=Location)
    occurred_at: datetime | None = None
    received_at: datetime
    external_ref: str | None = None


class ReportRoutedV1(_Data):
    """The router's decision for a report (``reports.routed``); a re-route after a transfer is a new attempt."""

    report_id: str
    attempt: int = Field(1, ge=1, description="1 for the first decision, +1 for each re-route")
    police: bool
    lead: str
    assisting: list[str] = Field(default_factory=list)
    departments: list[str] = Field(description="Lead first, then assisting")
    dispatched: list[str] = Field(description="Departments that received a new ticket.dispatched.v1 in this attempt")
    excluded: list[str] = Field(default_factory=list, description="Departments that refused the report")
    priority: Priority
    confidence: float = Field(ge=0, le=1)
    needs_review: bool = Field(False, description="True: the report waits in the centre's triage queue; only "
                                                  "`dispatched` (police when it may be a police matter) has it yet")
    explanation: str = ""
    classifier: str
    decided_at: datetime
    incident_id: str | None = Field(None, description="Set when this report was linked to an incident: the "
                                                      "incident's first report id (added in 1.1)")
    linked: bool = Field(False, description="True when this report is another caller's report of an existing "
                                            "incident: no tickets of its own, it follows the incident (1.1)")
    trigger: Literal["received", "transfer", "triage", "linked", "unlinked", "assistance", "escalated"] | None = Field(
        None, description="What made this decision: the report arrived, a department transferred it back, a centre "
                          "operator routed it from triage, it was linked to an incident, a centre operator "
                          "unlinked it from one to route it on its own, the lead department asked for another "
                          "department's assistance (added in 1.1), or, on an incident, a linked caller's report "
                          "added urgency or departments (`escalated`, added in 1.2)")


class TicketDispatchedV1(_Data):
    """Work for one department (``dept.<code>``): one ticket per (report, department). A later ``attempt`` for a
    (report, department) that already has a ticket re-routes it: the ticket takes the attempt's ``role``,
    ``lead_department``, ``departments`` and ``priority`` (a centre operator routed the report from triage, a
    transfer re-routed it, the lead added a department); a copy of an attempt already seen changes nothing."""

    report_id: str
    department: str
    role: TicketRole
    lead_department: str
    departments: list[str] = Field(description="Every department handling the report, lead first")
    priority: Priority
    police: bool
    text: str
    channel: Channel
    location: Location = Field(default_factory=Location)
    occurred_at: datetime | None = None
    received_at: datetime
    dispatched_at: datetime
    attempt: int = Field(1, ge=1)
    callers: int | None = Field(None, ge=1, description="Reports (callers) linked to this incident so far, this one "
                                                        "included (added in 1.1; absent means 1)")


class IncidentReportLinkedV1(_Data):
    """Another caller reported an incident a department already has a ticket for (``dept.<code>``): the router
    linked the new report to the incident (the first report, ``incident_id`` = the event's subject) instead of
    opening new tickets. ``callers`` is the number of reports linked now, the first included; ``sequence`` orders
    the incident's link and unlink events, so a consumer keeps the count of the highest sequence it has seen
    (idempotent, order-insensitive)."""

    incident_id: str = Field(description="The incident's first report id: the report the tickets belong to")
    report_id: str = Field(description="The newly linked report")
    department: str
    callers: int = Field(ge=2, description="Reports linked to the incident, the first included")
    sequence: int = Field(ge=1, description="Orders the incident's link and unlink events (1, 2, …)")
    text: str = Field(description="What the new caller said")
    channel: Channel
    location: Location = Field(default_factory=Location)
    received_at: datetime
    linked_at: datetime
    similarity: float = Field(ge=0, le=1, description="Text similarity to the first report")


class IncidentReportUnlinkedV1(_Data):
    """A centre operator unlinked a report from an incident (``dept.<code>``, subject = ``incident_id``): it was
    not the same incident after all and is routed on its own. ``callers`` is the incident's count now; apply it
    only when ``sequence`` is higher than the last link/unlink event applied."""

    incident_id: str
    report_id: str = Field(description="The report no longer linked")
    department: str
    callers: int = Field(ge=1)
    sequence: int = Field(ge=1)
    reason: str
    unlinked_at: datetime


class TicketActor(_Data):
    id: str = Field(description="Principal id (API key id) or `system:<service>`")
    name: str
    role: str
    department: str | None = None


Clock = Literal["acknowledge", "start", "resolve"]
Satisfaction = Literal["satisfied", "basically_satisfied", "dissatisfied"]


class TicketClocks(_Data):
    """A ticket's service-level clocks: when each step is due, when it happened, and whether it was on time
    (``None`` until the step happens)."""

    acknowledge_due_at: datetime
    start_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None = None
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    acknowledge_on_time: bool | None = None
    start_on_time: bool | None = None
    resolve_on_time: bool | None = None


class TicketStatusChangedV1(_Data):
    """A ticket changed state, or its routing (``tickets.events``); ``sequence`` orders a ticket's changes (its audit
    entry number). Creation is ``from_state = null``, ``to_state = "new"``, ``action = "created"``. A ``reroute``
    (actor ``system:router``: a later routing attempt changed the ticket's role, lead or priority) keeps the state,
    ``from_state == to_state``, and carries the new ``role`` and ``priority``."""

    ticket_id: str
    report_id: str
    department: str
    role: TicketRole
    sequence: int = Field(ge=1)
    action: str = Field(examples=["acknowledge", "start", "resolve", "close", "reopen", "transfer", "created",
                                  "reroute"])
    from_state: TicketState | None
    to_state: TicketState
    actor: TicketActor
    reason: str | None = None
    resolution: str | None = None
    at: datetime
    priority: Priority | None = Field(None, description="The ticket's priority (added in 1.1)")
    clocks: TicketClocks | None = Field(None, description="Service-level clocks after this change (added in 1.1)")
    outcome: str | None = Field(None, description="Resolution outcome code, e.g. for mediation `agreement` (1.1)")


class TicketStatusObservedV1(_Data):
    """Intake's receipt for a ticket's state (``tickets.receipts``): it has seen every change up to ``sequence``.
    Departments announce a ticket's latest state again until its receipt arrives (end-to-end confirmation)."""

    ticket_id: str
    report_id: str
    department: str
    sequence: int = Field(ge=1)
    observed_at: datetime


class TicketEscalatedV1(_Data):
    """A ticket missed a service-level clock (``tickets.escalations``). Level 1 goes to the department's
    supervisors, level 2 to the linkage centre. Each (ticket, clock, level) is escalated once."""

    ticket_id: str
    report_id: str
    department: str
    priority: Priority
    clock: Clock
    level: int = Field(ge=1, le=2)
    due_at: datetime
    escalated_at: datetime
    state: TicketState = Field(description="The ticket's state when it was escalated")


class ReportFeedbackReceivedV1(_Data):
    """The caller's satisfaction after a report was closed (回访), recorded by intake (``reports.feedback``).
    ``dissatisfied`` reopens the report: the lead department's ticket reopens with the comment. A linked report
    (another caller's report of an incident) has no tickets of its own: ``incident_id`` names the incident's first
    report, whose lead ticket the call-back concerns."""

    feedback_id: str
    report_id: str
    satisfaction: Satisfaction
    comment: str | None = None
    reopen: bool
    lead_department: str | None = None
    actor: TicketActor
    received_at: datetime
    incident_id: str | None = Field(None, description="Set when the report is linked to an incident: the incident's "
                                                      "first report id, the report whose lead ticket reopens or "
                                                      "takes the note (added in 1.1)")


class TicketAssistanceRequestedV1(_Data):
    """The lead department asks for another department to assist with the report (``tickets.events``). The router
    adds it to the report's routing and dispatches a ``ticket.dispatched.v1`` (role ``assisting``) to it."""

    ticket_id: str = Field(description="The lead ticket")
    report_id: str
    lead_department: str
    department: str = Field(description="The department asked to assist")
    reason: str
    actor: TicketActor
    requested_at: datetime


class TicketReleaseRequestedV1(_Data):
    """An assisting department asks the lead to release it from the joint handling (``tickets.events``)."""

    ticket_id: str = Field(description="The assisting department's ticket")
    report_id: str
    department: str
    lead_department: str
    reason: str
    actor: TicketActor
    requested_at: datetime


class TicketReleaseApprovedV1(_Data):
    """The lead released an assisting department (``dept.<code>`` of the assisting department): its ticket is
    cancelled with the lead's reason."""

    report_id: str
    department: str = Field(description="The released (assisting) department")
    lead_ticket_id: str
    lead_department: str
    reason: str
    actor: TicketActor
    approved_at: datetime
