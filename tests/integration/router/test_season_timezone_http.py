"""Over HTTP, the heating season follows the city's calendar day of the instant (Asia/Shanghai), not the offset the
instant is written with: `POST /v1/classify` and `GET /v1/departments?at=` agree."""

from __future__ import annotations

import pytest

from tests.integration.router.conftest import Router
from tests.integration.router.test_classify_input_http import HEATING, classify


@pytest.mark.parametrize(("at", "lead"), [
    ("2026-03-31T20:00:00Z", "housing"), ("2026-04-01T04:00:00+08:00", "housing"),  # 1 April in the city
    ("2026-03-31T15:00:00Z", "heating"), ("2026-03-31T23:00:00+08:00", "heating"),  # 31 March in the city
])
async def test_the_heating_season_follows_the_instant_not_its_offset(router: Router, at: str, lead: str) -> None:
    status, body = await classify(router, {"text": HEATING, "at": at})
    assert status == 200 and body["lead"] == lead, body
    listed = await router.client.get("/v1/departments", params={"at": at}, headers=router.auth("call_centre"))
    heating = next(d for d in listed.json() if d["code"] == "heating")
    assert heating["routes_to"] == lead and heating["routable_now"] is (lead == "heating")
