"""Routing use cases: route a new report (or link it to an incident, or queue it for triage), let a centre operator
route a report from triage, re-route after a transfer, and suggest routing statelessly. Publishing goes through the
outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from router.db import OutboxMessage
from router.registry.service import PresenceService
from router.routing.classifier import Classifier, RoutingDecision
from router.routing.duplicates import DuplicatePolicy, Place
from router.routing.models import LINKED, ROUTED, Plan, Routing, RoutingAttempt
from router.routing.repository import RoutingRepository
from shared.db import utcnow
from shared.events import (
    REPORTS_ROUTED, IncidentReportLinked, IncidentReportLinkedV1, IncidentReportUnlinked, IncidentReportUnlinkedV1,
    Location, Priority, ReportReceived, ReportRouted, ReportRoutedV1, TicketAssistanceRequested, TicketDispatched,
    TicketDispatchedV1, TicketStatusChanged, department_topic,
)
from shared.identity import Principal
from shared.messaging import Outbox, PermanentError
from shared.messaging.redelivery import DownstreamProgress, next_attempt
from shared.problems import Conflict, InvalidInput, NotFound
from shared.registry import FALLBACK_DEPARTMENT, PRIORITIES, Registry

log = logging.getLogger("linkage.router.routing")
outbox = Outbox(OutboxMessage)
SOURCE = "/linkage/router"
OPERATOR_CLASSIFIER = "operator"
Trigger = Literal["received", "transfer", "triage", "linked", "unlinked", "assistance", "escalated"]


@dataclass(frozen=True)
class PossibleIncident:
    """The open incident a suggested report would be linked to."""

    incident_id: str
    similarity: float
    why: str
    callers: int


class NotInTriage(Conflict):
    slug, title = "not-in-triage", "The report is not waiting in triage"


class NotLinked(Conflict):
    slug, title = "not-linked", "The report is not linked to an incident"


class RoutingService:
    def __init__(self, session: AsyncSession, classifier: Classifier, registry: Registry, *,
                 redelivery_after_s: float = 10.0, duplicates: DuplicatePolicy | None = None,
                 departments_progress: DownstreamProgress | None = None) -> None:
        self.session = session
        self.departments_progress = departments_progress
        self.classifier = classifier
        self.registry = registry
        self.redelivery_after_s = redelivery_after_s
        self.duplicates = duplicates
        self.routings = RoutingRepository(session)
        self.presence = PresenceService(session, registry)

    # --- stateless suggestion ------------------------------------------------------------------------------

    async def suggest(self, text: str, at: datetime | None = None, location: dict[str, Any] | None = None
                      ) -> tuple[RoutingDecision, PossibleIncident | None]:
        """What the router would decide for this text at ``at`` (default now), with the current presence
        switches, and the open incident it would be linked to (given a location); stores nothing."""
        at = at or utcnow()
        decision = self.classifier.classify(text, at=at, switched_on=await self.presence.switched_on())
        place = Place.of(location or {})
        if decision.needs_review or self.duplicates is None or not place.known:
            return decision, None
        found = await self._find_incident(report_id=None, text=text, location=location or {}, lead=decision.lead,
                                          received_at=at, place=place, lock=False)
        if found is None:
            return decision, None
        incident, score, why = found
        return decision, PossibleIncident(incident.report_id, round(score, 3), why, incident.callers)

    # --- a new report --------------------------------------------------------------------------------------

    async def route_new_report(self, event: ReportReceived) -> None:
        data = event.data
        existing = await self.routings.get(data.report_id)
        if existing is not None:
            # announced again: intake has not seen the decision (it may have been lost with the broker); say it again
            self._announce_decision(existing, Plan(existing.attempt, existing.lead, existing.departments,
                                                   [d for d in existing.dispatched if d not in existing.excluded]),
                                    utcnow(), trigger=None)
            return
        now = utcnow()
        # presence applies at dispatch, which is now: heating that broke in October is heating's in December
        decision = self.classifier.classify(data.text, at=now, switched_on=await self.presence.switched_on())
        routing = Routing(
            report_id=data.report_id, text=data.text, channel=data.channel,
            location=data.location.model_dump(mode="json"), occurred_at=data.occurred_at,
            received_at=data.received_at, attempt=1, police=decision.police, lead=decision.lead,
            departments=list(decision.departments), dispatched=[], excluded=[], confirmed=[],
            redispatch_count=0, priority=decision.priority, confidence=decision.confidence,
            needs_review=decision.needs_review, explanation=decision.explanation, classifier=decision.classifier,
            decided_at=now, state=ROUTED, callers=1, link_seq=0, ticket_states={}, incident_open=True)
        place = Place.of(routing.location)
        routing.lat, routing.lon, routing.grid_id, routing.address_key, routing.cell = (
            place.lat, place.lon, place.grid_id, place.address_key, place.cell)

        if decision.needs_review:
            # not sure enough to guess: centre staff decide; a possible police matter reaches police meanwhile
            dispatch = list(dict.fromkeys(decision.dispatch_while_review))
            routing.dispatched = dispatch
            routing.await_triage(now)
            self.routings.add(routing)
            self._record(routing, Plan(1, decision.lead, list(decision.departments), dispatch), trigger="received",
                         at=now)
            log.info("report awaits triage", extra={"suggested_lead": decision.lead, "confidence": decision.confidence,
                                                    "dispatched": dispatch})
            return

        match = None
        if self.duplicates is not None and place.known:
            match = await self._find_incident(report_id=routing.report_id, text=routing.text, location=routing.location,
                                              lead=routing.lead, received_at=routing.received_at, place=place)
        self.routings.add(routing)
        if match is not None:
            incident, score, why = match
            self._link(routing, incident, score, why, now, decision)
            return
        routing.dispatched = list(decision.departments)
        plan = Plan(1, decision.lead, list(decision.departments), list(decision.departments))
        self._record(routing, plan, trigger="received", at=now)
        log.info("report routed", extra={"lead": decision.lead, "departments": list(decision.departments),
                                         "priority": decision.priority, "police": decision.police})

    async def _find_incident(self, *, report_id: str | None, text: str, location: dict[str, Any], lead: str,
                             received_at: datetime, place: Place, lock: bool = True
                             ) -> tuple[Routing, float, str] | None:
        """The open incident a report most likely repeats: same lead, received within the window before it, at the
        same place, with similar text (the most similar wins; ties: the earliest). Locked unless ``lock`` is off."""
        policy = self.duplicates
        assert policy is not None
        candidates = await self.routings.open_incidents(
            lead=lead, since=received_at - timedelta(seconds=policy.window_s), until=received_at, place=place,
            within_m=policy.max_distance_m, limit=policy.max_candidates)
        best = policy.best(text, location, (c for c in candidates if c.report_id != report_id))
        if best is None:
            return None
        candidate, score, why = best
        incident = await self.routings.get(candidate.report_id)
        if incident is None:  # pragma: no cover - a candidate is a stored or pending routing
            return None
        if lock:
            await self.routings.lock(incident)
            # an event earlier in the same batch may have closed it, sent it to triage or given it another lead
            if incident.state != ROUTED or not incident.incident_open or incident.lead != lead:
                return None
        return incident, score, why

    def _link(self, routing: Routing, incident: Routing, score: float, why: str, at: datetime,
              decision: RoutingDecision) -> None:
        """Link another caller's report to the incident: no tickets; each department on the incident learns that
        one more caller reported it (``incident.report_linked.v1``). What this caller adds is not lost: a more urgent
        priority, or departments the incident does not have (police among them), become the incident's next
        routing attempt (its new departments dispatched, its tickets re-prioritised)."""
        routing.link_to(incident)
        if self._escalate(incident, routing.report_id, decision, at):
            routing.follow(incident)
        routing.explanation = f"linked to incident {incident.report_id} ({why}); {routing.explanation}"
        plan = Plan(1, incident.lead, list(incident.departments), [])
        self._record(routing, plan, trigger="linked", at=at)
        for code in incident.dispatched:
            if code in incident.excluded:
                continue
            outbox.add(self.session, IncidentReportLinked(
                source=SOURCE, subject=incident.report_id, time=at, data=IncidentReportLinkedV1(
                    incident_id=incident.report_id, report_id=routing.report_id, department=code,
                    callers=incident.callers, sequence=incident.link_seq, text=routing.text,
                    channel=routing.channel,  # type: ignore[arg-type]
                    location=Location.model_validate(routing.location), received_at=routing.received_at,
                    linked_at=at, similarity=round(score, 3))), department_topic(code))
        log.info("report linked to an incident", extra={"incident_id": incident.report_id, "callers": incident.callers,
                                                        "similarity": round(score, 3)})

    def _escalate(self, incident: Routing, report_id: str, decision: RoutingDecision, at: datetime) -> bool:
        rank = PRIORITIES.index
        added = [code for code in decision.departments
                 if code not in incident.departments and code not in incident.excluded]
        urgent = rank(decision.priority) < rank(incident.priority)
        if not added and not urgent:
            return False
        plan = Plan(incident.attempt + 1, incident.lead, [*incident.departments, *added], added)
        incident.attempt, incident.departments = plan.attempt, plan.departments
        incident.dispatched = [*incident.dispatched, *added]
        incident.police = "police" in plan.departments
        incident.priority = decision.priority if urgent else incident.priority
        incident.decided_at = at
        said = ", ".join([*([f"priority {decision.priority}"] if urgent else []), *added])
        incident.explanation = f"escalated by another caller's report {report_id}: {said}; {incident.explanation}"
        self._record(incident, plan, trigger="escalated", at=at,
                     trigger_text=f"another caller's report {report_id} adds {said}"[:200])
        log.info("incident escalated by a linked caller", extra={"incident_id": incident.report_id,
                                                                 "priority": incident.priority, "added": added})
        return True

    async def unlink(self, principal: Principal, report_id: str, *, reason: str) -> Routing:
        """The operator's escape hatch: a linked report that is not the same incident after all is unlinked and
        routed as its own report (or queued for triage); the incident's departments learn the new caller count."""
        routing = await self.routings.get_for_update(report_id)
        if routing is None:
            raise NotFound(f"No routing for report {report_id}.")
        if routing.state != LINKED or routing.incident_id is None:
            raise NotLinked(f"Report {report_id} is not linked to an incident (it is {routing.state}).",
                            state=routing.state)
        incident = await self.routings.get_for_update(routing.incident_id)
        if incident is None:  # cannot happen: a report is only linked to a routing of this router
            raise NotFound(f"No routing for incident {routing.incident_id}.")
        now = utcnow()
        incident_id = incident.report_id
        routing.unlink_from(incident)
        for code in incident.dispatched:
            if code not in incident.excluded:
                outbox.add(self.session, IncidentReportUnlinked(
                    source=SOURCE, subject=incident_id, time=now, data=IncidentReportUnlinkedV1(
                        incident_id=incident_id, report_id=report_id, department=code, callers=incident.callers,
                        sequence=incident.link_seq, reason=reason, unlinked_at=now)), department_topic(code))
        decision = self.classifier.classify(routing.text, at=now, switched_on=await self.presence.switched_on())
        routing.police, routing.lead, routing.departments = decision.police, decision.lead, list(decision.departments)
        routing.priority, routing.confidence = decision.priority, decision.confidence
        routing.needs_review, routing.classifier, routing.decided_at = decision.needs_review, decision.classifier, now
        routing.explanation = (f"unlinked from incident {incident_id} by {principal.name} ({principal.id}): "
                               f"{reason}; {decision.explanation}")
        if decision.needs_review:
            dispatch = list(dict.fromkeys(decision.dispatch_while_review))
            routing.await_triage(now)
        else:
            dispatch = list(decision.departments)
        routing.dispatched = dispatch
        routing.attempt += 1
        self._record(routing, Plan(routing.attempt, decision.lead, list(decision.departments), dispatch),
                     trigger="unlinked", at=now, trigger_text=f"unlinked from incident {incident_id}"[:200],
                     actor=principal, reason=reason)
        await self.session.flush()
        log.info("report unlinked from its incident", extra={"report_id": report_id, "incident_id": incident_id,
                                                             "actor": principal.id, "dispatch": dispatch})
        return routing

    # --- triage --------------------------------------------------------------------------------------------

    async def triage_page(self, *, limit: int, cursor: str | None) -> tuple[list[Routing], str | None]:
        return await self.routings.triage_page(limit=limit, cursor=cursor)

    async def route_from_triage(self, principal: Principal, report_id: str, *, lead: str, assisting: list[str],
                                priority: Priority, reason: str) -> Routing:
        """A centre operator routes a report waiting in triage: dispatch the chosen departments not yet dispatched,
        keep those already on it (their tickets take the new role, lead and priority), record who decided, when and
        why."""
        routing = await self.routings.get_for_update(report_id)
        if routing is None:
            raise NotFound(f"No routing for report {report_id}.")
        if not routing.awaiting_triage:
            raise NotInTriage(f"Report {report_id} is not waiting in triage (it is {routing.state}).",
                              state=routing.state)
        await self._check_choice(routing, lead, assisting)
        now = utcnow()
        plan = routing.plan_triage(lead, assisting)
        routing.attempt, routing.lead, routing.departments = plan.attempt, plan.lead, plan.departments
        routing.dispatched = [*routing.dispatched, *plan.dispatch]
        routing.police = "police" in plan.departments
        routing.priority, routing.confidence, routing.needs_review = priority, 1.0, False
        routing.explanation = f"routed from triage by {principal.name} ({principal.id}): {reason}"
        routing.classifier, routing.decided_at = OPERATOR_CLASSIFIER, now
        routing.state, routing.triage_since = ROUTED, None
        self._record(routing, plan, trigger="triage", at=now, actor=principal, reason=reason)
        await self.session.flush()
        log.info("report routed from triage", extra={"report_id": report_id, "lead": lead, "dispatch": plan.dispatch,
                                                     "actor": principal.id})
        return routing

    async def _check_choice(self, routing: Routing, lead: str, assisting: list[str]) -> None:
        errors = []
        if lead in assisting:
            errors.append({"field": "assisting", "message": f"the lead {lead!r} cannot also assist"})
        if len(set(assisting)) != len(assisting):
            errors.append({"field": "assisting", "message": "a department is listed twice"})
        now = utcnow()
        switched_on = await self.presence.switched_on()
        routing_registry = self.presence.routing_registry
        for field, code in [("lead", lead), *((f"assisting.{i}", c) for i, c in enumerate(assisting))]:
            if code not in self.registry:
                errors.append({"field": field, "message": f"unknown department {code!r}"})
            elif code in routing.excluded:
                errors.append({"field": field, "message": f"{code} already refused this report (transferred it)"})
            elif not routing_registry.is_routable(code, now, switched_on):
                errors.append({"field": field, "message": f"{code} is not routable now; its matters go to "
                                                         f"{routing_registry.resolve(code, now, switched_on)}"})
        if errors:
            raise InvalidInput("The chosen departments cannot take this report: "
                               + "; ".join(f"{e['field']}: {e['message']}" for e in errors) + ".", errors=errors)

    # --- ticket events -------------------------------------------------------------------------------------

    async def follow_ticket(self, event: TicketStatusChanged) -> None:
        """A ticket event confirms that department's ticket (as the routing now has it); a transfer also re-routes
        the report."""
        data = event.data
        routing = await self.routings.get_for_update(data.report_id)
        if routing is None:
            raise PermanentError(f"ticket event for a report this router never routed: {data.report_id}")
        # it confirms the ticket as the routing now has it: an event sent before the ticket took a re-routing (its
        # role or priority older) does not (events before 1.1 carry no priority and confirm as they did)
        current = data.priority is None or (
            data.priority == routing.priority
            and data.role == routing.role_of(data.department))
        if current and routing.confirm(data.department) and self.departments_progress is not None:
            self.departments_progress.confirmed(routing.decided_at)
        routing.follow_ticket(data.department, data.to_state)
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
        now = utcnow()
        # presence applies at dispatch, as for the router's own decisions: a seasonal department out of season, or
        # a temporary one switched off, is asked through its fallback
        code = self.presence.routing_registry.resolve(data.department, now, await self.presence.switched_on())
        if code in routing.departments or code in routing.dispatched or code in routing.excluded:
            log.info("assistance requested from a department the report already has, or had",
                     extra={"department": code, "asked": data.department, "lead": data.lead_department})
            return
        why = f"assistance requested by {data.lead_department}: {data.reason}"
        if code != data.department:
            why = f"assistance requested by {data.lead_department} from {data.department}, not routable now, " \
                  f"so {code}: {data.reason}"
        plan = Plan(routing.attempt + 1, routing.lead, [*routing.departments, code], [code])
        routing.attempt, routing.departments = plan.attempt, plan.departments
        routing.dispatched = [*routing.dispatched, code]
        routing.police = "police" in plan.departments
        routing.decided_at = now
        self._record(routing, plan, trigger="assistance", at=now, trigger_text=why[:200])
        log.info("assisting department added", extra={"department": code, "asked": data.department,
                                                      "attempt": plan.attempt})

    async def redispatch_unconfirmed(self, *, limit: int = 200) -> int:
        """End-to-end confirmation of the router → departments hop: dispatch again (fresh event ids, same content)
        to every department whose ticket has not been seen in time. Departments ignore a copy for an existing
        ticket, but answer it with the ticket's current state, which confirms it."""
        now = utcnow()
        sent = 0
        due = await self.routings.due_for_redispatch(now, limit=limit)
        if self.departments_progress is not None:  # not while departments work through earlier dispatches
            due = self.departments_progress.to_resend(due, lambda r: r.decided_at, downstream="departments")
        for routing in due:
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
        """Re-route without every department that refused; when no department is left, or the new decision is not
        sure enough, the report goes to triage (a possible police matter reaches police meanwhile)."""
        data = event.data
        if data.department in routing.excluded:
            return  # this refusal was handled already
        now = utcnow()
        excluded = frozenset({*routing.excluded, data.department})
        decision = self.classifier.classify(routing.text, at=now, exclude=excluded,
                                            switched_on=await self.presence.switched_on())
        proposed = [d for d in decision.departments if d not in excluded]
        if not proposed and FALLBACK_DEPARTMENT not in excluded:
            proposed = [FALLBACK_DEPARTMENT]
        plan = routing.plan_reroute(data.department, proposed[0] if proposed else "", proposed)
        trigger_text = f"transferred by {data.department}: {data.reason or ''}"[:200]
        routing.excluded = sorted(excluded)
        if not plan.departments or not plan.lead or decision.needs_review:
            self._reroute_to_triage(routing, decision, data.department, trigger_text, now)
            return
        routing.attempt = plan.attempt
        routing.lead, routing.departments = plan.lead, plan.departments
        routing.dispatched = [*routing.dispatched, *plan.dispatch]
        routing.police = "police" in plan.departments
        # the re-reading is of the first caller's text: what other callers added (an escalation) is not lost
        priority = (min(decision.priority, routing.priority, key=PRIORITIES.index) if routing.callers > 1
                    else decision.priority)
        routing.priority, routing.confidence = priority, decision.confidence
        routing.needs_review, routing.explanation = decision.needs_review, decision.explanation
        routing.classifier, routing.decided_at = decision.classifier, now
        routing.state, routing.triage_since = ROUTED, None  # a report waiting in triage is decided now
        self._record(routing, plan, trigger="transfer", at=now, trigger_text=trigger_text)
        log.info("report re-routed", extra={"refused_by": data.department, "lead": plan.lead,
                                            "dispatch": plan.dispatch, "attempt": plan.attempt})

    def _reroute_to_triage(self, routing: Routing, decision: RoutingDecision, refused_by: str, trigger_text: str,
                           at: datetime) -> None:
        excluded = set(routing.excluded)
        suggested = [d for d in decision.departments if d not in excluded]
        dispatch = [d for d in dict.fromkeys(decision.dispatch_while_review)
                    if d not in routing.dispatched and d not in excluded]
        previous_lead, previous_priority = routing.lead, routing.priority
        plan = routing.plan_triage_after_transfer(suggested, dispatch, fallback=decision.lead)
        lead = plan.lead
        # a department with a ticket leads meanwhile (the lead refused): the tickets on the report are told (one lead
        # per report, never a lead that handed it back), at the more urgent of the priorities (an unsure re-reading
        # must not slow a P1's clocks while an operator looks)
        acting = lead in routing.dispatched
        priority = min(decision.priority, previous_priority, key=PRIORITIES.index) if acting else decision.priority
        update = acting and (lead != previous_lead or priority != previous_priority)
        routing.attempt, routing.lead, routing.departments = plan.attempt, lead, plan.departments
        routing.dispatched = [*routing.dispatched, *dispatch]
        routing.police = "police" in plan.departments
        routing.priority, routing.confidence = priority, decision.confidence
        routing.explanation = (("no department left to take it; " if not suggested else "")
                               + (f"{lead} leads until an operator decides (suggested: {suggested[0]}); "
                                  if acting and suggested and suggested[0] != lead else "")
                               + decision.explanation)
        routing.classifier, routing.decided_at = decision.classifier, at
        routing.await_triage(at)
        self._record(routing, plan, trigger="transfer", at=at, trigger_text=trigger_text, update=update)
        log.warning("report sent to triage after a transfer",
                    extra={"refused_by": refused_by, "excluded": routing.excluded, "dispatched": dispatch})

    # --- recording and publishing --------------------------------------------------------------------------

    def _record(self, routing: Routing, plan: Plan, *, trigger: Trigger, at: datetime, trigger_text: str | None = None,
                actor: Principal | None = None, reason: str | None = None, update: bool = False) -> None:
        """Store the attempt and write its events to the outbox: one dispatch per new department, then the
        decision for intake."""
        text = trigger_text or {"linked": f"linked to incident {routing.incident_id}"}.get(trigger, trigger)
        self.routings.add_attempt(RoutingAttempt(
            report_id=routing.report_id, attempt=plan.attempt, trigger=text, police=routing.police,
            lead=plan.lead, departments=plan.departments, dispatched=plan.dispatch, priority=routing.priority,
            confidence=routing.confidence, explanation=routing.explanation, classifier=routing.classifier,
            decided_at=at, needs_review=routing.awaiting_triage, actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else None, reason=reason))
        for code in plan.dispatch:
            self._dispatch(routing, code, plan.attempt, at)
        updated = self._update_tickets(routing, plan, at, in_triage=update)
        if plan.dispatch or updated:
            routing.next_redispatch_at = next_attempt(at, 0, self.redelivery_after_s)
            routing.redispatch_count = 1
        self._announce_decision(routing, plan, at, trigger=trigger)

    def _update_tickets(self, routing: Routing, plan: Plan, at: datetime, *, in_triage: bool = False) -> list[str]:
        """A decided re-route (an operator's choice from triage, a re-route after a transfer, an assisting department
        added) also goes to the departments that already have a ticket: the attempt's dispatch, with its role, lead,
        departments and priority, which their ticket takes (one lead per report). While the report waits in triage
        nothing is decided yet, so their tickets stay as they are, unless (``in_triage``) the lead refused the report
        and one of them leads meanwhile."""
        if routing.awaiting_triage and not in_triage:
            return []
        updated = [code for code in plan.departments
                   if code in routing.dispatched and code not in plan.dispatch and code not in routing.excluded]
        for code in updated:
            self._dispatch(routing, code, plan.attempt, at)
        # sent again until that department's ticket answers (a broker may lose it), as a first dispatch is
        routing.confirmed = [code for code in routing.confirmed if code not in updated]
        return updated

    def _dispatch(self, routing: Routing, code: str, attempt: int, at: datetime) -> None:
        outbox.add(self.session, TicketDispatched(source=SOURCE, subject=routing.report_id, time=at,
                                                  data=TicketDispatchedV1(
            report_id=routing.report_id, department=code, role=routing.role_of(code),
            lead_department=routing.lead, departments=routing.departments, priority=routing.priority,
            police=routing.police, text=routing.text, channel=routing.channel,
            location=Location.model_validate(routing.location), occurred_at=routing.occurred_at,
            received_at=routing.received_at, dispatched_at=at, attempt=attempt, callers=routing.callers)),
            department_topic(code))

    def _announce_decision(self, routing: Routing, plan: Plan, at: datetime, *, trigger: Trigger | None) -> None:
        linked = routing.state == LINKED
        outbox.add(self.session, ReportRouted(source=SOURCE, subject=routing.report_id, time=at, data=ReportRoutedV1(
            report_id=routing.report_id, attempt=plan.attempt, police=routing.police, lead=plan.lead,
            assisting=[d for d in plan.departments if d != plan.lead], departments=plan.departments,
            dispatched=plan.dispatch, excluded=list(routing.excluded), priority=routing.priority,
            confidence=routing.confidence, needs_review=routing.awaiting_triage, explanation=routing.explanation,
            classifier=routing.classifier, decided_at=at, incident_id=routing.incident_id if linked else None,
            linked=linked, trigger=trigger)), REPORTS_ROUTED)

    async def get(self, report_id: str) -> Routing:
        routing = await self.routings.get_with_history(report_id)
        if routing is None:
            raise NotFound(f"No routing for report {report_id}.")
        return routing

    async def incident_of(self, routing: Routing) -> Routing | None:
        """The incident a linked report belongs to, as it is now (it may have been re-routed or escalated since)."""
        if routing.state != LINKED or routing.incident_id is None:
            return None
        return await self.routings.get(routing.incident_id)
