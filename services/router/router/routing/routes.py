from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from router.routing.schemas import RoutingOut
from router.routing.service import RoutingService
from shared.http import UnitOfWork
from shared.identity import Principal
from shared.identity.http import require_roles
from shared.problems import problem_responses

router = APIRouter(prefix="/v1/routings", tags=["routing"])
Operator = Annotated[Principal, Depends(require_roles("centre_operator", "admin"))]


@router.get("/{report_id}", response_model=RoutingOut, summary="A report's routing and its history",
            description="The current decision (police or not, lead and assisting departments, priority, confidence, "
                        "explanation) and every attempt behind it, with what triggered it.",
            responses=problem_responses(401, 403, 404))
async def get_routing(report_id: str, request: Request, principal: Operator,
                      session: UnitOfWork) -> RoutingOut:
    routing = await RoutingService(session, request.app.state.classifier).get(report_id)
    return RoutingOut.model_validate(routing)
