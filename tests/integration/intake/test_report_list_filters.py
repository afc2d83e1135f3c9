"""`GET /v1/reports` reads and refuses its filters as `GET /v1/stats` reads and refuses its own: a date-time without a
zone (or a bare date) is UTC, a range whose start is after its end and an unknown department are 422 problems."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.integration.intake.test_reports_http import VALID, Intake, intake  # noqa: F401  (the fixture)
from tests.support import bearer


async def listed(intake: Intake, **params: str) -> httpx.Response:
    return await intake.client.get("/v1/reports", params=params, headers=bearer(intake.keys["centre_operator"]))


async def received(intake: Intake, **params: str) -> int:
    r = await intake.client.get("/v1/stats", params=params, headers=bearer(intake.keys["centre_operator"]))
    assert r.status_code == 200, r.text
    return int(r.json()["received"])


def naive(at: datetime) -> str:
    """``at`` (UTC) as ISO 8601 without a zone."""
    return at.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


async def test_bounds_without_a_zone_or_as_a_bare_date_are_utc_as_in_the_statistics(intake: Intake) -> None:
    report = (await intake.post(VALID)).json()
    report_id, now = report["id"], datetime.fromisoformat(report["created_at"])
    today, tomorrow = now.date().isoformat(), (now.date() + timedelta(days=1)).isoformat()
    cases: list[tuple[dict[str, str], dict[str, str], bool]] = [  # (reports params, stats params, listed?)
        ({"created_from": naive(now - timedelta(hours=1))}, {"from": naive(now - timedelta(hours=1))}, True),
        ({"created_from": naive(now + timedelta(hours=1))},  # the statistics' `to` defaults to now: give one
         {"from": naive(now + timedelta(hours=1)), "to": naive(now + timedelta(hours=2))}, False),
        ({"created_to": naive(now + timedelta(hours=1))}, {"to": naive(now + timedelta(hours=1))}, True),
        ({"created_to": naive(now - timedelta(hours=1))}, {"to": naive(now - timedelta(hours=1))}, False),
        ({"created_from": today}, {"from": today}, True),  # a date is its midnight, UTC
        ({"created_from": today, "created_to": tomorrow}, {"from": today, "to": tomorrow}, True),
        ({"created_to": today}, {"to": today}, False),
    ]
    for params, stats_params, expected in cases:
        r = await listed(intake, **params)
        assert r.status_code == 200, (params, r.text)
        ids = [i["id"] for i in r.json()["items"]]
        assert ids == ([report_id] if expected else []), params
        assert await received(intake, **stats_params) == len(ids), stats_params  # the same reading as /v1/stats


async def test_a_zone_still_counts_when_given(intake: Intake) -> None:
    report_id = (await intake.post(VALID)).json()["id"]
    now = datetime.now(timezone(timedelta(hours=8)))  # Beijing time: naive, it would be 8 hours in the future
    r = await listed(intake, created_from=(now - timedelta(minutes=30)).isoformat(timespec="seconds"))
    assert [i["id"] for i in r.json()["items"]] == [report_id]


@pytest.mark.parametrize("params, stats_params, field", [
    ({"created_from": "2026-11-02T00:00:00Z", "created_to": "2026-11-01T00:00:00Z"},
     {"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "created_from"),
    ({"created_from": "2026-11-02", "created_to": "2026-11-01T23:59:59"},
     {"from": "2026-11-02", "to": "2026-11-01T23:59:59"}, "created_from"),
    ({"department": "ministry_of_magic"}, {"department": "ministry_of_magic"}, "department"),
])
async def test_start_after_end_and_an_unknown_department_are_422_as_in_the_statistics(
        intake: Intake, params: dict[str, str], stats_params: dict[str, str], field: str) -> None:
    await intake.post(VALID)
    r = await listed(intake, **params)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    problem: dict[str, Any] = r.json()
    assert problem["type"].endswith("/invalid-input") and problem["status"] == 422
    assert [e["field"] for e in problem["errors"]] == [field]
    stats = await intake.client.get("/v1/stats", params=stats_params, headers=bearer(intake.keys["centre_operator"]))
    assert stats.status_code == 422 and stats.json()["type"] == problem["type"]


async def test_a_known_department_without_reports_is_an_empty_page(intake: Intake) -> None:
    await intake.post(VALID)
    r = await listed(intake, department="gas")
    assert r.status_code == 200 and r.json()["items"] == []
