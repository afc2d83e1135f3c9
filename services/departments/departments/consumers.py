"""What departments does with events: open a ticket for each ``ticket.dispatched.v1`` on the ``dept.<code>`` topics
of the departments this instance serves (and cancel one on ``ticket.release_approved.v1``), record intake's receipts
(``tickets.receipts``), project every department's ticket states (``tickets.events``) for joint handling, and apply
citizen feedback (``reports.feedback``) to the report's lead ticket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from departments.settings import served_departments
from departments.tickets.clocks import SlaPolicies
from departments.tickets.repository import TicketRepository
from departments.tickets.service import TicketService
from shared.events import (
    REPORTS_FEEDBACK, TICKETS_EVENTS, TICKETS_RECEIPTS, Event, IncidentReportLinked, IncidentReportUnlinked,
    ReportFeedbackReceived, TicketDispatched, TicketReleaseApproved, TicketReleaseRequested, TicketStatusChanged,
    TicketStatusObserved, department_topic,
)
from shared.messaging import Handler
from shared.messaging.redelivery import DownstreamProgress
from shared.registry import Registry


def topics(registry: Registry, serve: Sequence[str] | None = None) -> list[str]:
    """``dept.<code>`` for each served department: ``serve`` codes (checked against the registry), or all.

    ``tickets.events`` (other departments' ticket states, for the joint view) only when this instance serves some
    departments: an instance serving every department writes every ticket, and its joint projection, itself, in the
    same transaction as the change, so reading the states back from Kafka would only double its work."""
    served = served_departments(registry, serve)
    follow_others = [TICKETS_EVENTS] if set(served) != set(registry.codes()) else []
    return [department_topic(code) for code in served] + [TICKETS_RECEIPTS, *follow_others, REPORTS_FEEDBACK]


def make_handler(redelivery_after_s: float, sla: SlaPolicies | None = None,
                 intake_progress: DownstreamProgress | None = None) -> Handler:
    async def handle(session: AsyncSession, event: Event[Any]) -> None:
        """Open the dispatched ticket (once per report and department); count callers linked to an incident;
        record intake's receipts; keep the joint projection; apply releases and citizen feedback."""
        service = TicketService(session, redelivery_after_s=redelivery_after_s, sla=sla,
                                intake_progress=intake_progress)
        if isinstance(event, TicketDispatched):
            await service.open_from_dispatch(event)
        elif isinstance(event, (IncidentReportLinked, IncidentReportUnlinked)):
            await service.count_linked_caller(event)
        elif isinstance(event, TicketStatusObserved):
            await service.record_receipt(event)
        elif isinstance(event, TicketStatusChanged):
            await service.project(event)
        elif isinstance(event, TicketReleaseRequested):
            await service.project_release_request(event)
        elif isinstance(event, TicketReleaseApproved):
            await service.apply_release(event)
        elif isinstance(event, ReportFeedbackReceived):
            await service.apply_feedback(event)

    return handle



async def prefetch(session: AsyncSession, events: list[Event[Any]]) -> list[Any]:
    """The tickets a batch of receipts concerns, loaded at once (dispatches mostly open new tickets)."""
    ids = sorted({e.data.ticket_id for e in events if isinstance(e, TicketStatusObserved)})
    return await TicketRepository(session).receipt_targets(ids)


def make_sweeper(redelivery_after_s: float, intake_progress: DownstreamProgress | None = None
                 ) -> Callable[[AsyncSession], Awaitable[int]]:
    async def sweep(session: AsyncSession) -> int:
        return await TicketService(session, redelivery_after_s=redelivery_after_s,
                                   intake_progress=intake_progress).reannounce_unconfirmed()

    return sweep


def make_escalator(redelivery_after_s: float, sla: SlaPolicies) -> Callable[[AsyncSession], Awaitable[int]]:
    async def escalate(session: AsyncSession) -> int:
        return await TicketService(session, redelivery_after_s=redelivery_after_s, sla=sla).escalate_due()

    return escalate
