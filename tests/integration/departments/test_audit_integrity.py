"""The audit trail in the database: append-only by trigger, and tamper-evident when someone gets past that."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .conftest import Departments


async def behind_the_triggers(service: Departments, statement: str, ticket_id: str) -> None:
    """What a DBA with enough rights could do: switch the protection off, run ``statement``, switch it back on."""
    if service.dialect == "postgresql":
        script = ["ALTER TABLE ticket_audit DISABLE TRIGGER ticket_audit_append_only", statement,
                  "ALTER TABLE ticket_audit ENABLE TRIGGER ticket_audit_append_only"]
    else:
        event = statement.split()[0].lower()
        script = [f"DROP TRIGGER ticket_audit_no_{event}", statement,
                  f"CREATE TRIGGER ticket_audit_no_{event} BEFORE {event.upper()} ON ticket_audit "
                  "BEGIN SELECT RAISE(ABORT, 'ticket_audit is append-only'); END"]
    async with service.runtime.engine.begin() as conn:
        for sql in script:
            await conn.execute(text(sql), {"t": ticket_id} if ":t" in sql else {})


async def worked_ticket(service: Departments) -> dict:
    ticket = await service.dispatched_ticket("water")
    headers = await service.auth("department_staff", "water")
    for action, body in [("acknowledge", None), ("start", None), ("notes", {"note": "Crew on site."}),
                         ("resolve", {"resolution": "Pipe replaced."})]:
        response = await service.client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body, headers=headers)
        assert response.status_code == 200, response.text
    return ticket


async def verify(service: Departments, ticket_id: str) -> dict:
    response = await service.client.get(f"/v1/tickets/{ticket_id}/audit/verify",
                                        headers=await service.auth("centre_operator"))
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("statement", [
    "UPDATE ticket_audit SET note = 'Nobody came.' WHERE ticket_id = :t AND seq = 4",
    "DELETE FROM ticket_audit WHERE ticket_id = :t AND seq = 4",
], ids=["update", "delete"])
async def test_the_database_refuses_to_change_or_remove_audit_entries(service: Departments, statement: str) -> None:
    ticket = await worked_ticket(service)

    with pytest.raises(DBAPIError, match="ticket_audit is append-only"):
        await service.sql(statement, t=ticket["id"])

    assert (await verify(service, ticket["id"]))["intact"] is True
    [(note,)] = await service.sql("SELECT note FROM ticket_audit WHERE ticket_id = :t AND seq = 4", t=ticket["id"])
    assert note == "Crew on site."


async def test_an_entry_altered_behind_the_triggers_back_fails_verification(service: Departments) -> None:
    ticket = await worked_ticket(service)
    before = await verify(service, ticket["id"])
    assert before["intact"] is True and before["entries"] == 5

    await behind_the_triggers(
        service, "UPDATE ticket_audit SET note = 'Nobody came.' WHERE ticket_id = :t AND seq = 4", ticket["id"])

    after = await verify(service, ticket["id"])
    assert (after["intact"], after["entries"], after["first_broken_seq"]) == (False, 5, 4)
    assert after["head_hash"] == before["head_hash"]  # the tail still looks fine; the chain says otherwise
    audit = (await service.client.get(f"/v1/tickets/{ticket['id']}/audit",
                                      headers=await service.auth("centre_operator"))).json()
    assert audit[3]["note"] == "Nobody came."
    with pytest.raises(DBAPIError, match="append-only"):  # and the protection is back
        await service.sql("UPDATE ticket_audit SET note = 'again' WHERE ticket_id = :t AND seq = 4", t=ticket["id"])


async def test_a_trail_cut_short_fails_verification(service: Departments) -> None:
    ticket = await worked_ticket(service)
    await behind_the_triggers(service, "DELETE FROM ticket_audit WHERE ticket_id = :t AND seq = 5", ticket["id"])

    result = await verify(service, ticket["id"])
    assert (result["intact"], result["entries"], result["first_broken_seq"]) == (False, 4, 5)
