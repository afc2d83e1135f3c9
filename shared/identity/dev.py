"""Development credentials: on embedded defaults, one key per role and per department, written to
``var/dev-credentials.json`` (git-ignored). Never in production."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from shared.identity.store import IdentityStore
from shared.registry import Registry


async def ensure_dev_credentials(store: IdentityStore, registry: Registry, path: Path) -> dict[str, Any] | None:
    """Create the development keys when the identity database has none; return the credentials file's content
    (``None`` when keys exist but their file is gone: secrets cannot be recovered from hashes)."""
    if await store.count_active() > 0:
        if path.exists():
            return json.loads(path.read_text())
        return None
    creds: dict[str, Any] = {}
    for role in ("call_centre", "centre_operator", "admin"):
        creds[role] = (await store.create_key(name=f"dev {role}", role=role)).secret
    creds["departments"] = {}
    creds["supervisors"] = {}
    for code in registry.codes():
        creds["departments"][code] = (await store.create_key(
            name=f"dev {code} staff", role="department_staff", department=code)).secret
        creds["supervisors"][code] = (await store.create_key(
            name=f"dev {code} supervisor", role="department_supervisor", department=code)).secret
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(creds, indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return creds
