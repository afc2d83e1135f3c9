from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.events import Channel, Priority
from shared.inputs import MAX_TEXT, IsoAwareDatetime, LocationIn, Text, one_line

# Department codes are checked against the registry: one with a control character is unknown (422), never stored
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Reason = one_line(500)  # control characters removed, at least one visible character (see shared.inputs)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int = Field(examples=[1])
    trigger: str = Field(examples=["received"], description="`received`, `transferred by <code>: <reason>`, "
                                                            "`triage` (a centre operator's choice) or "
                                                            "`linked to incident <id>`")
    police: bool
    lead: str = Field(examples=["water"])
    departments: list[str] = Field(examples=[["water", "transport"]])
    dispatched: list[str] = Field(description="Departments that got a new ticket in this attempt")
    priority: Priority
    confidence: float
    explanation: str = Field(examples=["water: matched '爆管'; priority P3 (default)"])
    classifier: str = Field(examples=["keywords-v1"], description="The classifier, or `operator` for a triage choice")
    decided_at: datetime
    needs_review: bool | None = Field(None, description="Whether this attempt sent the report to triage")
    actor_id: str | None = Field(None, description="Triage: the centre operator's API key id")
    actor_name: str | None = Field(None, description="Triage: the centre operator's name")
    reason: str | None = Field(None, description="Triage: why the operator chose these departments")


class RoutingOut(BaseModel):
    """A report's routing: the current decision and its history."""

    model_config = ConfigDict(from_attributes=True)

    report_id: str = Field(description="The report (intake's id)")
    state: Literal["routed", "triage", "linked"] = Field(
        description="`routed`; `triage` = waits for a centre operator; `linked` = another caller's report of "
                    "`incident_id`'s incident, without tickets of its own")
    attempt: int = Field(description="Current attempt: 1, +1 per re-route or triage decision")
    police: bool = Field(description="Police matter (police is among the departments)")
    lead: str
    departments: list[str] = Field(description="Lead first (in triage: the suggestion and departments already on it)")
    dispatched: list[str] = Field(description="Every department that ever got a ticket")
    excluded: list[str] = Field(description="Departments that refused the report")
    priority: Priority
    confidence: float
    needs_review: bool
    explanation: str
    classifier: str
    decided_at: datetime
    triage_since: datetime | None = Field(None, description="While in triage: since when")
    incident_id: str | None = Field(None, description="Linked reports: the incident's first report id")
    callers: int = Field(description="An incident's first report: reports linked to it, itself included")
    attempts: list[AttemptOut]


class ClassifyIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"text": "楼道里燃气味很大，邻居家好像漏气了", "location": {"address": "18 Xingfu Road"},
         "at": "2026-11-22T08:05:00+08:00"}]})

    text: Text = Field(description=f"What the caller is saying, 1–{MAX_TEXT} characters")
    location: LocationIn | None = Field(None, description="Where: the classifier routes by text only; the "
                                                                "location finds an open incident it may repeat")
    at: IsoAwareDatetime | None = Field(None, description="Evaluate presence (seasons, switches) at this moment; "
                                                          "default now")


class PossibleIncidentOut(BaseModel):
    incident_id: str = Field(description="The incident's first report id")
    similarity: float = Field(ge=0, le=1, description="Text similarity to the incident's first report")
    why: str = Field(examples=["48 m apart; text similarity 0.84"])
    callers: int = Field(description="Reports linked to the incident so far, the first included")


class ClassifyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "police": False, "lead": "gas", "assisting": ["fire"], "departments": ["gas", "fire"], "priority": "P1",
        "confidence": 0.85, "needs_review": False, "dispatch_while_review": [],
        "explanation": "gas: matched '燃气味', '漏气'; joint rule 'gas leak': lead gas, assisting fire; priority P1",
        "classifier": "keywords-v1", "at": "2026-11-22T00:05:00Z"}]})

    police: bool = Field(description="A police matter (police is among the departments)")
    lead: str = Field(description="The department that would lead", examples=["gas"])
    assisting: list[str] = Field(description="Departments that would assist (joint handling)", examples=[["fire"]])
    departments: list[str] = Field(description="Lead first, then assisting")
    priority: Priority = Field(description="P1 (life or safety now) … P4 (enquiry)")
    confidence: float = Field(ge=0, le=1, description="How sure the classifier is, 0–1")
    needs_review: bool = Field(description="Not sure enough: the report would go to the triage queue")
    dispatch_while_review: list[str] = Field(description="Departments the report would reach at once even while "
                                                         "in triage (police when it may be a police matter)")
    explanation: str = Field(description="Why: the matched terms, rules and priority triggers")
    classifier: str = Field(description="Which classifier decided", examples=["keywords-v1"])
    at: datetime = Field(description="The moment presence was evaluated at")
    possible_incident: PossibleIncidentOut | None = Field(
        None, description="Given a `location`: the open incident this report would be linked to as another caller's "
                          "report (same lead, nearby, similar text, within the window); `null` when none")


class Suggestion(BaseModel):
    lead: str = Field(examples=["grid"])
    assisting: list[str]
    departments: list[str]
    priority: Priority
    confidence: float
    explanation: str
    classifier: str


class TriageItem(BaseModel):
    """A report waiting for a centre operator."""

    report_id: str = Field(description="The report (intake's id)", examples=["0b6c1f8e-8f0a-4a55-9a43-7d3bb1d3c9a2"])
    text: str = Field(description="What the caller reported", examples=["门口有个东西一直响，不知道是什么"])
    channel: Channel = Field(description="Where the report came in")
    location: dict[str, Any] = Field(examples=[{"address": "18 Xingfu Road", "lat": None, "lon": None,
                                                "grid_id": "G-0412"}])
    occurred_at: datetime | None = Field(description="When it happened, if the caller said")
    received_at: datetime = Field(description="When intake received it")
    waiting_since: datetime = Field(description="When it entered the triage queue")
    attempt: int = Field(description="The routing attempt that sent it to triage (2+ after a transfer)")
    police: bool = Field(description="Whether the suggestion includes police")
    suggestion: Suggestion = Field(description="What the classifier would do (not done); after the lead refused, its "
                                               "lead is the department with a ticket that leads meanwhile")
    dispatched: list[str] = Field(description="Departments that already have a ticket (police while it waits, "
                                              "departments still on it after a transfer)")
    excluded: list[str] = Field(description="Departments that refused the report")


class TriagePage(BaseModel):
    items: list[TriageItem] = Field(description="Oldest waiting first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; `null` on the last page")


class TriageRouteIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"lead": "water", "assisting": ["transport"], "priority": "P2",
         "reason": "Caller confirmed a burst main flooding the road"}]})

    lead: Code = Field(description="The department that leads")
    assisting: list[Code] = Field(default_factory=list, max_length=10, description="Assisting departments")
    priority: Priority
    reason: Reason = Field(description="Why (kept in the routing's audit), 1–500 characters")


class UnlinkIn(_In):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [
        {"reason": "Caller confirmed it is the building across the road, not the same fire"}]})

    reason: Reason = Field(description="Why it is not the same incident (kept in the routing's audit)")
