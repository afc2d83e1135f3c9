"""The audit trail's hash chain: any altered, removed or reordered entry is found, with no I/O."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from departments.tickets.audit import GENESIS_HASH, AuditEntry, append, compute_hash, verify_chain

T0 = datetime(2026, 11, 22, 8, 6, 13, 123456, tzinfo=timezone.utc)
ACTOR = dict(actor_id="key-water-1", actor_name="Wang Fang", actor_role="department_staff", actor_department="water")


def build_chain() -> list[AuditEntry]:
    chain: list[AuditEntry] = []
    steps = [("created", None, "new", {}), ("acknowledge", "new", "acknowledged", {}),
             ("start", "acknowledged", "in_progress", {}), ("note", "in_progress", "in_progress", {"note": "crew on site"}),
             ("resolve", "in_progress", "resolved", {"resolution": "pipe replaced"}),
             ("close", "resolved", "closed", {"reason": "caller confirmed"})]
    for minute, (action, from_state, to_state, texts) in enumerate(steps):
        append(chain, ticket_id="t-1", at=T0 + timedelta(minutes=minute), action=action, from_state=from_state,
               to_state=to_state, **ACTOR, **{"reason": None, "note": None, "resolution": None, **texts})
    return chain


def test_a_chain_built_entry_by_entry_is_intact() -> None:
    chain = build_chain()
    result = verify_chain(chain, expected_length=6, expected_head=chain[-1].hash)
    assert (result.intact, result.entries, result.first_broken_seq, result.head_hash) == (True, 6, None,
                                                                                         chain[-1].hash)
    assert chain[0].prev_hash == GENESIS_HASH == "0" * 64
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5, 6]
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(chain, chain[1:]))


def test_the_hash_is_sha256_of_the_sorted_canonical_json_with_prev_hash() -> None:
    entry = build_chain()[3]
    body = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry) if f.name != "hash"}
    body["at"] = "2026-11-22T08:09:13.123456+00:00"
    expected = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                              .encode()).hexdigest()
    assert entry.hash == expected


def test_the_same_instant_in_another_time_zone_hashes_the_same() -> None:
    entry = build_chain()[1]
    fields = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry) if f.name not in ("hash", "prev_hash")}
    fields["at"] = entry.at.astimezone(timezone(timedelta(hours=8)))
    assert compute_hash(fields, entry.prev_hash) == entry.hash


@pytest.mark.parametrize(("field", "value"), [
    ("note", "crew NOT on site"), ("actor_name", "Somebody Else"), ("at", T0 + timedelta(hours=1)),
    ("to_state", "resolved"), ("actor_department", None),
])
def test_altering_any_field_of_one_entry_breaks_the_chain_at_that_entry(field: str, value: object) -> None:
    chain = build_chain()
    chain[3] = dataclasses.replace(chain[3], **{field: value})
    result = verify_chain(chain)
    assert (result.intact, result.first_broken_seq, result.entries) == (False, 4, 6)


def test_an_altered_entry_with_a_recomputed_hash_breaks_the_link_after_it() -> None:
    chain = build_chain()
    forged = dataclasses.replace(chain[3], note="crew NOT on site")
    fields = {f.name: getattr(forged, f.name) for f in dataclasses.fields(forged) if f.name not in ("hash", "prev_hash")}
    chain[3] = dataclasses.replace(forged, hash=compute_hash(fields, forged.prev_hash))
    assert verify_chain(chain).first_broken_seq == 5


def test_a_deleted_entry_breaks_the_chain_where_it_was() -> None:
    chain = build_chain()
    del chain[2]
    result = verify_chain(chain)
    assert (result.intact, result.first_broken_seq, result.entries) == (False, 3, 5)


def test_reordered_entries_break_the_chain() -> None:
    chain = build_chain()
    chain[1], chain[2] = chain[2], chain[1]
    assert verify_chain(chain).first_broken_seq == 2


def test_renumbered_entries_do_not_hide_a_deletion() -> None:
    chain = build_chain()
    del chain[2]
    chain = [dataclasses.replace(e, seq=i) for i, e in enumerate(chain, start=1)]
    assert verify_chain(chain).first_broken_seq == 3  # the entry now numbered 3 still links to the deleted one


def test_a_trail_cut_short_at_the_end_is_caught_by_the_tickets_own_count() -> None:
    chain = build_chain()
    assert verify_chain(chain[:-1]).intact  # the chain alone cannot know its last entry is gone …
    result = verify_chain(chain[:-1], expected_length=6, expected_head=chain[-1].hash)
    assert (result.intact, result.first_broken_seq) == (False, 6)  # … the ticket's head can


def test_a_head_the_ticket_did_not_record_is_caught() -> None:
    chain = build_chain()
    result = verify_chain(chain, expected_length=6, expected_head="f" * 64)
    assert (result.intact, result.first_broken_seq) == (False, 6)


def test_an_empty_trail_is_intact_with_the_genesis_head() -> None:
    result = verify_chain([])
    assert (result.intact, result.entries, result.head_hash) == (True, 0, GENESIS_HASH)
