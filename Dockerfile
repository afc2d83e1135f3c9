# syntax=docker/dockerfile:1
#
# One image for all three Linkage services (intake, router, departments) and the
# `linkage-keys` CLI. The service is chosen by the command, e.g. in docker-compose.yml:
#     command: ["python", "-m", "intake"]      # or router / departments
# See deploy/README.md and deploy/ENVIRONMENT.md.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------
# build: install the project and its dependencies into a self-contained venv
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# README.md is pyproject.toml's `readme`: hatchling refuses to build without it.
COPY pyproject.toml README.md ./
COPY shared/ shared/
COPY services/ services/
COPY devtools/ devtools/
# pip byte-compiles the installed modules, so the runtime image never needs to
# write .pyc files (its root filesystem may be read-only).
RUN pip install --no-cache-dir .

# ---------------------------------------------------------------------------
# runtime: slim base + the venv, no build context, non-root
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="linkage" \
      org.opencontainers.image.description="Linkage services: intake, router, departments (select with the command)"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LINKAGE_ENV=production

# Fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 linkage \
 && useradd --system --uid 10001 --gid linkage --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin linkage

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
USER 10001:10001

# intake, router, departments (each container publishes only its own).
EXPOSE 8001 8002 8003

# Deliberately no service by default: pick one with the command.
CMD ["python", "-c", "print('linkage image: run one of: python -m intake | python -m router | python -m departments | linkage-keys --help')"]
