"""A presence switch takes a JSON boolean and nothing else: "yes", "no", 1 and 0 are refused, not read as true and
false, and nothing is switched or audited."""

from __future__ import annotations

import pytest

from tests.integration.router.conftest import Router
from tests.integration.router.test_classify_and_presence import router_with_temporary  # noqa: F401  (the fixture)


@pytest.mark.parametrize("enabled", ["yes", "no", "true", "false", 1, 0, None, "on"])
async def test_presence_takes_only_a_json_boolean(router_with_temporary: Router, enabled: object) -> None:
    router = router_with_temporary
    r = await router.client.put("/v1/departments/event_security/presence",
                                json={"enabled": enabled, "reason": "marathon"}, headers=router.auth("centre_operator"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert [e["field"] for e in r.json()["errors"]] == ["enabled"]
    audit = await router.client.get("/v1/departments/event_security/presence/audit",
                                    headers=router.auth("centre_operator"))
    assert audit.json() == []
    listed = await router.client.get("/v1/departments", headers=router.auth("call_centre"))
    assert next(d for d in listed.json() if d["code"] == "event_security")["switched_on"] is False
