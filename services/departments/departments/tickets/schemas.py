"""The departments HTTP contract: what department staff and centre operators send and get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.events import Channel, Priority, TicketRole, TicketState

MAX_TEXT = 2000
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]

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
        {"resolution": "Burst pipe replaced; water back on at 11:20."}]})

    resolution: Text = Field(description=f"What was done, 1–{MAX_TEXT} characters; shown to the caller")


class CloseIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Caller confirmed the repair."}, {}]})

    reason: Text | None = Field(None, description=f"Why it is closed (optional), up to {MAX_TEXT} characters")


class ReasonIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Caller reports the leak is back."}]})

    reason: Text = Field(description=f"Why, 1–{MAX_TEXT} characters; recorded in the audit trail")


class TransferIn(ReasonIn):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Private pipe inside the flat: a property-management matter, not the water utility's."}]})


class CancelIn(ReasonIn):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Duplicate of ticket 7d1e… for the same burst pipe."}]})


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
        "dispatched_at": "2026-11-22T08:06:13Z", "resolution": None, "audit_entries": 2, "callers": 1,
        "created_at": "2026-11-22T08:06:13Z", "updated_at": "2026-11-22T08:07:02Z"}]})

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
    action: str = Field(description="`created`, `acknowledge`, `start`, `note`, `resolve`, `close`, `reopen`, "
                                    "`transfer` or `cancel`")
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
