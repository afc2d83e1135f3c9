"""A linked report (another caller's report of an incident) follows its incident's routing and status, and its
call-back goes to the incident's lead department; without I/O."""

from __future__ import annotations

from datetime import datetime, timezone

from intake.reports.models import Report

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


def report(report_id: str) -> Report:
    return Report(id=report_id, text="x", channel="phone_12345", status="received", routing_attempt=0,
                  reopen_count=0, reopen_pending=False, created_at=T0, updated_at=T0, departments=[], tickets=[],
                  timeline=[])


def incident_and_linked() -> tuple[Report, Report]:
    incident, linked = report("r1"), report("r2")
    incident.apply_routing(attempt=1, police=False, departments=["water"], lead="water", priority="P2",
                           dispatched=["water"], excluded=[], at=T0)
    linked.apply_routing(attempt=1, police=False, departments=["water"], lead="water", priority="P2",
                         dispatched=[], excluded=[], at=T0, incident_id="r1", trigger="linked")
    linked.follow_incident(incident, T0)
    return incident, linked


def close(incident: Report, linked: Report, ticket: str = "t1", department: str = "water", seq: int = 1) -> None:
    for step, (action, to) in enumerate([("created", "new"), ("resolve", "resolved"), ("close", "closed")]):
        incident.apply_ticket_change(ticket_id=ticket, department=department, role="lead", sequence=seq + step,
                                     action=action, to_state=to, reason=None, at=T0)
        linked.follow_incident(incident, T0)


def test_a_linked_report_takes_its_incidents_routing_and_keeps_its_own_attempt() -> None:
    incident, linked = incident_and_linked()
    incident.apply_routing(attempt=2, police=True, departments=["housing", "police"], lead="housing",
                           priority="P1", dispatched=["housing", "police"], excluded=["water"], at=T0,
                           trigger="transfer")
    linked.follow_incident_routing(incident)
    assert [(d.department, d.role) for d in linked.departments] == [("housing", "lead"), ("police", "assisting")]
    assert (linked.police, linked.priority, linked.lead_department, linked.joint) == (True, "P1", "housing", True)
    assert linked.routing_attempt == 1  # the router's decisions about this report, not the incident's
    assert incident.last_routing_detail() is not None and "re-routed without water" in incident.last_routing_detail()


def test_a_call_back_on_a_linked_report_goes_to_the_incidents_current_lead() -> None:
    incident, linked = incident_and_linked()
    close(incident, linked)
    assert linked.status == "closed"
    feedback = linked.receive_feedback(feedback_id="f", satisfaction="dissatisfied", comment="still", actor_id="k",
                                       actor_name="12345", actor_role="call_centre", at=T0, incident_lead="housing")
    assert (feedback.reopen, feedback.lead_department, linked.status) == (True, "housing", "reopened")
    # a report with tickets of its own keeps its own lead whatever is passed
    own = report("r3")
    own.apply_routing(attempt=1, police=False, departments=["gas"], lead="gas", priority="P2", dispatched=["gas"],
                      excluded=[], at=T0)
    close(own, report("unused"), ticket="t3", department="gas")
    assert own.receive_feedback(feedback_id="g", satisfaction="dissatisfied", comment=None, actor_id="k",
                                actor_name="n", actor_role="call_centre", at=T0,
                                incident_lead="water").lead_department == "gas"


def test_a_reopened_linked_report_waits_for_its_incident_to_move_and_then_follows_it() -> None:
    incident, linked = incident_and_linked()
    close(incident, linked)
    linked.receive_feedback(feedback_id="f", satisfaction="dissatisfied", comment=None, actor_id="k",
                            actor_name="n", actor_role="call_centre", at=T0, incident_lead="water")
    linked.follow_incident(incident, T0, "water's ticket re-routed")  # the incident is still closed
    assert (linked.status, linked.reopen_pending) == ("reopened", True)
    incident.apply_ticket_change(ticket_id="t1", department="water", role="lead", sequence=4, action="reopen",
                                 to_state="reopened", reason="still", at=T0)
    linked.follow_incident(incident, T0, "reopened by water")
    assert (linked.status, linked.reopen_pending) == ("in_progress", False)
    # the call-back's reopen counts once: on the incident, whose lead ticket reopened, not on the linked report too
    assert (incident.reopen_count, linked.reopen_count) == (1, 0)


def test_an_incident_escalated_by_a_linked_caller_says_so_and_its_linked_reports_follow() -> None:
    incident, linked = incident_and_linked()
    incident.apply_routing(attempt=2, police=True, departments=["water", "police"], lead="water", priority="P1",
                           dispatched=["police"], excluded=[], at=T0, trigger="escalated")
    assert incident.incident_id is None and incident.priority == "P1"
    rerouted = [e.detail for e in incident._pending if e.kind == "rerouted"]
    assert rerouted and rerouted[-1].endswith("; escalated by another caller's report"), rerouted
    linked.follow_incident_routing(incident)
    assert linked.priority == "P1" and linked.police is True
