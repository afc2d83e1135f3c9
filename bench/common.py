"""Shared helpers for the Linkage benchmarks: options, credentials, percentiles, process memory, report bodies.

Only the standard library is used here, so every bench script can import it whatever else it needs.
Timestamps that cross processes use ``time.monotonic()`` (CLOCK_MONOTONIC is system-wide on Linux).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CREDENTIALS = REPO_ROOT / "var" / "dev-credentials.json"
DEFAULT_RUN_DIR = REPO_ROOT / "var" / "run"
DEFAULT_INTAKE = "http://127.0.0.1:8001"
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
SERVICES = ("intake", "router", "departments", "tansu")
REPORTS_PATH = "/v1/reports"


# --------------------------------------------------------------------------------------------------- options

def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every bench script takes (--bootstrap is accepted everywhere, used by the Kafka-side ones)."""
    g = parser.add_argument_group("target")
    g.add_argument("--intake", default=DEFAULT_INTAKE, help="intake base URL")
    g.add_argument("--bootstrap", default=DEFAULT_BOOTSTRAP, help="Kafka bootstrap servers")
    g.add_argument("--token", help="bearer API key; default: the call_centre key from --credentials")
    g.add_argument("--credentials", type=Path, default=DEFAULT_CREDENTIALS,
                   help="credentials JSON written by `make run`")
    g.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR,
                   help="directory with the <service>.pid files of `make run`, for memory and CPU figures")
    o = parser.add_argument_group("output")
    o.add_argument("--seed", type=int, default=None,
                   help="random seed for report bodies (none: different bodies every run)")
    o.add_argument("--output", type=Path,
                   help="also write the JSON result to this file (bench/results/ is ignored by git)")
    o.add_argument("--compact", action="store_true", help="print JSON on one line")


def load_credentials(path: Path | str = DEFAULT_CREDENTIALS) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        creds = json.load(f)
    if not isinstance(creds, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return creds


def resolve_token(args: argparse.Namespace, role: str = "call_centre") -> str:
    """--token if given, else the ``role`` key from the credentials file; exits with a clear message otherwise."""
    if getattr(args, "token", None):
        return args.token
    try:
        creds = load_credentials(args.credentials)
    except FileNotFoundError:
        sys.exit(f"no --token and no credentials file at {args.credentials} (start the suite with `make run`)")
    except (OSError, ValueError) as exc:
        sys.exit(f"cannot read credentials {args.credentials}: {exc}")
    token = creds.get(role)
    if not isinstance(token, str) or not token:
        sys.exit(f"{args.credentials} has no {role!r} key; pass --token")
    return token


def department_codes(args: argparse.Namespace) -> list[str]:
    """Department codes listed in the credentials file, if it is readable (informational only)."""
    try:
        return sorted((load_credentials(args.credentials).get("departments") or {}).keys())
    except (OSError, ValueError):
        return []


# --------------------------------------------------------------------------------------------------- statistics

def percentile(values: Sequence[float], p: float, *, presorted: bool = False) -> float | None:
    """Nearest-rank percentile: the smallest value such that at least p % of the values are <= it.

    ``percentile(xs, 100)`` is the maximum, ``percentile(xs, 0)`` the minimum; None for no values.
    """
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError("p must be within 0..100")
    xs = values if presorted else sorted(values)
    rank = max(1, math.ceil(p / 100 * len(xs)))
    return xs[rank - 1]


def latency_summary(seconds: Iterable[float], points: Sequence[float] = (50, 95, 99)) -> dict[str, Any]:
    """Latencies given in seconds -> {"n", "p50", "p95", "p99", "max", "mean"} in milliseconds (1 decimal)."""
    xs = sorted(seconds)
    out: dict[str, Any] = {"n": len(xs)}
    for p in points:
        out[f"p{p:g}"] = ms(percentile(xs, p, presorted=True))
    out["max"] = ms(xs[-1]) if xs else None
    out["mean"] = ms(sum(xs) / len(xs)) if xs else None
    return out


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


# --------------------------------------------------------------------------------------------------- processes

def read_pid(run_dir: Path, service: str) -> int | None:
    try:
        pid = int((Path(run_dir) / f"{service}.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def _status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])  # "VmRSS:\t  12345 kB"
    except (OSError, ValueError, IndexError):
        pass
    return None


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{p}/task/{tid}/children", encoding="ascii") as f:
                    kids = [int(c) for c in f.read().split()]
            except (OSError, ValueError):
                kids = []
            out.extend(kids)
            todo.extend(kids)
    return out


def process_memory(pid: int) -> dict[str, Any] | None:
    """{"pid", "rss_mb", "hwm_mb"} from /proc/<pid>/status (VmRSS now, VmHWM = peak since process start).

    If the process has children (e.g. a supervisor or reloader in front of uvicorn) their current RSS is added
    as ``tree_rss_mb``; peaks of different processes cannot be added, so there is no tree HWM.
    """
    rss, hwm = _status_kb(pid, "VmRSS"), _status_kb(pid, "VmHWM")
    if rss is None:
        return None
    out: dict[str, Any] = {"pid": pid, "rss_mb": round(rss / 1024, 1), "hwm_mb": round((hwm or rss) / 1024, 1)}
    kids = _descendants(pid)
    if kids:
        out["tree_rss_mb"] = round((rss + sum(_status_kb(k, "VmRSS") or 0 for k in kids)) / 1024, 1)
    return out


def service_memory(run_dir: Path, services: Sequence[str] = SERVICES) -> dict[str, Any]:
    """Memory of every service whose pid file names a live process; None for the others."""
    out = {}
    for svc in services:
        pid = read_pid(run_dir, svc)
        out[svc] = process_memory(pid) if pid else None
    return out


class ServiceMonitor:
    """Watches the services named by pid files: memory (sampled; call ``sample()`` periodically) and CPU.

    ``report()`` gives, per service, RSS at start and end, the highest RSS sampled in between, VmHWM (peak since
    the process started, so it includes anything before this run) and the CPU it used over the window, in % of
    one core. A service without a live pid file is reported as None.
    """

    def __init__(self, run_dir: Path, services: Sequence[str] = SERVICES):
        self.run_dir, self.services = Path(run_dir), services
        self.reset()

    def reset(self) -> None:
        """Start a new window (find-max uses one per step)."""
        self.t0 = time.monotonic()
        self.start = service_memory(self.run_dir, self.services)
        self.cpu0 = self._cpu_now()
        self.host0 = host_cpu_ticks()
        self.loaded_at: float | None = None  # set by mark_loaded(), with the CPU figures at that moment
        self.cpu_loaded: dict[str, float | None] = {}
        self.host_loaded: tuple[int, int] | None = None
        self.peak: dict[str, float] = {}
        self._fold(self.start)

    def _cpu_now(self) -> dict[str, float | None]:
        return {svc: tree_cpu_seconds(m["pid"]) for svc, m in self.start.items() if m}

    def mark_loaded(self) -> None:
        """End of the loaded part of the window (posting ended): ``report()`` also gives the CPU used until here
        (``cpu_pct_loaded``), which the quiet time after it (settling) does not dilute, and ``host()`` the
        machine's."""
        self.loaded_at, self.cpu_loaded, self.host_loaded = time.monotonic(), self._cpu_now(), host_cpu_ticks()

    def host(self) -> dict[str, Any]:
        """The whole machine over the loaded part of the window (or all of it): its CPU count and how busy its
        CPUs were, in % of all of them (near 100: saturated, latencies are then the machine's, not the suite's)."""
        end = self.host_loaded if self.loaded_at is not None else host_cpu_ticks()
        busy = None
        if self.host0 and end and end[1] > self.host0[1]:
            busy = round(100 * (end[0] - self.host0[0]) / (end[1] - self.host0[1]), 1)
        return {"cpus": os.cpu_count(), "busy_pct_loaded": busy}

    def _fold(self, snap: dict[str, Any]) -> None:
        for svc, m in snap.items():
            if m:
                v = m.get("tree_rss_mb", m["rss_mb"])
                self.peak[svc] = max(self.peak.get(svc, 0.0), v)

    def sample(self) -> dict[str, Any]:
        snap = service_memory(self.run_dir, self.services)
        self._fold(snap)
        return snap

    def report(self) -> dict[str, Any]:
        end = self.sample()
        wall = time.monotonic() - self.t0
        out: dict[str, Any] = {}
        for svc in self.services:
            s, e = self.start.get(svc), end.get(svc)
            if not s and not e:
                out[svc] = None
                continue
            pid = (e or s)["pid"]
            c0, c1 = self.cpu0.get(svc), tree_cpu_seconds(pid)
            same = bool(s and e and s["pid"] == e["pid"])
            out[svc] = {
                "pid": pid,
                "start_mb": s and s.get("tree_rss_mb", s["rss_mb"]),
                "end_mb": e and e.get("tree_rss_mb", e["rss_mb"]),
                "peak_sampled_mb": self.peak.get(svc),
                "hwm_mb": e and e["hwm_mb"],
                "cpu_pct": _pct(c0, c1, wall) if same else None,
            }
            if self.loaded_at is not None:
                out[svc]["cpu_pct_loaded"] = _pct(c0, self.cpu_loaded.get(svc), self.loaded_at - self.t0) if same \
                    else None
            if s and e and not same:
                out[svc]["restarted"] = True
        return out


def _pct(cpu0: float | None, cpu1: float | None, wall: float) -> float | None:
    return round(100 * (cpu1 - cpu0) / wall, 1) if cpu0 is not None and cpu1 is not None and wall > 0 else None


def host_cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat (idle and iowait count as not busy)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None
    total = sum(ticks)
    return total - ticks[3] - ticks[4], total


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc/<pid>/stat, in seconds."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # skip "pid (comm)"; comm may contain spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a process plus its live descendants."""
    own = cpu_seconds(pid)
    if own is None:
        return None
    return own + sum(cpu_seconds(k) or 0.0 for k in _descendants(pid))


class CpuMeter:
    """CPU time this process (and finished children) used over wall time, in % of one core."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.monotonic(), self._cpu()

    @staticmethod
    def _cpu() -> float:
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    def percent(self) -> float:
        wall = time.monotonic() - self.wall
        return round(100 * (self._cpu() - self.cpu) / wall, 1) if wall > 0 else 0.0


# --------------------------------------------------------------------------------------------------- HTTP

class HttpError(Exception):
    """A request that got no HTTP answer; ``kind`` is "timeout", "connect_error", "disconnected" or "protocol"."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class _Conn:
    __slots__ = ("reader", "writer", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer, self.idle_since = reader, writer, time.monotonic()

    def close(self) -> None:
        try:
            self.writer.close()
        except Exception:
            pass


class RawHttpClient:
    """Minimal HTTP/1.1 keep-alive client for JSON POSTs to one plain-http origin.

    Why not httpx for the load itself: on this kind of machine httpx spends ~1.5 ms of CPU per request and its
    shared connection pool degrades badly with many concurrent requests (32 clients: ~150 req/s on one core),
    so the bench, not the service, would be measured. This client costs ~0.1 ms per request. It never retries
    (POST is not idempotent), and does not reuse a connection idle for longer than ``max_idle`` seconds, so a
    server closing idle keep-alive connections (uvicorn: after 5 s) cannot make a request fail spuriously.
    """

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, max_connections: int = 64,
                 timeout: float = 30.0, max_idle: float = 2.0):
        u = urlsplit(base_url)
        if u.scheme != "http" or not u.hostname:
            raise ValueError(f"RawHttpClient speaks plain http only, not {base_url!r}")
        self.host, self.port, self.base = u.hostname, u.port or 80, u.path.rstrip("/")
        hdrs = {"Host": u.netloc, "Content-Type": "application/json", "Accept": "application/json",
                "User-Agent": "linkage-bench", **(headers or {})}
        self._head = "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()).encode("latin-1")
        self.timeout, self.max_idle = timeout, max_idle
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Conn] = []
        self._open: set[_Conn] = set()

    async def _connect(self) -> _Conn:
        while self._idle:
            c = self._idle.pop()
            if time.monotonic() - c.idle_since <= self.max_idle and not c.reader.at_eof():
                return c
            self._drop(c)
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise HttpError("connect_error", str(exc)) from None
        c = _Conn(reader, writer)
        self._open.add(c)
        return c

    def _drop(self, c: _Conn) -> None:
        self._open.discard(c)
        c.close()

    async def post_json(self, path: str, obj: Any) -> tuple[int, bytes]:
        """-> (status, body). Raises HttpError when there is no complete answer."""
        return await self.request("POST", path, _dumps(obj))

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self.request("GET", path, None)

    async def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        async with self._slots:
            conn: _Conn | None = None
            try:
                async with asyncio.timeout(self.timeout):
                    conn = await self._connect()
                    conn.writer.write(b"%s %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
                                      % (method.encode(), (self.base + path).encode(), self._head,
                                         len(body or b""), body or b""))
                    status, payload, keep = await self._read_response(conn.reader)
            except TimeoutError:
                if conn:
                    self._drop(conn)
                raise HttpError("timeout", f"no answer within {self.timeout:g}s") from None
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                if conn:
                    self._drop(conn)
                raise HttpError("disconnected", repr(exc)) from None
            except (ValueError, asyncio.LimitOverrunError) as exc:
                if conn:
                    self._drop(conn)
                raise HttpError("protocol", repr(exc)) from None
            if keep:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            else:
                self._drop(conn)
            return status, payload

    @staticmethod
    async def _read_response(r: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        while True:
            head = await r.readuntil(b"\r\n\r\n")
            lines = head[:-4].split(b"\r\n")
            parts = lines[0].split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
                raise ValueError(f"bad status line {lines[0][:80]!r}")
            status = int(parts[1])
            if status >= 200:
                break  # skip 1xx interim answers
        length, chunked, keep = None, False, parts[0] == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value
            elif name == b"connection":
                keep = b"close" not in value if keep else b"keep-alive" in value
        if chunked:
            out = bytearray()
            while True:
                size = int((await r.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
                if size == 0:
                    while await r.readuntil(b"\r\n") != b"\r\n":  # trailers
                        pass
                    return status, bytes(out), keep
                out += await r.readexactly(size + 2)
                del out[-2:]
        if length is not None:
            return status, await r.readexactly(length), keep
        if status in (204, 304):
            return status, b"", keep
        return status, await r.read(), False  # body until close

    async def aclose(self) -> None:
        for c in list(self._open):
            self._drop(c)
        self._idle.clear()


class HttpxClient:
    """The same interface over httpx (for cross-checks against httpx-based tools such as the outside probe).

    Each request borrows a single-connection ``httpx.AsyncClient`` from a small pool: one shared client with many
    connections lets httpcore's request queue spiral under an open-loop burst (seen here: 200 req/s against an
    instant server, POST p50 > 1 s), which would measure httpx rather than intake.
    """

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, max_connections: int = 64,
                 timeout: float = 30.0):
        import httpx

        self._httpx, self._headers, self._timeout = httpx, headers, timeout
        self.base = base_url.rstrip("/")
        self._slots = asyncio.Semaphore(max_connections)
        self._free: list[Any] = []
        self._all: list[Any] = []

    def _client(self) -> Any:
        if self._free:
            return self._free.pop()
        c = self._httpx.AsyncClient(headers=self._headers, timeout=self._timeout,
                                    limits=self._httpx.Limits(max_connections=1, max_keepalive_connections=1))
        self._all.append(c)
        return c

    async def post_json(self, path: str, obj: Any) -> tuple[int, bytes]:
        return await self.request("POST", path, _dumps(obj))

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self.request("GET", path, None)

    async def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        httpx = self._httpx
        async with self._slots:
            client = self._client()
            try:
                r = await client.request(method, self.base + path, content=body,
                                         headers={"Content-Type": "application/json"} if body else None)
            except httpx.TimeoutException as exc:
                raise HttpError("timeout", repr(exc)) from None
            except httpx.ConnectError as exc:
                raise HttpError("connect_error", repr(exc)) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                raise HttpError("disconnected", repr(exc)) from None
            except httpx.HTTPError as exc:
                raise HttpError("protocol", repr(exc)) from None
            finally:
                self._free.append(client)
            return r.status_code, r.content

    async def aclose(self) -> None:
        for c in self._all:
            await c.aclose()
        self._all.clear()
        self._free.clear()


def make_http_client(kind: str, base_url: str, token: str, max_connections: int, timeout: float):
    """kind "raw" (default, cheap) or "httpx"; both offer ``await post_json(path, obj) -> (status, body)``,
    ``await get(path)`` and ``await aclose()``."""
    headers = {"Authorization": f"Bearer {token}"}
    if kind == "httpx":
        return HttpxClient(base_url, headers, max_connections, timeout)
    return RawHttpClient(base_url, headers, max_connections, timeout)


def add_http_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http-client", choices=("raw", "httpx"), default="raw",
                        help="raw: built-in keep-alive HTTP/1.1 client (cheap); httpx: for cross-checks")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")


# --------------------------------------------------------------------------------------------------- output

def emit(result: dict[str, Any], args: argparse.Namespace | None = None) -> None:
    """Print the result as JSON on stdout (and write it to --output if given). Progress goes to stderr."""
    compact = bool(args and getattr(args, "compact", False))
    text = json.dumps(result, ensure_ascii=False, indent=None if compact else 2, sort_keys=False)
    print(text, flush=True)
    out = args and getattr(args, "output", None)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n", encoding="utf-8")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------- report bodies

# (text, likely department) — what callers actually say, in Chinese and English, short and long.
_TEMPLATES: list[tuple[str, str]] = [
    ("我们小区{bldg}号楼门口的自来水管爆了，水一直往外冒，已经流到马路上了", "water"),
    ("{street}这边停水两天了，也没有任何通知，老人孩子都没法洗漱", "water"),
    ("家里水龙头流出来的水发黄，有股铁锈味，{bldg}号楼好几户都这样", "water"),
    ("{street}{no}号附近的路灯坏了一个多星期，晚上特别黑，很不安全", "power"),
    ("我们整栋楼突然停电了，电梯里可能有人被困，请尽快派人来", "power"),
    ("楼下饭店后厨着火了，烟很大，已经有人在往外跑", "fire"),
    ("{street}有一辆电动车在楼道里充电冒烟了", "fire"),
    ("有人在{street}{no}号门口打架，其中一个人拿着刀", "police"),
    ("我的电动车昨晚在小区里被偷了，监控应该能拍到", "police"),
    ("垃圾桶三天没人清理了，臭气熏天，苍蝇特别多", "sanitation"),
    ("{street}路边有人乱倒建筑垃圾，堆了好大一堆", "sanitation"),
    ("暖气一直不热，屋里只有十二度，家里有刚出生的孩子", "heating"),
    ("老板拖欠我们三个月工资不发，工地上二十多个工人都没拿到钱", "labor"),
    ("楼上邻居每天晚上十二点以后还在装修，沟通了好几次都没用，希望社区帮忙调解", "mediation"),
    ("{street}{no}号门前的井盖丢了，刚才差点有人掉下去", "roads"),
    ("闻到楼道里有很浓的煤气味，不敢开灯", "gas"),
    ("我父亲在家里突然晕倒了，现在叫不醒，地址是{street}{no}号{bldg}号楼", "medical"),
    ("附近工厂晚上偷偷排黑烟，味道很刺鼻，窗户都不敢开", "environment"),
    ("小区里有一只流浪狗咬伤了小孩，狗还在附近转", "animal"),
    ("公交{line}路已经四十分钟没来车了，站台上等了很多人", "transport"),
    ("Burst water main outside block {bldg} on {street_en}, water is flooding the road", "water"),
    ("Caller states the street light outside {no} {street_en} has been out for a week", "power"),
    ("Kitchen fire in the restaurant on the ground floor, lots of smoke, people are leaving the building", "fire"),
    ("Someone broke into my car last night on {street_en} and stole my laptop and a bag", "police"),
    ("My neighbour's renovation starts at 6 am every day, we talked twice, can someone mediate?", "mediation"),
    ("No heating in our building for two days, it is freezing and my mother is 82", "heating"),
    ("Rubbish has not been collected on {street_en} for a week and rats are getting into the bins", "sanitation"),
    ("Strong smell of gas in the stairwell of {no} {street_en}, we have opened the windows", "gas"),
    ("Large pothole on {street_en} near number {no}, two cyclists have already fallen", "roads"),
    ("My employer has not paid wages since March and now will not answer the phone", "labor"),
    ("Elderly man collapsed at the bus stop on {street_en}, he is breathing but not responding", "medical"),
    ("Hi, I'd like to ask how to apply for the winter heating subsidy, the website does not load", "other"),
]
_LONG_TAIL = [
    "，已经打过好几次电话了，一直没人处理",
    "，希望有关部门尽快处理，谢谢",
    "。我是这里的住户，电话可以随时联系我",
    ". I have called twice already and nobody came.",
    ". Please call me back, I am at home all day.",
    "",
]
_STREETS = ["人民路", "解放路", "中山北路", "建设大街", "和平里", "长安街", "滨江路", "朝阳路"]
_STREETS_EN = ["Elm Street", "River Road", "Station Avenue", "Harbour Lane", "Park Road", "Mill Street"]
_NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "John Smith", "Maria Garcia", "赵磊", "Wei Chen"]
_CHANNELS = [("phone_12345", 55), ("phone_110", 10), ("web", 10), ("app", 12), ("sms", 5), ("grid_worker", 6),
             ("other", 2)]


class ReportFactory:
    """Makes varied, realistic ``POST /v1/reports`` bodies (zh and en; some with caller, location, coordinates)."""

    def __init__(self, seed: int | None = None):
        self.rng = random.Random(seed)
        self._channels = [c for c, _ in _CHANNELS]
        self._weights = [w for _, w in _CHANNELS]

    def text(self) -> tuple[str, str]:
        r = self.rng
        template, dept = r.choice(_TEMPLATES)
        text = template.format(bldg=r.randint(1, 30), no=r.randint(1, 400), line=r.randint(1, 120),
                               street=r.choice(_STREETS), street_en=r.choice(_STREETS_EN))
        if r.random() < 0.4:
            text += r.choice(_LONG_TAIL)
        return text, dept

    def body(self) -> dict[str, Any]:
        r = self.rng
        text, _ = self.text()
        channel = r.choices(self._channels, self._weights)[0]
        body: dict[str, Any] = {"text": text, "channel": channel, "caller": {}, "location": {}}
        if channel.startswith("phone") or channel == "sms" or r.random() < 0.3:
            body["caller"]["phone"] = f"1{r.choice('3589')}{r.randint(0, 9)}{r.randint(10_000_000, 99_999_999)}"
        if r.random() < 0.5:
            body["caller"]["name"] = r.choice(_NAMES)
        if r.random() < 0.6:
            loc = body["location"]
            if r.random() < 0.8:
                loc["address"] = f"{r.choice(_STREETS)}{r.randint(1, 400)}号"
            if channel in ("app", "grid_worker") or r.random() < 0.2:
                loc["lat"] = round(39.80 + r.random() * 0.25, 6)
                loc["lon"] = round(116.25 + r.random() * 0.30, 6)
            if channel == "grid_worker" or r.random() < 0.1:
                loc["grid_id"] = f"G{r.randint(1, 12):02d}-{r.randint(1, 250):03d}"
        return body
