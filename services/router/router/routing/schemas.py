from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Priority


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int = Field(examples=[1])
    trigger: str = Field(examples=["received"])
    police: bool
    lead: str = Field(examples=["water"])
    departments: list[str] = Field(examples=[["water", "transport"]])
    dispatched: list[str] = Field(description="Departments that got a new ticket in this attempt")
    priority: Priority
    confidence: float
    explanation: str = Field(examples=["water: matched '爆管'; priority P3 (default)"])
    classifier: str = Field(examples=["keywords-v1"])
    decided_at: datetime


class RoutingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    report_id: str
    attempt: int = Field(description="Current attempt: 1, +1 per re-route")
    police: bool = Field(description="Police matter (police is among the departments)")
    lead: str
    departments: list[str] = Field(description="Lead first")
    excluded: list[str] = Field(description="Departments that refused the report")
    priority: Priority
    confidence: float
    needs_review: bool
    explanation: str
    classifier: str
    decided_at: datetime
    attempts: list[AttemptOut]
