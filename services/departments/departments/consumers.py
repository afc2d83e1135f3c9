"""What departments does with the router's events: open a ticket for each ``ticket.dispatched.v1`` on the
``dept.<code>`` topics of the departments this instance serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from departments.settings import served_departments
from departments.tickets.service import TicketService
from shared.events import Event, TicketDispatched, department_topic
from shared.registry import Registry


def topics(registry: Registry, serve: Sequence[str] | None = None) -> list[str]:
    """``dept.<code>`` for each served department: ``serve`` codes (checked against the registry), or all."""
    return [department_topic(code) for code in served_departments(registry, serve)]


async def handle(session: AsyncSession, event: Event[Any]) -> None:
    """Open the dispatched ticket (once per report and department); other event types are not ours to handle."""
    if isinstance(event, TicketDispatched):
        await TicketService(session).open_from_dispatch(event)
