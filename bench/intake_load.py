"""Closed-loop load on intake's ``POST /v1/reports``: how many reports per second intake accepts, and how fast.

N clients each post a report, wait for the answer, and post the next one (closed loop), for a warm-up and then
for the measured duration. Only requests that complete inside the measured window are counted. Prints JSON:
requests, rps, errors by status, latency percentiles of accepted (201) requests, service memory and CPU.

usage: python bench/intake_load.py [--concurrency 32] [--duration 10] [--warmup 3] [--processes 1]
needs: nothing beyond the standard library (httpx only with --http-client httpx)
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/intake_load.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import common  # type: ignore[no-redef]
else:  # python -m bench.intake_load
    from bench import common


async def run_clients(base: str, token: str, kind: str, concurrency: int, t_measure: float, t_end: float,
                      timeout: float, seed: int | None) -> dict[str, Any]:
    """``concurrency`` closed-loop clients, one connection each, until ``t_end`` (time.monotonic()); keeps the
    results of requests completed in [t_measure, t_end] only."""
    factory = common.ReportFactory(seed)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    cpu0 = time.process_time()

    async def client() -> None:
        http = common.make_http_client(kind, base, token, 1, timeout)
        try:
            while True:
                t0 = time.monotonic()
                if t0 >= t_end:
                    return
                try:
                    code, _ = await http.post_json(common.REPORTS_PATH, factory.body())
                    status = str(code)
                except common.HttpError as exc:
                    status = exc.kind
                t1 = time.monotonic()
                if t1 > t_end:
                    return
                if t1 >= t_measure:
                    statuses[status] += 1
                    if status == "201":
                        latencies.append(t1 - t0)
        finally:
            await http.aclose()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return {"latencies": latencies, "statuses": dict(statuses), "cpu_s": time.process_time() - cpu0}


def _worker_entry(*a: Any) -> dict[str, Any]:
    return asyncio.run(run_clients(*a))


async def probe(base: str, token: str, kind: str, timeout: float) -> None:
    """One request first, so a wrong URL or key fails loudly instead of producing a table of errors."""
    http = common.make_http_client(kind, base, token, 1, timeout)
    try:
        code, body = await http.post_json(common.REPORTS_PATH, common.ReportFactory(0).body())
    except common.HttpError as exc:
        sys.exit(f"intake not reachable at {base}: {exc}")
    finally:
        await http.aclose()
    if code in (401, 403):
        sys.exit(f"intake refused the key ({code}); check --token / --credentials")
    if code != 201:
        common.log(f"warning: first request answered {code}: {body[:200]!r}")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    token = common.resolve_token(args)
    base = args.intake.rstrip("/")
    url = base + common.REPORTS_PATH
    await probe(base, token, args.http_client, args.timeout)

    monitor = common.ServiceMonitor(args.run_dir)
    rss_before = common.service_memory(args.run_dir)
    procs = max(1, args.processes)
    shares = [args.concurrency // procs + (1 if i < args.concurrency % procs else 0) for i in range(procs)]
    shares = [s for s in shares if s > 0]
    t_start = time.monotonic() + (1.0 if len(shares) > 1 else 0.0)  # give worker processes time to start
    t_measure = t_start + args.warmup
    t_end = t_measure + args.duration
    common.log(f"{args.concurrency} clients in {len(shares)} process(es): {args.warmup:g}s warm-up, "
               f"{args.duration:g}s measured, target {url}")

    async def sample_until_done(task: asyncio.Future) -> None:
        measuring = False
        while not task.done():
            if not measuring and time.monotonic() >= t_measure:
                monitor.reset()  # CPU and peak memory over the measured window only
                measuring = True
            monitor.sample()
            await asyncio.wait([task], timeout=0.5)

    seeds = [None if args.seed is None else args.seed + i for i in range(len(shares))]
    if len(shares) == 1:
        work = asyncio.ensure_future(run_clients(base, token, args.http_client, shares[0], t_measure, t_end,
                                                   args.timeout, seeds[0]))
        await sample_until_done(work)
        parts = [work.result()]
    else:
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(len(shares), mp_context=multiprocessing.get_context("spawn")) as pool:
            work = asyncio.gather(*(loop.run_in_executor(pool, _worker_entry, base, token, args.http_client, n,
                                                         t_measure, t_end, args.timeout, seed)
                                    for n, seed in zip(shares, seeds)))
            await sample_until_done(work)
            parts = work.result()

    services = monitor.report()
    latencies = [x for p in parts for x in p["latencies"]]
    statuses: Counter[str] = Counter()
    for p in parts:
        statuses.update(p["statuses"])
    requests = sum(statuses.values())
    ok = statuses.get("201", 0)
    client_cpu = sum(p["cpu_s"] for p in parts)
    return {
        "tool": "intake_load",
        "target": url,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "requests": requests,
        "accepted": ok,
        "rps": round(requests / args.duration, 1),
        "accepted_rps": round(ok / args.duration, 1),
        "errors": {k: v for k, v in sorted(statuses.items()) if k != "201"},
        "latency_ms": common.latency_summary(latencies),
        "rss_mb": {
            svc: {
                "before": (rss_before.get(svc) or {}).get("rss_mb"),
                "after": m["end_mb"],
                "peak_sampled": m["peak_sampled_mb"],
                "hwm": m["hwm_mb"],
            } if m else None
            for svc, m in services.items()
        },
        "service_cpu_pct": {svc: m["cpu_pct"] if m else None for svc, m in services.items()},
        "host_busy_pct": monitor.host()["busy_pct_loaded"],
        "client": {
            "http_client": args.http_client,
            "processes": len(shares),
            "cpu_pct": round(100 * client_cpu / (args.warmup + args.duration), 1),
            "host_cpus": os.cpu_count(),
        },
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    common.add_common_options(p)
    g = p.add_argument_group("load")
    g.add_argument("--concurrency", "-c", type=int, default=32, help="closed-loop clients (connections)")
    g.add_argument("--duration", "-d", type=float, default=10.0, help="measured seconds")
    g.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (not counted)")
    g.add_argument("--processes", type=int, default=1,
                   help="client processes sharing the clients (raise it if client.cpu_pct nears 100)")
    common.add_http_options(g)
    a = p.parse_args(argv)
    if a.concurrency < 1 or a.duration <= 0 or a.warmup < 0:
        p.error("--concurrency >= 1, --duration > 0 and --warmup >= 0 required")
    return a


if __name__ == "__main__":
    _args = parse_args()
    common.emit(asyncio.run(main(_args)), _args)
