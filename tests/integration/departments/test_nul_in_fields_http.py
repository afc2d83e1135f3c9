"""Control characters in what department staff type, over HTTP on SQLite and PostgreSQL: notes, resolutions, the
reasons of every action, an assignment's unit and assignee and a follow-up call's outcome and note lose them before
anything is stored (PostgreSQL refuses NUL in text: these were 500s). Several-line fields keep their lines; one-line
fields (unit, assignee, a call's outcome) have them turned into spaces. A required field of nothing visible is
refused naming it; a department or outcome code with a control character is refused, not cleaned."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Departments, dispatch_event


async def post(service: Departments, ticket_id: str, action: str, body: dict[str, Any], *,
               role: str = "department_staff", department: str = "water") -> Any:
    return await service.client.post(f"/v1/tickets/{ticket_id}/{action}", json=body,
                                     headers=await service.auth(role, department))


async def done(service: Departments, ticket_id: str, action: str, body: dict[str, Any] | None = None,
               **kw: Any) -> dict[str, Any]:
    response = await post(service, ticket_id, action, body or {}, **kw)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def audit(service: Departments, ticket_id: str, department: str = "water") -> list[dict[str, Any]]:
    response = await service.client.get(f"/v1/tickets/{ticket_id}/audit",
                                        headers=await service.auth("department_supervisor", department))
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_notes_resolutions_and_reasons_are_stored_without_control_characters(service: Departments) -> None:
    tid = (await service.dispatched_ticket("water"))["id"]
    await done(service, tid, "acknowledge")
    await done(service, tid, "start")
    await done(service, tid, "notes", {"note": "Crew\u0000 on site.\r\n\u001b[1mValve\u0007 closed.\u001b[0m"})
    resolved = await done(service, tid, "resolve", {"resolution": "Pipe\u0000 replaced."})
    assert resolved["resolution"] == "Pipe replaced."
    await done(service, tid, "close", {"reason": "Caller\u0000 confirmed."})
    await done(service, tid, "reopen", {"reason": "Leak\u0000 is back."})
    entries = await audit(service, tid)
    assert [(e["action"], e["note"] or e["resolution"] or e["reason"]) for e in entries[3:]] == [
        ("note", "Crew on site.\r\nValve closed."), ("resolve", "Pipe replaced."), ("close", "Caller confirmed."),
        ("reopen", "Leak is back.")]
    assert [e for e in await service.outbox(resolved["report_id"])][-1]["data"]["reason"] == "Leak is back."


@pytest.mark.parametrize("action", ["transfer", "cancel"])
async def test_a_transfer_or_cancel_reason_is_stored_without_control_characters(
        service: Departments, action: str) -> None:
    tid = (await service.dispatched_ticket("water"))["id"]
    await done(service, tid, action, {"reason": "\u0000Private\u0000 pipe.\u0000"}, role="department_supervisor")
    assert (await audit(service, tid))[-1]["reason"] == "Private pipe."


async def test_an_assignment_is_stored_on_one_line_without_control_characters(service: Departments) -> None:
    tid = (await service.dispatched_ticket("water"))["id"]
    assigned = await done(service, tid, "assign", {"unit": "North\u0000 crew\r\n", "assignee": "Li\tWei\u0007",
                                                   "reason": "Nearest\u0000 crew."}, role="department_supervisor")
    assert assigned["assignment"] == {"unit": "North crew", "assignee": "Li Wei"}
    entry = (await audit(service, tid))[-1]
    assert (entry["reason"], entry["note"]) == ("Nearest crew.", "unit: North crew; assignee: Li Wei")


async def test_a_follow_up_call_is_stored_without_control_characters(service: Departments) -> None:
    tid = (await service.dispatched_ticket("water"))["id"]
    ticket = await done(service, tid, "follow-ups", {"reached": True, "outcome": "water\u0000 back\non",
                                                     "note": "Check\u0000 pressure\r\ntomorrow."})
    [call] = ticket["follow_ups"]
    assert (call["outcome"], call["note"]) == ("water back on", "Check pressure\r\ntomorrow.")


async def test_assistance_and_release_reasons_are_stored_without_control_characters(service: Departments) -> None:
    lead = await service.dispatched_ticket("water", departments=["water", "transport"])
    report_id = lead["report_id"]
    await service.deliver(dispatch_event(department="transport", report_id=report_id, role="assisting",
                                         lead="water", departments=["water", "transport"]))
    transport = await service.ticket_of(report_id, "transport")
    asked = await done(service, transport["id"], "release", {"reason": "Road\u0000 not damaged."},
                       department="transport")
    assert asked["release_requested"] == "Road not damaged."
    await done(service, lead["id"], "assistants", {"department": "sanitation", "reason": "Mud\u0000 on the road."})
    [request] = [e for e in await service.outbox(report_id) if e["type"] == "ticket.assistance_requested.v1"]
    assert request["data"]["reason"] == "Mud on the road."
    assert (await audit(service, lead["id"]))[-1]["reason"] == "Mud on the road."


@pytest.mark.parametrize(("action", "body", "field"), [
    ("notes", {"note": "\u0000"}, "note"),
    ("notes", {"note": "\u0000\u0007 \r\n\t\u001b[0m"}, "note"),
    ("transfer", {"reason": "\u200b\u0000"}, "reason"),
    ("follow-ups", {"reached": False, "outcome": "\u0000\r\n"}, "outcome"),
    ("follow-ups", {"reached": False, "outcome": "no answer", "note": "\u0000"}, "note"),
    ("assign", {"unit": "\u0000", "reason": "nearest crew"}, "unit"),
    ("close", {"reason": "\u0007"}, "reason"),
])
async def test_a_field_of_nothing_visible_is_refused_naming_it_and_nothing_is_recorded(
        service: Departments, action: str, body: dict[str, Any], field: str) -> None:
    tid = (await service.dispatched_ticket("water"))["id"]
    response = await post(service, tid, action, body, role="department_supervisor")
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == field and "no visible characters" in error["message"], error
    assert len(await audit(service, tid)) == 1


@pytest.mark.parametrize(("action", "body", "field"), [
    ("assistants", {"department": "transport\u0000", "reason": "road undermined"}, "department"),
    ("resolve", {"resolution": "done", "outcome": "resolved\u0000"}, "outcome"),
])
async def test_a_code_with_a_control_character_is_refused_not_cleaned(
        service: Departments, action: str, body: dict[str, Any], field: str) -> None:
    tid = (await service.dispatched_ticket("water"))["id"]
    response = await post(service, tid, action, body)
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == [field]
