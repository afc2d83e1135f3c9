"""What intake does with the other services' events: follow routing and ticket states."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake.reports.repository import ReportRepository
from intake.reports.service import ReportService
from shared.events import REPORTS_ROUTED, TICKETS_EVENTS, Event, ReportRouted, TicketStatusChanged
from shared.messaging import Handler
from shared.messaging.redelivery import DownstreamProgress
from shared.registry import Registry

TOPICS = [REPORTS_ROUTED, TICKETS_EVENTS]


def topics(_registry: Registry) -> list[str]:
    return TOPICS


def make_handler(router_progress: DownstreamProgress | None = None) -> Handler:
    async def handle(session: AsyncSession, event: Event[Any]) -> None:
        service = ReportService(session, router_progress=router_progress)
        if isinstance(event, ReportRouted):
            await service.apply_routed(event)
        elif isinstance(event, TicketStatusChanged):
            await service.apply_ticket_status(event)

    return handle


async def prefetch(session: AsyncSession, events: list[Event[Any]]) -> list[Any]:
    """The reports a batch of events concerns, loaded at once (keep the result alive while handling it)."""
    return await ReportRepository(session).load_many(sorted({e.subject for e in events}))


def make_sweeper(redelivery_after_s: float, router_progress: DownstreamProgress | None = None
                 ) -> Callable[[AsyncSession], Awaitable[int]]:
    async def sweep(session: AsyncSession) -> int:
        return await ReportService(session, redelivery_after_s=redelivery_after_s,
                                   router_progress=router_progress).announce_unrouted()

    return sweep
