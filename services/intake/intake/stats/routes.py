from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from intake.query import UtcDatetime
from intake.stats.export import to_csv
from intake.stats.schemas import Stats
from intake.stats.service import StatsService
from shared.http import UnitOfWork
from shared.identity import Principal
from shared.identity.http import require_roles
from shared.problems import problem_responses

router = APIRouter(prefix="/v1/stats", tags=["stats"])
Viewer = Annotated[Principal, Depends(require_roles("centre_operator", "admin", "department_supervisor"))]

CSV_EXAMPLE = ("metric,department,priority,clock,key,value\r\nfrom,,,,,2026-11-01T00:00:00+00:00\r\n"
               "received,,,,,1000\r\npolice,,,,,280\r\ntickets,water,,,closed,100\r\n"
               "on_time.rate,,,acknowledge,,0.93\r\non_time.rate,water,P2,acknowledge,,0.95\r\n"
               "time_to_acknowledge.median_s,,,,,42.0\r\nmediation.outcome,,,,agreement,25\r\n")


async def stats_service(request: Request, session: UnitOfWork) -> StatsService:
    return StatsService(session, request.app.state.runtime.registry)


@router.get(
    "", response_model=Stats, response_model_by_alias=True, summary="Statistics for the linkage centre",
    description="Figures about the reports **received** in `[from, to)` and their tickets and call-backs, computed "
                "from intake's stored projection (every report, its routing, every ticket's state, clocks and "
                "outcome, every call-back). `department` limits them to the reports routed to that department, "
                "its tickets and the call-backs on reports it led. Roles: `centre_operator` and `admin` any "
                "department or all; `department_supervisor` only their own (no `department` means theirs, another "
                "one is 403). Send `Accept: text/csv` for the same figures as one flat CSV table with the columns "
                "`metric,department,priority,clock,key,value`.",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}},
                     "description": "The figures (JSON, or CSV when asked with `Accept: text/csv`)"},
               **problem_responses(401, 403, 422)})
async def get_stats(
    principal: Viewer, request: Request,
    start: Annotated[UtcDatetime | None, Query(alias="from", description="Received at or after (ISO 8601; no zone "
                                               "= UTC); default: no lower bound")] = None,
    end: Annotated[UtcDatetime | None, Query(alias="to", description="Received before (ISO 8601; no zone = UTC); "
                                             "default: now")] = None,
    department: Annotated[str | None, Query(max_length=32, description="A department code")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    service: StatsService = Depends(stats_service),
) -> Any:
    stats = await service.compute(principal, start, end, department)
    if accept and "text/csv" in accept:
        return Response(to_csv(stats), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'inline; filename="linkage-stats.csv"'})
    return stats
