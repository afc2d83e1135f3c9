from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from router.registry.schemas import DepartmentOut
from shared.db import utcnow
from shared.events import department_topic
from shared.identity import Principal
from shared.identity.http import current_principal
from shared.problems import problem_responses

router = APIRouter(prefix="/v1/departments", tags=["departments"])


@router.get("", response_model=list[DepartmentOut], summary="The department registry",
            description="Every department the router can route to, with its presence mode and whether it is "
                        "routable now. Any authenticated role.", responses=problem_responses(401))
async def list_departments(request: Request,
                           principal: Annotated[Principal, Depends(current_principal)]) -> list[DepartmentOut]:
    registry = request.app.state.runtime.registry
    now = utcnow()
    return [DepartmentOut(code=d.code, name_zh=d.name_zh, name_en=d.name_en, mode=d.mode, fallback=d.fallback,
                          season=list(d.season) if d.season else None,
                          routable_now=registry.is_routable(d.code, now), topic=department_topic(d.code))
            for d in registry.departments.values()]
