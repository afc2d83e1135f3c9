"""Stateless classification over HTTP, and the presence of departments: seasons, and temporary departments that
centre operators switch on and off (audited), which changes where new reports go."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.events import TicketActor, TicketAssistanceRequested, TicketAssistanceRequestedV1
from shared.registry import DEFAULT_REGISTRY_FILE
from tests.integration.router.conftest import Router, received, start_router

GAS = "楼道里燃气味很大，邻居家好像漏气了"
HEATING = "我家暖气不热，屋里很冷"
CONCERT = "演唱会活动现场人太多了，挤不动"
EVENT_SECURITY = '''
[[departments]]
code = "event_security"
name_zh = "大型活动安保"
name_en = "Event security"
mode = "temporary"
fallback = "police"
enabled_by_default = false
keywords_zh = ["演唱会", "活动现场"]
keywords_en = ["stadium", "concert"]
'''


@pytest.fixture
async def router_with_temporary(db_url: str, tmp_path: Path) -> AsyncIterator[Router]:
    """The default registry plus a temporary department (event security, fallback police), switched off."""
    registry = tmp_path / "departments.toml"
    registry.write_text(DEFAULT_REGISTRY_FILE.read_text(encoding="utf-8") + EVENT_SECURITY, encoding="utf-8")
    async with start_router(db_url, tmp_path, registry_file=registry) as r:
        yield r


# --- POST /v1/classify ---------------------------------------------------------------------------------------

async def test_classify_suggests_routing_without_storing_or_dispatching_anything(router: Router) -> None:
    for role in ("call_centre", "centre_operator"):
        r = await router.client.post("/v1/classify", json={"text": GAS, "location": {"address": "18 Xingfu Road"}},
                                     headers=router.auth(role))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["lead"] == "gas" and body["departments"][0] == "gas" and body["priority"] == "P1"
        assert body["police"] is False and body["needs_review"] is False and 0 < body["confidence"] <= 1
        assert body["departments"] == [body["lead"], *body["assisting"]] and body["explanation"]
    assert await router.outbox() == []  # stateless


async def test_classify_evaluates_presence_at_the_given_time(router: Router) -> None:
    async def lead(at: str) -> str:
        r = await router.client.post("/v1/classify", json={"text": HEATING, "at": at},
                                     headers=router.auth("call_centre"))
        assert r.status_code == 200, r.text
        return str(r.json()["lead"])

    assert await lead("2026-12-15T10:00:00+08:00") == "heating"
    assert await lead("2026-07-15T10:00:00+08:00") == "housing"  # out of season: heating's fallback


async def test_classify_refuses_bad_input_and_other_roles(router: Router) -> None:
    for body, field in [({"text": ""}, "text"), ({}, "text"), ({"text": "x" * 4001}, "text"),
                        ({"text": GAS, "at": "2026-12-15T10:00:00"}, "at"),  # no time zone
                        ({"text": GAS, "at": 0}, "at"),  # not seconds since 1970
                        ({"text": GAS, "location": {"lat": 91}}, "location.lat"),
                        ({"text": GAS, "location": {"lon": False}}, "location.lon"),  # not 0.0
                        ({"text": GAS, "location": {"lat": 31.0}}, "location"),  # lon missing
                        ({"text": GAS, "extra": 1}, "extra")]:
        r = await router.client.post("/v1/classify", json=body, headers=router.auth("call_centre"))
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", body
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    bad_json = await router.client.post("/v1/classify", content=b"{", headers={
        **router.auth("call_centre"), "content-type": "application/json"})
    assert bad_json.status_code == 400
    assert (await router.client.post("/v1/classify", json={"text": GAS})).status_code == 401
    for role in ("department_staff", "admin"):
        r = await router.client.post("/v1/classify", json={"text": GAS}, headers=router.auth(role))
        assert r.status_code == 403 and r.json()["status"] == 403


async def test_error_responses_are_documented_with_the_media_type_they_are_served_with(router: Router) -> None:
    spec = (await router.client.get("/openapi.json")).json()
    errors = [(method, path, status, set(response.get("content", {}))) for path, item in spec["paths"].items()
              for method, op in item.items() for status, response in op["responses"].items() if status[0] in "45"]
    assert len(errors) > 10
    for method, path, status, content in errors:
        assert content <= {"application/problem+json"}, (method, path, status, content)
    for path, item in spec["paths"].items():  # any body may be malformed or too large
        for method, op in item.items():
            assert "requestBody" not in op or {"400", "413"} <= set(op["responses"]), (method, path)
    r = await router.client.post("/v1/classify", json={}, headers=router.auth("call_centre"))
    documented = spec["paths"]["/v1/classify"]["post"]["responses"][str(r.status_code)]["content"]
    assert r.headers["content-type"] in documented


# --- presence -------------------------------------------------------------------------------------------------

async def test_departments_list_presence_at_a_given_time(router: Router) -> None:
    async def heating(at: str) -> dict[str, object]:
        r = await router.client.get("/v1/departments", params={"at": at}, headers=router.auth("call_centre"))
        assert r.status_code == 200, r.text
        return next(d for d in r.json() if d["code"] == "heating")

    winter, summer = await heating("2026-12-15T10:00:00+08:00"), await heating("2026-07-15T10:00:00+08:00")
    assert winter["routable_now"] is True and winter["routes_to"] == "heating"
    assert summer["routable_now"] is False and summer["routes_to"] == "housing"
    assert summer["season"] == ["11-01", "03-31"] and summer["switched_on"] is None
    for at in ("not a time", "0.5"):
        r = await router.client.get("/v1/departments", params={"at": at}, headers=router.auth("call_centre"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "at", at


async def test_switching_a_temporary_department_changes_routing_and_is_audited(router_with_temporary: Router
                                                                               ) -> None:
    router = router_with_temporary
    listed = {d["code"]: d for d in (await router.client.get("/v1/departments",
                                                             headers=router.auth("call_centre"))).json()}
    off = listed["event_security"]
    assert off["mode"] == "temporary" and off["switched_on"] is False and off["routable_now"] is False
    assert off["routes_to"] == "police" and off["last_switch"] is None

    await router.deliver(received("r-before", CONCERT))
    assert (await router.routed("r-before"))[0]["lead"] != "event_security"

    r = await router.client.put("/v1/departments/event_security/presence",
                                json={"enabled": True, "reason": "city marathon"},
                                headers=router.auth("centre_operator"))
    assert r.status_code == 200, r.text
    on = r.json()
    assert on["switched_on"] is True and on["routable_now"] is True and on["routes_to"] == "event_security"
    assert on["last_switch"]["reason"] == "city marathon" and on["last_switch"]["changed_by_name"] == \
        "centre_operator key"

    await router.deliver(received("r-after", CONCERT))
    # the operators' terms route to the department switched on (the model never saw it); a crowd may add police
    assert (await router.routed("r-after"))[0]["lead"] == "event_security"
    assert (await router.dispatched("r-after"))[0] == "event_security"
    suggested = await router.client.post("/v1/classify", json={"text": CONCERT}, headers=router.auth("call_centre"))
    assert suggested.json()["lead"] == "event_security"

    # the same state again records nothing; switching off is audited too (by an admin)
    await router.client.put("/v1/departments/event_security/presence", json={"enabled": True, "reason": "again"},
                            headers=router.auth("centre_operator"))
    r = await router.client.put("/v1/departments/event_security/presence",
                                json={"enabled": False, "reason": "marathon over"}, headers=router.auth("admin"))
    assert r.status_code == 200 and r.json()["routable_now"] is False
    await router.deliver(received("r-later", CONCERT))
    assert "event_security" not in await router.dispatched("r-later")

    audit = await router.client.get("/v1/departments/event_security/presence/audit",
                                    headers=router.auth("centre_operator"))
    assert audit.status_code == 200
    assert [(e["from_enabled"], e["to_enabled"], e["reason"], e["actor_role"]) for e in audit.json()] == [
        (False, True, "city marathon", "centre_operator"), (True, False, "marathon over", "admin")]
    assert all(e["actor_id"] and e["at"] for e in audit.json())


async def test_a_department_asked_to_assist_while_switched_off_is_asked_through_its_fallback(
        router_with_temporary: Router) -> None:
    """Presence applies at dispatch, also when the lead asks for help: event security is switched off, so its
    fallback (police) assists instead of a ticket no one on duty would read."""
    router = router_with_temporary
    await router.deliver(received("r-assist", "我们小区3号楼门口的自来水管爆了，水一直往外冒"))
    assert await router.dispatched("r-assist") == ["water"]

    def asked(department: str) -> TicketAssistanceRequested:
        return TicketAssistanceRequested(source="/test", subject="r-assist", data=TicketAssistanceRequestedV1(
            ticket_id="t-r-assist-water", report_id="r-assist", lead_department="water", department=department,
            reason="crowd at the flooded gate", actor=TicketActor(id="k", name="n", role="department_staff"),
            requested_at=datetime.now(timezone.utc)))

    await router.deliver(asked("event_security"))
    assert await router.dispatched("r-assist") == ["water", "police"]
    routed = (await router.routed("r-assist"))[-1]
    assert routed["assisting"] == ["police"] and routed["police"] is True

    await router.client.put("/v1/departments/event_security/presence", json={"enabled": True, "reason": "fair"},
                            headers=router.auth("centre_operator"))
    await router.deliver(asked("event_security"))  # switched on now: itself
    assert await router.dispatched("r-assist") == ["water", "police", "event_security"]


async def test_presence_applies_at_dispatch_not_when_it_happened(db_url: str, tmp_path: Path) -> None:
    """Heating's season is made the days around today: a failure that happened two months ago, reported now, is
    heating's (it is on duty now), not its fallback's as it was when the report's occurred_at placed it."""
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Shanghai"))
    start, end = ((today + timedelta(days=d)).strftime("%m-%d") for d in (-2, 2))
    registry = tmp_path / "departments.toml"
    registry.write_text(DEFAULT_REGISTRY_FILE.read_text(encoding="utf-8")
                        .replace('season_start = "11-01"', f'season_start = "{start}"')
                        .replace('season_end = "03-31"', f'season_end = "{end}"'), encoding="utf-8")
    async with start_router(db_url, tmp_path, registry_file=registry) as router:
        event = received("r-late", HEATING)
        event = event.model_copy(update={"data": event.data.model_copy(update={
            "occurred_at": datetime.now(timezone.utc) - timedelta(days=60)})})
        await router.deliver(event)
        assert (await router.routed("r-late"))[0]["lead"] == "heating"


async def test_presence_switch_refuses_what_cannot_be_switched(router_with_temporary: Router) -> None:
    router = router_with_temporary
    url = "/v1/departments/{}/presence"
    ok = {"enabled": True, "reason": "because"}
    for code in ("water", "heating"):  # permanent, seasonal
        r = await router.client.put(url.format(code), json=ok, headers=router.auth("centre_operator"))
        assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json", r.text
    r = await router.client.put(url.format("nope"), json=ok, headers=router.auth("centre_operator"))
    assert r.status_code == 404
    assert (await router.client.get(url.format("nope") + "/audit",
                                    headers=router.auth("centre_operator"))).status_code == 404
    for body in ({"enabled": True}, {"enabled": True, "reason": "  "}, {"enabled": "maybe", "reason": "x"}):
        r = await router.client.put(url.format("event_security"), json=body, headers=router.auth("centre_operator"))
        assert r.status_code == 422, body
    for role in ("call_centre", "department_staff"):
        r = await router.client.put(url.format("event_security"), json=ok, headers=router.auth(role))
        assert r.status_code == 403
        assert (await router.client.get(url.format("event_security") + "/audit",
                                        headers=router.auth(role))).status_code == 403
    assert (await router.client.put(url.format("event_security"), json=ok)).status_code == 401
    audit = await router.client.get(url.format("event_security") + "/audit", headers=router.auth("centre_operator"))
    assert audit.json() == []  # nothing half-written
