"""The date-time bound both of intake's read endpoints take (`created_from`/`created_to`, `from`/`to`) and the
checks they share, without I/O."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from intake.query import UtcDatetime, check_department, check_range
from shared.problems import InvalidInput
from shared.registry import load_registry

BOUND: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)
UTC_MIDNIGHT = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("2026-01-01T00:00:00", UTC_MIDNIGHT),  # no zone: UTC
    ("2026-01-01", UTC_MIDNIGHT),  # a bare date: its midnight, UTC
    ("2026-01-01T08:00:00+08:00", UTC_MIDNIGHT),  # a zone is kept
    ("2026-01-01T00:00:00Z", UTC_MIDNIGHT),
])
def test_a_bound_is_always_aware(text: str, expected: datetime) -> None:
    value = BOUND.validate_python(text)
    assert value == expected and value.tzinfo is not None


@pytest.mark.parametrize("text", ["1700000000", "yesterday", "2026-13-01", "9999-12-31T23:59:59-12:00",
                                  "0001-01-01T00:00:00+14:00", "1899-12-31"])
def test_a_number_or_no_date_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        BOUND.validate_python(text)


def test_a_range_may_be_empty_or_open_but_not_reversed_and_names_its_start() -> None:
    check_range(UTC_MIDNIGHT, UTC_MIDNIGHT, start_field="created_from", end_field="created_to")
    check_range(None, UTC_MIDNIGHT, start_field="created_from", end_field="created_to")
    check_range(datetime(2026, 1, 1), UTC_MIDNIGHT, start_field="from", end_field="to")  # naive is UTC
    with pytest.raises(InvalidInput) as refused:
        check_range(UTC_MIDNIGHT + timedelta(seconds=1), UTC_MIDNIGHT, start_field="created_from",
                    end_field="created_to")
    assert refused.value.extensions["errors"] == [{"field": "created_from", "message": "after `created_to`"}]


def test_only_registry_departments_pass() -> None:
    registry = load_registry()
    check_department(None, registry)
    check_department("water", registry)
    with pytest.raises(InvalidInput) as refused:
        check_department("atlantis", registry)
    assert refused.value.extensions["errors"][0]["field"] == "department"
