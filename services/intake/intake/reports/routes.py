from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from intake.query import UtcDatetime
from intake.reports.repository import ReportFilter
from intake.reports.schemas import FeedbackIn, FeedbackOut, ReportIn, ReportOut, ReportPage, ReportStatus
from intake.reports.service import ReportService
from shared.events import Channel
from shared.http import UnitOfWork
from shared.identity import Principal
from shared.identity.http import require_roles
from shared.problems import problem_responses

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def _idempotency_key(max_length: int) -> Any:
    """An idempotency key: printable ASCII without leading or trailing spaces ("" or "  " would be every client's
    key)."""
    return Annotated[str | None, Header(
        min_length=1, max_length=max_length, pattern=r"^[!-~](?:[ -~]*[!-~])?$", alias="Idempotency-Key",
        description=f"Client-chosen retry key: printable ASCII, not blank, at most {max_length} characters")]


IdempotencyKey = _idempotency_key(255)
FeedbackIdempotencyKey = _idempotency_key(200)  # stored with a "feedback:" prefix in the same 255-character column
CallCentre = Annotated[Principal, Depends(require_roles("call_centre", "centre_operator", "admin"))]


async def report_service(request: Request, session: UnitOfWork) -> ReportService:
    runtime = request.app.state.runtime
    return ReportService(session, redelivery_after_s=runtime.settings.redelivery_after_s, registry=runtime.registry)


Service = Annotated[ReportService, Depends(report_service)]


@router.post(
    "", status_code=201, response_model=ReportOut, summary="File a citizen report",
    description="Stores the report and hands it to the router (asynchronously, after the commit). Send an "
                "`Idempotency-Key` to make retries safe: the same key and body return the stored response "
                "(`Idempotent-Replayed: true`) and create nothing; the same key with another body is 422.",
    responses={201: {"headers": {"Location": {"description": "URL of the new report", "schema": {"type": "string"}}}},
               **problem_responses(400, 401, 403, 409, 413, 422)})
async def file_report(body: ReportIn, request: Request, principal: CallCentre, service: Service,
                      idempotency_key: IdempotencyKey = None,
                      ) -> Any:
    response, created = await service.file(principal, body, idempotency_key)
    headers = {"Location": f"{router.prefix}/{response['id']}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(response, status_code=201, headers=headers)


@router.post(
    "/{report_id}/feedback", status_code=201, response_model=FeedbackOut, summary="Record the caller's call-back",
    description="The call centre's call-back (回访) after a report was **closed**: `satisfied`, "
                "`basically_satisfied` or `dissatisfied`, with an optional comment. Each call-back is its own record "
                "(a second call-back is a new one). `dissatisfied` reopens the report at once (status `reopened`, "
                "audited on its timeline) and asks the lead department to reopen its ticket with the comment (event "
                "`report.feedback_received.v1` on `reports.feedback`); once that ticket has reopened the report "
                "follows its tickets again (`in_progress`). Feedback on a report that is not closed is refused with "
                "409. `Idempotency-Key` works as for `POST /v1/reports`.",
    responses={201: {"headers": {"Location": {"description": "The report", "schema": {"type": "string"}}}},
               **problem_responses(400, 401, 403, 404, 409, 422)})
async def give_feedback(report_id: str, body: FeedbackIn, principal: CallCentre, service: Service,
                        idempotency_key: FeedbackIdempotencyKey = None,
                        ) -> Any:
    response, created = await service.give_feedback(principal, report_id, body, idempotency_key)
    headers = {"Location": f"{router.prefix}/{report_id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(response, status_code=201, headers=headers)


@router.get("/{report_id}", response_model=ReportOut, name="get_report", summary="Follow one report",
            description="Status, routing (police, departments lead first, priority), tickets, the timeline and the "
                        "caller's call-backs (`feedback`).",
            responses=problem_responses(401, 403, 404))
async def get_report(report_id: str, principal: CallCentre, service: Service) -> ReportOut:
    return await service.get(report_id)


@router.get("", response_model=ReportPage, summary="List reports",
            description="Newest first, filtered; follow `next_cursor` for the next page. `created_from` and "
                        "`created_to` are ISO 8601 (no zone = UTC, as for `/v1/stats`); `created_from` after "
                        "`created_to` or an unknown `department` code is 422.",
            responses=problem_responses(401, 403, 422))
async def list_reports(
    principal: CallCentre, service: Service,
    status: Annotated[ReportStatus | None, Query(description="Only reports in this status")] = None,
    channel: Annotated[Channel | None, Query()] = None,
    department: Annotated[str | None, Query(max_length=32, description="Routed to this department code (one of "
                                                                      "the registry's)")] = None,
    created_from: Annotated[UtcDatetime | None, Query(description="Created at or after (ISO 8601; no zone = "
                                                                  "UTC)")] = None,
    created_to: Annotated[UtcDatetime | None, Query(description="Created before (ISO 8601; no zone = UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ReportPage:
    flt = ReportFilter(status=status, channel=channel, department=department, created_from=created_from,
                       created_to=created_to)
    return await service.page(flt, limit=limit, cursor=cursor)
