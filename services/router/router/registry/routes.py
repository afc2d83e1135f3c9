from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from router.registry.schemas import DepartmentOut, PresenceChangeOut, PresenceIn, SwitchOut
from router.registry.service import Presence, PresenceService
from shared.db import utcnow
from shared.events import department_topic
from shared.http import UnitOfWork
from shared.identity import Principal
from shared.identity.http import current_principal, require_roles
from shared.inputs import IsoAwareDatetime
from shared.problems import problem_responses

router = APIRouter(prefix="/v1/departments", tags=["departments"])
Anyone = Annotated[Principal, Depends(current_principal)]
Operator = Annotated[Principal, Depends(require_roles("centre_operator", "admin"))]
At = Annotated[IsoAwareDatetime | None, Query(description="Evaluate presence at this moment (ISO 8601 with a time "
                                                           "zone); default now",
                                               examples=["2026-07-01T09:00:00+08:00"])]


def service(request: Request, session: UnitOfWork) -> PresenceService:
    return PresenceService(session, request.app.state.runtime.registry)


Presences = Annotated[PresenceService, Depends(service)]


@router.get("", response_model=list[DepartmentOut], summary="The department registry with presence",
            description="Every department the router can route to, in registry order: its presence mode, whether it "
                        "is routable at `at` (default now), for temporary departments the operator's switch, for "
                        "seasonal ones the season window, its fallback and where its matters go at that moment "
                        "(`routes_to`). Any authenticated role.", responses=problem_responses(401, 422))
async def list_departments(principal: Anyone, presences: Presences, at: At = None) -> list[DepartmentOut]:
    at = at or utcnow()
    return [to_out(p, at) for p in await presences.presence(at)]


@router.put("/{code}/presence", response_model=DepartmentOut, summary="Switch a temporary department on or off",
            description="Centre operators (and admins) switch a **temporary** department on (routable) or off (its "
                        "matters go to its fallback). New reports are routed with the new switch at once. Every "
                        "change is audited (who, from the API key; when; why; from → to); switching to the state it "
                        "is already in records nothing. Permanent and seasonal departments cannot be switched (409).",
            responses=problem_responses(401, 403, 404, 409, 422))
async def switch_presence(code: str, body: PresenceIn, principal: Operator, presences: Presences) -> DepartmentOut:
    presence = await presences.switch(principal, code, enabled=body.enabled, reason=body.reason)
    return to_out(presence, utcnow())


@router.get("/{code}/presence/audit", response_model=list[PresenceChangeOut],
            summary="A department's presence switches, oldest first",
            description="The append-only audit of a temporary department's switches: who switched it, when, why, "
                        "from which state to which. Centre operators and admins.",
            responses=problem_responses(401, 403, 404))
async def presence_audit(code: str, principal: Operator, presences: Presences) -> list[PresenceChangeOut]:
    return [PresenceChangeOut.model_validate(c) for c in await presences.audit(code)]


def to_out(p: Presence, at: datetime) -> DepartmentOut:
    d = p.department
    temporary = d.mode == "temporary"
    return DepartmentOut(
        code=d.code, name_zh=d.name_zh, name_en=d.name_en, mode=d.mode, fallback=d.fallback,
        season=list(d.season) if d.season else None, routable_now=p.routable, switched_on=p.switched_on,
        enabled_by_default=d.enabled_by_default if temporary else None, routes_to=p.routes_to,
        last_switch=SwitchOut(enabled=p.switch.enabled, reason=p.switch.reason, changed_by_id=p.switch.changed_by_id,
                              changed_by_name=p.switch.changed_by_name, changed_at=p.switch.changed_at)
        if temporary and p.switch is not None else None,
        topic=department_topic(d.code), at=at)
