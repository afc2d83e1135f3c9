"""Control characters in what centre operators type, over HTTP on SQLite and PostgreSQL: a triage reason, an unlink
reason, a presence switch's reason and a location to classify lose them before anything is stored or looked up
(PostgreSQL refuses NUL in text: these were 500s); a reason of nothing visible is refused naming it, and a department
code is refused, not cleaned."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.router.conftest import Router, received
from tests.integration.router.test_classify_and_presence import router_with_temporary  # noqa: F401  (the fixture)
from tests.integration.router.test_duplicates import FIRE, FIRE_AGAIN, HERE, NEXT_DOOR
from tests.integration.router.test_triage import GIBBERISH, route, router  # noqa: F401  (the fixture)


def refused(r: Any, field: str) -> str:
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    [error] = r.json()["errors"]
    assert error["field"] == field, error
    return str(error["message"])


async def test_a_triage_reason_is_stored_without_control_characters_on_one_line(router: Router) -> None:
    await router.deliver(received("r-t", GIBBERISH))
    r = await route(router, "r-t", {"lead": "water", "priority": "P2",
                                    "reason": "\u001b[1mcaller\u0000 confirmed\r\na burst main\u0007"})
    assert r.status_code == 200, r.text
    assert r.json()["attempts"][-1]["reason"] == "caller confirmed a burst main"
    stored = await router.client.get("/v1/routings/r-t", headers=router.auth("admin"))
    assert stored.json()["attempts"][-1]["reason"] == "caller confirmed a burst main"
    assert stored.json()["explanation"].endswith(": caller confirmed a burst main")


@pytest.mark.parametrize("reason", ["\u0000", "\u0000\u0007 \r\n\t", "\u001b[31m\u001b[0m", "\u200b"])
async def test_a_triage_reason_of_nothing_visible_is_refused_and_the_report_still_waits(
        router: Router, reason: str) -> None:
    await router.deliver(received("r-t", GIBBERISH))
    message = refused(await route(router, "r-t", {"lead": "water", "priority": "P2", "reason": reason}), "reason")
    assert "no visible characters" in message
    assert (await router.client.get("/v1/routings/r-t", headers=router.auth("admin"))).json()["state"] == "triage"


@pytest.mark.parametrize(("choice", "field"), [({"lead": "wa\u0000ter"}, "lead"),
                                               ({"lead": "water", "assisting": ["transport\u0000"]}, "assisting.0")])
async def test_a_department_code_with_a_control_character_is_refused_not_cleaned(
        router: Router, choice: dict[str, Any], field: str) -> None:
    await router.deliver(received("r-t", GIBBERISH))
    refused(await route(router, "r-t", {**choice, "priority": "P2", "reason": "burst main"}), field)
    assert (await router.client.get("/v1/routings/r-t", headers=router.auth("admin"))).json()["state"] == "triage"


async def test_an_unlink_reason_is_stored_without_control_characters(router: Router) -> None:
    await router.deliver(received("r-i", FIRE, location=HERE))
    await router.deliver(received("r-l", FIRE_AGAIN, location=NEXT_DOOR))
    url = "/v1/routings/r-l/unlink"
    nothing = await router.client.post(url, json={"reason": "\u0000\u0000"}, headers=router.auth("centre_operator"))
    assert "no visible characters" in refused(nothing, "reason")
    r = await router.client.post(url, json={"reason": "the building\u0000 across the road"},
                                 headers=router.auth("centre_operator"))
    assert r.status_code == 200, r.text
    stored = await router.client.get("/v1/routings/r-l", headers=router.auth("admin"))
    assert stored.json()["attempts"][-1]["reason"] == "the building across the road"


async def test_a_presence_reason_is_stored_without_control_characters(router_with_temporary: Router) -> None:
    router = router_with_temporary
    url = "/v1/departments/event_security/presence"
    nothing = await router.client.put(url, json={"enabled": True, "reason": "\u0000"},
                                      headers=router.auth("centre_operator"))
    assert "no visible characters" in refused(nothing, "reason")
    r = await router.client.put(url, json={"enabled": True, "reason": "City\u0000 marathon\ton Sunday\u001b[0m"},
                                headers=router.auth("centre_operator"))
    assert r.status_code == 200, r.text
    audit = await router.client.get(f"{url}/audit", headers=router.auth("centre_operator"))
    assert [(c["to_enabled"], c["reason"]) for c in audit.json()] == [(True, "City marathon on Sunday")]


async def test_a_location_to_classify_is_looked_up_without_control_characters(router: Router) -> None:
    await router.deliver(received("r-c", FIRE, location=HERE))
    here = {"address": f"\u0000{HERE.address}\u0000", "grid_id": "G\u0000-1", "lat": HERE.lat, "lon": HERE.lon}
    r = await router.client.post("/v1/classify", json={"text": FIRE_AGAIN, "location": here},
                                 headers=router.auth("call_centre"))
    assert r.status_code == 200, r.text
    assert r.json()["possible_incident"]["incident_id"] == "r-c"
