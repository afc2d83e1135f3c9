"""End-to-end latency of the Linkage suite under a steady open-loop load, as a call centre and a department see it.

Posts reports to intake at a fixed rate (open loop: the next report goes out on schedule whatever the answers)
and, in a separate process, watches Kafka: every ``dept.*`` topic (``ticket.dispatched.v1``) and
``tickets.events`` (``ticket.status_changed.v1`` creation events). Per report it measures

  post       scheduled send -> intake's 201
  topic      scheduled send -> first ``dept.*`` message whose subject is the report id
  ticket     scheduled send -> first ticket-created event for the report on ``tickets.events``

then waits ``--settle`` seconds for stragglers and prints JSON: percentiles, accepted, lost (accepted but never on
a department topic / never ticketed), duplicate deliveries (one ce_id seen twice on a topic), achieved rate and
the services' memory and CPU. ``--find-max`` steps the rate up until the suite stops keeping up.

usage: python bench/e2e_latency.py [--rate 100] [--duration 60] [--settle 20]
       python bench/e2e_latency.py --find-max [--step-duration 20] [--collapse-ms 1000]
needs: aiokafka (httpx only with --http-client httpx)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import queue
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/e2e_latency.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import common  # type: ignore[no-redef]
else:  # python -m bench.e2e_latency
    from bench import common

DISPATCHED = "ticket.dispatched.v1"
STATUS_CHANGED = "ticket.status_changed.v1"
TICKETS_TOPIC = "tickets.events"
DEPT_PREFIX = "dept."
DEFAULT_STEPS = "50,100,150,200,300,400,500,600,800,1000,1200,1600,2000"


# =================================================================================================== Kafka side
# Runs in its own process so that decoding messages never delays the poster's schedule (and vice versa); it
# stamps arrivals with time.monotonic(), which is the same clock in both processes.

def _headers(msg: Any) -> dict[str, str]:
    out = {}
    for k, v in msg.headers or ():
        try:
            out[k] = v.decode() if isinstance(v, (bytes, bytearray)) else str(v)
        except UnicodeDecodeError:
            pass
    return out


def _data(msg: Any) -> dict[str, Any]:
    try:
        body = json.loads(msg.value) if msg.value else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(body, dict):
        return {}
    # structured-mode envelope, should a producer ever send one: the data is nested
    if "specversion" in body and isinstance(body.get("data"), dict):
        nested = dict(body["data"])
        nested.setdefault("report_id", body.get("subject"))
        body = nested | {"_ce_id": body.get("id"), "_ce_type": body.get("type")}
    return body


def classify(topic: str, msg: Any) -> tuple[str, str | None, str | None, str | None, str | None]:
    """-> (kind, report_id, department, event_id, ticket_id); kind is "dispatch", "ticket" or "ignore"."""
    h, data = _headers(msg), _data(msg)
    ce_type = h.get("ce_type") or h.get("ce-type") or data.get("_ce_type")
    rid = h.get("ce_subject") or h.get("ce-subject") or data.get("report_id")
    eid = h.get("ce_id") or h.get("ce-id") or data.get("_ce_id")
    if not isinstance(rid, str):
        return "ignore", None, None, eid, None
    if topic.startswith(DEPT_PREFIX):
        if ce_type not in (None, DISPATCHED):
            return "ignore", rid, None, eid, None
        return "dispatch", rid, data.get("department") or topic[len(DEPT_PREFIX):], eid, None
    if topic == TICKETS_TOPIC and ce_type in (None, STATUS_CHANGED):
        created = data.get("action") == "created" or (data.get("from_state") is None and data.get("to_state") == "new")
        if created:
            return "ticket", rid, data.get("department"), eid, data.get("ticket_id")
    return "ignore", rid, None, eid, None


async def _watch(cfg: dict[str, Any], out: Any, stop: Any) -> None:
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.errors import KafkaError

    def wanted(topic: str) -> bool:
        return topic.startswith(DEPT_PREFIX) or (cfg["tickets"] and topic == TICKETS_TOPIC)

    # No consumer group: partitions are assigned by hand, so there is no ~5 s group join on Tansu and no
    # rebalance stall when the router creates a new dept.* topic mid-run. fetch_max_wait_ms is the latency floor.
    consumer = AIOKafkaConsumer(bootstrap_servers=cfg["bootstrap"], group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=cfg["fetch_max_wait_ms"],
                                client_id="linkage-bench-e2e")
    try:
        await consumer.start()
    except KafkaError as exc:
        out.put(("error", f"cannot connect to Kafka at {cfg['bootstrap']}: {exc!r}"))
        await consumer.stop()
        return
    assigned: set[Any] = set()
    late_topics: list[str] = []
    seen: dict[str, set[str]] = {}
    counts: Counter[str] = Counter()

    async def refresh(initial: bool) -> None:
        md = await consumer._client.fetch_all_metadata()  # aiokafka has no public per-topic partition listing
        topics = sorted(t for t in md.topics() if wanted(t))
        fresh = {TopicPartition(t, p) for t in topics for p in (md.partitions_for_topic(t) or ())} - assigned
        if not fresh:
            return
        # assign() forgets positions, so carry the current ones over explicitly
        keep = {tp: await consumer.position(tp) for tp in assigned}
        assigned.update(fresh)
        consumer.assign(list(assigned))
        for tp, pos in keep.items():
            consumer.seek(tp, pos)
        if initial:  # what was there before the run is not ours
            await consumer.seek_to_end(*fresh)
            for tp in fresh:
                await consumer.position(tp)  # pin "end" now, not at the first fetch
        else:  # a topic created during the run: everything in it is new
            await consumer.seek_to_beginning(*fresh)
            late_topics.extend(sorted({tp.topic for tp in fresh} - {tp.topic for tp in keep}))

    try:
        await refresh(initial=True)
        out.put(("ready", {"topics": sorted({tp.topic for tp in assigned})}))
        next_refresh = time.monotonic() + cfg["metadata_interval"]
        while not stop.is_set():
            if time.monotonic() >= next_refresh:
                try:
                    await refresh(initial=False)
                except KafkaError as exc:
                    counts["metadata_errors"] += 1
                    counts[f"error:{type(exc).__name__}"] += 1
                next_refresh = time.monotonic() + cfg["metadata_interval"]
            if not assigned:
                await asyncio.sleep(0.05)
                continue
            batch = await consumer.getmany(timeout_ms=100)
            t_mono, t_wall = time.monotonic(), time.time()
            records = []
            for tp, msgs in batch.items():
                for m in msgs:
                    counts["messages"] += 1
                    kind, rid, dept, eid, ticket_id = classify(tp.topic, m)
                    if kind == "ignore":
                        counts["ignored"] += 1
                        continue
                    if eid is not None:
                        ids = seen.setdefault(tp.topic, set())
                        if eid in ids:
                            records.append(("dup", rid, tp.topic, t_mono, None, None))
                            continue
                        ids.add(eid)
                    lag = t_wall - m.timestamp / 1000 if m.timestamp and m.timestamp > 0 else None
                    records.append((kind, rid, dept, t_mono, lag, ticket_id))
            if records:
                out.put(("records", records))
    except Exception as exc:  # report, never hang the parent
        out.put(("error", f"watcher failed: {exc!r}"))
    finally:
        out.put(("final", {"topics": sorted({tp.topic for tp in assigned}), "late_topics": late_topics,
                           "counts": dict(counts)}))
        await consumer.stop()


def watcher_main(cfg: dict[str, Any], out: Any, stop: Any) -> None:
    asyncio.run(_watch(cfg, out, stop))


# =================================================================================================== bookkeeping

@dataclass
class Ledger:
    """Everything observed, keyed by report id; arrivals may precede the POST's answer, so join at the end."""

    sched: dict[str, float] = field(default_factory=dict)      # rid -> scheduled send time
    answered: dict[str, float] = field(default_factory=dict)   # rid -> 201 received
    topic_at: dict[str, float] = field(default_factory=dict)   # rid -> first dept.* message
    published_at: dict[str, float] = field(default_factory=dict)  # rid -> earliest dept.* record timestamp
    ticket_at: dict[str, float] = field(default_factory=dict)  # rid -> first ticket created
    dispatches: set[tuple[str, str]] = field(default_factory=set)
    tickets: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (rid, dept) -> ticket ids
    dups: Counter = field(default_factory=Counter)            # (rid, topic kind) -> extra deliveries
    lags: list[tuple[str, float]] = field(default_factory=list)  # (rid, record timestamp -> bench received, s)

    def add(self, records: list[tuple]) -> None:
        for kind, rid, dept, t, lag, ticket_id in records:
            if kind == "dup":
                self.dups[(rid, "dept" if str(dept).startswith(DEPT_PREFIX) else str(dept))] += 1
                continue
            if lag is not None:
                self.lags.append((rid, lag))
            if kind == "dispatch":
                self.topic_at.setdefault(rid, t)
                if lag is not None:  # the record's producer timestamp, on the monotonic clock of the rest
                    self.published_at[rid] = min(t - lag, self.published_at.get(rid, t - lag))
                self.dispatches.add((rid, dept))
            elif kind == "ticket":
                self.ticket_at.setdefault(rid, t)
                self.tickets.setdefault((rid, dept), set()).add(str(ticket_id))


class Watcher:
    """Parent-side handle of the Kafka watcher process."""

    def __init__(self, args: argparse.Namespace, ledger: Ledger):
        ctx = multiprocessing.get_context("spawn")
        self.q, self.stop_evt, self.ledger, self.bootstrap = ctx.Queue(), ctx.Event(), ledger, args.bootstrap
        cfg = {"bootstrap": args.bootstrap, "tickets": not args.skip_tickets,
               "fetch_max_wait_ms": args.fetch_max_wait_ms, "metadata_interval": args.metadata_interval}
        self.proc = ctx.Process(target=watcher_main, args=(cfg, self.q, self.stop_evt), daemon=True,
                                name="bench-kafka-watcher")
        self.final: dict[str, Any] = {}
        self.error: str | None = None
        self.ready: dict[str, Any] | None = None
        self._task: asyncio.Task | None = None

    def _handle(self, item: tuple[str, Any]) -> None:
        kind, payload = item
        if kind == "records":
            self.ledger.add(payload)
        elif kind == "ready":
            self.ready = payload
        elif kind == "final":
            self.final = payload
        elif kind == "error":
            common.log(payload)
            self.error = self.error or payload

    async def _pump(self) -> None:
        while True:
            try:
                self._handle(self.q.get_nowait())
            except queue.Empty:
                if self.final or not self.proc.is_alive():
                    return
                await asyncio.sleep(0.02)

    async def start(self, timeout: float = 30.0) -> dict[str, Any]:
        self.proc.start()
        self._task = asyncio.create_task(self._pump())
        deadline = time.monotonic() + timeout
        while self.ready is None:
            if self.error or self._task.done() or time.monotonic() > deadline:
                await self.close()
                sys.exit(self.error or f"Kafka watcher not ready after {timeout:g}s (is {self.bootstrap} up?)")
            await asyncio.sleep(0.05)
        return self.ready

    async def close(self) -> dict[str, Any]:
        self.stop_evt.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, 10)
            except asyncio.TimeoutError:
                pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.terminate()
        if self.error:
            self.final = {**self.final, "error": self.error}
        return self.final


# =================================================================================================== load side

@dataclass
class Phase:
    posted: int = 0
    accepted: list[str] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    post_lat: list[float] = field(default_factory=list)
    sched_lag: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0  # last answer received


async def post_open_loop(http: Any, factory: common.ReportFactory, rate: float, duration: float,
                         ledger: Ledger | None) -> Phase:
    """Send ``rate`` reports/s for ``duration`` s on a fixed schedule; latencies count from the scheduled time,
    so a client or connection pool that falls behind shows up as latency rather than hiding it."""
    ph = Phase(started=time.monotonic())
    n = max(1, math.ceil(rate * duration))
    tasks = []

    async def one(due: float) -> None:
        try:
            code, body = await http.post_json(common.REPORTS_PATH, factory.body())
        except common.HttpError as exc:
            ph.errors[exc.kind] += 1
            return
        t = time.monotonic()
        if code != 201:
            ph.errors[str(code)] += 1
            return
        try:
            rid = str(json.loads(body)["id"])
        except (ValueError, KeyError, TypeError):
            ph.errors["201_without_id"] += 1
            return
        ph.accepted.append(rid)
        ph.post_lat.append(t - due)
        if ledger is not None:
            ledger.sched[rid], ledger.answered[rid] = due, t

    for i in range(n):
        due = ph.started + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        ph.sched_lag.append(max(0.0, time.monotonic() - due))
        tasks.append(asyncio.create_task(one(due)))
        ph.posted += 1
    await asyncio.gather(*tasks)
    ph.finished = time.monotonic()
    return ph


async def run_phase(args: argparse.Namespace, http: Any, factory: common.ReportFactory, ledger: Ledger,
                    monitor: common.ServiceMonitor, rate: float, duration: float,
                    watcher_pid: int | None = None) -> dict[str, Any]:
    """One measured run at one rate, including the settle wait; returns its figures."""
    monitor.reset()
    cpu = common.CpuMeter()
    w_cpu0 = common.cpu_seconds(watcher_pid) if watcher_pid else None
    want_ticket = not args.skip_tickets
    sampling = True

    async def sample() -> None:
        while sampling:
            monitor.sample()
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    ph = await post_open_loop(http, factory, rate, duration, ledger)
    monitor.mark_loaded()
    acc = ph.accepted
    backlog_topic = sum(1 for r in acc if r not in ledger.topic_at)
    backlog_ticket = sum(1 for r in acc if r not in ledger.ticket_at) if want_ticket else None

    def missing() -> int:
        return sum(1 for r in acc if r not in ledger.topic_at or (want_ticket and r not in ledger.ticket_at))

    deadline = time.monotonic() + args.settle
    while missing() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(args.dup_grace)  # late duplicates of what already arrived
    sampling = False
    await sampler

    accs = set(acc)
    lost_topic = [r for r in acc if r not in ledger.topic_at]
    lost_ticket = [r for r in acc if r not in ledger.ticket_at] if want_ticket else []
    dispatched = {(r, d) for r, d in ledger.dispatches if r in accs}
    ticketed = {(r, d): ids for (r, d), ids in ledger.tickets.items() if r in accs}
    dups: Counter[str] = Counter()
    for (rid, kind), n in ledger.dups.items():
        if rid in accs:
            dups[kind] += n
    # not lost: reports the router holds for centre staff (triage: nothing, or only police, is dispatched while they
    # wait) and other callers' reports of an incident already ticketed (linked: no tickets of their own, by design)
    held = await held_by_design(http, list(dict.fromkeys(lost_topic + lost_ticket)))  # all of them, however many
    lost_topic = [r for r in lost_topic if r not in held]
    lost_ticket = [r for r in lost_ticket if r not in held]
    lost_status = await status_of(http, list(dict.fromkeys(lost_topic + lost_ticket))[:args.lost_lookups])
    posting_s = max(1e-9, ph.finished - ph.started)
    w_cpu1 = common.cpu_seconds(watcher_pid) if watcher_pid else None
    phase_s = time.monotonic() - ph.started
    services = monitor.report()
    return {
        "offered_rate": rate,
        "duration_s": duration,
        "posted": ph.posted,
        "accepted": len(acc),
        "errors": dict(sorted(ph.errors.items())),
        "achieved_rate": round(len(acc) / posting_s, 1),
        "post_ms": common.latency_summary(ph.post_lat),
        "post_to_topic_ms": common.latency_summary(ledger.topic_at[r] - ledger.sched[r] for r in acc
                                                   if r in ledger.topic_at),
        "post_to_topic_published_ms": common.latency_summary(
            ledger.published_at[r] - ledger.sched[r] for r in acc if r in ledger.published_at),
        "post_to_ticket_ms": common.latency_summary(ledger.ticket_at[r] - ledger.sched[r] for r in acc
                                                    if r in ledger.ticket_at) if want_ticket else None,
        "lost": {"topic": len(lost_topic), "ticket": len(lost_ticket) if want_ticket else None,
                 "topic_sample": lost_topic[:5], "ticket_sample": lost_ticket[:5],
                 "intake_status": lost_status},
        "held_by_design": dict(sorted(Counter(held.values()).items())),
        "backlog_when_posting_ended": {"topic": backlog_topic, "ticket": backlog_ticket},
        "duplicate_deliveries": {"dept": dups.get("dept", 0), TICKETS_TOPIC: dups.get(TICKETS_TOPIC, 0)},
        "dispatches": len(dispatched),
        "tickets_created": len(ticketed) if want_ticket else None,
        "dispatches_without_ticket": len(dispatched - ticketed.keys()) if want_ticket else None,
        "duplicate_tickets": sum(len(ids) - 1 for ids in ticketed.values()) if want_ticket else None,
        "departments": dict(sorted(Counter(d for _, d in dispatched).items())),
        "services": services,
        "host": monitor.host(),
        "client": {
            "schedule_lag_ms": {"p99": common.ms(common.percentile(ph.sched_lag, 99)),
                                "max": common.ms(max(ph.sched_lag, default=0.0))},
            "publish_to_bench_ms": common.latency_summary(lag for rid, lag in ledger.lags if rid in accs),
            "cpu_pct": cpu.percent(),
            "watcher_cpu_pct": round(100 * (w_cpu1 - w_cpu0) / phase_s, 1)
            if w_cpu0 is not None and w_cpu1 is not None else None,
        },
    }


async def held_by_design(http: Any, rids: list[str]) -> dict[str, str]:
    """Of these reports, the ones with no ticket of their own on purpose: {id: "triage" | "linked"}."""
    out: dict[str, str] = {}

    async def one(rid: str) -> None:
        try:
            code, body = await http.get(f"{common.REPORTS_PATH}/{rid}")
            seen = json.loads(body) if code == 200 else {}
        except (common.HttpError, ValueError):
            return
        if seen.get("incident_id"):
            out[rid] = "linked"
        elif seen.get("status") == "triage":
            out[rid] = "triage"

    await asyncio.gather(*(one(r) for r in rids))
    return out


async def status_of(http: Any, rids: list[str]) -> dict[str, int] | None:
    """Ask intake what became of (some) lost reports: {status: count}, e.g. still "received" vs held for triage."""
    if not rids:
        return None
    out: Counter[str] = Counter()

    async def one(rid: str) -> None:
        try:
            code, body = await http.get(f"{common.REPORTS_PATH}/{rid}")
        except common.HttpError as exc:
            out[exc.kind] += 1
            return
        try:
            out[str(json.loads(body).get("status")) if code == 200 else f"http_{code}"] += 1
        except (ValueError, AttributeError):
            out["unreadable"] += 1

    await asyncio.gather(*(one(r) for r in rids))
    return dict(out)


def verdict(step: dict[str, Any], args: argparse.Namespace) -> str | None:
    """Why a find-max step does not count as sustained, or None if it does."""
    p99 = step["post_to_topic_ms"]["p99"]
    if not step["accepted"]:
        return "nothing accepted"
    if step["lost"]["topic"] or step["lost"]["ticket"]:
        return f"lost/backlog after {args.settle:g}s settle: topic {step['lost']['topic']}, " \
               f"ticket {step['lost']['ticket']}"
    if p99 is None or p99 > args.collapse_ms:
        return f"p99 POST->topic {p99} ms > {args.collapse_ms:g} ms"
    errors = sum(step["errors"].values())
    if errors > args.max_error_ratio * step["posted"]:
        return f"{errors} of {step['posted']} POSTs failed: {step['errors']}"
    if step["achieved_rate"] < 0.95 * step["offered_rate"]:
        return f"achieved {step['achieved_rate']}/s < 95% of offered {step['offered_rate']:g}/s"
    return None


def client_limited(step: dict[str, Any], args: argparse.Namespace) -> bool:
    lag = step["client"]["schedule_lag_ms"]["p99"] or 0.0
    return lag > args.max_schedule_lag_ms


async def main(args: argparse.Namespace) -> dict[str, Any]:
    token = common.resolve_token(args)
    url = args.intake.rstrip("/") + common.REPORTS_PATH
    ledger = Ledger()
    watcher = Watcher(args, ledger)
    ready = await watcher.start()
    common.log(f"watching {len(ready['topics'])} existing topic(s): {', '.join(ready['topics']) or '-'}")
    monitor = common.ServiceMonitor(args.run_dir)
    factory = common.ReportFactory(args.seed)
    result: dict[str, Any] = {"tool": "e2e_latency", "intake": url, "bootstrap": args.bootstrap,
                              "settle_s": args.settle, "host_cpus": os.cpu_count()}
    try:
        http = common.make_http_client(args.http_client, args.intake.rstrip("/"), token, args.concurrency,
                                       args.timeout)
        try:
            try:
                code, body = await http.post_json(common.REPORTS_PATH, factory.body())
            except common.HttpError as exc:
                sys.exit(f"intake not reachable at {url}: {exc}")
            if code in (401, 403):
                sys.exit(f"intake refused the key ({code}); check --token / --credentials")
            if code != 201:
                common.log(f"warning: first request answered {code}: {body[:200]!r}")
            if args.warmup > 0:
                common.log(f"warm-up: {args.warmup:g}s at {args.warmup_rate or args.rate:g}/s (not counted)")
                await post_open_loop(http, factory, args.warmup_rate or args.rate, args.warmup, None)
            if not args.find_max:
                common.log(f"measuring: {args.duration:g}s at {args.rate:g}/s, then up to {args.settle:g}s settle")
                result.update(await run_phase(args, http, factory, ledger, monitor, args.rate, args.duration,
                                              watcher.proc.pid))
            else:
                steps, best, reason = [], None, "every step was sustained: add higher --steps"
                for rate in [float(x) for x in args.steps.split(",") if x.strip()]:
                    common.log(f"step {rate:g}/s for {args.step_duration:g}s")
                    step = await run_phase(args, http, factory, ledger, monitor, rate, args.step_duration,
                                           watcher.proc.pid)
                    why = verdict(step, args)
                    step["sustained"] = why is None
                    if why and client_limited(step, args):
                        why = (f"bench client could not keep the schedule (p99 lag "
                               f"{step['client']['schedule_lag_ms']['p99']} ms): {why}")
                        step["client_limited"] = True
                    step["failed_because"] = why
                    steps.append(step)
                    common.log(f"  -> p99 topic {step['post_to_topic_ms']['p99']} ms, "
                               f"lost {step['lost']['topic']}/{step['lost']['ticket']}: {why or 'ok'}")
                    if why:
                        reason = f"{rate:g}/s: {why}"
                        break
                    best = rate
                result.update({"find_max": True, "collapse_ms": args.collapse_ms,
                               "step_duration_s": args.step_duration, "max_sustained_rate": best,
                               "stopped_because": reason, "steps": steps})
        finally:
            await http.aclose()
    finally:
        final = await watcher.close()
    result["kafka"] = {"topics": final.get("topics"), "topics_discovered_late": final.get("late_topics"),
                       "messages_seen": (final.get("counts") or {}).get("messages", 0),
                       "ignored": (final.get("counts") or {}).get("ignored", 0)}
    if final.get("error"):
        result["kafka"]["error"] = final["error"]
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    common.add_common_options(p)
    g = p.add_argument_group("load")
    g.add_argument("--rate", type=float, default=100.0, help="reports per second (open loop)")
    g.add_argument("--duration", type=float, default=60.0, help="measured seconds of posting")
    g.add_argument("--settle", type=float, default=20.0,
                   help="after posting, wait at most this long for reports still on their way")
    g.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring (not counted)")
    g.add_argument("--warmup-rate", type=float, default=None, help="warm-up rate (default: --rate, or the "
                   "first step with --find-max)")
    g.add_argument("--concurrency", type=int, default=64, help="max HTTP connections to intake")
    common.add_http_options(g)
    g.add_argument("--skip-tickets", action="store_true",
                   help="do not watch tickets.events (departments service not running)")
    f = p.add_argument_group("find-max")
    f.add_argument("--find-max", action="store_true", help="step the rate up until it is no longer sustained")
    f.add_argument("--steps", default=DEFAULT_STEPS, help="comma-separated rates to try, in order")
    f.add_argument("--step-duration", type=float, default=20.0, help="seconds of posting per step")
    f.add_argument("--collapse-ms", type=float, default=1000.0, help="p99 POST->topic above this fails a step")
    f.add_argument("--max-error-ratio", type=float, default=0.01, help="failed POSTs above this fail a step")
    f.add_argument("--max-schedule-lag-ms", type=float, default=50.0,
                   help="p99 lag of the poster behind its schedule above which a failed step is blamed on the bench")
    k = p.add_argument_group("kafka watcher")
    k.add_argument("--fetch-max-wait-ms", type=int, default=100,
                   help="Tansu answers a fetch only when this elapses: it is the latency floor and poll rate")
    k.add_argument("--metadata-interval", type=float, default=0.5,
                   help="seconds between checks for new dept.* topics")
    g.add_argument("--lost-lookups", type=int, default=50,
                   help="GET /v1/reports/{id} for up to this many lost reports to tally their status")
    k.add_argument("--dup-grace", type=float, default=1.0, help="seconds to keep listening for duplicates")
    a = p.parse_args(argv)
    if a.rate <= 0 or a.duration <= 0 or a.settle < 0 or a.step_duration <= 0:
        p.error("--rate, --duration, --step-duration must be > 0 and --settle >= 0")
    if a.find_max and not a.warmup_rate:
        a.warmup_rate = float(a.steps.split(",")[0])
    return a


if __name__ == "__main__":
    _args = parse_args()
    common.emit(asyncio.run(main(_args)), _args)
