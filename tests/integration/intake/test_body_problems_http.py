"""Bodies intake cannot read answer with the same problem details as every other problem: a body too large names
the request (`instance`), and JSON the parser gives up on (nested too deeply, not UTF-8) is the malformed-request
problem, as a syntax error is."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.intake.test_reports_http import Intake, intake  # noqa: F401  (the fixture)
from tests.support import bearer


async def test_a_body_too_large_is_a_problem_naming_the_request(intake: Intake) -> None:
    r = await intake.client.post("/v1/reports", content=b"{" + b" " * 70_000 + b"}", headers={
        **bearer(intake.keys["call_centre"]), "content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = r.json()
    assert problem["type"].endswith("/payload-too-large") and problem["instance"] == "/v1/reports"


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                                  b'{"text": "\xff\xfe water"}'])
async def test_a_body_the_parser_gives_up_on_is_the_malformed_request_problem(intake: Intake, body: bytes) -> None:
    r = await intake.client.post("/v1/reports", content=body, headers={
        **bearer(intake.keys["call_centre"]), "content-type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
    problem = r.json()
    assert problem["type"].endswith("/malformed-request") and problem["instance"] == "/v1/reports"
    assert [e["field"] for e in problem["errors"]] == ["body"]
    assert await intake.count() == 0


@pytest.mark.parametrize("url", ["/v1/reports/abc%00def", "/v1/reports?department=%00", "/v1/reports?cursor=a%01b",
                                 "/v1/reports/abc%00def/feedback"])
async def test_a_control_character_in_the_url_is_the_malformed_request_problem(intake: Intake, url: str) -> None:
    """A NUL in an id reached the database, which PostgreSQL refuses (500): refused before any route reads it."""
    method = intake.client.post if url.endswith("/feedback") else intake.client.get
    r = await method(url, headers=bearer(intake.keys["call_centre"]))
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
    problem = r.json()
    assert problem["type"].endswith("/malformed-request")
    assert "NUL in header values" in problem["detail"]  # headers: only NUL is refused, and the message says so
    # the problem names the request without echoing its control characters: percent-encoded, as it was sent
    assert problem["instance"] == url.split("?")[0] and not any(ord(c) < 32 for c in r.text)


async def test_a_problem_on_an_ordinary_path_names_it_unchanged(intake: Intake) -> None:
    r = await intake.client.get("/v1/reports/no-such-report%20x", headers=bearer(intake.keys["call_centre"]))
    assert r.status_code == 404 and r.json()["instance"] == "/v1/reports/no-such-report x"
