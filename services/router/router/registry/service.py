"""Presence of departments: which are routable when, and the centre operator's switch for temporary ones.

Routing asks :meth:`PresenceService.switched_on` for the temporary departments that are on right now and hands that
set to the classifier (``switched_on=``). The classifier is built on :func:`switch_driven` (the registry with every
``enabled_by_default`` folded into the switches), so an operator can also switch *off* a department that the
registry enables by default.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from sqlalchemy.ext.asyncio import AsyncSession

from router.registry.models import DepartmentSwitch, PresenceChange
from router.registry.repository import PresenceRepository
from shared.db import utcnow
from shared.identity import Principal
from shared.problems import Conflict, NotFound
from shared.registry import Department, Registry, UnknownDepartment

log = logging.getLogger("linkage.router.presence")
_CACHE_KEY = "linkage.router.switched_on"


def switch_driven(registry: Registry) -> Registry:
    """The registry as routing sees it: temporary departments are routable only when in ``switched_on``, which
    :meth:`PresenceService.switched_on` computes from the operator's switches and ``enabled_by_default``."""
    departments = {code: dataclasses.replace(d, enabled_by_default=False) if d.mode == "temporary" else d
                   for code, d in registry.departments.items()}
    return dataclasses.replace(registry, departments=MappingProxyType(departments))


class NotSwitchable(Conflict):
    slug, title = "department-not-switchable", "Only temporary departments are switched on and off"


@dataclass(frozen=True)
class Presence:
    """A department's presence at one moment."""

    department: Department
    routable: bool
    switched_on: bool | None  # temporary only
    routes_to: str            # where its matters go at that moment: itself when routable
    switch: DepartmentSwitch | None


class PresenceService:
    def __init__(self, session: AsyncSession, registry: Registry) -> None:
        self.session = session
        self.registry = registry
        self.routing_registry = switch_driven(registry)
        self.switches = PresenceRepository(session)

    async def switched_on(self) -> frozenset[str]:
        """Temporary departments switched on now (the operator's switch, else ``enabled_by_default``). Read once per
        transaction: a consumer batch routes all its reports with the same switches."""
        cached = self.session.info.get(_CACHE_KEY)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        switches = await self.switches.switches()
        on = frozenset(d.code for d in self.registry if d.mode == "temporary"
                       and (switches[d.code].enabled if d.code in switches else d.enabled_by_default))
        self.session.info[_CACHE_KEY] = on
        return on

    async def presence(self, at: datetime | None = None) -> list[Presence]:
        at = at or utcnow()
        switches = await self.switches.switches()
        on = await self.switched_on()
        return [Presence(department=d, routable=self.routing_registry.is_routable(d.code, at, on),
                         switched_on=(d.code in on) if d.mode == "temporary" else None,
                         routes_to=self.routing_registry.resolve(d.code, at, on), switch=switches.get(d.code))
                for d in self.registry]

    async def one(self, code: str, at: datetime | None = None) -> Presence:
        self._department(code)
        return next(p for p in await self.presence(at) if p.department.code == code)

    async def switch(self, principal: Principal, code: str, *, enabled: bool, reason: str) -> Presence:
        """Switch a temporary department on or off; a change appends its audit entry. Switching to the state it
        is already in changes nothing and records nothing."""
        department = self._department(code)
        if department.mode != "temporary":
            raise NotSwitchable(f"Department {code} is {department.mode}; only temporary departments are switched "
                                "on and off" + (" (a seasonal one follows its season)." if department.mode == "seasonal"
                                                else "."), mode=department.mode)
        now = utcnow()
        current = await self.switches.get_for_update(code)
        before = current.enabled if current is not None else department.enabled_by_default
        if current is None:
            current = DepartmentSwitch(code=code, enabled=enabled, reason=reason, changed_by_id=principal.id,
                                       changed_by_name=principal.name, changed_at=now)
            self.switches.add(current)
        if before != enabled or current.enabled != enabled:
            current.enabled, current.reason, current.changed_at = enabled, reason, now
            current.changed_by_id, current.changed_by_name = principal.id, principal.name
            self.switches.append_change(PresenceChange(
                code=code, from_enabled=before, to_enabled=enabled, reason=reason, actor_id=principal.id,
                actor_name=principal.name, actor_role=principal.role, at=now))
            log.info("department switched", extra={"department": code, "enabled": enabled, "actor": principal.id})
        self.session.info.pop(_CACHE_KEY, None)
        await self.session.flush()
        return await self.one(code, now)

    async def audit(self, code: str) -> list[PresenceChange]:
        self._department(code)
        return await self.switches.changes(code)

    def _department(self, code: str) -> Department:
        try:
            return self.registry.get(code)
        except UnknownDepartment:
            raise NotFound(f"No department {code!r} in the registry.") from None
