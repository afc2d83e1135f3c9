"""The centre's statistics as the HTTP API returns them (JSON; the same figures as CSV, see :mod:`export`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Priority

CLOCKS = ("acknowledge", "start", "resolve")


class ClockStats(BaseModel):
    """One service-level clock over a set of tickets. ``rate`` = on_time ÷ (on_time + late + overdue)."""

    on_time: int = Field(description="The step happened before it was due", examples=[930])
    late: int = Field(description="The step happened after it was due", examples=[50])
    overdue: int = Field(description="Not done yet and already past due (open tickets only: new, acknowledged, "
                         "in_progress, reopened)", examples=[20])
    rate: float | None = Field(description="on_time ÷ (on_time + late + overdue); `null` when nothing counts",
                               examples=[0.93])


class OnTime(BaseModel):
    acknowledge: ClockStats
    start: ClockStats
    resolve: ClockStats


class OnTimeGroup(OnTime):
    department: str = Field(examples=["water"])
    priority: Priority | None = Field(description="`null` for tickets whose events carried no priority")


class Durations(BaseModel):
    """Seconds from a ticket's creation (dispatch) to the step, over the tickets where it happened (for
    ``resolve``: the latest resolution). Percentiles interpolate like ``percentile_cont``."""

    count: int = Field(examples=[980])
    median_s: float | None = Field(examples=[42.0])
    p90_s: float | None = Field(examples=[170.5])
    estimated: bool = Field(False, description="`true` when over 100,000 values: the percentiles come from a "
                            "random sample of table blocks holding about 100,000 of them (PostgreSQL), within about "
                            "1–2 % of the exact ones")


class DepartmentTickets(BaseModel):
    department: str = Field(examples=["water"])
    total: int = Field(examples=[120])
    by_state: dict[str, int] = Field(examples=[{"new": 3, "acknowledged": 7, "in_progress": 10, "closed": 100}])


class Tickets(BaseModel):
    total: int
    by_state: dict[str, int]
    by_department: list[DepartmentTickets] = Field(description="Every department with tickets, by code")


class Mediation(BaseModel):
    tickets: int = Field(description="Tickets of the `mediation` department", examples=[40])
    outcomes: dict[str, int] = Field(description="Resolution outcome codes (`agreement`, `no_agreement`, "
                                     "`referred`, …) of those tickets; tickets without one are not listed",
                                     examples=[{"agreement": 25, "no_agreement": 6, "referred": 4}])


class FeedbackStats(BaseModel):
    count: int = Field(description="Call-backs (every call-back counts, also a second one on the same report)")
    satisfied: int
    basically_satisfied: int
    dissatisfied: int


class Stats(BaseModel):
    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [{
        "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "department": None,
        "generated_at": "2026-12-01T08:00:00Z", "received": 1000, "police": 280, "non_police": 715, "unrouted": 5,
        "diverted_from_police_line": 130, "joint": 90, "disposed": 900, "disposal_rate": 0.9,
    }]})

    from_: datetime | None = Field(alias="from", description="Reports received at or after this (`null`: no bound)")
    to: datetime = Field(description="Reports received before this (default: now)")
    department: str | None = Field(description="Only reports routed to this department and its tickets")
    generated_at: datetime
    received: int = Field(description="Reports received in the window")
    police: int = Field(description="Police matters (police among the departments)")
    non_police: int = Field(description="Non-police matters: diverted away from the police queue")
    unrouted: int = Field(description="Not routed yet")
    diverted_from_police_line: int = Field(description="Non-police reports that came in on `phone_110`")
    joint: int = Field(description="Joint handling: routed to more than one department")
    disposed: int = Field(description="Reports resolved or closed now")
    disposal_rate: float | None = Field(description="disposed ÷ received")
    tickets: Tickets
    on_time: OnTime = Field(description="Service-level clocks over all the window's tickets")
    on_time_by_department: list[OnTimeGroup] = Field(description="The same per department and priority")
    time_to_acknowledge: Durations
    time_to_resolve: Durations
    mediation: Mediation
    feedback: FeedbackStats = Field(description="Call-backs on the window's reports (with `department`: on the "
                                    "reports it led)")
    satisfaction_rate: float | None = Field(description="(satisfied + basically_satisfied) ÷ call-backs")
    reopened: int = Field(description="Reports reopened at least once (a dissatisfied call-back or a ticket reopened)")
    reopen_rate: float | None = Field(description="reopened ÷ reports that were ever resolved or closed")
