"""Intake's HTTP contract: what a call-centre integration sends and gets back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events import Channel, Priority, Satisfaction
from shared.inputs import MAX_TEXT, IsoAwareDatetime, LocationIn, Text, free_text, one_line

ReportStatus = Literal["received", "triage", "routed", "acknowledged", "in_progress", "resolved", "closed",
                       "reopened"]
# What a call centre may leave blank, cleaned of control characters (see shared.inputs); one line but the comment
Name = one_line(100, blank=True)
Reference = one_line(128, blank=True)
Comment = free_text(2000, blank=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CallerIn(_In):
    name: Name | None = Field(None, examples=["Ms Li"])
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 \-]{2,30}$", examples=["13800138000"],
                              description="Kept by intake for the call-back; never published to departments or logged")


class ReportIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{
        "text": "我们小区3号楼门口的自来水管爆了，水一直往外冒",
        "channel": "phone_12345",
        "caller": {"name": "Ms Li", "phone": "13800138000"},
        "location": {"address": "18 Xingfu Road, Building 3", "lat": 30.6586, "lon": 104.0648},
        "occurred_at": "2026-11-22T08:05:00Z",
        "external_ref": "CC-2026-000123",
    }]})

    text: Text = Field(description=f"What the caller reported, 1–{MAX_TEXT} characters")
    channel: Channel = Field(description="Where the report came in")
    caller: CallerIn = Field(default_factory=CallerIn)
    location: LocationIn = Field(default_factory=LocationIn)
    occurred_at: IsoAwareDatetime | None = Field(None, description="When it happened (with a time zone); not in the "
                                                                 "future")
    external_ref: Reference | None = Field(None, description="The call centre's own reference")

    @field_validator("occurred_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(timezone.utc) + timedelta(minutes=5):
            raise ValueError("must not be in the future")
        return value


class Caller(BaseModel):
    name: str | None = None
    phone: str | None = None


class Location(BaseModel):
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    grid_id: str | None = None


class TicketSummary(BaseModel):
    id: str
    department: str = Field(examples=["water"])
    role: Literal["lead", "assisting"]
    status: str = Field(examples=["acknowledged"])
    priority: Priority | None = None
    outcome: str | None = Field(None, description="Resolution outcome code, e.g. mediation `agreement`")


class TimelineItem(BaseModel):
    at: datetime
    kind: str = Field(examples=["ticket_acknowledge"])
    department: str | None = None
    detail: str = Field(examples=["acknowledged by water"])


class FeedbackIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"satisfaction": "dissatisfied", "comment": "水管还在漏，没人来修"},
        {"satisfaction": "satisfied"},
    ]})

    satisfaction: Satisfaction = Field(description="The caller's answer on the call-back (回访)")
    comment: Comment | None = Field(None, description="What the caller said; forwarded to the lead department "
                                                      "when dissatisfied")


class FeedbackOut(BaseModel):
    id: str = Field(examples=["5d1c8a4e-3f8b-4d5e-9a43-7d3bb1d3c9a2"])
    report_id: str
    satisfaction: Satisfaction
    comment: str | None
    reopen: bool = Field(description="`true` when dissatisfied: the report reopens and the lead ticket with it")
    lead_department: str | None = Field(examples=["water"])
    actor: str = Field(description="Who recorded the call-back (API key name)", examples=["12345 call centre"])
    received_at: datetime


class ReportOut(BaseModel):
    id: str = Field(examples=["0b6c1f8e-8f0a-4a55-9a43-7d3bb1d3c9a2"])
    status: ReportStatus = Field(description="received → routed → acknowledged → in_progress → resolved → closed; "
                                 "`reopened` after a dissatisfied call-back until the lead ticket reopens; "
                                 "`triage` while centre staff decide where it goes (the router was not sure). A "
                                 "linked report has the status of its incident")
    incident_id: str | None = Field(None, description="Set when another caller reported the same incident first: "
                                                      "that first report's id. This report then has no tickets of "
                                                      "its own; `tickets` and `status` are the incident's")
    text: str
    channel: Channel
    caller: Caller
    location: Location
    occurred_at: datetime | None
    external_ref: str | None
    created_at: datetime
    updated_at: datetime
    police: bool | None = Field(description="Police matter? `null` until routed")
    priority: Priority | None = Field(description="P1 (life or safety now) … P4 (enquiry); `null` until routed")
    departments: list[str] = Field(description="Department codes, lead first")
    tickets: list[TicketSummary]
    linked_reports: int = Field(0, description="Other callers' reports of the same incident linked to this one")
    timeline: list[TimelineItem]
    feedback: list[FeedbackOut] = Field(default_factory=list, description="Call-backs after closing, oldest first")


class ReportSummary(BaseModel):
    id: str
    status: ReportStatus
    incident_id: str | None = Field(None, description="The incident's first report, when linked to one")
    channel: Channel
    text: str
    police: bool | None
    priority: Priority | None
    departments: list[str]
    created_at: datetime
    updated_at: datetime


class ReportPage(BaseModel):
    items: list[ReportSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; `null` on the last page")
