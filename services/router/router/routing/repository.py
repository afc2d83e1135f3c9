from __future__ import annotations

import base64
import functools
from datetime import datetime

import orjson
from sqlalchemy import and_, bindparam, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from router.routing.duplicates import Candidate, Place
from router.routing.models import ROUTED, TRIAGE, Routing, RoutingAttempt
from shared.db import added_in_session, in_session
from shared.problems import InvalidInput


@functools.cache
def _candidates(kind: str, limit: int):  # type: ignore[no-untyped-def]
    """The duplicate-candidate query for one kind of place, built once (values bound at execution): the router runs
    up to three for every report, and building them each time cost more than running them."""
    common = (Routing.lead == bindparam("lead"), Routing.received_at >= bindparam("since"),
              Routing.received_at <= bindparam("until"), Routing.state == bindparam("routed"),
              Routing.incident_open.is_(True))
    if kind == "cell":
        where = (Routing.cell.in_(bindparam("cells", expanding=True)), *common,
                 Routing.lat.between(bindparam("lat_lo"), bindparam("lat_hi")),
                 Routing.lon.between(bindparam("lon_lo"), bindparam("lon_hi")))
    else:
        where = (getattr(Routing, kind) == bindparam(kind), *common)
    return (select(Routing.report_id, Routing.text, Routing.location, Routing.received_at).where(*where)
            .order_by(Routing.received_at.desc()).limit(limit))


def encode_cursor(routing: Routing) -> str:
    assert routing.triage_since is not None
    raw = orjson.dumps([routing.triage_since.isoformat(), routing.report_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        since, report_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(since), str(report_id)
    except Exception as exc:
        raise InvalidInput("The cursor is not one this service issued.",
                           errors=[{"field": "cursor", "message": "invalid cursor"}]) from exc


_LOADED = "router_routings_loaded"  # session.info: report ids whose routing load_many() looked up


class RoutingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, routing: Routing) -> None:
        self.session.add(routing)

    def add_attempt(self, attempt: RoutingAttempt) -> None:
        self.session.add(attempt)

    async def get(self, report_id: str) -> Routing | None:
        """The routing, including one added earlier in this transaction and not flushed yet (sessions do not
        autoflush): a consumer batch may carry a report and its re-announcement."""
        pending = added_in_session(self.session, Routing, report_id=report_id)
        if pending is not None:
            return pending
        loaded = in_session(self.session, Routing, report_id)
        if loaded is not None or report_id in self.session.info.get(_LOADED, ()):
            return loaded  # load_many() brought what exists of the batch's routings: no query per report
        return await self.session.get(Routing, report_id)

    async def get_for_update(self, report_id: str) -> Routing | None:
        cached = in_session(self.session, Routing, report_id)  # loaded for the batch by load_many
        if cached is not None:
            return cached
        return await self.session.scalar(select(Routing).where(Routing.report_id == report_id).with_for_update())

    async def load_many(self, report_ids: list[str]) -> list[Routing]:
        """Bring these routings into the session (locked on PostgreSQL) in one query; :meth:`get` and
        :meth:`get_for_update` then find them, or know they do not exist, without querying again."""
        if not report_ids:
            return []
        found = list((await self.session.scalars(
            select(Routing).where(Routing.report_id.in_(report_ids)).with_for_update())).all())
        self.session.info.setdefault(_LOADED, set()).update(report_ids)
        return found

    async def due_for_redispatch(self, now: datetime, *, limit: int) -> list[Routing]:
        return list((await self.session.scalars(
            select(Routing).where(Routing.next_redispatch_at <= now).order_by(Routing.next_redispatch_at)
            .limit(limit).with_for_update(skip_locked=True))).all())

    async def get_with_history(self, report_id: str) -> Routing | None:
        return await self.session.scalar(
            select(Routing).where(Routing.report_id == report_id).options(selectinload(Routing.attempts)))

    async def open_incidents(self, *, lead: str, since: datetime, until: datetime, place: Place, within_m: float,
                             limit: int) -> list[Candidate]:
        """Routed (not linked, not in triage) reports with this lead, received in [since, until], near ``place``
        (coordinates within a box of ``within_m``, the same grid cell or the same normalised address), whose
        incident is still open: the candidates a new report may repeat. Most recent first, at most ``limit``; only
        the columns the comparison needs. One index seek per kind of place ((cell | grid_id | address_key, lead,
        received_at)), so the cost does not grow with the reports the window holds. Routings added earlier in this
        transaction (the same consumer batch, not flushed yet: sessions do not autoflush) count too."""
        params = {"lead": lead, "since": since, "until": until, "routed": ROUTED}
        queries = []
        box, cells = place.box(within_m), place.cells(within_m)
        if box is not None and cells:
            queries.append((_candidates("cell", limit), {**params, "cells": cells, "lat_lo": box[0], "lat_hi": box[1],
                                                           "lon_lo": box[2], "lon_hi": box[3]}))
        if place.grid_id is not None:
            queries.append((_candidates("grid_id", limit), {**params, "grid_id": place.grid_id}))
        if place.address_key is not None:
            queries.append((_candidates("address_key", limit), {**params, "address_key": place.address_key}))
        found: dict[str, Candidate] = {}
        for query, values in queries:
            for row in (await self.session.execute(query, values)).all():
                found[row[0]] = Candidate(*row)
        for r in self.session.new:
            if (isinstance(r, Routing) and r.lead == lead and since <= r.received_at <= until and r.state == ROUTED
                    and r.incident_open and (
                        (r.cell is not None and r.cell in cells) or (r.grid_id and r.grid_id == place.grid_id)
                        or (r.address_key and r.address_key == place.address_key))):
                found[r.report_id] = Candidate(r.report_id, r.text, r.location, r.received_at)
        return sorted(found.values(), key=lambda c: c.received_at, reverse=True)[:limit]

    async def lock(self, routing: Routing) -> None:
        """Lock a routing loaded without a lock (PostgreSQL: FOR UPDATE) and bring it up to date; one not stored yet
        (added in this transaction) needs no lock."""
        if routing in self.session.new:
            return
        if routing in self.session.dirty:  # changed earlier in this transaction (another linked report): keep that
            await self.session.flush()
        await self.session.refresh(routing, with_for_update=True)

    async def triage_page(self, *, limit: int, cursor: str | None) -> tuple[list[Routing], str | None]:
        """Reports waiting in triage, the longest waiting first (keyset pagination on (triage_since, report_id))."""
        query = select(Routing).where(Routing.state == literal(TRIAGE, literal_execute=True))  # the partial index
        if cursor:
            since, report_id = decode_cursor(cursor)
            query = query.where(or_(Routing.triage_since > since,
                                    and_(Routing.triage_since == since, Routing.report_id > report_id)))
        rows = list((await self.session.scalars(
            query.order_by(Routing.triage_since, Routing.report_id).limit(limit + 1))).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (encode_cursor(rows[-1]) if more and rows else None)
