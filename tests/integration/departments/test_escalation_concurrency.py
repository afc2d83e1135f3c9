"""Two departments instances, one PostgreSQL database, both schedulers running: every escalation happens exactly
once (row claims with FOR UPDATE SKIP LOCKED, the unique (ticket, clock, round, level) key as the last guard)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support import postgres_database

from .conftest import dispatch_event
from .test_operations import _app, _received_at

TICKETS = 40
PER_TICKET = 6  # acknowledge, start, resolve × levels 1 and 2: all long past due


@pytest.mark.postgres
async def test_two_schedulers_on_one_postgres_database_escalate_each_clock_exactly_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with postgres_database() as url:
        env = {"LINKAGE_SLA_SCALE": "1", "LINKAGE_DEPARTMENTS_ESCALATION_INTERVAL_S": "0.02"}
        async with _app(url, tmp_path, monkeypatch, **env) as one, _app(url, tmp_path, monkeypatch, **env) as two:
            [task_one], [task_two] = one.runtime.periodic, two.runtime.periodic
            long_ago = datetime.now(timezone.utc) - timedelta(days=8)
            for i in range(TICKETS):  # tickets arrive while both background schedulers poll every 20 ms
                await (one if i % 2 else two).deliver(
                    _received_at(dispatch_event(department="water", priority="P1"), long_ago))
                if i % 5 == 0:  # and now and then both run a pass at the very same moment
                    await asyncio.gather(one.runtime.run_once(task_one), two.runtime.run_once(task_two))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                [(count,)] = await one.sql("SELECT count(*) FROM ticket_escalations")
                if count >= TICKETS * PER_TICKET:
                    break
                await asyncio.sleep(0.1)
            await asyncio.gather(one.runtime.run_once(task_one), two.runtime.run_once(task_two))
            await asyncio.sleep(0.3)

            [(escalations,)] = await one.sql("SELECT count(*) FROM ticket_escalations")
            [(distinct,)] = await one.sql(
                "SELECT count(*) FROM (SELECT DISTINCT ticket_id, clock, round, level FROM ticket_escalations) d")
            [(audited,)] = await one.sql("SELECT count(*) FROM ticket_audit WHERE action = 'escalate'")
            [(announced,)] = await one.sql(
                "SELECT count(*) FROM outbox WHERE event_type = 'ticket.escalated.v1' AND topic = 'tickets.escalations'")
            [(levels,)] = await one.sql("SELECT count(*) FROM tickets WHERE escalation_level = 2")
            assert (escalations, distinct, audited, announced, levels) == (
                TICKETS * PER_TICKET, TICKETS * PER_TICKET, TICKETS * PER_TICKET, TICKETS * PER_TICKET, TICKETS)
