"""Throughput and latency of the routing engine (or the keyword rules alone) on one core.

    python bench/classify_bench.py [--seconds 3] [--classifier engine|keywords]

Prints one JSON object: {"classifications_per_s", "p50_ms", "p99_ms", "load_s", "rss_mb", ...}. Targets: p99 at
most 5 ms, at least 1,000 classifications per second on one core, the model loaded in under 2 s, and the router
under 300 MB resident (``rss_after_app_mb``: this process after also importing the router application).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "services" / "router")]

from shared.registry import load_registry  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")

TEXTS = [
    "我们小区3号楼门口的自来水管爆了，水一直往外冒",
    "Caller states the street light outside 12 Elm Street has been out for a week",
    "楼下饭店后厨着火了，烟很大",
    "My neighbour's renovation starts at 6 am every day, we talked twice, can someone mediate?",
    "垃圾桶三天没人清理了，臭气熏天",
    "Someone broke into my car last night and stole my laptop",
    "老板拖欠我们三个月工资不发",
    "No heating in our building for two days, it is freezing",
    "Two cars crashed at the junction of Main Street and 5th Avenue, one driver is injured and bleeding",
    "楼道里燃气味很大，邻居家好像没人，我们很担心会爆炸",
    "独居老人在家晕倒了，邻居从窗户看到他躺在地上一动不动，门是锁着的",
    "Several of us got food poisoning after dinner at the Golden Dragon restaurant, two are vomiting badly",
    "路上有个大坑，好几辆车都颠坏了，晚上没有路灯特别危险",
    "The factory next door runs loud machinery all night and there is a strange chemical smell",
    "請問暖氣什麼時候開始供應？家裡老人怕冷",
    "Hello, I would like some information about how to apply for a residents parking permit please",
    "小区里流浪狗太多了，晚上一直叫，物业也不管，希望社区能处理一下",
    "I called about this last year: the tree outside number 4 is leaning badly and branches fall on cars",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to measure")
    parser.add_argument("--classifier", choices=["engine", "keywords"], default="engine")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    rss_start = rss_mb()
    t0 = time.perf_counter()
    registry = load_registry()
    if args.classifier == "engine":
        from router.engine import RoutingEngine
        classifier = RoutingEngine(registry)
    else:
        from router.routing.classifier import KeywordClassifier
        classifier = KeywordClassifier(registry)
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mb()
    at = datetime(2025, 12, 10, 9, tzinfo=UTC)
    for text in TEXTS:  # warm up
        classifier.classify(text, at=at)

    latencies: list[float] = []
    cpu: list[float] = []
    clock, cpu_clock = time.perf_counter, time.thread_time
    started, cpu_started = clock(), cpu_clock()
    deadline = started + args.seconds
    while clock() < deadline:
        for text in TEXTS:
            t0, c0 = clock(), cpu_clock()
            classifier.classify(text, at=at)
            latencies.append(clock() - t0)
            cpu.append(cpu_clock() - c0)
    elapsed, cpu_elapsed = clock() - started, cpu_clock() - cpu_started

    latencies.sort()
    cpu.sort()
    import router.app  # noqa: F401  # the whole router application, for its resident size
    rss_app = rss_mb()

    def percentile(values: list[float], p: float) -> float:
        return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 4)

    print(json.dumps({
        "classifications_per_s": round(len(latencies) / elapsed),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        # the same on this thread's CPU clock: what the classifier costs, without time the core spent on other
        # processes (on a busy machine the wall-clock tail is mostly other processes' time slices)
        "cpu_classifications_per_s": round(len(cpu) / cpu_elapsed) if cpu_elapsed else None,
        "cpu_p50_ms": percentile(cpu, 0.50),
        "cpu_p99_ms": percentile(cpu, 0.99),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "classifications": len(latencies),
        "texts": len(TEXTS),
        "classifier": classifier.name,
        "load_s": round(load_s, 3),
        "rss_before_load_mb": rss_start,
        "rss_after_load_mb": rss_loaded,
        "rss_after_app_mb": rss_app,
    }))


if __name__ == "__main__":
    main()
