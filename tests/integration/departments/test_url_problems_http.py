"""A control character in a ticket id or a filter is refused before it reaches the database (PostgreSQL refuses NUL
in text: it was a 500)."""

from __future__ import annotations

import pytest

from .conftest import Departments


@pytest.mark.parametrize("url", ["/v1/tickets/abc%00def", "/v1/tickets?report_id=r%00", "/v1/tickets/abc%00/audit",
                                 "/v1/tickets/abc%0A/acknowledge"])
async def test_a_control_character_in_the_url_is_the_malformed_request_problem(service: Departments, url: str
                                                                               ) -> None:
    headers = await service.auth("centre_operator")
    method = service.client.post if url.endswith("/acknowledge") else service.client.get
    r = await method(url, headers=headers)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["type"].endswith("/malformed-request")
    ok = await service.client.get("/v1/tickets", params={"report_id": "r-1"}, headers=headers)
    assert ok.status_code == 200
