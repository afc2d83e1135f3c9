from __future__ import annotations

from datetime import datetime, timezone

import pytest

from departments.tickets.domain import Actor
from departments.tickets.models import Ticket
from shared.events import Location, TicketDispatchedV1

def dispatch(**overrides: object) -> TicketDispatchedV1:
    now = datetime(2026, 11, 22, 8, 6, 13, 123456, tzinfo=timezone.utc)
    fields: dict[str, object] = dict(
        report_id="0b6c1f8e-8f0a-4a55-9a43-7d3bb1d3c9a2", department="water", role="lead", lead_department="water",
        departments=["water", "transport"], priority="P2", police=False, text="Burst pipe at the gate of building 3",
        channel="phone_12345", location=Location(address="18 Xingfu Road", lat=30.6586, lon=104.0648),
        received_at=now, dispatched_at=now)
    fields.update(overrides)
    return TicketDispatchedV1(**fields)  # type: ignore[arg-type]


@pytest.fixture
def new_ticket() -> Ticket:
    return Ticket.from_dispatch(dispatch(), Actor(id="system:router", name="router", role="system"))
