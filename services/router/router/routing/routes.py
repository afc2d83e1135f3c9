from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from router.routing.classifier import Classifier
from router.routing.models import Routing
from router.routing.schemas import (
    ClassifyIn, ClassifyOut, PossibleIncidentOut, RoutingOut, Suggestion, TriageItem, TriagePage, TriageRouteIn, UnlinkIn,
)
from router.routing.service import RoutingService
from shared.db import utcnow
from shared.http import UnitOfWork
from shared.identity import Principal
from shared.identity.http import require_roles
from shared.problems import problem_responses

router = APIRouter(tags=["routing"])
Operator = Annotated[Principal, Depends(require_roles("centre_operator", "admin"))]
CallCentre = Annotated[Principal, Depends(require_roles("call_centre", "centre_operator"))]


def service(request: Request, session: UnitOfWork) -> RoutingService:
    classifier: Classifier = request.app.state.classifier
    settings = request.app.state.runtime.settings
    return RoutingService(session, classifier, request.app.state.runtime.registry,
                          redelivery_after_s=settings.redelivery_after_s,
                          duplicates=getattr(settings, "duplicate_policy", None))


Routings = Annotated[RoutingService, Depends(service)]


@router.get("/v1/routings/{report_id}", response_model=RoutingOut, summary="A report's routing and its history",
            description="The current decision (police or not, lead and assisting departments, priority, confidence, "
                        "explanation, state: routed, waiting in triage or linked to an incident) and every attempt "
                        "behind it, with what triggered it; a triage decision names the operator and the reason. A "
                        "linked report shows its incident's current police, lead, departments, priority and callers.",
            responses=problem_responses(401, 403, 404))
async def get_routing(report_id: str, principal: Operator, routings: Routings) -> RoutingOut:
    routing = await routings.get(report_id)
    out = RoutingOut.model_validate(routing)
    incident = await routings.incident_of(routing)
    if incident is not None:  # a linked report shows its incident's routing as it is now, and its callers
        out = out.model_copy(update={"police": incident.police, "lead": incident.lead,
                                     "departments": list(incident.departments), "priority": incident.priority,
                                     "callers": incident.callers})
    return out


@router.post("/v1/classify", response_model=ClassifyOut, summary="Suggest routing for a text (stateless)",
             description="What the router would decide for this text right now (or at `at`), with the current "
                         "presence of departments: police or not, lead, departments, priority, confidence, whether it "
                         "would need review, and why; given a `location`, the open incident it would be linked to "
                         "(`possible_incident`: another caller already reported it). Stores and dispatches nothing, "
                         "so call-centre software can show "
                         "the suggestion while the operator is still on the line. Roles `call_centre`, "
                         "`centre_operator`.", responses=problem_responses(400, 401, 403, 422))
async def classify(body: ClassifyIn, principal: CallCentre, routings: Routings) -> ClassifyOut:
    at = body.at or utcnow()
    d, incident = await routings.suggest(body.text, at, body.location.model_dump() if body.location else None)
    return ClassifyOut(police=d.police, lead=d.lead, assisting=list(d.assisting), departments=list(d.departments),
                       priority=d.priority, confidence=d.confidence, needs_review=d.needs_review,
                       dispatch_while_review=list(d.dispatch_while_review), explanation=d.explanation,
                       classifier=d.classifier, at=at,
                       possible_incident=PossibleIncidentOut(**vars(incident)) if incident else None)


@router.get("/v1/triage", response_model=TriagePage, summary="The triage queue, longest waiting first",
            description="Reports the classifier was not sure enough about (or that every candidate department "
                        "refused), waiting for a centre operator: the report, the classifier's suggestion and what was "
                        "already dispatched (police, when it may be a police matter). After the lead handed a report "
                        "back, the suggestion's lead is the department with a ticket that leads meanwhile, and its "
                        "explanation names the classifier's own proposal. Cursor pagination. Centre "
                        "operators and admins.", responses=problem_responses(401, 403, 422))
async def triage_queue(principal: Operator, routings: Routings,
                       limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
                       cursor: Annotated[str | None, Query(max_length=200, description="From `next_cursor`")] = None,
                       ) -> TriagePage:
    rows, next_cursor = await routings.triage_page(limit=limit, cursor=cursor)
    return TriagePage(items=[triage_item(r) for r in rows], next_cursor=next_cursor)


@router.post("/v1/triage/{report_id}/route", response_model=RoutingOut, summary="Route a report from triage",
             description="A centre operator chooses the lead, assisting departments and priority of a report waiting "
                         "in triage. The chosen departments that have no ticket yet are dispatched; departments "
                         "already dispatched (police while it waited) stay on the report as assisting, and can "
                         "transfer it back if it is not their matter. The decision is a new routing attempt with "
                         "trigger `triage`, the operator (from the API key) and the reason. 404: unknown report; "
                         "409: not waiting in triage; 422: unknown, refused or not-routable department.",
             responses=problem_responses(400, 401, 403, 404, 409, 422))
async def route_from_triage(report_id: str, body: TriageRouteIn, principal: Operator,
                            routings: Routings) -> RoutingOut:
    await routings.route_from_triage(principal, report_id, lead=body.lead, assisting=list(body.assisting),
                                     priority=body.priority, reason=body.reason)
    return RoutingOut.model_validate(await routings.get(report_id))


@router.post("/v1/routings/{report_id}/unlink", response_model=RoutingOut,
             summary="Unlink a report from its incident and route it on its own",
             description="The operator's escape hatch when duplicate detection linked a report to an incident it "
                         "does not belong to: the report is routed as its own report (its departments get tickets; "
                         "a report the classifier is not sure about goes to triage), the incident's departments "
                         "get `incident.report_unlinked.v1` with the new caller count, and the routing's history "
                         "records who, when and why (trigger `unlinked from incident <id>`). 404: unknown report; "
                         "409: not linked. Centre operators and admins.",
             responses=problem_responses(400, 401, 403, 404, 409, 422))
async def unlink(report_id: str, body: UnlinkIn, principal: Operator, routings: Routings) -> RoutingOut:
    await routings.unlink(principal, report_id, reason=body.reason)
    return RoutingOut.model_validate(await routings.get(report_id))


def triage_item(r: Routing) -> TriageItem:
    assert r.triage_since is not None
    return TriageItem(
        report_id=r.report_id, text=r.text, channel=r.channel, location=r.location,  # type: ignore[arg-type]
        occurred_at=r.occurred_at, received_at=r.received_at, waiting_since=r.triage_since, attempt=r.attempt,
        police=r.police, suggestion=Suggestion(lead=r.lead, assisting=[d for d in r.departments if d != r.lead],
                                               departments=r.departments, priority=r.priority,  # type: ignore[arg-type]
                                               confidence=r.confidence, explanation=r.explanation,
                                               classifier=r.classifier),
        dispatched=[d for d in r.dispatched if d not in r.excluded], excluded=r.excluded)
