"""How fast ``GET /v1/stats`` answers over a million tickets on PostgreSQL.

    python bench/stats_bench.py [--tickets 1000000] [--runs 5] [--keep]

Creates a fresh PostgreSQL database (``--pg-*``, default the test server at 127.0.0.1:5432, user postgres), applies
intake's migrations, seeds ``--tickets`` tickets with proportional reports, report departments and call-backs
(server-side ``INSERT … SELECT generate_series``: about a year of reports, a third of them police matters, ~15 %
joint, ~80 % closed, SLA clocks with a realistic share late, mediation outcomes, call-backs on 30 % of the closed
reports), runs ``VACUUM ANALYZE``, starts intake as its own process (uvicorn, consumer off, no broker needed for
reading) and times ``GET /v1/stats`` over real HTTP: the full range, one month, one department, one department and
one month, and the full range as CSV (one warm-up, then ``--runs`` timed requests each). Prints one JSON object;
drops the database afterwards unless ``--keep``. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "services" / "intake")]

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.common import emit, log  # noqa: E402
from intake.db import LOCK_ID, MIGRATIONS  # noqa: E402
from shared.db import create_engine, migrate  # noqa: E402
from shared.identity import IdentityStore  # noqa: E402

NON_POLICE = ["fire", "ems", "urban_management", "sanitation", "water", "power", "gas", "heating", "housing",
              "environment", "market_regulation", "labor", "mediation", "civil_affairs", "transport", "gardens",
              "health", "education", "emergency_management", "grid"]
START = "2025-11-22T00:00:00Z"
SPAN_S = 365 * 86400
JOINT_SHARE = 1 / 9 + 1 / 27  # non-police joint (g % 9 = 1) and police joint with ems (g % 27 = 0)

# --- expressions of the series number g: every table is generated from the same g, so they agree ---------------------
ARR = "ARRAY[" + ",".join(f"'{c}'" for c in NON_POLICE) + "]::text[]"
ID = "'bench-' || lpad(g::text, 12, '0')"
POLICE = "(g % 3 = 0)"
LEAD = f"CASE WHEN {POLICE} THEN 'police' ELSE ({ARR})[1 + g % 20] END"
ASSIST = f"CASE WHEN g % 9 = 1 THEN ({ARR})[1 + (g + 7) % 20] WHEN g % 27 = 0 THEN 'ems' END"
JOINT = "(g % 9 = 1 OR g % 27 = 0)"
CHANNEL = ("CASE WHEN g % 3 = 0 OR g % 10 = 1 THEN 'phone_110' WHEN g % 10 IN (2, 4, 5, 6) THEN 'phone_12345' "
           "WHEN g % 10 = 7 THEN 'web' WHEN g % 10 = 8 THEN 'app' ELSE 'sms' END")
PRIORITY = ("CASE WHEN g % 3 = 0 THEN (ARRAY['P1','P2'])[1 + g % 2] "
            "ELSE (ARRAY['P1','P2','P3','P3','P3','P4'])[1 + (2147483647 & hashint4(g + 1)) % 6] END")
H = "((2147483647 & hashint4(g)) % 100)"
STATE = (f"CASE WHEN {H} < 80 THEN 'closed' WHEN {H} < 88 THEN 'resolved' WHEN {H} < 94 THEN 'in_progress' "
         f"WHEN {H} < 97 THEN 'acknowledged' ELSE 'new' END")
CREATED = f"(timestamptz '{START}' + ((g - 1) * {SPAN_S}.0 / :reports) * interval '1 second')"
# skewed towards short times: a square of a uniform draw (seconds: acknowledge ≤ ~17 min, start ≤ ~3 h more,
# resolve ≤ ~6 days more)
ACK_S = "(5 + power((2147483647 & hashint4(g + 2)) % 1000, 2) / 1000.0)"
START_S = f"({ACK_S} + power((2147483647 & hashint4(g + 3)) % 1000, 2) / 100.0)"
RESOLVE_S = f"({START_S} + power((2147483647 & hashint4(g + 4)) % 1000, 2) / 2.0)"
SLA = {"ack": "CASE p WHEN 'P1' THEN 60 WHEN 'P2' THEN 300 WHEN 'P3' THEN 1800 ELSE 86400 END",
       "start": "CASE p WHEN 'P1' THEN 180 WHEN 'P2' THEN 1800 WHEN 'P3' THEN 14400 ELSE 259200 END",
       "resolve": "CASE p WHEN 'P1' THEN 86400 WHEN 'P2' THEN 86400 WHEN 'P3' THEN 259200 ELSE 604800 END"}


def _sql(template: str, reports: int) -> str:
    return template.replace(":reports", str(reports))


SEED_REPORTS = f"""
INSERT INTO reports (id, text, channel, status, police, priority, routing_attempt, announce_count, filed_by,
                     created_at, updated_at, reopen_count, reopen_pending, lead_department, joint, resolved_at)
SELECT {ID}, 'seeded report', {CHANNEL}, CASE WHEN s = 'new' THEN 'routed' ELSE s END, {POLICE}, {PRIORITY}, 1, 1,
       'bench', c, c, ((2147483647 & hashint4(g + 7)) % 40 = 0)::int, false, {LEAD}, {JOINT},
       CASE WHEN s IN ('resolved', 'closed') THEN c + {RESOLVE_S} * interval '1 second' END
FROM generate_series(1, :reports) AS g, LATERAL (SELECT {STATE} AS s, {CREATED} AS c) AS x
"""

SEED_DEPARTMENTS = f"""
INSERT INTO report_departments (report_id, department, role, position)
SELECT {ID}, d.code, d.role, d.pos
FROM generate_series(1, :reports) AS g,
     LATERAL (VALUES ({LEAD}, 'lead', 0), ({ASSIST}, 'assisting', 1)) AS d(code, role, pos)
WHERE d.code IS NOT NULL
"""

SEED_TICKETS = f"""
INSERT INTO report_tickets (id, report_id, department, role, status, sequence, created_at, updated_at,
    report_received_at, priority, outcome, reopen_count, acknowledge_due_at, start_due_at, resolve_due_at,
    acknowledged_at, started_at, resolved_at, acknowledge_on_time, start_on_time, resolve_on_time,
    acknowledge_s, resolve_s)
SELECT {ID} || '-' || d.pos, {ID}, d.code, d.role, s, 5, t0, t0, c, p,
       CASE WHEN d.code = 'mediation' AND s IN ('resolved', 'closed')
            THEN (ARRAY['agreement', 'no_agreement', 'referred', 'agreement'])[1 + (2147483647 & hashint4(g + 8)) % 4] END,
       ((2147483647 & hashint4(g + 7)) % 40 = 0)::int,
       t0 + ({SLA['ack']}) * interval '1 second', t0 + ({SLA['start']}) * interval '1 second',
       t0 + ({SLA['resolve']}) * interval '1 second',
       CASE WHEN s <> 'new' THEN t0 + {ACK_S} * interval '1 second' END,
       CASE WHEN s IN ('in_progress', 'resolved', 'closed') THEN t0 + {START_S} * interval '1 second' END,
       CASE WHEN s IN ('resolved', 'closed') THEN t0 + {RESOLVE_S} * interval '1 second' END,
       CASE WHEN s <> 'new' THEN {ACK_S} <= ({SLA['ack']}) END,
       CASE WHEN s IN ('in_progress', 'resolved', 'closed') THEN {START_S} <= ({SLA['start']}) END,
       CASE WHEN s IN ('resolved', 'closed') THEN {RESOLVE_S} <= ({SLA['resolve']}) END,
       CASE WHEN s <> 'new' THEN {ACK_S} END,
       CASE WHEN s IN ('resolved', 'closed') THEN {RESOLVE_S} END
FROM generate_series(1, :reports) AS g,
     LATERAL (SELECT {STATE} AS s, {CREATED} AS c, {PRIORITY} AS p) AS x,
     LATERAL (SELECT x.c + interval '20 seconds' AS t0) AS y,
     LATERAL (VALUES ({LEAD}, 'lead', 0), ({ASSIST}, 'assisting', 1)) AS d(code, role, pos)
WHERE d.code IS NOT NULL
"""

SEED_FEEDBACK = f"""
INSERT INTO feedback (id, report_id, satisfaction, comment, reopen, lead_department, actor_id, actor_name,
                      actor_role, received_at, report_received_at)
SELECT 'fb-' || lpad(g::text, 33, '0'), {ID}, a, NULL, a = 'dissatisfied', {LEAD}, 'bench', 'bench', 'call_centre',
       c + interval '3 days', c
FROM generate_series(1, :reports) AS g,
     LATERAL (SELECT {STATE} AS s, {CREATED} AS c,
                     (ARRAY['satisfied','satisfied','satisfied','satisfied','satisfied','basically_satisfied',
                            'dissatisfied'])[1 + (2147483647 & hashint4(g + 6)) % 7] AS a) AS x
WHERE s = 'closed' AND (2147483647 & hashint4(g + 5)) % 10 < 3
"""

SCENARIOS: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("full_range", {}, {}),
    ("one_month", {"from": "2026-06-01T00:00:00Z", "to": "2026-07-01T00:00:00Z"}, {}),
    ("one_department", {"department": "water"}, {}),
    ("one_department_one_month", {"department": "water", "from": "2026-06-01T00:00:00Z",
                                  "to": "2026-07-01T00:00:00Z"}, {}),
    ("full_range_csv", {}, {"Accept": "text/csv"}),
]


async def seed(dsn: str, tickets: int) -> dict[str, Any]:
    reports = round(tickets / (1 + JOINT_SHARE))
    conn = await asyncpg.connect(dsn)
    counts: dict[str, Any] = {}
    try:
        for table, sql in [("reports", SEED_REPORTS), ("report_departments", SEED_DEPARTMENTS),
                           ("report_tickets", SEED_TICKETS), ("feedback", SEED_FEEDBACK)]:
            t0 = time.perf_counter()
            status = await conn.execute(_sql(sql, reports))
            counts[table] = int(status.split()[-1])
            log(f"seeded {counts[table]:,} {table} in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        log(f"VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s")
    finally:
        await conn.close()
    return counts


async def existing(dsn: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
                for t in ("reports", "report_departments", "report_tickets", "feedback")}
    finally:
        await conn.close()


async def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"intake exited with {proc.returncode}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("intake did not become healthy")


async def measure(base: str, key: str, runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, timeout=120, headers={"Authorization": f"Bearer {key}"}) as client:
        for name, params, headers in SCENARIOS:
            times, body = [], None
            for i in range(runs + 1):
                t0 = time.perf_counter()
                r = await client.get("/v1/stats", params=params, headers=headers)
                elapsed = time.perf_counter() - t0
                r.raise_for_status()
                if i:  # the first is a warm-up
                    times.append(elapsed)
                body = r
            assert body is not None
            summary: dict[str, Any] = {"params": params, "min_ms": round(min(times) * 1000, 1),
                                       "median_ms": round(statistics.median(times) * 1000, 1),
                                       "max_ms": round(max(times) * 1000, 1)}
            if not headers:
                data = body.json()
                summary["figures"] = {k: data[k] for k in ("received", "police", "non_police", "joint",
                                                           "disposal_rate", "satisfaction_rate", "reopen_rate")}
                summary["figures"]["tickets"] = data["tickets"]["total"]
                summary["figures"]["acknowledge_on_time_rate"] = data["on_time"]["acknowledge"]["rate"]
                summary["figures"]["time_to_resolve"] = data["time_to_resolve"]
            else:
                summary["csv_rows"] = body.text.count("\n") - 1
            results[name] = summary
            log(f"{name}: median {summary['median_ms']} ms")
    return results


async def main(args: argparse.Namespace) -> None:
    name = args.reuse or f"linkage_stats_bench_{uuid.uuid4().hex[:8]}"
    admin_dsn = f"postgresql://{args.pg_user}@{args.pg_host}:{args.pg_port}/{args.pg_db}"
    dsn = f"postgresql://{args.pg_user}@{args.pg_host}:{args.pg_port}/{name}"
    url = f"postgresql+asyncpg://{args.pg_user}@{args.pg_host}:{args.pg_port}/{name}"
    if not args.reuse:
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
    proc: subprocess.Popen[bytes] | None = None
    tmp = tempfile.TemporaryDirectory()
    try:
        engine = create_engine(url)
        await migrate(engine, MIGRATIONS, lock_id=LOCK_ID)
        await engine.dispose()
        t0 = time.perf_counter()
        counts = await seed(dsn, args.tickets) if not args.reuse else await existing(dsn)
        seed_s = time.perf_counter() - t0
        auth_url = f"sqlite+aiosqlite:///{tmp.name}/identity.db"
        store = IdentityStore(auth_url)
        await store.migrate()
        key = (await store.create_key(name="bench", role="centre_operator")).secret
        await store.close()
        env = {**os.environ, "LINKAGE_INTAKE_DATABASE_URL": url, "LINKAGE_AUTH_DATABASE_URL": auth_url,
               "LINKAGE_INTAKE_PORT": str(args.port), "LINKAGE_CONSUMER_ENABLED": "false",
               "LINKAGE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{args.port + 1}", "LINKAGE_LOG_LEVEL": "WARNING",
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "services" / "intake")])}
        proc = subprocess.Popen([sys.executable, "-m", "intake"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{args.port}"
        await wait_healthy(base, proc)
        load_before = round(os.getloadavg()[0], 2)  # other work on the machine skews the figures: say how much
        results = await measure(base, key, args.runs)
        emit({"bench": "stats", "database": "postgresql", "seeded": counts, "seed_s": round(seed_s, 1),
              "load_average_1m": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
              "runs": args.runs, "target_ms": 1000, "scenarios": results,
              "met": all(r["median_ms"] < 1000 for r in results.values())}, args)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        tmp.cleanup()
        if not args.keep and not args.reuse:
            admin = await asyncpg.connect(admin_dsn)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
        else:
            log(f"kept database {name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed requests per scenario (after one warm-up)")
    parser.add_argument("--port", type=int, default=18401, help="port for the intake process")
    parser.add_argument("--pg-host", default=os.environ.get("LINKAGE_TEST_PG_HOST", "127.0.0.1"))
    parser.add_argument("--pg-port", default=os.environ.get("LINKAGE_TEST_PG_PORT", "5432"))
    parser.add_argument("--pg-user", default=os.environ.get("LINKAGE_TEST_PG_USER", "postgres"))
    parser.add_argument("--pg-db", default=os.environ.get("LINKAGE_TEST_PG_DB", "test"), help="admin database")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database (its name goes to stderr)")
    parser.add_argument("--reuse", metavar="DATABASE", help="time an already seeded database (from --keep) again; "
                        "it is migrated to head, not seeded and not dropped")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--compact", action="store_true")
    asyncio.run(main(parser.parse_args()))
