from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DepartmentOut(BaseModel):
    code: str = Field(examples=["heating"])
    name_zh: str = Field(examples=["供热"])
    name_en: str = Field(examples=["District heating"])
    mode: Literal["permanent", "temporary", "seasonal"]
    fallback: str | None = Field(None, examples=["housing"])
    season: list[str] | None = Field(None, examples=[["11-01", "03-31"]])
    routable_now: bool = Field(description="Whether reports are routed to it right now (season, switch)")
    topic: str = Field(examples=["dept.heating"])
