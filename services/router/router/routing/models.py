"""A report's routing: the current decision, every attempt behind it, and which departments got a dispatch.

Each report is routed once when it arrives and again whenever a department hands its ticket back as not its
matter (a transfer): the new attempt excludes every department that refused, keeps the departments still working
on it, and dispatches only to departments that never had a ticket for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from router.db import Base
from shared.db import UTCDateTime


@dataclass(frozen=True)
class Plan:
    """What one routing attempt decided to do."""

    attempt: int
    lead: str
    departments: list[str]  # lead first
    dispatch: list[str]     # departments to send a new ticket to


class Routing(Base):
    __tablename__ = "routings"

    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    location: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(Integer)
    police: Mapped[bool] = mapped_column(Boolean)
    lead: Mapped[str] = mapped_column(String(32), index=True)
    departments: Mapped[list[str]] = mapped_column(JSON)
    dispatched: Mapped[list[str]] = mapped_column(JSON, doc="Every department that ever got a ticket")
    excluded: Mapped[list[str]] = mapped_column(JSON, doc="Departments that refused the report")
    confirmed: Mapped[list[str]] = mapped_column(JSON, doc="Departments whose ticket is known to exist")
    redispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    next_redispatch_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, nullable=True, index=True, doc="When to dispatch again to departments that did not confirm")
    priority: Mapped[str] = mapped_column(String(2))
    confidence: Mapped[float] = mapped_column(Float)
    needs_review: Mapped[bool] = mapped_column(Boolean, index=True)
    explanation: Mapped[str] = mapped_column(Text)
    classifier: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)

    attempts: Mapped[list[RoutingAttempt]] = relationship(
        back_populates="routing", lazy="raise", order_by="RoutingAttempt.attempt", cascade="all, delete-orphan")

    def unconfirmed(self) -> list[str]:
        """Departments that were dispatched to, have not refused, and whose ticket has not been seen yet."""
        return [d for d in self.dispatched if d not in self.confirmed and d not in self.excluded]

    def confirm(self, department: str) -> bool:
        """A ticket event from ``department`` proves its ticket exists; True when that is news."""
        if department in self.confirmed:
            return False
        self.confirmed = [*self.confirmed, department]
        if not self.unconfirmed():
            self.next_redispatch_at = None
        return True

    def plan_reroute(self, refused_by: str, proposed_lead: str, proposed: list[str]) -> Plan:
        """After ``refused_by`` handed its ticket back: keep the departments still on it, add the classifier's
        proposal (which already excludes every refusing department), lead = the proposal's lead."""
        excluded = set(self.excluded) | {refused_by}
        still_on_it = [d for d in self.departments if d not in excluded]
        lead = proposed_lead if proposed_lead not in excluded else (still_on_it[0] if still_on_it else proposed_lead)
        departments = list(dict.fromkeys([lead, *still_on_it, *[d for d in proposed if d not in excluded]]))
        dispatch = [d for d in departments if d not in self.dispatched]
        return Plan(self.attempt + 1, lead, departments, dispatch)


class RoutingAttempt(Base):
    """One decision in a report's routing history (first routing, then each re-route), kept for the audit."""

    __tablename__ = "routing_attempts"

    report_id: Mapped[str] = mapped_column(ForeignKey("routings.report_id", ondelete="CASCADE"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(200), doc="`received`, or `transferred by <code>: <reason>`")
    police: Mapped[bool] = mapped_column(Boolean)
    lead: Mapped[str] = mapped_column(String(32))
    departments: Mapped[list[str]] = mapped_column(JSON)
    dispatched: Mapped[list[str]] = mapped_column(JSON)
    priority: Mapped[str] = mapped_column(String(2))
    confidence: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    classifier: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)

    routing: Mapped[Routing] = relationship(back_populates="attempts", lazy="raise")
