"""Service-level clocks: due times from priority, registry overrides and scale; on-time flags; escalation levels;
reopen restarts the resolve clock. Pure domain, no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from departments.tickets.clocks import CENTRE_TARGETS, SlaPolicies, SlaPolicy, clock_origin
from departments.tickets.domain import SYSTEM_SLA, Actor, NotAllowedNow
from departments.tickets.models import Ticket
from shared.registry import load_registry
from tests.unit.departments.conftest import dispatch

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
STAFF = Actor(id="k1", name="Wang Fang", role="department_staff", department="water")
ROUTER = Actor(id="system:router", name="router", role="system")


def ticket(priority: str = "P1", *, sla: SlaPolicy | None = None, **overrides: object) -> Ticket:
    fields: dict[str, object] = {"priority": priority, "received_at": T0, "dispatched_at": T0 + timedelta(seconds=20)}
    fields.update(overrides)
    return Ticket.from_dispatch(dispatch(**fields), ROUTER, at=T0 + timedelta(seconds=21),
                                sla=sla or SlaPolicy({}))


@pytest.mark.parametrize("priority", ["P1", "P2", "P3", "P4"])
def test_due_times_follow_the_centre_targets_from_the_callers_receipt(priority: str) -> None:
    t = ticket(priority)
    targets = CENTRE_TARGETS[priority]
    assert t.acknowledge_due_at == T0 + timedelta(seconds=targets["acknowledge"])
    assert t.start_due_at == T0 + timedelta(seconds=targets["start"])
    assert t.resolve_due_at == T0 + timedelta(seconds=targets["resolve"])


def test_p1_is_one_minute_three_minutes_twenty_four_hours() -> None:
    t = ticket("P1")
    assert (t.acknowledge_due_at - T0, t.start_due_at - T0, t.resolve_due_at - T0) == (
        timedelta(minutes=1), timedelta(minutes=3), timedelta(hours=24))


def test_registry_overrides_replace_only_the_targets_they_name_and_the_scale_multiplies_all() -> None:
    policy = SlaPolicy({"P1": {"acknowledge": 30, "resolve": 7200}}, scale=0.01)
    t = ticket("P1", sla=policy)
    assert t.acknowledge_due_at == T0 + timedelta(seconds=0.3)
    assert t.start_due_at == T0 + timedelta(seconds=1.8)  # centre's 180 s × 0.01
    assert t.resolve_due_at == T0 + timedelta(seconds=72)


def test_the_registry_file_overrides_reach_the_department_policy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = load_registry().source.read_text(encoding="utf-8")
    custom = tmp_path / "departments.toml"
    custom.write_text(_with_sla(source, "water", "[departments.sla.P2]\nacknowledge = 120\nstart_handling = 600\n"),
                      encoding="utf-8")
    policies = SlaPolicies.from_registry(load_registry(custom), scale=2.0)
    assert policies("water").target("P2", "acknowledge") == timedelta(seconds=240)
    assert policies("water").target("P2", "start") == timedelta(seconds=1200)
    assert policies("water").target("P2", "resolve") == timedelta(hours=48)
    assert policies("gas").target("P2", "acknowledge") == timedelta(minutes=10)


def _with_sla(source: str, code: str, table: str) -> str:
    """Append an SLA sub-table to one department's [[departments]] entry (before the next entry)."""
    start = source.index(f'code = "{code}"')
    nxt = source.find("[[departments]]", start)
    nxt = nxt if nxt != -1 else source.find("[priority]", start)
    return source[:nxt] + table + "\n" + source[nxt:]


def test_a_scale_of_zero_or_less_is_refused() -> None:
    with pytest.raises(ValueError):
        SlaPolicy({}, scale=0)


def test_clocks_start_at_dispatch_for_a_later_attempt() -> None:
    assert clock_origin(received_at=T0, dispatched_at=T0 + timedelta(hours=1), attempt=1) == T0
    assert clock_origin(received_at=T0, dispatched_at=T0 + timedelta(hours=1), attempt=2) == T0 + timedelta(hours=1)
    t = ticket("P1", attempt=2)
    assert t.acknowledge_due_at == T0 + timedelta(seconds=20) + timedelta(minutes=1)


def test_steps_record_when_they_happened_and_whether_on_time() -> None:
    t = ticket("P1")
    t.acknowledge(STAFF, at=T0 + timedelta(seconds=50))
    t.start(STAFF, at=T0 + timedelta(minutes=4))
    t.resolve(STAFF, "fixed", at=T0 + timedelta(hours=2))
    clocks = t.clocks()
    assert clocks is not None
    assert (clocks.acknowledge_on_time, clocks.start_on_time, clocks.resolve_on_time) == (True, False, True)
    assert clocks.acknowledged_at == T0 + timedelta(seconds=50) and clocks.started_at == T0 + timedelta(minutes=4)
    assert t.next_escalation_at is None


def test_unmet_clocks_escalate_level_one_at_due_then_level_two_later() -> None:
    t = ticket("P1", sla=SlaPolicy({}, level2_after_s=120))
    assert t.next_escalation_at == T0 + timedelta(minutes=1)
    due = t.due_escalations(T0 + timedelta(minutes=1))
    assert [(e.clock, e.level) for e in due] == [("acknowledge", 1)]
    t.escalate(due[0], SYSTEM_SLA, at=T0 + timedelta(minutes=1))
    assert t.next_escalation_at == T0 + timedelta(minutes=3)  # start's level 1 and acknowledge's level 2 together
    later = t.due_escalations(T0 + timedelta(minutes=3))
    assert sorted((e.clock, e.level) for e in later) == [("acknowledge", 2), ("start", 1)]
    for e in later:
        t.escalate(e, SYSTEM_SLA, at=T0 + timedelta(minutes=3))
    assert t.escalation_level == 2 and t.escalated == {"acknowledge": 2, "start": 1}
    assert t.due_escalations(T0 + timedelta(minutes=3)) == []
    entries = [e for e in t.take_new_audit() if e.action == "escalate"]
    assert len(entries) == 3 and {e.actor_id for e in entries} == {"system:sla"}
    assert all(e.from_state == e.to_state == "new" for e in entries)


def test_a_done_step_stops_its_clock_from_escalating() -> None:
    t = ticket("P1")
    t.acknowledge(STAFF, at=T0 + timedelta(seconds=90))  # late, but done
    assert [e.clock for e in t.due_escalations(T0 + timedelta(minutes=2))] == []
    assert t.next_escalation_at == T0 + timedelta(minutes=3)  # start is next


def test_final_states_stop_every_clock() -> None:
    t = ticket("P1")
    t.transfer(STAFF, "not ours", at=T0 + timedelta(seconds=10))
    assert t.next_escalation_at is None and t.pending_escalations() == []
    with pytest.raises(NotAllowedNow):
        t.escalate(ticket("P1").pending_escalations()[0], SYSTEM_SLA)


def test_reopen_restarts_the_resolve_clock_and_starts_a_new_escalation_round() -> None:
    t = ticket("P1", sla=SlaPolicy({}, scale=0.001))
    t.acknowledge(STAFF, at=T0)
    t.start(STAFF, at=T0)
    [resolve] = [e for e in t.due_escalations(T0 + timedelta(hours=1)) if e.level == 1]
    t.escalate(resolve, SYSTEM_SLA, at=T0 + timedelta(hours=1))
    t.resolve(STAFF, "done", at=T0 + timedelta(hours=1))
    assert t.resolve_on_time is False
    reopened_at = T0 + timedelta(hours=2)
    t.reopen(STAFF, "leak is back", at=reopened_at)
    assert t.resolve_due_at == reopened_at + timedelta(seconds=86.4)
    assert (t.resolved_at, t.resolve_on_time, t.escalation_round) == (None, None, 1)
    assert t.started_at == T0  # the start clock keeps its history
    assert [(e.clock, e.level) for e in t.pending_escalations()] == [("resolve", 1), ("resolve", 2)]
