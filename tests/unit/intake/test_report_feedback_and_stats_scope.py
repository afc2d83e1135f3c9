"""The report's call-back rules and the statistics' scope and window, without I/O."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from intake.reports.models import Report, ReportNotClosed
from intake.stats.service import scope, window
from shared.identity import Principal
from shared.problems import Forbidden, InvalidInput
from shared.registry import load_registry

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


def closed_report() -> Report:
    report = Report(id="r1", text="x", channel="phone_12345", status="received", routing_attempt=0, reopen_count=0,
                    reopen_pending=False, created_at=T0, updated_at=T0, departments=[], tickets=[], timeline=[])
    report.apply_routing(attempt=1, police=False, departments=["water", "transport"], lead="water", priority="P2",
                         dispatched=["water", "transport"], excluded=[], at=T0)
    for tid, dept, role in [("t1", "water", "lead"), ("t2", "transport", "assisting")]:
        for seq, action, to in [(1, "created", "new"), (2, "resolve", "resolved"), (3, "close", "closed")]:
            report.apply_ticket_change(ticket_id=tid, department=dept, role=role, sequence=seq, action=action,
                                       to_state=to, reason=None, at=T0)
    assert report.status == "closed"
    return report


def feedback(report: Report, satisfaction: str, comment: str | None = None) -> bool:
    return report.receive_feedback(feedback_id="f", satisfaction=satisfaction, comment=comment, actor_id="k",
                                   actor_name="12345", actor_role="call_centre", at=T0).reopen


def test_feedback_is_only_taken_on_a_closed_report() -> None:
    report = closed_report()
    report.apply_ticket_change(ticket_id="t1", department="water", role="lead", sequence=4, action="reopen",
                               to_state="reopened", reason="leak again", at=T0)
    with pytest.raises(ReportNotClosed):
        feedback(report, "satisfied")


def test_satisfied_feedback_leaves_the_report_closed() -> None:
    report = closed_report()
    assert feedback(report, "basically_satisfied") is False
    assert (report.status, report.reopen_count, report.reopen_pending) == ("closed", 0, False)


def test_dissatisfied_feedback_reopens_until_the_lead_ticket_reopens_and_counts_once() -> None:
    report = closed_report()
    assert feedback(report, "dissatisfied", "still leaking") is True
    assert (report.status, report.reopen_count) == ("reopened", 1)
    assert [e.detail for e in report.take_new_timeline() if e.kind == "feedback"] == [
        "feedback: dissatisfied — still leaking (by 12345)"]
    # a change of another ticket does not undo the reopening
    report.apply_ticket_change(ticket_id="t2", department="transport", role="assisting", sequence=4, action="note",
                               to_state="closed", reason=None, at=T0)
    assert report.status == "reopened"
    report.apply_ticket_change(ticket_id="t1", department="water", role="lead", sequence=4, action="reopen",
                               to_state="reopened", reason="still leaking", at=T0)
    assert (report.status, report.reopen_count, report.reopen_pending) == ("in_progress", 1, False)


def test_a_reopen_nobody_asked_for_by_call_back_counts_too() -> None:
    report = closed_report()
    report.apply_ticket_change(ticket_id="t2", department="transport", role="assisting", sequence=4,
                               action="reopen", to_state="reopened", reason="x", at=T0)
    assert report.reopen_count == 1 and report.resolved_at == T0


REGISTRY = load_registry()


@pytest.mark.parametrize("role, department, asked, expected", [
    ("centre_operator", None, None, None),
    ("admin", None, "gas", "gas"),
    ("department_supervisor", "water", None, "water"),
    ("department_supervisor", "water", "water", "water"),
])
def test_who_sees_which_department(role: str, department: str | None, asked: str | None, expected: str | None
                                   ) -> None:
    assert scope(Principal("k", "n", role, department), asked, REGISTRY) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("role, department, asked, error", [
    ("department_supervisor", "water", "gas", Forbidden),
    ("department_staff", "water", None, Forbidden),
    ("call_centre", None, None, Forbidden),
    ("centre_operator", None, "atlantis", InvalidInput),
])
def test_who_does_not(role: str, department: str | None, asked: str | None, error: type[Exception]) -> None:
    with pytest.raises(error):
        scope(Principal("k", "n", role, department), asked, REGISTRY)  # type: ignore[arg-type]


def test_window_defaults_to_now_takes_naive_times_as_utc_and_refuses_from_after_to() -> None:
    w = window(None, None, T0, None)
    assert (w.start, w.end) == (None, T0)
    naive = window(datetime(2026, 11, 1), None, T0, "water")
    assert naive.start == datetime(2026, 11, 1, tzinfo=timezone.utc) and naive.department == "water"
    with pytest.raises(InvalidInput):
        window(T0, T0 - timedelta(seconds=1), T0, None)
