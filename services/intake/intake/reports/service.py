"""Filing reports and following them: the intake bounded context's use cases."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.db import OutboxMessage
from intake.query import check_department, check_range
from intake.reports.models import Feedback, IdempotencyRecord, Report, ReportNotClosed
from intake.reports.repository import ReportFilter, ReportRepository
from intake.reports.schemas import FeedbackIn, FeedbackOut, ReportIn, ReportOut, ReportPage, ReportSummary
from shared.db import utcnow
from shared.events import (
    REPORTS_FEEDBACK, REPORTS_RECEIVED, TICKETS_RECEIPTS, Location, ReportFeedbackReceived,
    ReportFeedbackReceivedV1, ReportReceived, ReportReceivedV1, ReportRouted, TicketActor, TicketStatusChanged,
    TicketStatusObserved, TicketStatusObservedV1,
)
from shared.identity import Principal
from shared.logging import report_context
from shared.messaging import Outbox, PermanentError
from shared.messaging.redelivery import DownstreamProgress, next_attempt
from shared.problems import Conflict, InvalidInput, NotFound
from shared.registry import Registry

log = logging.getLogger("linkage.intake.reports")
outbox = Outbox(OutboxMessage)
SOURCE = "/linkage/intake"


class IdempotencyMismatch(InvalidInput):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different body"


def request_fingerprint(body: ReportIn) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


class ReportService:
    def __init__(self, session: AsyncSession, *, redelivery_after_s: float = 10.0,
                 router_progress: DownstreamProgress | None = None, registry: Registry | None = None) -> None:
        self.session = session
        self.reports = ReportRepository(session)
        self.redelivery_after_s = redelivery_after_s
        self.router_progress = router_progress
        self.registry = registry  # the department codes a listing may filter by (HTTP; consumers need none)

    async def file(self, principal: Principal, body: ReportIn, idempotency_key: str | None
                   ) -> tuple[dict[str, Any], bool]:
        """File a report; returns (response body, created). A repeated ``Idempotency-Key`` with the same body
        returns the stored response and creates nothing; with another body it is refused."""
        fingerprint = request_fingerprint(body) if idempotency_key is not None else ""
        if idempotency_key is not None:
            previous = await self.reports.get_idempotency(principal.id, idempotency_key)
            if previous is not None:
                if previous.request_hash != fingerprint:
                    raise IdempotencyMismatch(
                        "This Idempotency-Key was already used with a different request body.",
                        errors=[{"field": "Idempotency-Key", "message": "already used with another body"}])
                return previous.response_body, False
        now = utcnow()
        report = Report(
            id=str(uuid.uuid4()), text=body.text, channel=body.channel, caller_name=body.caller.name,
            caller_phone=body.caller.phone, address=body.location.address, lat=body.location.lat,
            lon=body.location.lon, grid_id=body.location.grid_id, occurred_at=body.occurred_at,
            external_ref=body.external_ref, status="received", routing_attempt=0, filed_by=principal.id,
            in_triage=False, incident_id=None, linked_reports=0,
            announce_count=0, reopen_count=0, reopen_pending=False, created_at=now, updated_at=now, departments=[],
            tickets=[], timeline=[], feedback=[])
        report.record("received", now, f"received via {body.channel}")
        response = ReportOut.model_validate(to_view(report)).model_dump(mode="json")
        self._announce(report, now)
        await self.reports.insert_new(report)
        if idempotency_key is not None:
            try:
                await self.reports.insert_idempotency(IdempotencyRecord(
                    principal_id=principal.id, key=idempotency_key, request_hash=fingerprint, report_id=report.id,
                    response_body=response, created_at=now))
            except IntegrityError as exc:  # a concurrent request with the same Idempotency-Key won the race
                raise Conflict("A request with this Idempotency-Key is being processed; retry it.") from exc
        with report_context(report.id):
            log.info("report filed", extra={"channel": body.channel, "principal": principal.id})
        return response, True

    async def give_feedback(self, principal: Principal, report_id: str, body: FeedbackIn,
                            idempotency_key: str | None) -> tuple[dict[str, Any], bool]:
        """Record the caller's call-back on a closed report; returns (response body, created). Every call-back is
        its own record; a dissatisfied one reopens the report and asks the lead department (event
        ``report.feedback_received.v1``, published after the commit) to reopen its ticket."""
        key = f"feedback:{idempotency_key}" if idempotency_key is not None else None
        fingerprint = hashlib.sha256(f"{report_id}\n{body.model_dump_json()}".encode()).hexdigest() if key else ""
        if key is not None:
            previous = await self.reports.get_idempotency(principal.id, key)
            if previous is not None:
                if previous.request_hash != fingerprint:
                    raise IdempotencyMismatch(
                        "This Idempotency-Key was already used with a different request.",
                        errors=[{"field": "Idempotency-Key", "message": "already used with another request"}])
                return previous.response_body, False
        report = await self.reports.get_for_update(report_id)
        if report is None:
            raise NotFound(f"No report {report_id}.")
        # a linked report's call-back concerns its incident's lead ticket (the incident's row is not locked: the
        # consumer locks an incident before its linked reports)
        incident_lead = (await self.reports.lead_department_of(report.incident_id)
                         if report.incident_id is not None else None)
        now = utcnow()
        try:
            feedback = report.receive_feedback(
                feedback_id=str(uuid.uuid4()), satisfaction=body.satisfaction, comment=body.comment,
                actor_id=principal.id, actor_name=principal.name, actor_role=principal.role, at=now,
                incident_lead=incident_lead)
        except ReportNotClosed as exc:
            raise Conflict(f"Feedback is taken only on a closed report; this one is {exc.status}.",
                           status_now=exc.status) from exc
        self.reports.add_feedback(feedback)
        self.reports.save_timeline(report)
        outbox.add(self.session, ReportFeedbackReceived(
            source=SOURCE, subject=report.id, time=now, data=ReportFeedbackReceivedV1(
                feedback_id=feedback.id, report_id=report.id, satisfaction=body.satisfaction, comment=body.comment,
                reopen=feedback.reopen, lead_department=feedback.lead_department,
                actor=TicketActor(id=principal.id, name=principal.name, role=principal.role,
                                  department=principal.department),
                received_at=now, incident_id=report.incident_id)), REPORTS_FEEDBACK)
        response = FeedbackOut.model_validate(feedback_view(feedback)).model_dump(mode="json")
        if key is not None:
            try:
                await self.reports.insert_idempotency(IdempotencyRecord(
                    principal_id=principal.id, key=key, request_hash=fingerprint, report_id=report.id,
                    response_body=response, created_at=now))
            except IntegrityError as exc:
                raise Conflict("A request with this Idempotency-Key is being processed; retry it.") from exc
        with report_context(report.id):
            log.info("feedback recorded", extra={"satisfaction": body.satisfaction, "reopen": feedback.reopen})
        return response, True

    async def get(self, report_id: str) -> ReportOut:
        report = await self.reports.get(report_id)
        if report is None:
            raise NotFound(f"No report {report_id}.")
        incident = await self.reports.get(report.incident_id) if report.incident_id else None
        return ReportOut.model_validate(to_view(report, incident))

    async def page(self, flt: ReportFilter, *, limit: int, cursor: str | None) -> ReportPage:
        """One page of reports, newest first. The filter is refused as ``GET /v1/stats`` refuses its own: an
        unknown department code, or ``created_from`` after ``created_to`` (422; either would match nothing)."""
        if self.registry is not None:
            check_department(flt.department, self.registry)
        check_range(flt.created_from, flt.created_to, start_field="created_from", end_field="created_to")
        rows, next_cursor = await self.reports.page(flt, limit=limit, cursor=cursor)
        return ReportPage(items=[ReportSummary.model_validate(summary_view(r)) for r in rows],
                          next_cursor=next_cursor)

    def _announce(self, report: Report, now: datetime) -> None:
        """Hand the report to the router (outbox) and schedule the next announcement unless routed by then."""
        outbox.add(self.session, ReportReceived(source=SOURCE, subject=report.id, time=now, data=ReportReceivedV1(
            report_id=report.id, text=report.text, channel=report.channel,  # type: ignore[arg-type]
            location=Location(address=report.address, lat=report.lat, lon=report.lon, grid_id=report.grid_id),
            occurred_at=report.occurred_at, received_at=report.created_at, external_ref=report.external_ref)),
            REPORTS_RECEIVED)
        report.next_announce_at = next_attempt(now, report.announce_count, self.redelivery_after_s)
        report.announce_count += 1

    async def announce_unrouted(self, *, limit: int = 500) -> int:
        """End-to-end confirmation of the intake → router hop: announce again every report the router has not
        confirmed (by routing it) in time, unless the router is visibly still working through earlier reports
        (``router_progress``: such a report waits for the next sweep). Returns how many were announced."""
        now = utcnow()
        due = await self.reports.due_for_announcement(now, limit=limit)
        if self.router_progress is not None:
            due = self.router_progress.to_resend(due, lambda r: r.created_at, downstream="router")
        for report in due:
            with report_context(report.id):
                log.warning("report not routed in time; announcing it again", extra={"tries": report.announce_count})
            self._announce(report, now)
        return len(due)

    # --- events from the other services -------------------------------------------------------------------

    async def apply_routed(self, event: ReportRouted) -> None:
        data = event.data
        report = await self._report_for_event(data.report_id, with_departments=True)
        if self.router_progress is not None:
            self.router_progress.confirmed(report.created_at)
        previous_incident = report.incident_id
        if report.apply_routing(attempt=data.attempt, police=data.police, departments=data.departments,
                                lead=data.lead, priority=data.priority, dispatched=data.dispatched,
                                excluded=data.excluded, at=data.decided_at, needs_review=data.needs_review,
                                incident_id=data.incident_id if data.linked else None, trigger=data.trigger):
            log.info("report routed", extra={"lead": data.lead, "priority": data.priority, "attempt": data.attempt,
                                             "triage": data.needs_review, "incident_id": data.incident_id})
            if report.incident_id is not None:
                incident = await self.reports.get_for_update(report.incident_id, with_departments=True)
                if incident is not None:  # intake files every report before the router sees it
                    incident.linked_reports += 1
                    if incident.routing_attempt > 0:  # else the router's copy of its routing is newer than ours
                        report.follow_incident_routing(incident)
                    report.follow_incident(incident, data.decided_at)
            elif previous_incident is not None:  # unlinked by a centre operator
                incident = await self.reports.get_for_update(previous_incident)
                if incident is not None:
                    incident.linked_reports = max(0, incident.linked_reports - 1)
            elif report.linked_reports:  # an incident routed again: other callers' reports linked to it follow
                detail = report.last_routing_detail()
                for linked in await self.reports.linked_to(report.id, with_departments=True):
                    linked.follow_incident_routing(report)
                    linked.follow_incident(report, data.decided_at, detail)
                    self.reports.save_timeline(linked)
        self.reports.save_timeline(report)

    async def apply_ticket_status(self, event: TicketStatusChanged) -> None:
        data = event.data
        report = await self._report_for_event(data.report_id)
        changed = report.apply_ticket_change(
            ticket_id=data.ticket_id, department=data.department, role=data.role, sequence=data.sequence,
            action=data.action, to_state=data.to_state, reason=data.reason, at=data.at, priority=data.priority,
            clocks=data.clocks, outcome=data.outcome)
        detail = report.last_ticket_detail()
        self.reports.save_timeline(report)
        if changed and report.linked_reports:  # other callers' reports linked to this incident follow it
            for linked in await self.reports.linked_to(report.id):
                linked.follow_incident(report, data.at, detail)
                self.reports.save_timeline(linked)
        # the receipt: departments announce the ticket again until it arrives (a broker may lose events)
        known = max(t.sequence for t in report.tickets if t.id == data.ticket_id)
        now = utcnow()
        outbox.add(self.session, TicketStatusObserved(source=SOURCE, subject=report.id, time=now,
                                                      data=TicketStatusObservedV1(
            ticket_id=data.ticket_id, report_id=report.id, department=data.department, sequence=known,
            observed_at=now)), TICKETS_RECEIPTS)

    async def _report_for_event(self, report_id: str, *, with_departments: bool = False) -> Report:
        report = await self.reports.get_for_update(report_id, with_departments=with_departments)
        if report is None:
            raise PermanentError(f"event for unknown report {report_id}")
        return report


def to_view(report: Report, incident: Report | None = None) -> dict[str, Any]:
    """The report as callers see it; a linked report shows its ``incident``'s tickets."""
    timeline = sorted([*report.timeline, *report.__dict__.get("_pending_timeline", [])],
                      key=lambda e: (e.at, e.id or 0))
    tickets = (incident or report).tickets
    return {
        **summary_view(report),
        "caller": {"name": report.caller_name, "phone": report.caller_phone},
        "location": {"address": report.address, "lat": report.lat, "lon": report.lon, "grid_id": report.grid_id},
        "occurred_at": report.occurred_at, "external_ref": report.external_ref,
        "tickets": [{"id": t.id, "department": t.department, "role": t.role, "status": t.status,
                     "priority": t.priority, "outcome": t.outcome} for t in tickets],
        "linked_reports": report.linked_reports,
        "timeline": [{"at": e.at, "kind": e.kind, "department": e.department, "detail": e.detail} for e in timeline],
        "feedback": [feedback_view(f) for f in report.__dict__.get("feedback", [])],
    }


def feedback_view(feedback: Feedback) -> dict[str, Any]:
    return {"id": feedback.id, "report_id": feedback.report_id, "satisfaction": feedback.satisfaction,
            "comment": feedback.comment, "reopen": feedback.reopen, "lead_department": feedback.lead_department,
            "actor": feedback.actor_name, "received_at": feedback.received_at}


def summary_view(report: Report) -> dict[str, Any]:
    return {"id": report.id, "status": report.status, "incident_id": report.incident_id, "channel": report.channel,
            "text": report.text,
            "police": report.police, "priority": report.priority,
            "departments": [d.department for d in report.departments],
            "created_at": report.created_at, "updated_at": report.updated_at}
