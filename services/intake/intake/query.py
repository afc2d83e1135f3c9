"""What intake's read endpoints take alike (``GET /v1/reports`` and ``GET /v1/stats``): a date-time bound read as
UTC when it has no zone, and the 422 problem details for a range whose start is after its end and for a department
code the registry does not know. One definition, so the two endpoints read and refuse the same input the same way."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator

from shared.inputs import IsoDatetime
from shared.problems import InvalidInput
from shared.registry import Registry

__all__ = ["UtcDatetime", "as_utc", "check_department", "check_range"]


def as_utc(value: datetime | None) -> datetime | None:
    """Times without a zone (``2026-01-01T00:00:00``, a bare date ``2026-01-01``) are taken as UTC."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


UtcDatetime = Annotated[IsoDatetime, AfterValidator(as_utc)]
"""An ISO 8601 date-time (or date) in a query; without a zone it is UTC. Numbers are refused (``IsoDatetime``)."""


def check_range(start: datetime | None, end: datetime | None, *, start_field: str, end_field: str) -> None:
    """Refuse a range whose start is after its end, naming the start parameter."""
    start, end = as_utc(start), as_utc(end)
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"`{start_field}` must not be after `{end_field}`.",
                           errors=[{"field": start_field, "message": f"after `{end_field}`"}])


def check_department(department: str | None, registry: Registry) -> None:
    """Refuse a department code the registry does not know (a typo would otherwise match nothing, silently)."""
    if department is not None and department not in registry:
        raise InvalidInput(f"Unknown department {department!r}.",
                           errors=[{"field": "department", "message": "not a department code of the registry"}])
