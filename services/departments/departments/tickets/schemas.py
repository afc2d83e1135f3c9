"""The departments HTTP contract: what department staff and centre operators send and get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.events import Channel, Priority, TicketClocks, TicketRole, TicketState
from shared.inputs import free_text, one_line

MAX_TEXT = 2000
# What staff type, control characters removed and at least one visible character (see shared.inputs)
Text = free_text(MAX_TEXT)
Short = one_line(100)
CallOutcome = one_line(200)
# A code with a control character does not match: refused, not cleaned
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{1,31}$")]

_TICKET_ID = "5f0c2a9e-3b7d-4c1e-9a51-2d8e6f4b7c10"
_REPORT_ID = "0b6c1f8e-8f0a-4a55-9a43-7d3bb1d3c9a2"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoBody(_In):
    """No fields. The actor is always the API key's principal; a body naming anyone is refused (422)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})


class NoteIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"note": "Crew on the way; the valve upstream is closed."}]})

    note: Text = Field(description=f"What to add to the ticket's record, 1–{MAX_TEXT} characters")


class ResolveIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"resolution": "Burst pipe replaced; water back on at 11:20.", "outcome": "resolved"},
        {"resolution": "Neighbours agreed on quiet hours after 22:00.", "outcome": "agreement"}]})

    resolution: Text = Field(description=f"What was done, 1–{MAX_TEXT} characters; shown to the caller")
    outcome: Code | None = Field(
        None, description="Optional outcome code, checked against the department's list (the ticket's "
                          "`outcomes`): people's mediation `agreement`, `no_agreement`, `referred`; other "
                          "departments `resolved`, `explained`, `referred`, `no_action_needed`. Carried as "
                          "`outcome` on ticket.status_changed.v1.")


class AssignIn(_In):
    """Give the matter to a unit and/or a staff member of the department. The reason is required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"unit": "North district repair crew", "assignee": "Li Wei", "reason": "Nearest crew on duty."}]})

    unit: Short | None = Field(None, description="A unit of the department (crew, station, desk), up to 100 chars")
    assignee: Short | None = Field(None, description="A staff member, up to 100 characters")
    reason: Text = Field(description=f"Why this unit / person, 1–{MAX_TEXT} characters; audited")


class FollowUpIn(_In):
    """A follow-up call (回访) the lead department made."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reached": True, "outcome": "caller confirms water is back", "note": "Asked to check pressure tomorrow."},
        {"reached": False, "outcome": "no answer"}]})

    reached: bool = Field(description="Whether the caller was reached")
    outcome: CallOutcome = Field(description="What the call established, 1–200 characters")
    note: Text | None = Field(None, description=f"Anything else, up to {MAX_TEXT} characters")


class AssistIn(_In):
    """Ask another department to assist (lead ticket only)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"department": "transport", "reason": "The burst pipe has undermined the road surface."}]})

    department: Code = Field(description="Registry code of the department asked to assist")
    reason: Text = Field(description=f"Why, 1–{MAX_TEXT} characters; audited and sent to the router")


class CloseIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Caller confirmed the repair."}, {}]})

    reason: Text | None = Field(None, description=f"Why it is closed (optional), up to {MAX_TEXT} characters")


class ReasonIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Caller reports the leak is back."}]})

    reason: Text = Field(description=f"Why, 1–{MAX_TEXT} characters; recorded in the audit trail")


class ReleaseIn(ReasonIn):
    """Why the assisting department should be released (asking), or why the lead releases it (approving)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Road surface checked: no damage, nothing for transport to do."}]})


class TransferIn(ReasonIn):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Private pipe inside the flat: a property-management matter, not the water utility's."}]})


class CancelIn(ReasonIn):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Duplicate of ticket 7d1e… for the same burst pipe."}]})


class Clocks(TicketClocks):
    """Service-level clocks: when each step is due (from the report's receipt, see the README), when it happened,
    and whether it was on time (`null` until it happens)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "acknowledge_due_at": "2026-11-22T08:07:12Z", "start_due_at": "2026-11-22T08:09:12Z",
        "resolve_due_at": "2026-11-23T08:06:12Z", "acknowledged_at": "2026-11-22T08:06:40Z",
        "started_at": "2026-11-22T08:10:05Z", "resolved_at": None, "acknowledge_on_time": True,
        "start_on_time": False, "resolve_on_time": None}]})


class Escalation(BaseModel):
    """Where the ticket stands in escalation."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"level": 2, "round": 0, "clocks": {"acknowledge": 2, "start": 1}, "next_at": "2026-11-22T08:19:12Z"}]})

    level: int = Field(description="Highest level reached: 0 none, 1 department supervisors, 2 linkage centre")
    round: int = Field(description="0, +1 per reopen (a reopened ticket's resolve clock can escalate again)")
    clocks: dict[str, int] = Field(description="Level reached per clock in the current round",
                                   examples=[{"acknowledge": 2, "start": 1}])
    next_at: datetime | None = Field(description="When the next escalation falls due unless the step is done")


class Assignment(BaseModel):
    """Who inside the department has the matter (set by `POST /v1/tickets/{id}/assign`)."""

    unit: str | None = Field(None, examples=["North district repair crew"])
    assignee: str | None = Field(None, examples=["Li Wei"])


class JointTicketOut(BaseModel):
    """Another department's ticket for the same report (from the `tickets.events` projection)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"ticket_id": "9a1d5e0c-2b7f-4c3a-8e61-1f2a3b4c5d6e", "department": "transport", "role": "assisting",
         "status": "in_progress", "release_requested": "Road surface checked: no damage."}]})

    ticket_id: str
    department: str = Field(examples=["transport"])
    role: TicketRole
    status: TicketState
    release_requested: str | None = Field(None, description="The assisting department asked to be released, "
                                                            "with this reason; the lead decides")


class EscalationOut(BaseModel):
    """One escalation of a missed clock (also announced as `ticket.escalated.v1` on `tickets.escalations`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"clock": "acknowledge", "round": 0, "level": 1, "due_at": "2026-11-22T08:07:12Z",
         "escalated_at": "2026-11-22T08:07:14Z", "audit_seq": 2}]})

    clock: str = Field(description="`acknowledge`, `start` or `resolve`")
    round: int = Field(description="0, +1 per reopen")
    level: int = Field(description="1: the department's supervisors; 2: the linkage centre")
    due_at: datetime = Field(description="The due time that was missed")
    escalated_at: datetime
    audit_seq: int = Field(description="The audit entry that records it")


class FollowUpActor(BaseModel):
    id: str
    name: str


class FollowUpOut(BaseModel):
    """A follow-up call and its outcome."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"at": "2026-11-23T10:00:00Z", "reached": True, "outcome": "caller confirms water is back", "note": None,
         "actor": {"id": "3d5c8a70-1f7e-4b8e-9c0a-6a1b2c3d4e5f", "name": "Wang Fang (water dispatch desk)"},
         "audit_seq": 7}]})

    at: datetime
    reached: bool
    outcome: str = Field(examples=["caller confirms water is back"])
    note: str | None = None
    actor: FollowUpActor
    audit_seq: int = Field(description="The audit entry that records it")


class Location(BaseModel):
    address: str | None = Field(None, examples=["18 Xingfu Road, Building 3"])
    lat: float | None = Field(None, examples=[30.6586])
    lon: float | None = Field(None, examples=[104.0648])
    grid_id: str | None = Field(None, description="Community grid cell (网格) id", examples=["G-0412"])


class TicketOut(BaseModel):
    """One department's ticket for one report."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": _TICKET_ID, "report_id": _REPORT_ID, "department": "water", "role": "lead",
        "lead_department": "water", "departments": ["water", "transport"], "status": "acknowledged",
        "allowed_actions": ["start", "note", "transfer", "cancel"], "priority": "P2", "police": False,
        "channel": "phone_12345", "text": "我们小区3号楼门口的自来水管爆了，水一直往外冒",
        "location": {"address": "18 Xingfu Road, Building 3", "lat": 30.6586, "lon": 104.0648, "grid_id": None},
        "occurred_at": "2026-11-22T08:05:00Z", "received_at": "2026-11-22T08:06:12Z",
        "dispatched_at": "2026-11-22T08:06:13Z", "resolution": None, "audit_entries": 3, "callers": 1,
        "created_at": "2026-11-22T08:06:13Z", "updated_at": "2026-11-22T08:12:30Z",
        "clocks": {"acknowledge_due_at": "2026-11-22T08:11:12Z", "start_due_at": "2026-11-22T08:36:12Z",
                   "resolve_due_at": "2026-11-23T08:06:12Z", "acknowledged_at": "2026-11-22T08:12:30Z",
                   "started_at": None, "resolved_at": None, "acknowledge_on_time": False, "start_on_time": None,
                   "resolve_on_time": None},
        "overdue": [], "escalation": {"level": 1, "round": 0, "clocks": {"acknowledge": 1},
                                      "next_at": "2026-11-22T08:36:12Z"},
        "assignment": {"unit": "North district repair crew", "assignee": "Li Wei"}, "outcome": None,
        "outcomes": ["resolved", "explained", "referred", "no_action_needed"], "release_requested": None,
        "joint": [{"ticket_id": "9a1d…", "department": "transport", "role": "assisting", "status": "new",
                   "release_requested": None}],
        "report_resolved": False, "follow_ups": []}]})

    id: str = Field(examples=[_TICKET_ID])
    report_id: str = Field(examples=[_REPORT_ID])
    department: str = Field(description="The department this ticket belongs to", examples=["water"])
    role: TicketRole = Field(description="`lead` or `assisting` in the joint handling of the report")
    lead_department: str = Field(examples=["water"])
    departments: list[str] = Field(description="Every department handling the report, lead first",
                                   examples=[["water", "transport"]])
    status: TicketState = Field(description="new → acknowledged → in_progress → resolved → closed; reopened, "
                                            "transferred, cancelled")
    allowed_actions: list[str] = Field(description="What the current state allows (your role may allow less)",
                                       examples=[["start", "note", "transfer", "cancel"]])
    priority: Priority = Field(description="P1 (life or safety now) … P4 (enquiry)")
    police: bool = Field(description="Whether the report is a police matter")
    channel: Channel
    text: str = Field(description="What the caller reported")
    location: Location
    occurred_at: datetime | None
    received_at: datetime = Field(description="When intake received the report")
    dispatched_at: datetime = Field(description="When the router dispatched it to this department")
    resolution: str | None = Field(description="What was done, once resolved")
    audit_entries: int = Field(description="How many entries the audit trail has", examples=[2])
    callers: int = Field(1, description="How many reports (callers) the router linked to this incident, the first "
                                        "included: other callers' reports of the same incident open no tickets",
                         examples=[1])
    created_at: datetime
    updated_at: datetime
    clocks: Clocks | None = Field(None, description="Service-level clocks (`null` for tickets older than clocks)")
    overdue: list[str] = Field(default_factory=list, description="Clocks past due whose step is not done",
                               examples=[["acknowledge", "start"]])
    escalation: Escalation | None = None
    assignment: Assignment | None = Field(None, description="Unit / staff member the matter is assigned to")
    outcome: str | None = Field(None, description="Resolution outcome code, once resolved", examples=["agreement"])
    outcomes: list[str] = Field(default_factory=list, description="The outcome codes this department may use")
    release_requested: str | None = Field(None, description="This (assisting) ticket asked to be released: why")
    joint: list[JointTicketOut] | None = Field(
        None, description="The report's other departments' tickets (one ticket's view; `null` in lists)")
    report_resolved: bool | None = Field(
        None, description="Whether every ticket of the report (transferred and cancelled ones aside) is resolved "
                          "or closed: the report is resolved only then (one ticket's view; `null` in lists)")
    follow_ups: list[FollowUpOut] | None = Field(None, description="Follow-up calls (one ticket's view)")


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; `null` on the last page")


class ActorOut(BaseModel):
    id: str = Field(description="API key id, or `system:<service>`", examples=["3d5c8a70-1f7e-4b8e-9c0a-6a1b2c3d4e5f"])
    name: str = Field(examples=["Wang Fang (water dispatch desk)"])
    role: str = Field(examples=["department_staff"])
    department: str | None = Field(None, examples=["water"])


class AuditEntryOut(BaseModel):
    """One entry of a ticket's append-only, hash-chained audit trail."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "seq": 2, "at": "2026-11-22T08:07:02.123456Z", "action": "acknowledge", "from_state": "new",
        "to_state": "acknowledged",
        "actor": {"id": "3d5c8a70-1f7e-4b8e-9c0a-6a1b2c3d4e5f", "name": "Wang Fang (water dispatch desk)",
                  "role": "department_staff", "department": "water"},
        "reason": None, "note": None, "resolution": None,
        "prev_hash": "9f2c…(64 hex)", "hash": "41ab…(64 hex)"}]})

    seq: int = Field(description="1, 2, 3 … per ticket")
    at: datetime
    action: str = Field(description="State changes: `created`, `acknowledge`, `start`, `resolve`, `close`, "
                                    "`reopen`, `transfer`, `cancel`. Recorded without a state change: `note`, "
                                    "`assign`, `follow_up`, `request_assist`, `request_release`, `release`, "
                                    "`escalate` (actor `system:sla`), `reroute` (actor `system:router`: a later "
                                    "routing attempt changed the role, lead or priority)")
    from_state: TicketState | None = Field(description="`null` for `created`")
    to_state: TicketState
    actor: ActorOut
    reason: str | None = None
    note: str | None = None
    resolution: str | None = None
    prev_hash: str = Field(description="The previous entry's hash; 64 zeros for the first entry")
    hash: str = Field(description="SHA-256 of this entry's canonical JSON (sorted keys, ISO times) with prev_hash")


class AuditVerification(BaseModel):
    """The audit chain recomputed from the stored entries."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"intact": True, "entries": 4, "first_broken_seq": None, "head_hash": "41ab…(64 hex)", "detail": None},
        {"intact": False, "entries": 4, "first_broken_seq": 3, "head_hash": "41ab…(64 hex)",
         "detail": "entry 3 does not match its hash"}]})

    intact: bool = Field(description="True when every entry matches its hash and links to the one before")
    entries: int = Field(description="How many entries are stored")
    first_broken_seq: int | None = Field(description="The first entry that fails, or `null`")
    head_hash: str = Field(description="The last stored entry's hash")
    detail: str | None = Field(None, description="What is wrong, when something is")
