"""What departments does with the router's events: open a ticket for each ``ticket.dispatched.v1`` on the
``dept.<code>`` topics of the departments this instance serves, and record intake's receipts (``tickets.receipts``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from departments.settings import served_departments
from departments.tickets.repository import TicketRepository
from departments.tickets.service import TicketService
from shared.events import (
    TICKETS_RECEIPTS, Event, IncidentReportLinked, IncidentReportUnlinked, TicketDispatched, TicketStatusObserved,
    department_topic,
)
from shared.messaging import Handler
from shared.registry import Registry


def topics(registry: Registry, serve: Sequence[str] | None = None) -> list[str]:
    """``dept.<code>`` for each served department: ``serve`` codes (checked against the registry), or all."""
    return [department_topic(code) for code in served_departments(registry, serve)] + [TICKETS_RECEIPTS]


def make_handler(redelivery_after_s: float) -> Handler:
    async def handle(session: AsyncSession, event: Event[Any]) -> None:
        """Open the dispatched ticket (once per report and department); count callers linked to an incident;
        record intake's receipts."""
        service = TicketService(session, redelivery_after_s=redelivery_after_s)
        if isinstance(event, TicketDispatched):
            await service.open_from_dispatch(event)
        elif isinstance(event, (IncidentReportLinked, IncidentReportUnlinked)):
            await service.count_linked_caller(event)
        elif isinstance(event, TicketStatusObserved):
            await service.record_receipt(event)

    return handle



async def prefetch(session: AsyncSession, events: list[Event[Any]]) -> list[Any]:
    """The tickets a batch of receipts concerns, loaded at once (dispatches mostly open new tickets)."""
    ids = sorted({e.data.ticket_id for e in events if isinstance(e, TicketStatusObserved)})
    return await TicketRepository(session).receipt_targets(ids)


def make_sweeper(redelivery_after_s: float) -> Callable[[AsyncSession], Awaitable[int]]:
    async def sweep(session: AsyncSession) -> int:
        return await TicketService(session, redelivery_after_s=redelivery_after_s).reannounce_unconfirmed()

    return sweep
