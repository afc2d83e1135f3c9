from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.registry.models import DepartmentSwitch, PresenceChange


class PresenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def switches(self) -> dict[str, DepartmentSwitch]:
        return {s.code: s for s in (await self.session.scalars(select(DepartmentSwitch))).all()}

    async def get_for_update(self, code: str) -> DepartmentSwitch | None:
        return await self.session.scalar(
            select(DepartmentSwitch).where(DepartmentSwitch.code == code).with_for_update())

    def add(self, switch: DepartmentSwitch) -> None:
        self.session.add(switch)

    def append_change(self, change: PresenceChange) -> None:
        self.session.add(change)

    async def changes(self, code: str) -> list[PresenceChange]:
        return list((await self.session.scalars(
            select(PresenceChange).where(PresenceChange.code == code).order_by(PresenceChange.id))).all())
