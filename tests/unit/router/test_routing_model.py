"""The routing entity's decisions, without I/O: triage choices, linking and unlinking, following tickets."""

from __future__ import annotations

from datetime import datetime, timezone

from router.routing.models import LINKED, ROUTED, TRIAGE, Routing

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


def routing(report_id: str = "r", **kw: object) -> Routing:
    base: dict[str, object] = dict(
        report_id=report_id, text="t", channel="web", location={}, received_at=NOW, attempt=1, police=False,
        lead="water", departments=["water"], dispatched=["water"], excluded=[], confirmed=[], redispatch_count=0,
        priority="P3", confidence=0.9, needs_review=False, explanation="", classifier="k", decided_at=NOW,
        state=ROUTED, callers=1, link_seq=0, ticket_states={}, incident_open=True)
    return Routing(**{**base, **kw})


def test_a_triage_choice_keeps_departments_already_dispatched_and_dispatches_only_new_ones() -> None:
    r = routing(lead="police", departments=["police", "power"], dispatched=["police"], state=TRIAGE)
    plan = r.plan_triage("power", [])
    assert plan.attempt == 2 and plan.lead == "power"
    assert plan.departments == ["power", "police"] and plan.dispatch == ["power"]
    refused = routing(departments=["grid"], dispatched=["sanitation", "grid"], excluded=["sanitation"], state=TRIAGE)
    assert refused.plan_triage("civil_affairs", ["gardens"]).departments == ["civil_affairs", "gardens", "grid"]


def test_waiting_in_triage_keeps_the_first_moment() -> None:
    r = routing()
    r.await_triage(NOW)
    r.await_triage(datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc))
    assert r.awaiting_triage and r.needs_review and r.triage_since == NOW


def test_linking_and_unlinking_count_callers_in_sequence() -> None:
    incident, second, third = routing("r-1"), routing("r-2", lead="fire"), routing("r-3")
    second.link_to(incident)
    third.link_to(incident)
    assert second.state == LINKED and second.incident_id == "r-1" and second.lead == "water"
    assert second.dispatched == [] and incident.callers == 3 and incident.link_seq == 2
    second.unlink_from(incident)
    assert second.state == ROUTED and second.incident_id is None
    assert incident.callers == 2 and incident.link_seq == 3


def test_an_incident_closes_when_every_active_ticket_is_done() -> None:
    r = routing(departments=["gas", "fire"], dispatched=["gas", "fire"])
    r.follow_ticket("gas", "resolved")
    assert r.incident_open  # fire has not said anything yet: its ticket counts as open
    r.follow_ticket("fire", "in_progress")
    assert r.incident_open
    r.follow_ticket("fire", "closed")
    assert not r.incident_open
    r.follow_ticket("gas", "reopened")
    assert r.incident_open
    transferred = routing(departments=["mediation"], dispatched=["sanitation", "mediation"], excluded=["sanitation"])
    transferred.follow_ticket("sanitation", "transferred")
    transferred.follow_ticket("mediation", "closed")
    assert not transferred.incident_open
