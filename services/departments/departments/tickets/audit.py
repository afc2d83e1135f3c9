"""The ticket audit trail as a hash chain: pure domain code (no I/O), so it can be checked anywhere.

Each entry's ``hash`` is the SHA-256 of the canonical JSON (sorted keys, no whitespace, UTF-8, times as ISO 8601 UTC
with microseconds) of its :data:`HASHED_FIELDS` plus ``prev_hash``, the previous entry's hash (:data:`GENESIS_HASH`,
64 zeros, for a ticket's first entry). Changing, removing or reordering any entry breaks every link from there on;
:func:`verify_chain` finds the first broken one. The database refuses ``UPDATE`` and ``DELETE`` on the audit table
(triggers installed by the migration); the chain is what still tells when someone with enough rights did it anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

GENESIS_HASH = "0" * 64

HASHED_FIELDS: tuple[str, ...] = (
    "ticket_id", "seq", "at", "action", "from_state", "to_state",
    "actor_id", "actor_name", "actor_role", "actor_department", "reason", "note", "resolution",
)


class AuditLink(Protocol):
    """What an audit entry must expose to be verified (the ORM row and :class:`AuditEntry` both do)."""

    ticket_id: str
    seq: int
    at: datetime
    action: str
    from_state: str | None
    to_state: str
    actor_id: str
    actor_name: str
    actor_role: str
    actor_department: str | None
    reason: str | None
    note: str | None
    resolution: str | None
    prev_hash: str
    hash: str


def iso_utc(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def canonical_json(fields: Mapping[str, Any], prev_hash: str) -> bytes:
    """The exact bytes that are hashed: the entry's fields and ``prev_hash``, keys sorted, times ISO 8601 UTC."""
    body: dict[str, Any] = {name: fields[name] for name in HASHED_FIELDS}
    body["at"] = iso_utc(body["at"])
    body["prev_hash"] = prev_hash
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical_json(fields, prev_hash)).hexdigest()


def fields_of(entry: AuditLink) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


@dataclass(frozen=True)
class AuditEntry:
    """One sealed entry of a ticket's trail (the value the ORM row is built from)."""

    ticket_id: str
    seq: int
    at: datetime
    action: str
    from_state: str | None
    to_state: str
    actor_id: str
    actor_name: str
    actor_role: str
    actor_department: str | None
    reason: str | None
    note: str | None
    resolution: str | None
    prev_hash: str
    hash: str

    @classmethod
    def seal(cls, *, prev_hash: str, **fields: Any) -> AuditEntry:
        """A new entry chained to ``prev_hash``: its hash computed over ``fields`` and ``prev_hash``."""
        return cls(**fields, prev_hash=prev_hash, hash=compute_hash(fields, prev_hash))


def append(chain: list[AuditEntry], **fields: Any) -> AuditEntry:
    """Seal the next entry of ``chain`` (``seq`` and ``prev_hash`` follow from its last entry) and append it."""
    head = chain[-1] if chain else None
    entry = AuditEntry.seal(prev_hash=head.hash if head else GENESIS_HASH, seq=head.seq + 1 if head else 1, **fields)
    chain.append(entry)
    return entry


@dataclass(frozen=True)
class ChainVerification:
    intact: bool
    entries: int
    first_broken_seq: int | None
    head_hash: str
    detail: str | None = None


def verify_chain(entries: Iterable[AuditLink], *, expected_length: int | None = None,
                 expected_head: str | None = None) -> ChainVerification:
    """Recompute a ticket's chain, in the order given (which must be ``seq`` order).

    Entry *n* (1-based) must have ``seq == n``, ``prev_hash`` equal to entry *n-1*'s ``hash`` (genesis for the
    first) and a ``hash`` that matches its content. ``expected_length`` / ``expected_head`` are what the ticket
    itself records as its latest entry, so a trail cut short at the end is caught too. ``first_broken_seq`` is
    the first ``seq`` that fails (for a missing entry: the ``seq`` that should have been there); ``entries``
    counts every entry given and ``head_hash`` is the last one's stored hash.
    """
    chain = list(entries)
    head = chain[-1].hash if chain else GENESIS_HASH

    def broken(seq: int, detail: str) -> ChainVerification:
        return ChainVerification(intact=False, entries=len(chain), first_broken_seq=seq, head_hash=head,
                                 detail=detail)

    prev = GENESIS_HASH
    for position, entry in enumerate(chain, start=1):
        if entry.seq != position:
            return broken(position, f"expected entry {position}, found entry {entry.seq}")
        if entry.prev_hash != prev:
            return broken(position, f"entry {position} does not link to entry {position - 1}")
        if compute_hash(fields_of(entry), entry.prev_hash) != entry.hash:
            return broken(position, f"entry {position} does not match its hash")
        prev = entry.hash
    if expected_length is not None and len(chain) < expected_length:
        return broken(len(chain) + 1, f"entries {len(chain) + 1} to {expected_length} are missing")
    if expected_length is not None and len(chain) > expected_length:
        return broken(expected_length + 1, f"entries after {expected_length} were never recorded on the ticket")
    if expected_head is not None and chain and head != expected_head:
        return broken(len(chain), f"entry {len(chain)} is not the one the ticket recorded")
    return ChainVerification(intact=True, entries=len(chain), first_broken_seq=None, head_hash=head)
