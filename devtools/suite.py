"""Start the whole suite on embedded defaults (``make run``), and the process control the end-to-end tests share.

    python -m devtools.suite          # Tansu on :9092, intake :8001, router :8002, departments :8003

SQLite files live under ``var/``; development API keys are created on first start and written to
``var/dev-credentials.json``. Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devtools.tansu import TansuBroker, create_topics, die_with_parent, port_open

SERVICES = {"intake": 8001, "router": 8002, "departments": 8003}


@dataclass
class ServiceProcess:
    """One service run as ``python -m <name>`` with its own environment."""

    name: str
    port: int
    env: dict[str, str]
    log_file: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen([sys.executable, "-m", self.name], env=self.env, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=die_with_parent)

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}"
                                   + (f"; see {self.log_file}" if self.log_file else ""))
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not healthy within {timeout}s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush — the crash the design must survive."""
        self.stop(signal.SIGKILL)


def service_env(name: str, port: int, *, bootstrap: str, var_dir: Path, database_url: str | None = None,
                auth_url: str | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(base if base is not None else os.environ)
    prefix = f"LINKAGE_{name.upper()}_"
    env[prefix + "HOST"] = "127.0.0.1"
    env[prefix + "PORT"] = str(port)
    env[prefix + "DATABASE_URL"] = database_url or f"sqlite+aiosqlite:///{var_dir}/{name}.db"
    env["LINKAGE_AUTH_DATABASE_URL"] = auth_url or f"sqlite+aiosqlite:///{var_dir}/identity.db"
    env["LINKAGE_KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


async def _create_topics(bootstrap: str, partitions: int) -> list[str]:
    from shared.events import suite_topics
    from shared.registry import load_registry
    from shared.settings import CommonSettings

    codes = load_registry(CommonSettings().registry_file).codes()
    return await create_topics(bootstrap, suite_topics(codes), partitions)


async def _prepare_identity(var_dir: Path) -> dict[str, object] | None:
    from shared.identity import IdentityStore
    from shared.identity.dev import ensure_dev_credentials
    from shared.registry import load_registry
    from shared.settings import CommonSettings

    settings = CommonSettings()
    store = IdentityStore(settings.auth_database_url)
    try:
        await store.migrate()
        if settings.env != "development":
            return None
        return await ensure_dev_credentials(store, load_registry(settings.registry_file),
                                            var_dir / "dev-credentials.json")
    finally:
        await store.close()


def main() -> int:
    var_dir = Path(os.environ.get("LINKAGE_VAR_DIR", "var")).resolve()
    (var_dir / "run").mkdir(parents=True, exist_ok=True)
    (var_dir / "log").mkdir(parents=True, exist_ok=True)
    bootstrap = os.environ.get("LINKAGE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    host, _, port = bootstrap.rpartition(":")
    os.environ.setdefault("LINKAGE_AUTH_DATABASE_URL", f"sqlite+aiosqlite:///{var_dir}/identity.db")

    raw_partitions = os.environ.get("LINKAGE_DEV_TOPIC_PARTITIONS", "1")
    if not raw_partitions.isdigit() or int(raw_partitions) < 1:
        raise SystemExit(f"LINKAGE_DEV_TOPIC_PARTITIONS must be a whole number of at least 1, not {raw_partitions!r}")
    partitions = int(raw_partitions)

    broker: TansuBroker | None = None
    if host in ("127.0.0.1", "localhost") and not port_open(host, int(port)):
        broker = TansuBroker(int(port), log_file=var_dir / "log" / "tansu.log")
        broker.start()
        (var_dir / "run" / "tansu.pid").write_text(str(broker.process.pid if broker.process else ""))
        print(f"Tansu broker on {broker.bootstrap} (memory storage; log var/log/tansu.log)")
        created = asyncio.run(_create_topics(broker.bootstrap, partitions))
        print(f"Created {len(created)} topics with {partitions} partition(s) each (LINKAGE_DEV_TOPIC_PARTITIONS)")
    else:
        print(f"Using the Kafka broker already at {bootstrap}")

    creds = asyncio.run(_prepare_identity(var_dir))
    procs: list[ServiceProcess] = []
    stopping = False

    def shutdown(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    code = 0
    try:
        for name, default_port in SERVICES.items():
            svc_port = int(os.environ.get(f"LINKAGE_{name.upper()}_PORT", default_port))
            if port_open("127.0.0.1", svc_port):
                raise RuntimeError(f"port {svc_port} for {name} is taken; stop what runs there first")
            env = service_env(name, svc_port, bootstrap=bootstrap, var_dir=var_dir,
                              database_url=os.environ.get(f"LINKAGE_{name.upper()}_DATABASE_URL"),
                              auth_url=os.environ["LINKAGE_AUTH_DATABASE_URL"])
            proc = ServiceProcess(name, svc_port, env, log_file=var_dir / "log" / f"{name}.log")
            proc.start()
            procs.append(proc)
        for proc in procs:
            proc.wait_healthy()
            assert proc.process is not None
            (var_dir / "run" / f"{proc.name}.pid").write_text(str(proc.process.pid))
        print()
        for proc in procs:
            print(f"  {proc.name:<12} {proc.url}/docs   (log var/log/{proc.name}.log)")
        print()
        if creds is not None:
            print(f"Development API keys ({var_dir / 'dev-credentials.json'}):")
            print(json.dumps(creds, indent=2))
        else:
            print("API keys exist already but var/dev-credentials.json is gone; create one with "
                  "`.venv/bin/linkage-keys create --role call_centre --name me`.")
        print("\nLinkage is running. Press Ctrl-C to stop.", flush=True)
        while not stopping:
            for proc in procs:
                if proc.process is not None and proc.process.poll() is not None:
                    print(f"{proc.name} exited with {proc.process.returncode}; see var/log/{proc.name}.log",
                          file=sys.stderr)
                    stopping, code = True, 1
            time.sleep(0.2)
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    finally:
        print("Stopping…", flush=True)
        for proc in reversed(procs):
            proc.stop()
        if broker is not None:
            broker.stop()
        for pid_file in (var_dir / "run").glob("*.pid"):
            pid_file.unlink(missing_ok=True)
        print("Stopped.")
    return code


if __name__ == "__main__":
    sys.exit(main())
