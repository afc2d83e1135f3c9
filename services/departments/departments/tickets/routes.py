"""HTTP for department staff and centre operators: translate a request into one service call and back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Path, Query

from departments.tickets.schemas import (
    AssignIn, AssistIn, AuditEntryOut, AuditVerification, CancelIn, EscalationOut, CloseIn, FollowUpIn, FollowUpOut, NoBody, NoteIn,
    ReasonIn, ReleaseIn, ResolveIn, TicketOut, TicketPage, TransferIn,
)
from departments.tickets.service import TicketService
from shared.events import TicketState
from shared.http import UnitOfWork
from shared.identity import Principal
from shared.identity.http import require_roles
from shared.problems import problem_responses

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])


async def ticket_service(request: Request, session: UnitOfWork) -> TicketService:
    state = request.app.state
    return TicketService(session, redelivery_after_s=state.runtime.settings.redelivery_after_s,
                         sla=state.sla_policies, departments=frozenset(state.runtime.registry.codes()))


Service = Annotated[TicketService, Depends(ticket_service)]
Reader = Annotated[Principal, Depends(require_roles(
    "department_staff", "department_supervisor", "centre_operator", "admin"))]
Worker = Annotated[Principal, Depends(require_roles("department_staff", "department_supervisor"))]
Reopener = Annotated[Principal, Depends(require_roles(
    "department_staff", "department_supervisor", "centre_operator", "admin"))]
Canceller = Annotated[Principal, Depends(require_roles("department_supervisor", "centre_operator", "admin"))]
TicketId = Annotated[str, Path(max_length=64, description="The ticket id", examples=["5f0c2a9e-3b7d-4c1e-9a51-2d8e6f4b7c10"])]

_VISIBILITY = ("Department staff and supervisors see their own department's tickets only; any other ticket is "
               "404, as if it did not exist.")
_ACTION = problem_responses(401, 403, 404, 409, 422)


@router.get("", response_model=TicketPage, summary="List tickets",
            description="Newest first; follow `next_cursor` for the next page. Department roles list their own "
                        "department (the default for `department`; naming another one is 403). Centre operators "
                        "and admins list every department unless `department` is given. Supervisors' escalation "
                        "view: `?escalated=true` (escalated at least once) and/or `?overdue=true` (a clock past "
                        "due, step not done); both given means both must hold.",
            responses=problem_responses(401, 403, 422))
async def list_tickets(
    principal: Reader, service: Service,
    department: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z][a-z0-9_]*$",
                                            description="Department code", examples=["water"])] = None,
    status: Annotated[TicketState | None, Query(description="Only tickets in this state")] = None,
    report_id: Annotated[str | None, Query(max_length=64, description="Only the tickets of this report")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page")] = None,
    escalated: Annotated[bool | None, Query(
        description="`true`: only tickets escalated at least once (level 1 or 2); `false`: never escalated")] = None,
    overdue: Annotated[bool | None, Query(
        description="`true`: only tickets with a clock past due whose step is not done yet; `false`: none")] = None,
) -> TicketPage:
    return await service.page(principal, department=department, status=status, report_id=report_id, limit=limit,
                              cursor=cursor, escalated=escalated, overdue=overdue)


@router.get("/{ticket_id}", response_model=TicketOut, summary="One ticket",
            description=f"The ticket, its state and the actions that state allows. {_VISIBILITY}",
            responses=problem_responses(401, 403, 404))
async def get_ticket(ticket_id: TicketId, principal: Reader, service: Service) -> TicketOut:
    return await service.get(principal, ticket_id)


@router.get("/{ticket_id}/audit", response_model=list[AuditEntryOut], summary="The ticket's audit trail",
            description="Every change since the dispatch created the ticket, oldest first, each hash-chained to "
                        f"the one before. {_VISIBILITY}",
            responses=problem_responses(401, 403, 404))
async def get_audit(ticket_id: TicketId, principal: Reader, service: Service) -> list[AuditEntryOut]:
    return await service.audit_trail(principal, ticket_id)


@router.get("/{ticket_id}/audit/verify", response_model=AuditVerification, summary="Verify the audit trail",
            description="Recomputes the hash chain from the stored entries: `intact` is false when an entry was "
                        "altered, removed or reordered, and `first_broken_seq` says where. " + _VISIBILITY,
            responses=problem_responses(401, 403, 404))
async def verify_audit(ticket_id: TicketId, principal: Reader, service: Service) -> AuditVerification:
    return await service.verify_audit(principal, ticket_id)


@router.post("/{ticket_id}/acknowledge", response_model=TicketOut, summary="Acknowledge a new ticket",
             description="new → acknowledged: the department has seen it. Department staff and supervisors, "
                         "own department. No body (an empty object at most).",
             responses=_ACTION)
async def acknowledge(ticket_id: TicketId, principal: Worker, service: Service, body: NoBody | None = None
                      ) -> TicketOut:
    return await service.acknowledge(principal, ticket_id)


@router.post("/{ticket_id}/start", response_model=TicketOut, summary="Start handling",
             description="acknowledged | reopened → in_progress. Department staff and supervisors, own department. "
                         "No body (an empty object at most).",
             responses=_ACTION)
async def start(ticket_id: TicketId, principal: Worker, service: Service, body: NoBody | None = None) -> TicketOut:
    return await service.start(principal, ticket_id)


@router.post("/{ticket_id}/notes", response_model=TicketOut, summary="Add a note",
             description="Recorded in the audit trail without changing the state (and without an event). Any state "
                         "but transferred and cancelled. Department staff and supervisors, own department.",
             responses=_ACTION)
async def add_note(ticket_id: TicketId, body: NoteIn, principal: Worker, service: Service) -> TicketOut:
    return await service.add_note(principal, ticket_id, body.note)


@router.post("/{ticket_id}/resolve", response_model=TicketOut, summary="Resolve",
             description="in_progress | reopened → resolved, with what was done and optionally an outcome code from "
                         "the ticket's `outcomes` (mediation: `agreement`, `no_agreement`, `referred`). Stops the "
                         "resolve clock. Department staff and supervisors, own department.",
             responses=_ACTION)
async def resolve(ticket_id: TicketId, body: ResolveIn, principal: Worker, service: Service) -> TicketOut:
    return await service.resolve(principal, ticket_id, body.resolution, body.outcome)


@router.post("/{ticket_id}/close", response_model=TicketOut, summary="Close",
             description="resolved → closed, with an optional reason. Department staff and supervisors, own "
                         "department.",
             responses=_ACTION)
async def close(ticket_id: TicketId, principal: Worker, service: Service, body: CloseIn | None = None
                ) -> TicketOut:
    return await service.close(principal, ticket_id, body.reason if body else None)


@router.post("/{ticket_id}/reopen", response_model=TicketOut, summary="Reopen",
             description="resolved | closed → reopened: back to work, with the reason. Department staff and "
                         "supervisors (own department), centre operators and admins (any).",
             responses=_ACTION)
async def reopen(ticket_id: TicketId, body: ReasonIn, principal: Reopener, service: Service) -> TicketOut:
    return await service.reopen(principal, ticket_id, body.reason)


@router.post("/{ticket_id}/transfer", response_model=TicketOut, summary="Hand back: not our matter",
             description="new | acknowledged | in_progress | reopened → transferred, final for this department; "
                         "the router re-routes the report without it. Department staff and supervisors, own "
                         "department.",
             responses=_ACTION)
async def transfer(ticket_id: TicketId, body: TransferIn, principal: Worker, service: Service) -> TicketOut:
    return await service.transfer(principal, ticket_id, body.reason)


@router.post("/{ticket_id}/cancel", response_model=TicketOut, summary="Cancel",
             description="Any state but closed, transferred and cancelled → cancelled, with the reason. Department "
                         "supervisors (own department), centre operators and admins (any).",
             responses=_ACTION)
async def cancel(ticket_id: TicketId, body: CancelIn, principal: Canceller, service: Service) -> TicketOut:
    return await service.cancel(principal, ticket_id, body.reason)


@router.get("/{ticket_id}/escalations", response_model=list[EscalationOut], summary="The ticket's escalations",
            description="Every escalation of a missed clock, oldest first: level 1 (the department's supervisors) at "
                        "the due time, level 2 (the linkage centre) `LINKAGE_DEPARTMENTS_ESCALATION_LEVEL2_AFTER_S` "
                        f"(scaled) later; each once per clock and round. {_VISIBILITY}",
            responses=problem_responses(401, 403, 404))
async def list_escalations(ticket_id: TicketId, principal: Reader, service: Service) -> list[EscalationOut]:
    return await service.escalations(principal, ticket_id)


@router.post("/{ticket_id}/assign", response_model=TicketOut, summary="Assign inside the department",
             description="Give the matter to a unit and/or a staff member of the department, with a reason "
                         "(required); recorded in the audit trail (`assign`, who and why) and shown as "
                         "`assignment`. new | acknowledged | in_progress | reopened. Department staff and "
                         "supervisors, own department.",
             responses=_ACTION)
async def assign(ticket_id: TicketId, body: AssignIn, principal: Worker, service: Service) -> TicketOut:
    return await service.assign(principal, ticket_id, unit=body.unit, assignee=body.assignee, reason=body.reason)


@router.post("/{ticket_id}/follow-ups", response_model=TicketOut, summary="Record a follow-up call",
             description="The lead department records a follow-up call (回访) to the caller and its outcome, on its "
                         "ticket (an assisting ticket is 403). Audited (`follow_up`), listed in `follow_ups`. Any "
                         "state but transferred and cancelled. Department staff and supervisors, own department.",
             responses=_ACTION)
async def add_follow_up(ticket_id: TicketId, body: FollowUpIn, principal: Worker, service: Service) -> TicketOut:
    return await service.add_follow_up(principal, ticket_id, reached=body.reached, outcome=body.outcome,
                                       note=body.note)


@router.get("/{ticket_id}/follow-ups", response_model=list[FollowUpOut], summary="The ticket's follow-up calls",
            description=f"Oldest first. {_VISIBILITY}", responses=problem_responses(401, 403, 404))
async def list_follow_ups(ticket_id: TicketId, principal: Reader, service: Service) -> list[FollowUpOut]:
    return await service.follow_ups(principal, ticket_id)


@router.post("/{ticket_id}/assistants", response_model=TicketOut, summary="Ask another department to assist",
             description="Lead ticket only (an assisting ticket is 403): the lead asks for `department` to assist, "
                         "with a reason. Audited on the lead ticket (`request_assist`) and announced as "
                         "`ticket.assistance_requested.v1` on `tickets.events`; the router adds the department to "
                         "the report's routing and dispatches its ticket on `dept.<code>` like any dispatch, which "
                         "then appears in `joint`. Presence applies: a seasonal department out of season, or a "
                         "temporary one switched off, is asked through its fallback (when that fallback is on the "
                         "report already, nothing more happens). A department already handling "
                         "the report, or one that refused it (transferred it), is 409; one not in the registry 422. "
                         "Department staff and supervisors of the lead department.",
             responses=_ACTION)
async def request_assistance(ticket_id: TicketId, body: AssistIn, principal: Worker, service: Service) -> TicketOut:
    return await service.request_assistance(principal, ticket_id, body.department, body.reason)


@router.post("/{ticket_id}/release", response_model=TicketOut, summary="Assisting: ask to be released",
             description="An assisting department asks the lead to release it from the joint handling, with a "
                         "reason. Audited (`request_release`), shown on this ticket (`release_requested`) and, via "
                         "`ticket.release_requested.v1` on `tickets.events`, on the lead's ticket "
                         "(`joint[].release_requested`). The lead decides with "
                         "`POST /v1/tickets/{lead ticket}/assistants/{department}/release`. Lead tickets are 403; "
                         "a second request while one is pending is 409. Department staff and supervisors.",
             responses=_ACTION)
async def request_release(ticket_id: TicketId, body: ReleaseIn, principal: Worker, service: Service) -> TicketOut:
    return await service.request_release(principal, ticket_id, body.reason)


@router.post("/{ticket_id}/assistants/{department}/release", response_model=TicketOut,
             summary="Lead: release an assisting department",
             description="The lead approves an assisting department's request to be released: audited on the lead "
                         "ticket (`release`) and sent as `ticket.release_approved.v1` on that department's "
                         "`dept.<code>` topic, whose instance cancels the assisting ticket with the reason (actor: "
                         "the lead's staff). 409 when the department is not assisting or has not asked. Department "
                         "staff and supervisors of the lead department.",
             responses=_ACTION)
async def approve_release(ticket_id: TicketId, body: ReleaseIn, principal: Worker, service: Service,
                          department: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,31}$",
                                                          examples=["transport"])]) -> TicketOut:
    return await service.approve_release(principal, ticket_id, department, body.reason)
