from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

import orjson
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from intake.reports.models import Feedback, IdempotencyRecord, Report, ReportDepartment, TimelineEntry
from shared.db import in_session, insert_at_commit
from shared.problems import InvalidInput


@dataclass(frozen=True)
class ReportFilter:
    status: str | None = None
    channel: str | None = None
    department: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def encode_cursor(report: Report) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([report.created_at.isoformat(), report.id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, report_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created), str(report_id)
    except Exception as exc:
        raise InvalidInput("The cursor is not one this service issued.",
                           errors=[{"field": "cursor", "message": "invalid cursor"}]) from exc


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_new(self, report: Report) -> None:
        """Insert a new report and its first timeline entries (Core inserts: the hot path of intake)."""
        await self.session.execute(Report.__table__.insert(), [_row(report)])  # Core: no ORM bookkeeping
        entries = report.take_new_timeline()
        if entries:
            await self.session.execute(TimelineEntry.__table__.insert(), [_row(e, skip=("id",)) for e in entries])

    def save_timeline(self, report: Report) -> None:
        """Append the report's new timeline entries: one multi-row INSERT for the whole transaction, at its commit
        (a consumer batch appends a few per event; as ORM objects their flush cost more than handling the events)."""
        entries = report.take_new_timeline()
        if entries and not insert_at_commit(self.session, TimelineEntry.__table__,
                                            [_row(e, skip=("id",)) for e in entries]):
            self.session.add_all(entries)  # inside a savepoint, which may roll back alone: the ORM tracks them

    def add_feedback(self, feedback: Feedback) -> None:
        self.session.add(feedback)

    async def get(self, report_id: str) -> Report | None:
        return await self.session.scalar(
            select(Report).where(Report.id == report_id).options(
                selectinload(Report.departments), selectinload(Report.tickets), selectinload(Report.timeline),
                selectinload(Report.feedback)))

    async def load_many(self, report_ids: list[str]) -> list[Report]:
        """Bring these reports (with tickets and departments) into the session in three queries, so that handling
        a batch of events does not query per event (:meth:`get_for_update` finds them in the identity map)."""
        if not report_ids:
            return []
        return list((await self.session.scalars(select(Report).where(Report.id.in_(report_ids)).options(
            selectinload(Report.tickets), selectinload(Report.departments)).with_for_update())).all())

    async def get_for_update(self, report_id: str, *, with_departments: bool = False) -> Report | None:
        """The report with its tickets (what its status depends on) and, when asked, its departments; locked on
        PostgreSQL. A report already loaded in this session (an earlier event of the same batch) is reused."""
        cached = in_session(self.session, Report, report_id)
        if cached is not None and "tickets" in cached.__dict__ and (
                not with_departments or "departments" in cached.__dict__):
            return cached
        options = [selectinload(Report.tickets)]
        if with_departments:
            options.append(selectinload(Report.departments))
        return await self.session.scalar(
            select(Report).where(Report.id == report_id).options(*options).with_for_update())

    async def lead_department_of(self, report_id: str) -> str | None:
        """A report's lead department, read without a lock (a call-back on a linked report asks its incident's)."""
        return await self.session.scalar(select(Report.lead_department).where(Report.id == report_id))

    async def linked_to(self, incident_id: str, *, with_departments: bool = False) -> list[Report]:
        """Reports linked to this incident (its first report's id), locked, with their departments when asked;
        served by the incident_id index."""
        query = select(Report).where(Report.incident_id == incident_id)
        if with_departments:
            query = query.options(selectinload(Report.departments))
        return list((await self.session.scalars(query.with_for_update())).all())

    async def page(self, flt: ReportFilter, *, limit: int, cursor: str | None) -> tuple[list[Report], str | None]:
        query = select(Report).options(selectinload(Report.departments))
        if flt.status:
            query = query.where(Report.status == flt.status)
        if flt.channel:
            query = query.where(Report.channel == flt.channel)
        if flt.department:
            query = query.where(Report.id.in_(select(ReportDepartment.report_id)
                                              .where(ReportDepartment.department == flt.department)))
        if flt.created_from:
            query = query.where(Report.created_at >= flt.created_from)
        if flt.created_to:
            query = query.where(Report.created_at < flt.created_to)
        if cursor:
            created, report_id = decode_cursor(cursor)
            query = query.where(or_(Report.created_at < created,
                                    and_(Report.created_at == created, Report.id < report_id)))
        rows = list((await self.session.scalars(
            query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit + 1))).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (encode_cursor(rows[-1]) if more and rows else None)

    async def due_for_announcement(self, now: datetime, *, limit: int) -> list[Report]:
        return list((await self.session.scalars(
            select(Report).where(Report.status == "received", Report.next_announce_at <= now)
            .order_by(Report.next_announce_at).limit(limit).with_for_update(skip_locked=True))).all())

    async def get_idempotency(self, principal_id: str, key: str) -> IdempotencyRecord | None:
        return await self.session.get(IdempotencyRecord, (principal_id, key))

    async def insert_idempotency(self, record: IdempotencyRecord) -> None:
        await self.session.execute(IdempotencyRecord.__table__.insert(), [_row(record)])


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


__all__ = ["ReportFilter", "ReportRepository", "TimelineEntry"]
