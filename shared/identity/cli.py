"""``linkage-keys``: create, revoke and list API keys in the identity database (``LINKAGE_AUTH_DATABASE_URL``).

    linkage-keys create --role call_centre --name "12345 call centre"
    linkage-keys create --role department_staff --department water --name "Water dispatch desk"
    linkage-keys revoke <key-id>
    linkage-keys list
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from shared.identity.principal import ROLES
from shared.identity.store import IdentityStore, InvalidKeyRequest
from shared.registry import load_registry
from shared.settings import CommonSettings


async def _main(args: argparse.Namespace) -> int:
    settings = CommonSettings()
    store = IdentityStore(settings.auth_database_url)
    try:
        await store.migrate()
        if args.command == "create":
            if args.department and args.department not in load_registry(settings.registry_file).codes():
                print(f"error: unknown department {args.department!r}", file=sys.stderr)
                return 2
            try:
                issued = await store.create_key(name=args.name, role=args.role, department=args.department)
            except InvalidKeyRequest as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(json.dumps({"id": issued.id, "key": issued.secret, "role": issued.principal.role,
                              "department": issued.principal.department, "name": issued.principal.name}))
            print("Store the key now: only its hash is kept.", file=sys.stderr)
        elif args.command == "revoke":
            if not await store.revoke(args.key_id):
                print(f"error: no active key {args.key_id}", file=sys.stderr)
                return 1
            print(json.dumps({"id": args.key_id, "revoked": True}))
        else:
            for key in await store.list_keys():
                print(json.dumps({"id": key.id, "prefix": key.prefix, "name": key.name, "role": key.role,
                                  "department": key.department, "created_at": key.created_at.isoformat(),
                                  "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None}))
        return 0
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="linkage-keys", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="issue a key and print it once")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", required=True)
    create.add_argument("--department", help="department code, for department_staff and department_supervisor")
    revoke = sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    sub.add_parser("list", help="list keys (never their secrets)")
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
