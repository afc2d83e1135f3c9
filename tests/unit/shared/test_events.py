from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.events import (
    ContractError, Location, TicketDispatched, TicketDispatchedV1, from_kafka, to_kafka,
)
from shared.events.schema import SCHEMA_DIR, render, schemas


def dispatched() -> TicketDispatched:
    now = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
    return TicketDispatched(source="/linkage/router", subject="r-1", time=now, data=TicketDispatchedV1(
        report_id="r-1", department="water", role="lead", lead_department="water", departments=["water"],
        priority="P2", police=False, text="burst pipe", channel="phone_12345", location=Location(address="x"),
        received_at=now, dispatched_at=now))


def test_binary_mode_round_trip_keeps_every_attribute() -> None:
    event = dispatched()
    key, value, headers = to_kafka(event)
    assert key == b"r-1"
    names = dict(headers)
    assert names["ce_type"] == b"ticket.dispatched.v1" and names["ce_specversion"] == b"1.0"
    assert names["ce_subject"] == b"r-1" and names["ce_time"] == b"2026-11-22T08:00:00Z"
    assert from_kafka(value, headers) == event


@pytest.mark.parametrize("mutate, message", [
    (lambda h: [x for x in h if x[0] != "ce_type"], "no ce_type"),
    (lambda h: [(k, b"ticket.exploded.v9" if k == "ce_type" else v) for k, v in h], "unknown event type"),
    (lambda h: [x for x in h if x[0] != "ce_subject"], "invalid"),
])
def test_malformed_messages_are_contract_errors(mutate, message) -> None:  # type: ignore[no-untyped-def]
    _, value, headers = to_kafka(dispatched())
    with pytest.raises(ContractError, match=message):
        from_kafka(value, mutate(headers))


def test_invalid_data_is_a_contract_error() -> None:
    _, _, headers = to_kafka(dispatched())
    with pytest.raises(ContractError):
        from_kafka(b'{"report_id": "r-1"}', headers)
    with pytest.raises(ContractError):
        from_kafka(b"not json", headers)


def test_committed_json_schemas_match_the_models() -> None:
    for type_name, schema in schemas().items():
        path = SCHEMA_DIR / f"{type_name}.json"
        assert path.exists(), f"missing {path}; run `make schemas`"
        assert path.read_text() == render(schema), f"{path} is stale; run `make schemas`"


def test_the_ticket_status_contract_documents_the_reroute_action() -> None:
    """Departments announce a ``reroute`` (same state, new role, lead or priority) on ``ticket.status_changed.v1``."""
    data = schemas()["ticket.status_changed.v1"]["$defs"]["TicketStatusChangedV1"]
    assert "reroute" in data["properties"]["action"]["examples"]
    assert "``reroute``" in data["description"] and "system:router" in data["description"]
    assert "keeps the state" in data["description"]


def test_suite_topics_name_every_topic_a_service_consumes() -> None:
    from departments.consumers import topics as departments_topics
    from intake.consumers import topics as intake_topics
    from router.consumers import topics as router_topics
    from shared.events import department_topic, suite_topics
    from shared.registry import load_registry
    from shared.settings import CommonSettings

    registry = load_registry(CommonSettings().registry_file)
    listed = suite_topics(registry.codes())
    assert len(listed) == len(set(listed))
    consumed = {*intake_topics(registry), *router_topics(registry), *departments_topics(registry),
                *departments_topics(registry, ["water"])}
    assert consumed <= set(listed)
    assert {department_topic(code) for code in registry.codes()} <= set(listed)
