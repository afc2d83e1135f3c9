"""The router through its real app and database (SQLite and PostgreSQL): events in through the consumer's
handling path, events out through the outbox, decisions over HTTP."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import update

from router.routing.models import Routing
from tests.integration.router.conftest import Router, received, ticket_event
from tests.support import bearer, consumer_records


async def test_a_new_report_is_routed_once_and_dispatched_per_department(router: Router) -> None:
    event = received("r-gas", "楼道里燃气味很大，邻居家好像漏气了")
    assert await router.deliver(event)
    out = await router.outbox("r-gas")
    assert [(t, ty) for t, ty, _ in out] == [("dept.gas", "ticket.dispatched.v1"), ("dept.fire", "ticket.dispatched.v1"),
                                             ("reports.routed", "report.routed.v1")]
    assert [d["role"] for _, _, d in out[:2]] == ["lead", "assisting"]
    assert out[2][2]["departments"] == ["gas", "fire"] and out[2][2]["priority"] == "P1"
    assert not await router.deliver(event)  # redelivered: nothing new
    assert len(await router.outbox("r-gas")) == 3

    r = await router.client.get("/v1/routings/r-gas", headers=bearer(router.keys["centre_operator"]))
    assert r.status_code == 200 and r.json()["lead"] == "gas" and r.json()["attempts"][0]["trigger"] == "received"
    assert (await router.client.get("/v1/routings/r-gas", headers=bearer(router.keys["call_centre"]))).status_code == 403
    missing = await router.client.get("/v1/routings/nope", headers=bearer(router.keys["centre_operator"]))
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_a_report_announced_again_gets_its_decision_again_not_a_second_routing(router: Router) -> None:
    await router.deliver(received("r-1", "垃圾桶三天没人清理了，臭气熏天"))
    await router.clear_outbox()
    await router.deliver(received("r-1", "垃圾桶三天没人清理了，臭气熏天"))  # a new event id: intake re-announced
    assert [ty for _, ty, _ in await router.outbox("r-1")] == ["report.routed.v1"]


async def test_in_one_batch_a_re_announced_report_is_not_routed_again_and_a_new_one_is(
        router: Router, caplog: pytest.LogCaptureFixture) -> None:
    """A batch's routings are loaded in one query before handling (and known absent when not found): a stored
    routing must still be found, and a new report still routed."""
    await router.deliver(received("r-old", "垃圾桶三天没人清理了，臭气熏天"))
    await router.clear_outbox()
    records = consumer_records("reports.received", [received("r-old", "垃圾桶三天没人清理了，臭气熏天"),
                                                    received("r-new", "楼道里燃气味很大，邻居家好像漏气了")])
    with caplog.at_level("INFO"):
        await router.runtime.consumer.handle_batch(records)
    assert not [r for r in caplog.records if "batch failed" in r.getMessage()]  # one transaction did it
    assert [ty for _, ty, _ in await router.outbox("r-old")] == ["report.routed.v1"]
    assert await router.dispatched("r-new") == ["gas", "fire"]
    r = await router.client.get("/v1/routings/r-old", headers=bearer(router.keys["centre_operator"]))
    assert [a["trigger"] for a in r.json()["attempts"]] == ["received"]


async def test_unconfirmed_dispatches_are_sent_again_until_the_ticket_is_seen(router: Router) -> None:
    await router.deliver(received("r-2", "楼道里燃气味很大，邻居家好像漏气了"))
    await router.clear_outbox()
    await router.deliver(ticket_event("r-2", "gas", "new", "created", 1))  # gas confirmed, fire not yet
    async with router.runtime.sessions() as s, s.begin():  # its retry is due now
        await s.execute(update(Routing).values(next_redispatch_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
    assert await router.runtime.sweep_once() == 1
    assert [t for t, _, _ in await router.outbox("r-2")] == ["dept.fire"]
    await router.deliver(ticket_event("r-2", "fire", "new", "created", 1))
    async with router.runtime.sessions() as s:
        routing = await s.get(Routing, "r-2")
        assert routing is not None and routing.next_redispatch_at is None and sorted(routing.confirmed) == ["fire", "gas"]


async def test_a_transfer_reroutes_without_the_refusing_department(router: Router) -> None:
    text = "楼道里燃气味很大，邻居家好像漏气了"
    await router.deliver(received("r-3", text))
    first = (await router.routed("r-3"))[0]
    await router.clear_outbox()
    refused = first["lead"]
    await router.deliver(ticket_event("r-3", refused, "transferred", "transfer", 4, reason="not ours"))
    out = await router.outbox("r-3")
    dispatched = [d["department"] for t, ty, d in out if ty == "ticket.dispatched.v1"]
    routed = next(d for _, ty, d in out if ty == "report.routed.v1")
    assert refused not in dispatched and refused not in routed["departments"]
    assert routed["attempt"] == 2 and routed["excluded"] == [refused] and routed["trigger"] == "transfer"
    # the departments still on it stay; the new lead (or triage) comes from the classifier without the refuser
    still_on_it = [d for d in first["departments"] if d != refused]
    assert set(still_on_it) <= set(routed["departments"])
    if routed["needs_review"]:  # the lead refused: a department still on it leads meanwhile (told so); a P1's
        # suggested departments do not wait for the operator either
        assert routed["lead"] == still_on_it[0] and set(still_on_it) <= set(dispatched)
        assert set(dispatched) - set(still_on_it) == set(routed["dispatched"])
        assert routed["priority"] == "P1" or routed["dispatched"] == []
    else:  # new tickets for the new departments; the departments still on it are told their new role
        assert routed["lead"] != refused
        assert set(routed["dispatched"]) == set(routed["departments"]) - set(first["departments"])
        assert set(dispatched) == set(routed["departments"])
    await router.deliver(ticket_event("r-3", refused, "transferred", "transfer", 4, reason="not ours"))
    assert len(await router.outbox("r-3")) == len(out)  # the same refusal again changes nothing


async def test_the_registry_is_listed_with_presence(router: Router) -> None:
    r = await router.client.get("/v1/departments", headers=bearer(router.keys["call_centre"]))
    rows = {d["code"]: d for d in r.json()}
    assert len(rows) == 21 and rows["heating"]["mode"] == "seasonal" and rows["heating"]["fallback"] == "housing"
    assert rows["water"]["topic"] == "dept.water" and rows["water"]["routable_now"] is True
    assert (await router.client.get("/v1/departments")).status_code == 401


async def test_dispatches_are_sent_again_only_when_departments_are_not_busy_with_earlier_ones(router: Router) -> None:
    """Departments that fell behind are not sent their backlog again; a dispatch they skipped past is, and every
    unconfirmed one once they confirm nothing for the redelivery delay."""
    texts = {"r-a": "我们小区3号楼门口的自来水管爆了，水一直往外冒", "r-b": "垃圾桶三天没人清理了，臭气熏天",
             "r-c": "Caller states the street light outside 12 Elm Street has been out for a week"}
    for report_id, text in texts.items():  # routed in this order
        await router.deliver(received(report_id, text))
    dispatched = {r: await router.dispatched(r) for r in texts}
    assert all(dispatched.values())
    await router.clear_outbox()
    for department in dispatched["r-b"]:  # r-b's tickets opened: r-a was skipped past
        await router.deliver(ticket_event("r-b", department, "new", "created", 1))
    async with router.runtime.sessions() as s, s.begin():
        await s.execute(update(Routing).values(next_redispatch_at=datetime(2000, 1, 1, tzinfo=timezone.utc)))
    assert await router.runtime.sweep_once() == len(dispatched["r-a"])
    assert [k for k in texts if await router.outbox(k)] == ["r-a"]
    # no ticket seen for the redelivery delay
    router.app.state.departments_progress.last_confirmation -= router.runtime.settings.redelivery_after_s + 1
    assert await router.runtime.sweep_once() == len(dispatched["r-c"])
    assert [k for k in texts if await router.outbox(k)] == ["r-a", "r-c"]
