"""Bodies the router cannot read answer with the same problem details as every other problem: a body too large
names the request (`instance`), JSON nested too deeply is the malformed-request problem, as a syntax error is."""

from __future__ import annotations

from tests.integration.router.conftest import Router


async def test_a_body_too_large_names_the_request(router: Router) -> None:
    r = await router.client.post("/v1/classify", content=b'{"text": "' + b"x" * 70_000 + b'"}', headers={
        **router.auth("call_centre"), "content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/payload-too-large") and r.json()["instance"] == "/v1/classify"


async def test_json_nested_too_deeply_is_the_malformed_request_problem(router: Router) -> None:
    for body in (b"[" * 5000 + b"]" * 5000, b'{"text": "gas", "location": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
                 b"{"):  # and a syntax error, for comparison
        r = await router.client.post("/v1/classify", content=body, headers={
            **router.auth("call_centre"), "content-type": "application/json"})
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
        problem = r.json()
        assert problem["type"].endswith("/malformed-request") and problem["title"] == "Malformed request"
        assert problem["instance"] == "/v1/classify" and [e["field"] for e in problem["errors"]] == ["body"]
