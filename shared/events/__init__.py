"""Versioned event contracts: the public interface between Linkage's services and the department systems that
consume ``dept.<code>`` topics directly.

An event is a CloudEvents 1.0 envelope (``id``, ``type``, ``source``, ``time``, ``subject`` = the report id,
``data``). On Kafka it travels in CloudEvents *binary mode*: the attributes in ``ce_*`` headers, ``data`` as the JSON
message value, the report id as the message key. ``type`` carries the version (``ticket.dispatched.v1``): a breaking
change is a new type, never an edit of a published one. JSON Schemas are in ``shared/events/schemas/``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.events.models import (
    Channel,
    Clock,
    IncidentReportLinkedV1,
    IncidentReportUnlinkedV1,
    Location,
    Priority,
    ReportFeedbackReceivedV1,
    ReportReceivedV1,
    ReportRoutedV1,
    Satisfaction,
    TicketActor,
    TicketAssistanceRequestedV1,
    TicketClocks,
    TicketDispatchedV1,
    TicketEscalatedV1,
    TicketReleaseApprovedV1,
    TicketReleaseRequestedV1,
    TicketRole,
    TicketState,
    TicketStatusChangedV1,
    TicketStatusObservedV1,
)

SPECVERSION = "1.0"

# topic names (the department topic is per code)
REPORTS_RECEIVED = "reports.received"
REPORTS_ROUTED = "reports.routed"
TICKETS_EVENTS = "tickets.events"
TICKETS_RECEIPTS = "tickets.receipts"
TICKETS_ESCALATIONS = "tickets.escalations"
REPORTS_FEEDBACK = "reports.feedback"


def department_topic(code: str) -> str:
    return f"dept.{code}"


def suite_topics(department_codes: Iterable[str]) -> list[str]:
    """Every topic the suite publishes to or consumes, for an operator (or ``make run``) creating them up front."""
    return [REPORTS_RECEIVED, REPORTS_ROUTED, TICKETS_EVENTS, TICKETS_RECEIPTS, TICKETS_ESCALATIONS,
            REPORTS_FEEDBACK, *(department_topic(code) for code in department_codes)]


class ContractError(ValueError):
    """A message that is not a valid Linkage event (unknown type, missing attribute, invalid data)."""


D = TypeVar("D", bound=BaseModel)


class Event(BaseModel, Generic[D]):
    """CloudEvents 1.0 envelope. ``subject`` is always the report id the event concerns."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = SPECVERSION
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), description="Unique per event; consumers dedupe on it")
    type: str
    source: str = Field(description="Producing service, e.g. `/linkage/router`")
    time: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    subject: str = Field(description="The report id")
    datacontenttype: Literal["application/json"] = "application/json"
    data: D


class ReportReceived(Event[ReportReceivedV1]):
    type: Literal["report.received.v1"] = "report.received.v1"


class ReportRouted(Event[ReportRoutedV1]):
    type: Literal["report.routed.v1"] = "report.routed.v1"


class TicketDispatched(Event[TicketDispatchedV1]):
    type: Literal["ticket.dispatched.v1"] = "ticket.dispatched.v1"


class TicketStatusChanged(Event[TicketStatusChangedV1]):
    type: Literal["ticket.status_changed.v1"] = "ticket.status_changed.v1"


class TicketStatusObserved(Event[TicketStatusObservedV1]):
    type: Literal["ticket.status_observed.v1"] = "ticket.status_observed.v1"


class TicketEscalated(Event[TicketEscalatedV1]):
    type: Literal["ticket.escalated.v1"] = "ticket.escalated.v1"


class ReportFeedbackReceived(Event[ReportFeedbackReceivedV1]):
    type: Literal["report.feedback_received.v1"] = "report.feedback_received.v1"


class TicketAssistanceRequested(Event[TicketAssistanceRequestedV1]):
    type: Literal["ticket.assistance_requested.v1"] = "ticket.assistance_requested.v1"


class TicketReleaseRequested(Event[TicketReleaseRequestedV1]):
    type: Literal["ticket.release_requested.v1"] = "ticket.release_requested.v1"


class TicketReleaseApproved(Event[TicketReleaseApprovedV1]):
    type: Literal["ticket.release_approved.v1"] = "ticket.release_approved.v1"


class IncidentReportLinked(Event[IncidentReportLinkedV1]):
    type: Literal["incident.report_linked.v1"] = "incident.report_linked.v1"


class IncidentReportUnlinked(Event[IncidentReportUnlinkedV1]):
    type: Literal["incident.report_unlinked.v1"] = "incident.report_unlinked.v1"


_ALL = (ReportReceived, ReportRouted, TicketDispatched, TicketStatusChanged, TicketStatusObserved, TicketEscalated,
        ReportFeedbackReceived, TicketAssistanceRequested, TicketReleaseRequested, TicketReleaseApproved,
        IncidentReportLinked, IncidentReportUnlinked)
AnyEvent = Annotated[Union[ReportReceived, ReportRouted, TicketDispatched, TicketStatusChanged, TicketStatusObserved,
                           TicketEscalated, ReportFeedbackReceived, TicketAssistanceRequested, TicketReleaseRequested,
                           TicketReleaseApproved, IncidentReportLinked, IncidentReportUnlinked],
                     Field(discriminator="type")]
_any_event: TypeAdapter[Any] = TypeAdapter(AnyEvent)
EVENT_TYPES: dict[str, type[Event[Any]]] = {
    cls.model_fields["type"].default: cls
    for cls in _ALL
}

_HEADER_ATTRS = ("specversion", "id", "type", "source", "time", "subject")


def to_kafka(event: Event[Any]) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) for CloudEvents binary mode."""
    headers = [(f"ce_{attr}", _attr_text(getattr(event, attr)).encode()) for attr in _HEADER_ATTRS]
    headers.append(("content-type", b"application/json"))
    return event.subject.encode(), event.data.model_dump_json().encode(), headers


def from_kafka(value: bytes | None, headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...] | None) -> Event[Any]:
    """Parse a binary-mode message back into its typed event; :class:`ContractError` if it is not one."""
    attrs: dict[str, Any] = {}
    for key, raw in headers or ():
        if key.startswith("ce_"):
            attrs[key[3:]] = raw.decode("utf-8", errors="replace")
    if "type" not in attrs:
        raise ContractError("message has no ce_type header")
    if attrs["type"] not in EVENT_TYPES:
        raise ContractError(f"unknown event type {attrs['type']!r}")
    try:
        attrs["data"] = orjson.loads(value or b"null")
        return _any_event.validate_python(attrs)
    except (ValidationError, orjson.JSONDecodeError) as exc:
        raise ContractError(f"invalid {attrs['type']} event: {exc}") from exc


def _attr_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)


__all__ = [
    "IncidentReportLinked", "IncidentReportLinkedV1", "IncidentReportUnlinked", "IncidentReportUnlinkedV1",
    "Clock", "REPORTS_FEEDBACK", "ReportFeedbackReceived", "ReportFeedbackReceivedV1", "Satisfaction", "TICKETS_ESCALATIONS",
    "TicketClocks", "TicketEscalated", "TicketEscalatedV1", "TicketAssistanceRequested",
    "TicketAssistanceRequestedV1", "TicketReleaseRequested", "TicketReleaseRequestedV1", "TicketReleaseApproved",
    "TicketReleaseApprovedV1",
    "AnyEvent", "Channel", "ContractError", "Event", "EVENT_TYPES", "Location", "Priority", "REPORTS_RECEIVED",
    "REPORTS_ROUTED", "ReportReceived", "ReportReceivedV1", "ReportRouted", "ReportRoutedV1", "TICKETS_EVENTS",
    "TicketActor", "TicketDispatched", "TicketDispatchedV1", "TicketRole", "TicketState", "TicketStatusChanged",
    "TicketStatusChangedV1", "TicketStatusObserved", "TicketStatusObservedV1", "TICKETS_RECEIPTS", "department_topic",
    "from_kafka", "suite_topics", "to_kafka",
]
