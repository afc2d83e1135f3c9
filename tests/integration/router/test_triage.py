"""The triage queue: decisions the classifier is not sure about wait for a centre operator instead of being guessed;
a possible police matter reaches police meanwhile; the operator's choice is dispatched and audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from router.routing.classifier import KeywordClassifier, RoutingDecision
from router.routing.models import Routing
from shared.registry import Registry
from tests.integration.router.conftest import Router, received, start_router, ticket_event

GIBBERISH = "zxqv blorp wuggle frmp"  # nothing any classifier can place
UNSURE_POLICE = "scripted: maybe a theft, maybe a power cut"
GARBAGE = "垃圾桶三天没人清理了，臭气熏天"
BINS_MAYBE_POLICE = "scripted: bins not collected, maybe the lids were stolen"
GAS_STAIRWELL = "scripted: strong smell of gas in the stairwell"


class ScriptedClassifier:
    """The keyword classifier, except for one scripted text it is unsure about and that may be a police matter:
    pins the service's handling of ``dispatch_while_review`` whatever the real classifier decides."""

    name = "scripted-v1"

    def __init__(self, registry: Registry) -> None:
        self.inner = KeywordClassifier(registry)

    def classify(self, text: str, *, at: datetime | None = None, exclude: frozenset[str] = frozenset(),
                 switched_on: frozenset[str] = frozenset()) -> RoutingDecision:
        if text == BINS_MAYBE_POLICE:  # sure of sanitation; only the police question is open, until police refuses
            if "police" in exclude:
                return RoutingDecision(police=False, lead="sanitation", assisting=(), priority="P3", confidence=0.9,
                                       explanation="scripted: sure", needs_review=False, classifier=self.name)
            return RoutingDecision(police=False, lead="sanitation", assisting=(), priority="P3", confidence=0.9,
                                   explanation="scripted: maybe police", needs_review=True, classifier=self.name,
                                   dispatch_while_review=("sanitation", "police"))
        if text == GAS_STAIRWELL:  # gas leads, fire assists; without gas the classifier is unsure (housing?)
            if "gas" in exclude:
                return RoutingDecision(police=False, lead="housing", assisting=(), priority="P3", confidence=0.3,
                                       explanation="scripted: unsure", needs_review=True, classifier=self.name)
            return RoutingDecision(police=False, lead="gas", assisting=("fire",), priority="P1", confidence=0.9,
                                   explanation="scripted: joint", needs_review=False, classifier=self.name)
        if text != UNSURE_POLICE:
            return self.inner.classify(text, at=at, exclude=exclude, switched_on=switched_on)
        return RoutingDecision(police=True, lead="police", assisting=("power",), priority="P2", confidence=0.3,
                               explanation="scripted: unsure", needs_review=True, classifier=self.name,
                               dispatch_while_review=() if "police" in exclude else ("police",))


@pytest.fixture
async def router(db_url: str, tmp_path: Path) -> AsyncIterator[Router]:
    """The service's triage handling, pinned with the registry rules alone: the routing engine sends even a text it
    cannot read to police while it waits (a possible police matter); its own decisions are tested in
    tests/unit/router/test_engine.py."""
    async with start_router(db_url, tmp_path, classifier_factory=KeywordClassifier) as r:
        yield r


@pytest.fixture
async def scripted_router(db_url: str, tmp_path: Path) -> AsyncIterator[Router]:
    async with start_router(db_url, tmp_path, classifier_factory=ScriptedClassifier) as r:
        yield r


async def triage(router: Router, **params: Any) -> dict[str, Any]:
    r = await router.client.get("/v1/triage", params=params, headers=router.auth("centre_operator"))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def route(router: Router, report_id: str, body: dict[str, Any], role: str = "centre_operator") -> Any:
    return await router.client.post(f"/v1/triage/{report_id}/route", json=body, headers=router.auth(role))


async def test_an_unplaceable_report_waits_in_triage_until_an_operator_routes_it(router: Router) -> None:
    await router.deliver(received("r-t", GIBBERISH))
    assert await router.dispatched("r-t") == []  # not guessed
    routed = await router.routed("r-t")
    assert len(routed) == 1 and routed[0]["needs_review"] is True and routed[0]["dispatched"] == []

    page = await triage(router)
    assert [i["report_id"] for i in page["items"]] == ["r-t"] and page["next_cursor"] is None
    item = page["items"][0]
    assert item["text"] == GIBBERISH and item["channel"] == "phone_12345" and item["location"]["address"] == "x"
    assert item["dispatched"] == [] and item["suggestion"]["confidence"] < 0.5 and item["suggestion"]["lead"]

    await router.clear_outbox()
    r = await route(router, "r-t", {"lead": "water", "assisting": ["transport"], "priority": "P2",
                                    "reason": "caller confirmed a burst main on the road"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "routed" and body["lead"] == "water" and body["departments"] == ["water", "transport"]
    assert body["needs_review"] is False and body["priority"] == "P2" and body["attempt"] == 2
    last = body["attempts"][-1]
    assert last["trigger"] == "triage" and last["actor_name"] == "centre_operator key" and last["actor_id"]
    assert last["reason"] == "caller confirmed a burst main on the road" and last["dispatched"] == ["water",
                                                                                                   "transport"]
    assert await router.dispatched("r-t") == ["water", "transport"]
    announced = (await router.routed("r-t"))[0]
    assert announced["attempt"] == 2 and announced["trigger"] == "triage" and announced["needs_review"] is False

    assert (await triage(router))["items"] == []
    again = await route(router, "r-t", {"lead": "water", "priority": "P2", "reason": "again"})
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    history = await router.client.get("/v1/routings/r-t", headers=router.auth("admin"))
    assert [a["trigger"] for a in history.json()["attempts"]] == ["received", "triage"]


async def test_a_possible_police_matter_reaches_police_while_it_waits(scripted_router: Router) -> None:
    router = scripted_router
    await router.deliver(received("r-p", UNSURE_POLICE))
    assert await router.dispatched("r-p") == ["police"]
    item = (await triage(router))["items"][0]
    assert item["dispatched"] == ["police"] and item["police"] is True

    await router.clear_outbox()
    r = await route(router, "r-p", {"lead": "power", "assisting": [], "priority": "P3", "reason": "a power cut"})
    assert r.status_code == 200, r.text
    # police keeps its ticket (it can transfer it back) and is told its new role and priority: one lead per report
    assert r.json()["departments"] == ["power", "police"] and r.json()["police"] is True
    dispatches = [d for _, ty, d in await router.outbox("r-p") if ty == "ticket.dispatched.v1"]
    assert [(d["department"], d["role"], d["lead_department"], d["priority"], d["attempt"]) for d in dispatches] == [
        ("power", "lead", "power", "P3", 2), ("police", "assisting", "power", "P3", 2)]
    announced = (await router.routed("r-p"))[-1]
    assert announced["dispatched"] == ["power"]  # the only new ticket


async def test_a_report_in_triage_leaves_it_when_a_transfer_settles_the_open_question(scripted_router: Router
                                                                                     ) -> None:
    router = scripted_router
    await router.deliver(received("r-s", BINS_MAYBE_POLICE))
    assert await router.dispatched("r-s") == ["sanitation", "police"]
    assert [i["report_id"] for i in (await triage(router))["items"]] == ["r-s"]

    await router.deliver(ticket_event("r-s", "police", "transferred", "transfer", 2, reason="not a police matter"))
    announced = (await router.routed("r-s"))[-1]
    assert announced["trigger"] == "transfer" and announced["needs_review"] is False, announced
    assert announced["lead"] == "sanitation" and announced["excluded"] == ["police"]
    assert (await triage(router))["items"] == []
    routing = (await router.client.get("/v1/routings/r-s", headers=router.auth("admin"))).json()
    assert routing["state"] == "routed" and routing["needs_review"] is False and routing["departments"] == [
        "sanitation"]


async def test_triage_routing_refuses_bad_choices_without_changing_anything(router: Router) -> None:
    await router.deliver(received("r-v", GIBBERISH))
    await router.deliver(received("r-ok", "楼道里燃气味很大，邻居家好像漏气了"))
    ok = {"lead": "water", "assisting": [], "priority": "P3", "reason": "because"}
    for body, field in [({**ok, "lead": "nope"}, "lead"), ({**ok, "assisting": ["water"]}, "assisting"),
                        ({**ok, "assisting": ["fire", "fire"]}, "assisting"), ({**ok, "priority": "P9"}, "priority"),
                        ({**ok, "reason": ""}, "reason"), ({k: v for k, v in ok.items() if k != "reason"}, "reason"),
                        ({**ok, "assisting": ["gas", "nope"]}, "assisting.1")]:
        r = await route(router, "r-v", body)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert (await route(router, "r-unknown", ok)).status_code == 404
    assert (await route(router, "r-ok", ok)).status_code == 409  # routed with confidence: not in triage
    for role in ("call_centre", "department_staff"):
        assert (await route(router, "r-v", ok, role=role)).status_code == 403
        assert (await router.client.get("/v1/triage", headers=router.auth(role))).status_code == 403
    assert (await router.client.post("/v1/triage/r-v/route", json=ok)).status_code == 401
    assert [i["report_id"] for i in (await triage(router))["items"]] == ["r-v"]  # still waiting, untouched
    assert await router.dispatched("r-v") == []


async def test_the_queue_is_oldest_first_with_cursor_pagination(router: Router) -> None:
    for n in range(3):
        await router.deliver(received(f"r-{n}", f"{GIBBERISH} {n}"))
    first = await triage(router, limit=2)
    assert [i["report_id"] for i in first["items"]] == ["r-0", "r-1"] and first["next_cursor"]
    second = await triage(router, limit=2, cursor=first["next_cursor"])
    assert [i["report_id"] for i in second["items"]] == ["r-2"] and second["next_cursor"] is None
    for params in ({"cursor": "garbage!"}, {"limit": 0}, {"limit": 201}):
        r = await router.client.get("/v1/triage", params=params, headers=router.auth("centre_operator"))
        assert r.status_code == 422, params


async def test_a_report_every_candidate_refuses_goes_to_triage(router: Router) -> None:
    await router.deliver(received("r-x", GARBAGE))
    refused: list[str] = []
    for seq in range(1, 25):  # each refusal removes a department; the registry is finite
        current = (await router.routed("r-x"))[-1]
        if current["needs_review"]:
            break
        await router.deliver(ticket_event("r-x", current["lead"], "transferred", "transfer", seq, reason="not ours"))
        refused.append(current["lead"])
    else:
        pytest.fail("never reached triage")
    assert current["excluded"] == sorted(refused) and current["trigger"] == "transfer"
    item = next(i for i in (await triage(router))["items"] if i["report_id"] == "r-x")
    assert item["excluded"] == sorted(refused) and not set(item["dispatched"]) & set(refused)
    r = await route(router, "r-x", {"lead": refused[0], "priority": "P3", "reason": "try again"})
    assert r.status_code == 422  # it refused already
    r = await route(router, "r-x", {"lead": "civil_affairs", "priority": "P3", "reason": "elderly resident"})
    assert r.status_code == 200 and "civil_affairs" in await router.dispatched("r-x")


async def test_an_update_to_an_existing_ticket_is_sent_again_until_that_ticket_answers(scripted_router: Router
                                                                                       ) -> None:
    """A broker may lose the update like any dispatch: the departments told their new role are unconfirmed until
    their ticket is seen again, and the sweep sends the update again meanwhile."""
    router = scripted_router
    await router.deliver(received("r-u", BINS_MAYBE_POLICE))
    for seq, department in enumerate(("sanitation", "police"), start=1):
        await router.deliver(ticket_event("r-u", department, "new", "created", seq))
    r = await route(router, "r-u", {"lead": "sanitation", "assisting": [], "priority": "P4", "reason": "bins"})
    assert r.status_code == 200, r.text
    await router.clear_outbox()
    # an event the ticket sent before it took the update (its old priority) does not confirm it
    stale = ticket_event("r-u", "sanitation", "acknowledged", "acknowledge", 2)
    await router.deliver(stale.model_copy(update={"data": stale.data.model_copy(update={"priority": "P3"})}))
    async with router.runtime.sessions() as s, s.begin():
        await s.execute(update(Routing).values(next_redispatch_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
    # no ticket seen for the redelivery delay (so not a department busy with earlier dispatches)
    router.app.state.departments_progress.last_confirmation -= router.runtime.settings.redelivery_after_s + 1
    assert await router.runtime.sweep_once() == 2
    again = [d for _, ty, d in await router.outbox("r-u") if ty == "ticket.dispatched.v1"]
    assert sorted((d["department"], d["attempt"], d["priority"]) for d in again) == [
        ("police", 2, "P4"), ("sanitation", 2, "P4")]
    for seq, department in enumerate(("sanitation", "police"), start=3):
        await router.deliver(ticket_event("r-u", department, "new", "reroute", seq))
    async with router.runtime.sessions() as s:
        routing = await s.get(Routing, "r-u")
        assert routing is not None and routing.next_redispatch_at is None


async def test_when_the_lead_refuses_and_the_report_waits_in_triage_a_department_on_it_leads_meanwhile(
        scripted_router: Router) -> None:
    """Gas hands a gas-and-fire report back and the classifier is unsure without gas: fire, which has a ticket,
    leads while an operator decides (its ticket learns it), instead of assisting a lead that has left."""
    router = scripted_router
    await router.deliver(received("r-g", GAS_STAIRWELL))
    assert await router.dispatched("r-g") == ["gas", "fire"]
    for seq, department in enumerate(("gas", "fire"), start=1):
        await router.deliver(ticket_event("r-g", department, "new", "created", seq))
    await router.clear_outbox()
    await router.deliver(ticket_event("r-g", "gas", "transferred", "transfer", 3, reason="no gas here"))

    routed = (await router.routed("r-g"))[-1]
    assert routed["needs_review"] and routed["lead"] == "fire" and routed["excluded"] == ["gas"]
    assert "fire leads until an operator decides (suggested: housing)" in routed["explanation"]
    updates = [d for _, ty, d in await router.outbox("r-g") if ty == "ticket.dispatched.v1"]
    # an unsure re-reading (P3) does not slow the P1's clocks while an operator looks
    assert [(d["department"], d["role"], d["lead_department"], d["priority"]) for d in updates] == [
        ("fire", "lead", "fire", "P1")]
    assert routed["priority"] == "P1"
    item = next(i for i in (await triage(router))["items"] if i["report_id"] == "r-g")
    assert item["suggestion"]["lead"] == "fire" and "housing" in item["suggestion"]["departments"]
    # a cancelled ticket does not lead, and the department leading meanwhile stays lead when another refuses
    async with router.runtime.sessions() as s:
        routing = await s.get(Routing, "r-g")
        assert routing is not None and routing.acting_lead() == "fire"
        routing.ticket_states = {**(routing.ticket_states or {}), "fire": "cancelled"}
        assert routing.acting_lead() is None
    r = await route(router, "r-g", {"lead": "housing", "assisting": [], "priority": "P1", "reason": "old pipes"})
    assert r.status_code == 200, r.text
    dispatches = [d for _, ty, d in await router.outbox("r-g") if ty == "ticket.dispatched.v1"][1:]
    assert sorted((d["department"], d["role"], d["lead_department"]) for d in dispatches) == [
        ("fire", "assisting", "housing"), ("housing", "lead", "housing")]
