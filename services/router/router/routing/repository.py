from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from router.routing.models import Routing, RoutingAttempt
from shared.db import in_session


class RoutingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, routing: Routing) -> None:
        self.session.add(routing)

    def add_attempt(self, attempt: RoutingAttempt) -> None:
        self.session.add(attempt)

    async def get(self, report_id: str) -> Routing | None:
        return await self.session.get(Routing, report_id)

    async def get_for_update(self, report_id: str) -> Routing | None:
        cached = in_session(self.session, Routing, report_id)  # loaded for the batch by load_many
        if cached is not None:
            return cached
        return await self.session.scalar(select(Routing).where(Routing.report_id == report_id).with_for_update())

    async def load_many(self, report_ids: list[str]) -> list[Routing]:
        if not report_ids:
            return []
        return list((await self.session.scalars(
            select(Routing).where(Routing.report_id.in_(report_ids)).with_for_update())).all())

    async def due_for_redispatch(self, now: datetime, *, limit: int) -> list[Routing]:
        return list((await self.session.scalars(
            select(Routing).where(Routing.next_redispatch_at <= now).order_by(Routing.next_redispatch_at)
            .limit(limit).with_for_update(skip_locked=True))).all())

    async def get_with_history(self, report_id: str) -> Routing | None:
        return await self.session.scalar(
            select(Routing).where(Routing.report_id == report_id).options(selectinload(Routing.attempts)))
