"""Presence switches of temporary departments, and their append-only audit.

A temporary department is routable only while a centre operator has it switched on (or, without a switch ever
made, when the registry says ``enabled_by_default``). The current switch is one row per department; every change
appends a :class:`PresenceChange` (who, when, why, from → to) that is never updated or deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from router.db import Base
from shared.db import UTCDateTime
from shared.messaging.models import BigIntPK


class DepartmentSwitch(Base):
    """The current switch of one temporary department (absent: the registry's ``enabled_by_default``)."""

    __tablename__ = "department_switches"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[str] = mapped_column(String(64))
    changed_by_name: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PresenceChange(Base):
    """One switch of a temporary department, kept for the audit: append-only."""

    __tablename__ = "presence_changes"
    __table_args__ = (Index("ix_presence_changes_code_id", "code", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32))
    from_enabled: Mapped[bool] = mapped_column(Boolean)
    to_enabled: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
