"""What the router does with events: route new reports; re-route when a department hands a ticket back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from router.routing.classifier import Classifier
from router.routing.duplicates import DuplicatePolicy
from router.routing.repository import RoutingRepository
from router.routing.service import RoutingService
from shared.events import (
    REPORTS_RECEIVED, TICKETS_EVENTS, Event, ReportReceived, TicketAssistanceRequested, TicketStatusChanged,
)
from shared.messaging import Handler
from shared.messaging.redelivery import DownstreamProgress
from shared.registry import Registry


def topics(_registry: Registry) -> list[str]:
    return [REPORTS_RECEIVED, TICKETS_EVENTS]


def make_handler(classifier: Classifier, registry: Registry, redelivery_after_s: float,
                 duplicates: DuplicatePolicy | None, departments_progress: DownstreamProgress | None = None
                 ) -> Handler:
    async def handle(session: AsyncSession, event: Event[Any]) -> None:
        service = RoutingService(session, classifier, registry, redelivery_after_s=redelivery_after_s,
                                 duplicates=duplicates, departments_progress=departments_progress)
        if isinstance(event, ReportReceived):
            await service.route_new_report(event)
        elif isinstance(event, TicketStatusChanged):
            await service.follow_ticket(event)
        elif isinstance(event, TicketAssistanceRequested):
            await service.add_assisting(event)

    return handle


async def prefetch(session: AsyncSession, events: list[Event[Any]]) -> list[Any]:
    """The routings a batch of new reports and ticket events concerns, loaded at once."""
    ids = sorted({e.subject for e in events if isinstance(e, (ReportReceived, TicketStatusChanged))})
    return await RoutingRepository(session).load_many(ids)


def make_sweeper(classifier: Classifier, registry: Registry, redelivery_after_s: float,
                 departments_progress: DownstreamProgress | None = None) -> Callable[[AsyncSession], Awaitable[int]]:
    async def sweep(session: AsyncSession) -> int:
        return await RoutingService(session, classifier, registry, redelivery_after_s=redelivery_after_s,
                                    departments_progress=departments_progress).redispatch_unconfirmed()

    return sweep
