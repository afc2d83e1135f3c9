"""API keys: issue, revoke, list, authenticate. Keys look like ``lk_<43 url-safe chars>``; only their SHA-256 is
stored. Authentication results are cached for a few seconds (``cache_ttl``), which bounds how long a revoked key
keeps working in a running service."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine, migrate, session_factory, utcnow
from shared.identity.models import ApiKey
from shared.identity.principal import DEPARTMENT_ROLES, ROLES, Principal

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x4C4B_0001


class InvalidKeyRequest(ValueError):
    """Invalid key request (unknown role, missing or unexpected department)."""


@dataclass(frozen=True)
class IssuedKey:
    id: str
    secret: str
    principal: Principal


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class IdentityStore:
    def __init__(self, url: str, *, cache_ttl: float = 5.0) -> None:
        self.engine: AsyncEngine = create_engine(url, pool_size=5)
        self._sessions = session_factory(self.engine)
        self._ttl = cache_ttl
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def migrate(self) -> None:
        await migrate(self.engine, MIGRATIONS, lock_id=_LOCK_ID)

    async def close(self) -> None:
        await self.engine.dispose()

    async def create_key(self, *, name: str, role: str, department: str | None = None) -> IssuedKey:
        if role not in ROLES:
            raise InvalidKeyRequest(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if role in DEPARTMENT_ROLES and not department:
            raise InvalidKeyRequest(f"role {role} needs a department code")
        if role not in DEPARTMENT_ROLES and department:
            raise InvalidKeyRequest(f"role {role} is not bound to a department")
        secret = "lk_" + secrets.token_urlsafe(32)
        key = ApiKey(id=str(uuid.uuid4()), name=name, role=role, department=department, key_hash=hash_key(secret),
                     prefix=secret[:10])
        async with self._sessions() as session, session.begin():
            session.add(key)
        return IssuedKey(key.id, secret, Principal(key.id, name, role, department))  # type: ignore[arg-type]

    async def revoke(self, key_id: str) -> bool:
        async with self._sessions() as session, session.begin():
            key = await session.get(ApiKey, key_id)
            if key is None or key.revoked_at is not None:
                return False
            key.revoked_at = utcnow()
        self._cache.clear()
        return True

    async def list_keys(self) -> list[ApiKey]:
        async with self._sessions() as session:
            return list((await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all())

    async def count_active(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(ApiKey)
                                             .where(ApiKey.revoked_at.is_(None))) or 0)

    async def authenticate(self, secret: str) -> Principal | None:
        digest = hash_key(secret)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._sessions() as session:
            key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
        principal = None
        if key is not None and key.revoked_at is None:
            principal = Principal(key.id, key.name, key.role, key.department)  # type: ignore[arg-type]
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self._ttl, principal)
        return principal
