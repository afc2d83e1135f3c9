from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from shared.inputs import one_line

Reason = one_line(500)  # control characters removed, at least one visible character (see shared.inputs)


class SwitchOut(BaseModel):
    enabled: bool
    reason: str = Field(examples=["City marathon on Sunday: event security on duty"])
    changed_by_id: str
    changed_by_name: str = Field(examples=["Centre operator Wang"])
    changed_at: datetime


class DepartmentOut(BaseModel):
    code: str = Field(examples=["heating"])
    name_zh: str = Field(examples=["供热"])
    name_en: str = Field(examples=["District heating"])
    mode: Literal["permanent", "temporary", "seasonal"] = Field(description="permanent: always routable; temporary: "
                                                                        "while switched on; seasonal: in its season")
    fallback: str | None = Field(None, examples=["housing"])
    season: list[str] | None = Field(None, examples=[["11-01", "03-31"]],
                                     description="Seasonal only: first and last day (`MM-DD`, inclusive) of the "
                                                 "city's calendar (the registry's `timezone`)")
    routable_now: bool = Field(description="Whether reports are routed to it at `at` (season, switch)")
    switched_on: bool | None = Field(None, description="Temporary only: the operator's switch (or the registry's "
                                                       "`enabled_by_default` while nobody has switched it)")
    enabled_by_default: bool | None = Field(None, description="Temporary only: the registry's default")
    routes_to: str = Field(examples=["housing"], description="Where its matters go at `at`: itself when routable, "
                                                            "else the first routable department along its fallbacks")
    last_switch: SwitchOut | None = Field(None, description="Temporary only: the last switch, if any")
    topic: str = Field(examples=["dept.heating"])
    at: datetime = Field(description="The moment presence was evaluated at")


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"enabled": True, "reason": "City marathon on Sunday: event security on duty"}]})

    enabled: StrictBool = Field(description="true switches the department on (routable), false off (its matters go "
                                            "to its fallback); JSON true or false only, not \"yes\", \"no\", 1 or 0")
    reason: Reason = Field(description="Why (kept in the audit), 1–500 characters")


class PresenceChangeOut(BaseModel):
    """One switch of a temporary department (append-only audit)."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Order of the changes")
    code: str = Field(examples=["event_security"])
    from_enabled: bool = Field(description="The state before")
    to_enabled: bool = Field(description="The state after")
    reason: str = Field(description="Why, as given by the operator", examples=["City marathon on Sunday"])
    actor_id: str = Field(description="The operator's API key id")
    actor_name: str = Field(description="The operator's key name", examples=["Centre operator Wang"])
    actor_role: str = Field(examples=["centre_operator"])
    at: datetime = Field(description="When")
