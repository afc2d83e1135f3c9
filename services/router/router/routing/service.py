"""Routing use cases: route a new report, re-route after a transfer. Publishing goes through the outbox."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from router.db import OutboxMessage
from router.routing.classifier import Classifier, RoutingDecision
from router.routing.models import Plan, Routing, RoutingAttempt
from router.routing.repository import RoutingRepository
from shared.db import utcnow
from shared.events import (
    REPORTS_ROUTED, Location, ReportReceived, ReportRouted, ReportRoutedV1, TicketDispatched, TicketDispatchedV1,
    TicketAssistanceRequested, TicketStatusChanged, department_topic,
)
from shared.messaging import Outbox, PermanentError
from shared.messaging.redelivery import next_attempt
from shared.problems import NotFound

log = logging.getLogger("linkage.router.routing")
outbox = Outbox(OutboxMessage)
SOURCE = "/linkage/router"
FALLBACK = "grid"


class RoutingService:
    def __init__(self, session: AsyncSession, classifier: Classifier, *, redelivery_after_s: float = 10.0) -> None:
        self.session = session
        self.classifier = classifier
        self.redelivery_after_s = redelivery_after_s
        self.routings = RoutingRepository(session)

    async def route_new_report(self, event: ReportReceived) -> None:
        data = event.data
        existing = await self.routings.get(data.report_id)
        if existing is not None:
            # announced again: intake has not seen the decision (it may have been lost with the broker); say it again
            self._announce_decision(existing, Plan(existing.attempt, existing.lead, existing.departments,
                                                   [d for d in existing.dispatched if d not in existing.excluded]),
                                    utcnow())
            return
        now = utcnow()
        decision = self.classifier.classify(data.text, at=data.occurred_at or data.received_at)
        routing = Routing(
            report_id=data.report_id, text=data.text, channel=data.channel,
            location=data.location.model_dump(mode="json"), occurred_at=data.occurred_at,
            received_at=data.received_at, attempt=1, police=decision.police, lead=decision.lead,
            departments=list(decision.departments), dispatched=list(decision.departments), excluded=[], confirmed=[],
            redispatch_count=0,
            priority=decision.priority, confidence=decision.confidence, needs_review=decision.needs_review,
            explanation=decision.explanation, classifier=decision.classifier, decided_at=now)
        self.routings.add(routing)
        plan = Plan(1, decision.lead, list(decision.departments), list(decision.departments))
        self._record(routing, plan, decision, trigger="received", at=now)
        log.info("report routed", extra={"lead": decision.lead, "departments": list(decision.departments),
                                         "priority": decision.priority, "police": decision.police})

    async def follow_ticket(self, event: TicketStatusChanged) -> None:
        """Any ticket event confirms that department's ticket exists; a transfer also re-routes the report."""
        data = event.data
        routing = await self.routings.get_for_update(data.report_id)
        if routing is None:
            raise PermanentError(f"ticket event for a report this router never routed: {data.report_id}")
        routing.confirm(data.department)
        if data.to_state == "transferred":
            await self._reroute_after_transfer(routing, event)

    async def add_assisting(self, event: TicketAssistanceRequested) -> None:
        """The lead department asked for another department to assist: add it to the routing as assisting (a new
        attempt) and dispatch its ticket on ``dept.<code>`` like any dispatch. A department the report already has,
        or had (one that refused it too), gets nothing new."""
        data = event.data
        routing = await self.routings.get_for_update(data.report_id)
        if routing is None:
            raise PermanentError(f"assistance requested for a report this router never routed: {data.report_id}")
        if data.department in routing.departments or data.department in routing.dispatched:
            log.info("assistance requested from a department the report already has",
                     extra={"department": data.department, "lead": data.lead_department})
            return
        now = utcnow()
        plan = Plan(routing.attempt + 1, routing.lead, [*routing.departments, data.department], [data.department])
        routing.attempt, routing.departments = plan.attempt, plan.departments
        routing.dispatched = [*routing.dispatched, data.department]
        routing.police = "police" in plan.departments
        routing.decided_at = now
        trigger = f"assistance requested by {data.lead_department}: {data.reason}"[:200]
        self.routings.add_attempt(RoutingAttempt(
            report_id=routing.report_id, attempt=plan.attempt, trigger=trigger, police=routing.police,
            lead=plan.lead, departments=plan.departments, dispatched=plan.dispatch, priority=routing.priority,
            confidence=routing.confidence, explanation=routing.explanation, classifier=routing.classifier,
            decided_at=now))
        self._dispatch(routing, data.department, plan.attempt, now)
        routing.next_redispatch_at = next_attempt(now, 0, self.redelivery_after_s)
        routing.redispatch_count = 1
        self._announce_decision(routing, plan, now)
        log.info("assisting department added", extra={"department": data.department, "attempt": plan.attempt})

    async def redispatch_unconfirmed(self, *, limit: int = 200) -> int:
        """End-to-end confirmation of the router → departments hop: dispatch again (fresh event ids, same content)
        to every department whose ticket has not been seen in time. Departments ignore a copy for an existing
        ticket, but answer it with the ticket's current state, which confirms it."""
        now = utcnow()
        sent = 0
        for routing in await self.routings.due_for_redispatch(now, limit=limit):
            pending = routing.unconfirmed()
            for code in pending:
                self._dispatch(routing, code, routing.attempt, now)
            sent += len(pending)
            log.warning("dispatch not confirmed in time; sent again",
                        extra={"report_id": routing.report_id, "departments": pending,
                               "tries": routing.redispatch_count})
            routing.next_redispatch_at = (next_attempt(now, routing.redispatch_count, self.redelivery_after_s)
                                          if pending else None)
            routing.redispatch_count += 1
        return sent

    async def _reroute_after_transfer(self, routing: Routing, event: TicketStatusChanged) -> None:
        data = event.data
        if data.department in routing.excluded:
            return  # this refusal was handled already
        now = utcnow()
        excluded = frozenset({*routing.excluded, data.department})
        decision = self.classifier.classify(routing.text, at=routing.occurred_at or routing.received_at,
                                            exclude=excluded)
        proposed = [d for d in decision.departments if d not in excluded]
        if not proposed and FALLBACK not in excluded:
            proposed = [FALLBACK]
        plan = routing.plan_reroute(data.department, proposed[0] if proposed else "", proposed)
        if not plan.departments or not plan.lead:
            # every candidate refused: keep the report visible for centre staff (triage arrives with issue 3)
            routing.excluded = sorted(excluded)
            routing.needs_review = True
            log.warning("report refused by every candidate department; needs review",
                        extra={"excluded": sorted(excluded)})
            return
        routing.attempt = plan.attempt
        routing.excluded = sorted(excluded)
        routing.lead, routing.departments = plan.lead, plan.departments
        routing.dispatched = [*routing.dispatched, *plan.dispatch]
        routing.police = "police" in plan.departments
        routing.priority, routing.confidence = decision.priority, decision.confidence
        routing.needs_review, routing.explanation = decision.needs_review, decision.explanation
        routing.classifier, routing.decided_at = decision.classifier, now
        self._record(routing, plan, decision, trigger=f"transferred by {data.department}: {data.reason or ''}"[:200],
                     at=now)
        log.info("report re-routed", extra={"refused_by": data.department, "lead": plan.lead,
                                            "dispatch": plan.dispatch, "attempt": plan.attempt})

    def _record(self, routing: Routing, plan: Plan, decision: RoutingDecision, *, trigger: str, at: datetime) -> None:
        """Store the attempt and write its events to the outbox: one dispatch per new department, then the
        decision for intake."""
        self.routings.add_attempt(RoutingAttempt(
            report_id=routing.report_id, attempt=plan.attempt, trigger=trigger, police=routing.police,
            lead=plan.lead, departments=plan.departments, dispatched=plan.dispatch, priority=routing.priority,
            confidence=routing.confidence, explanation=routing.explanation, classifier=routing.classifier,
            decided_at=at))
        for code in plan.dispatch:
            self._dispatch(routing, code, plan.attempt, at)
        if plan.dispatch:
            routing.next_redispatch_at = next_attempt(at, 0, self.redelivery_after_s)
            routing.redispatch_count = 1
        self._announce_decision(routing, plan, at)

    def _dispatch(self, routing: Routing, code: str, attempt: int, at: datetime) -> None:
        outbox.add(self.session, TicketDispatched(source=SOURCE, subject=routing.report_id, time=at,
                                                  data=TicketDispatchedV1(
            report_id=routing.report_id, department=code, role="lead" if code == routing.lead else "assisting",
            lead_department=routing.lead, departments=routing.departments, priority=routing.priority,
            police=routing.police, text=routing.text, channel=routing.channel,
            location=Location.model_validate(routing.location), occurred_at=routing.occurred_at,
            received_at=routing.received_at, dispatched_at=at, attempt=attempt)), department_topic(code))

    def _announce_decision(self, routing: Routing, plan: Plan, at: datetime) -> None:
        outbox.add(self.session, ReportRouted(source=SOURCE, subject=routing.report_id, time=at, data=ReportRoutedV1(
            report_id=routing.report_id, attempt=plan.attempt, police=routing.police, lead=plan.lead,
            assisting=[d for d in plan.departments if d != plan.lead], departments=plan.departments,
            dispatched=plan.dispatch, excluded=list(routing.excluded), priority=routing.priority,
            confidence=routing.confidence, needs_review=routing.needs_review, explanation=routing.explanation,
            classifier=routing.classifier, decided_at=at)), REPORTS_ROUTED)

    async def get(self, report_id: str) -> Routing:
        routing = await self.routings.get_with_history(report_id)
        if routing is None:
            raise NotFound(f"No routing for report {report_id}.")
        return routing
