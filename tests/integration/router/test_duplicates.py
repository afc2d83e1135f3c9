"""Duplicate incidents: another caller's report of an incident already routed (same lead, same place, similar
text, within the window) is linked to the first report instead of opening new tickets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sqlalchemy import text

from shared.events import Location
from tests.integration.router.conftest import Router, received, ticket_event
from tests.support import consumer_records

FIRE = "幸福路18号3号楼着火了，浓烟很大，火很大"
FIRE_AGAIN = "幸福路18号3号楼着火了，浓烟滚滚，火很大"
OTHER_FIRE = "垃圾堆起火冒烟"  # fire too, but another incident
HERE = Location(address="18 Xingfu Road", lat=30.6586, lon=104.0648)
NEXT_DOOR = Location(address="20 Xingfu Road", lat=30.6590, lon=104.0650)  # ~50 m away
ACROSS_TOWN = Location(address="3 Renmin Road", lat=30.7000, lon=104.1000)  # ~5.7 km away


async def linked_events(router: Router, incident_id: str) -> list[tuple[str, dict[str, object]]]:
    return [(t, d) for t, ty, d in await router.outbox(incident_id) if ty == "incident.report_linked.v1"]


async def test_a_second_caller_is_linked_to_the_first_report_instead_of_new_tickets(router: Router) -> None:
    await router.deliver(received("r-1", FIRE, location=HERE))
    first = await router.dispatched("r-1")
    assert first and first[0] == "fire"

    await router.deliver(received("r-2", FIRE_AGAIN, location=NEXT_DOOR))
    assert await router.dispatched("r-2") == []  # no tickets of its own
    routed = (await router.routed("r-2"))[0]
    assert routed["linked"] is True and routed["incident_id"] == "r-1" and routed["trigger"] == "linked"
    assert routed["lead"] == "fire" and routed["dispatched"] == [] and routed["needs_review"] is False
    events = await linked_events(router, "r-1")
    assert sorted(t for t, _ in events) == sorted(f"dept.{d}" for d in first)
    assert all(d["callers"] == 2 and d["report_id"] == "r-2" and d["incident_id"] == "r-1" for _, d in events)

    await router.deliver(received("r-3", FIRE, location=Location(grid_id="G-1", address="18 xingfu road")))
    assert all(d["callers"] == 3 for t, d in (await linked_events(router, "r-1"))[len(first):])

    r = await router.client.get("/v1/routings/r-2", headers=router.auth("centre_operator"))
    assert r.json()["state"] == "linked" and r.json()["incident_id"] == "r-1"
    assert r.json()["attempts"][0]["trigger"] == "linked to incident r-1"
    incident = await router.client.get("/v1/routings/r-1", headers=router.auth("centre_operator"))
    assert incident.json()["callers"] == 3 and incident.json()["state"] == "routed"


async def test_far_away_dissimilar_late_or_closed_reports_open_their_own_tickets(router: Router) -> None:
    start = datetime.now(timezone.utc) - timedelta(hours=5)
    await router.deliver(received("r-a", FIRE, location=HERE, at=start))
    await router.deliver(received("r-far", FIRE_AGAIN, location=ACROSS_TOWN, at=start + timedelta(minutes=5)))
    await router.deliver(received("r-other", OTHER_FIRE, location=HERE, at=start + timedelta(minutes=6)))
    await router.deliver(received("r-nowhere", FIRE_AGAIN, location=Location(), at=start + timedelta(minutes=7)))
    await router.deliver(received("r-late", FIRE_AGAIN, location=HERE, at=start + timedelta(hours=4)))
    for report_id in ("r-far", "r-other", "r-nowhere", "r-late"):
        assert "fire" in await router.dispatched(report_id), report_id
        assert (await router.routed(report_id))[0]["linked"] is False

    # r-late (an hour ago) is an incident of its own; once every ticket of it is closed, a new caller opens a new one
    for seq, (state, action) in enumerate([("new", "created"), ("resolved", "resolve"), ("closed", "close")], 1):
        for department in await router.dispatched("r-late"):
            await router.deliver(ticket_event("r-late", department, state, action, seq))
    await router.deliver(received("r-after", FIRE_AGAIN, location=HERE))
    assert "fire" in await router.dispatched("r-after")
    assert await linked_events(router, "r-late") == []


async def test_unsure_reports_are_not_linked(router: Router) -> None:
    await router.deliver(received("r-g1", "zxqv blorp wuggle frmp", location=HERE))
    await router.deliver(received("r-g2", "zxqv blorp wuggle frmp", location=HERE))
    assert (await router.routed("r-g2"))[0]["needs_review"] is True
    assert (await router.routed("r-g2"))[0]["linked"] is False


async def test_an_operator_unlinks_a_report_and_it_is_routed_on_its_own(router: Router) -> None:
    await router.deliver(received("r-i", FIRE, location=HERE))
    await router.deliver(received("r-l", FIRE_AGAIN, location=NEXT_DOOR))
    await router.deliver(received("r-m", FIRE, location=HERE))
    assert await router.dispatched("r-l") == []
    url = "/v1/routings/{}/unlink"

    r = await router.client.post(url.format("r-l"), json={"reason": "the building across the road"},
                                 headers=router.auth("centre_operator"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "routed" and body["incident_id"] is None and body["attempt"] == 2
    last = body["attempts"][-1]
    assert last["trigger"] == "unlinked from incident r-i" and last["reason"] == "the building across the road"
    assert last["actor_name"] == "centre_operator key"
    assert "fire" in await router.dispatched("r-l")  # its own tickets now
    announced = (await router.routed("r-l"))[-1]
    assert announced["linked"] is False and announced["incident_id"] is None and announced["trigger"] == "unlinked"
    unlinked = [d for _, ty, d in await router.outbox("r-i") if ty == "incident.report_unlinked.v1"]
    assert unlinked and all(d["callers"] == 2 and d["report_id"] == "r-l" for d in unlinked)
    links = [d for _, ty, d in await router.outbox("r-i") if ty == "incident.report_linked.v1"]
    assert max(d["sequence"] for d in links) < min(d["sequence"] for d in unlinked)
    incident = await router.client.get("/v1/routings/r-i", headers=router.auth("centre_operator"))
    assert incident.json()["callers"] == 2

    again = await router.client.post(url.format("r-l"), json={"reason": "again"}, headers=router.auth("admin"))
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert (await router.client.post(url.format("nope"), json={"reason": "x"},
                                     headers=router.auth("centre_operator"))).status_code == 404
    assert (await router.client.post(url.format("r-m"), json={"reason": ""},
                                     headers=router.auth("centre_operator"))).status_code == 422
    assert (await router.client.post(url.format("r-m"), json={"reason": "x"},
                                     headers=router.auth("call_centre"))).status_code == 403
    assert (await router.client.get("/v1/routings/r-m", headers=router.auth("admin"))).json()["state"] == "linked"


async def test_classify_names_the_open_incident_a_caller_is_probably_reporting(router: Router) -> None:
    await router.deliver(received("r-c", FIRE, location=HERE))
    here = {"address": HERE.address, "lat": HERE.lat, "lon": HERE.lon}
    r = await router.client.post("/v1/classify", json={"text": FIRE_AGAIN, "location": here},
                                 headers=router.auth("call_centre"))
    assert r.status_code == 200, r.text
    incident = r.json()["possible_incident"]
    assert incident["incident_id"] == "r-c" and incident["callers"] == 1 and 0 < incident["similarity"] <= 1
    far = {"lat": ACROSS_TOWN.lat, "lon": ACROSS_TOWN.lon}
    for body in ({"text": FIRE_AGAIN}, {"text": FIRE_AGAIN, "location": far}, {"text": OTHER_FIRE, "location": here}):
        r = await router.client.post("/v1/classify", json=body, headers=router.auth("call_centre"))
        assert r.json()["possible_incident"] is None, body
    assert [ty for _, ty, _ in await router.outbox("r-c")].count("incident.report_linked.v1") == 0  # stateless


async def test_one_consumer_batch_routes_a_report_once_and_links_its_duplicate(
        router: Router, caplog: pytest.LogCaptureFixture) -> None:
    events = [received("r-b1", FIRE, location=HERE), received("r-b1", FIRE, location=HERE),  # re-announced
              received("r-b2", FIRE_AGAIN, location=NEXT_DOOR)]
    records = consumer_records("reports.received", events)
    with caplog.at_level("INFO"):
        await router.runtime.consumer.handle_batch(records)
    assert not [getattr(r, "error", "") for r in caplog.records if "batch failed" in r.getMessage()]  # one tx
    assert "fire" in await router.dispatched("r-b1") and await router.dispatched("r-b2") == []
    assert (await router.routed("r-b2"))[0]["incident_id"] == "r-b1"


async def test_a_caller_across_a_cell_border_is_linked_and_the_lookup_seeks_the_place_indexes(router: Router) -> None:
    south = Location(address="1 Border Road", lat=30.6595, lon=104.0648)  # cell 3065; 30.66 is the border
    north = Location(address="2 Border Road", lat=30.6604, lon=104.0648)  # cell 3066, about 100 m north
    await router.deliver(received("b-1", FIRE, location=south))
    await router.deliver(received("b-2", FIRE_AGAIN, location=north))
    routed = (await router.routed("b-2"))[0]
    assert routed["linked"] is True and routed["incident_id"] == "b-1"

    async with router.runtime.sessions() as session:
        if session.bind.dialect.name != "sqlite":
            return  # PostgreSQL plans by its statistics; the SQLite plan is the one with no statistics to go by
        plans = []  # bound parameters, as the service queries (SQLite plans without knowing the values)
        four_cells = {"c1": "3065:10406", "c2": "3065:10407", "c3": "3066:10406", "c4": "3066:10407"}  # a corner
        for where, params in (("cell IN (:c1, :c2, :c3, :c4) AND lat BETWEEN :a AND :b AND lon BETWEEN :c AND :d",
                               {**four_cells, "a": 30, "b": 31, "c": 104, "d": 105}),
                              ("grid_id = :g", {"g": "G-1"}), ("address_key = :k", {"k": "2borderroad"})):
            rows = (await session.execute(text(
                f"EXPLAIN QUERY PLAN SELECT report_id FROM routings WHERE {where} AND lead = :lead "
                "AND received_at >= :since AND received_at <= :until AND state = :state "
                "AND incident_open IS 1 ORDER BY received_at DESC LIMIT 50"),
                {**params, "lead": "fire", "since": "2000-01-01", "until": "2100-01-01", "state": "routed"})).all()
            plans.append(" ".join(str(r[-1]) for r in rows))
    assert "ix_routings_cell_lead_received_at" in plans[0], plans[0]
    assert "ix_routings_grid_lead_received_at" in plans[1], plans[1]
    assert "ix_routings_address_lead_received_at" in plans[2], plans[2]


async def test_a_linked_caller_who_adds_urgency_or_a_department_escalates_the_incident(router: Router) -> None:
    """The second caller is linked (no tickets of their own), but what they add is not lost: the incident takes the
    more urgent priority and the departments it lacked (police here), as its next routing attempt."""
    leak = "Water pipe leaking on Heping Street, some water on the road"
    await router.deliver(received("r-w1", leak, location=HERE))
    assert await router.dispatched("r-w1") == ["water"]
    assert (await router.routed("r-w1"))[0]["priority"] == "P3"

    await router.clear_outbox()
    await router.deliver(received("r-w2", "Water pipe leaking on Heping Street, water on the road, and a man is "
                                          "smashing car windows with a bat next to it", location=NEXT_DOOR))
    assert (await router.routed("r-w2"))[0]["linked"] is True  # linked all the same: one incident
    escalated = (await router.routed("r-w1"))[-1]
    assert escalated["attempt"] == 2 and escalated["trigger"] == "escalated" and escalated["police"] is True
    assert escalated["departments"] == ["water", "police"] and escalated["dispatched"] == ["police"]
    assert escalated["priority"] == "P2"
    dispatches = [d for _, ty, d in await router.outbox("r-w1") if ty == "ticket.dispatched.v1"]
    assert sorted((d["department"], d["role"], d["priority"], d["attempt"]) for d in dispatches) == [
        ("police", "assisting", "P2", 2), ("water", "lead", "P2", 2)]  # water's ticket takes the new priority
    history = (await router.client.get("/v1/routings/r-w1", headers=router.auth("admin"))).json()
    assert history["attempts"][-1]["trigger"] == "another caller's report r-w2 adds priority P2, police"

    await router.clear_outbox()  # a third caller who adds nothing changes nothing on the incident
    await router.deliver(received("r-w3", leak, location=HERE))
    assert (await router.routed("r-w3"))[0]["linked"] is True and await router.routed("r-w1") == []
    # the first linked caller's routing shows the incident as it is now, not as it was when they were linked
    linked = (await router.client.get("/v1/routings/r-w2", headers=router.auth("admin"))).json()
    assert (linked["state"], linked["incident_id"], linked["lead"], linked["departments"], linked["priority"],
            linked["police"], linked["callers"]) == ("linked", "r-w1", "water", ["water", "police"], "P2", True, 3)

    # police hands its ticket back: the incident is re-read from the first caller's text (P3 alone), but the
    # urgency another caller added stays
    await router.deliver(ticket_event("r-w1", "police", "transferred", "transfer", 5, reason="gone when we came"))
    rerouted = (await router.routed("r-w1"))[-1]
    assert rerouted["trigger"] == "transfer" and rerouted["excluded"] == ["police"] and rerouted["priority"] == "P2"


async def test_an_incident_closed_earlier_in_the_same_batch_takes_no_linked_caller(router: Router) -> None:
    """The candidate query runs before the batch's earlier events are flushed: the incident is checked again once
    locked, so a repeat that arrives just after its incident was resolved opens its own tickets."""
    leak = "Water pipe leaking on Heping Street, some water on the road"
    await router.deliver(received("r-c1", leak, location=HERE))
    records = consumer_records("tickets.events", [ticket_event("r-c1", "water", "resolved", "resolve", 2)])
    records += consumer_records("reports.received", [received("r-c2", leak, location=NEXT_DOOR)])
    assert router.runtime.consumer is not None
    await router.runtime.consumer.handle_batch(records)
    assert (await router.routed("r-c2"))[0]["linked"] is False and await router.dispatched("r-c2") == ["water"]
