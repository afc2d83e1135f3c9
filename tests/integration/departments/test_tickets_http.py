"""Department staff working tickets over HTTP: the lifecycle, its audit trail and events, and who may see what."""

from __future__ import annotations

import asyncio

from .conftest import Departments

PROBLEM = "https://linkage.example/problems/"


async def act(service: Departments, ticket_id: str, action: str, body: dict | None = None, *,
              role: str = "department_staff", department: str | None = "water") -> dict:
    headers = await service.auth(role, department)
    response = await service.client.post(f"/v1/tickets/{ticket_id}/{action}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_full_lifecycle_is_audited_and_announced(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    tid = ticket["id"]

    assert (await act(service, tid, "acknowledge"))["status"] == "acknowledged"
    assert (await act(service, tid, "start"))["status"] == "in_progress"
    noted = await act(service, tid, "notes", {"note": "  Crew on site, valve closed.  "})
    assert noted["status"] == "in_progress"
    resolved = await act(service, tid, "resolve", {"resolution": "Burst pipe replaced."})
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "Burst pipe replaced.")
    assert (await act(service, tid, "close"))["status"] == "closed"
    reopened = await act(service, tid, "reopen", {"reason": "Caller reports the leak is back."})
    assert (reopened["status"], reopened["resolution"], reopened["audit_entries"]) == ("reopened", None, 7)
    assert reopened["allowed_actions"] == ["start", "note", "resolve", "transfer", "cancel"]

    staff_id = await service.principal_id("department_staff", "water")
    audit = (await service.client.get(f"/v1/tickets/{tid}/audit",
                                      headers=await service.auth("department_staff", "water"))).json()
    assert [(e["seq"], e["action"], e["from_state"], e["to_state"]) for e in audit] == [
        (1, "created", None, "new"), (2, "acknowledge", "new", "acknowledged"),
        (3, "start", "acknowledged", "in_progress"), (4, "note", "in_progress", "in_progress"),
        (5, "resolve", "in_progress", "resolved"), (6, "close", "resolved", "closed"),
        (7, "reopen", "closed", "reopened")]
    assert audit[3]["note"] == "Crew on site, valve closed."
    assert audit[4]["resolution"] == "Burst pipe replaced."
    assert audit[6]["reason"] == "Caller reports the leak is back."
    assert all(e["actor"] == {"id": staff_id, "name": "department_staff water", "role": "department_staff",
                              "department": "water"} for e in audit[1:])
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(audit, audit[1:]))

    verify = (await service.client.get(f"/v1/tickets/{tid}/audit/verify",
                                       headers=await service.auth("department_staff", "water"))).json()
    assert verify == {"intact": True, "entries": 7, "first_broken_seq": None, "head_hash": audit[-1]["hash"],
                      "detail": None}

    events = await service.outbox(ticket["report_id"])  # every state change, not the note, in commit order
    assert [(e["data"]["sequence"], e["data"]["action"], e["data"]["to_state"]) for e in events] == [
        (1, "created", "new"), (2, "acknowledge", "acknowledged"), (3, "start", "in_progress"),
        (5, "resolve", "resolved"), (6, "close", "closed"), (7, "reopen", "reopened")]
    assert events[3]["data"]["resolution"] == "Burst pipe replaced."
    assert events[5]["data"]["reason"] == "Caller reports the leak is back."
    assert events[1]["data"]["actor"]["id"] == staff_id


async def test_an_illegal_move_is_a_409_problem_and_records_nothing(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    await act(service, ticket["id"], "acknowledge")

    response = await service.client.post(f"/v1/tickets/{ticket['id']}/resolve", json={"resolution": "done"},
                                         headers=await service.auth("department_staff", "water"))

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == PROBLEM + "illegal-transition"
    assert (problem["state"], problem["action"]) == ("acknowledged", "resolve")
    assert problem["allowed_actions"] == ["start", "note", "transfer", "cancel"]
    assert "acknowledged" in problem["detail"] and "resolve" in problem["detail"]
    again = await service.ticket_of(ticket["report_id"], "water")
    assert (again["status"], again["audit_entries"]) == ("acknowledged", 2)
    assert len(await service.outbox(ticket["report_id"])) == 2


async def test_another_departments_ticket_is_not_found_for_its_staff(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    housing = await service.auth("department_staff", "housing")
    supervisor = await service.auth("department_supervisor", "housing")

    for method, path, body in [("GET", "", None), ("GET", "/audit", None), ("GET", "/audit/verify", None),
                               ("POST", "/acknowledge", None), ("POST", "/notes", {"note": "hello"}),
                               ("POST", "/cancel", {"reason": "not ours"})]:
        headers = supervisor if path == "/cancel" else housing
        response = await service.client.request(method, f"/v1/tickets/{ticket['id']}{path}", json=body,
                                                headers=headers)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["detail"] == f"No ticket {ticket['id']}."

    missing = await service.client.get("/v1/tickets/00000000-0000-0000-0000-000000000000", headers=housing)
    assert missing.status_code == 404 and missing.json()["type"] == PROBLEM + "not-found"
    assert (await service.ticket_of(ticket["report_id"], "water"))["status"] == "new"


async def test_listing_is_limited_to_the_callers_department(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    housing = await service.auth("department_staff", "housing")

    own = await service.client.get("/v1/tickets", params={"report_id": ticket["report_id"]}, headers=housing)
    assert own.status_code == 200 and own.json()["items"] == []  # defaults to housing's own tickets

    other = await service.client.get("/v1/tickets", params={"department": "water"}, headers=housing)
    assert other.status_code == 403 and other.json()["type"] == PROBLEM + "forbidden"

    centre = await service.client.get("/v1/tickets", params={"report_id": ticket["report_id"]},
                                      headers=await service.auth("centre_operator"))
    assert [t["id"] for t in centre.json()["items"]] == [ticket["id"]]


async def test_listing_pages_newest_first_with_a_cursor(service: Departments) -> None:
    ids = [(await service.dispatched_ticket("gardens"))["id"] for _ in range(3)]
    headers = await service.auth("department_supervisor", "gardens")

    first = (await service.client.get("/v1/tickets", params={"limit": 2, "status": "new"}, headers=headers)).json()
    second = (await service.client.get("/v1/tickets", params={"limit": 2, "cursor": first["next_cursor"],
                                                              "status": "new"}, headers=headers)).json()

    assert [t["id"] for t in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    bad = await service.client.get("/v1/tickets", params={"cursor": "nonsense"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


async def test_the_actor_is_the_key_never_the_body(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    headers = await service.auth("department_staff", "water")
    impostor = {"id": "someone-else", "name": "The Mayor", "role": "admin"}

    for action, body in [("notes", {"note": "hi", "actor": impostor}), ("acknowledge", {"actor": impostor}),
                         ("close", {"reason": "x", "actor": impostor})]:
        response = await service.client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body, headers=headers)
        assert response.status_code == 422, (action, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["actor"]

    await act(service, ticket["id"], "notes", {"note": "called the caller back"})
    audit = (await service.client.get(f"/v1/tickets/{ticket['id']}/audit", headers=headers)).json()
    assert audit[-1]["actor"]["id"] == await service.principal_id("department_staff", "water")
    assert audit[-1]["actor"]["name"] == "department_staff water"
    assert len(audit) == 2  # the refused requests recorded nothing


async def test_bodies_are_validated_field_by_field(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    headers = await service.auth("department_staff", "water")
    await act(service, ticket["id"], "acknowledge")
    await act(service, ticket["id"], "start")

    for action, body, field in [("resolve", {"resolution": "   "}, "resolution"),
                                ("resolve", {"resolution": "x" * 2001}, "resolution"), ("resolve", {}, "resolution"),
                                ("transfer", {}, "reason"), ("notes", {"note": ""}, "note")]:
        response = await service.client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body, headers=headers)
        assert response.status_code == 422, (action, body)
        assert response.json()["errors"][0]["field"] == field
        assert field in response.json()["detail"]
    assert (await service.ticket_of(ticket["report_id"], "water"))["audit_entries"] == 3


async def test_transfer_hands_the_ticket_back_for_good(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    await act(service, ticket["id"], "acknowledge")

    transferred = await act(service, ticket["id"], "transfer",
                            {"reason": "Private pipe inside the flat: property management's matter."})

    assert (transferred["status"], transferred["allowed_actions"]) == ("transferred", [])
    event = (await service.outbox(ticket["report_id"]))[-1]["data"]
    assert (event["action"], event["from_state"], event["to_state"], event["reason"]) == (
        "transfer", "acknowledged", "transferred", "Private pipe inside the flat: property management's matter.")
    for action, body in [("start", None), ("notes", {"note": "still here?"}), ("reopen", {"reason": "x"})]:
        response = await service.client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body,
                                             headers=await service.auth("department_staff", "water"))
        assert response.status_code == 409, action


async def test_roles_decide_who_reopens_and_cancels(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    tid = ticket["id"]
    operator = await service.auth("centre_operator")

    staff_cancel = await service.client.post(f"/v1/tickets/{tid}/cancel", json={"reason": "dup"},
                                             headers=await service.auth("department_staff", "water"))
    assert staff_cancel.status_code == 403
    operator_ack = await service.client.post(f"/v1/tickets/{tid}/acknowledge", headers=operator)
    assert operator_ack.status_code == 403
    call_centre = await service.client.get(f"/v1/tickets/{tid}", headers=await service.auth("call_centre"))
    assert call_centre.status_code == 403
    anonymous = await service.client.get(f"/v1/tickets/{tid}")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"

    assert (await service.client.get(f"/v1/tickets/{tid}", headers=operator)).status_code == 200
    for action, body in [("acknowledge", None), ("start", None), ("resolve", {"resolution": "fixed"}),
                         ("close", {"reason": "confirmed"})]:
        await act(service, tid, action, body)
    reopened = await act(service, tid, "reopen", {"reason": "Citizen called the centre again."},
                         role="centre_operator", department=None)
    assert reopened["status"] == "reopened"
    cancelled = await act(service, tid, "cancel", {"reason": "Duplicate of an earlier report."},
                          role="department_supervisor", department="water")
    assert cancelled["status"] == "cancelled"

    audit = (await service.client.get(f"/v1/tickets/{tid}/audit", headers=operator)).json()
    assert [(e["action"], e["actor"]["role"]) for e in audit[-2:]] == [("reopen", "centre_operator"),
                                                                     ("cancel", "department_supervisor")]


async def test_with_the_broker_down_staff_still_work_and_events_wait_in_the_outbox(service: Departments) -> None:
    runtime = service.runtime
    assert runtime.relay is not None and not runtime.relay.connected

    ticket = await service.dispatched_ticket("water")
    await act(service, ticket["id"], "acknowledge")
    await act(service, ticket["id"], "start")
    await asyncio.sleep(3 * runtime.settings.outbox_poll_interval_s)  # the relay has had its chances

    ready = await service.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["broker"] is False
    assert ready.json()["checks"]["database"] is True
    assert [e["data"]["action"] for e in await service.outbox(ticket["report_id"])] == ["created", "acknowledge",
                                                                                        "start"]
    assert runtime.relay.published == 0
    assert (await service.client.get("/healthz")).status_code == 200


async def test_the_openapi_document_describes_every_endpoint(service: Departments) -> None:
    spec = (await service.client.get("/openapi.json")).json()
    operations = [(path, method, op) for path, item in spec["paths"].items() if path.startswith("/v1/tickets")
                  for method, op in item.items()]
    assert len(operations) == 19
    for path, method, op in operations:
        assert op.get("summary") and op.get("description"), (method, path)
        assert {"401", "403"} <= set(op["responses"]), (method, path)
        assert set(op["responses"]["403"]["content"]) == {"application/problem+json"}, (method, path)
        if method == "post":
            assert {"404", "409", "422"} <= set(op["responses"]), (method, path)
    # a 422 is problem details, never FastAPI's default validation-error shape (which this service does not serve)
    assert "HTTPValidationError" not in str(spec)
    staff = await service.auth("department_staff", "water")
    bad_id = await service.client.get("/v1/tickets/" + "x" * 65, headers=staff)  # ids are at most 64 characters
    assert bad_id.status_code == 422 and bad_id.headers["content-type"] == "application/problem+json"
    documented = spec["paths"]["/v1/tickets/{ticket_id}"]["get"]["responses"]["422"]["content"]
    assert documented == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    for name in ("TicketOut", "AuditEntryOut", "AuditVerification", "NoteIn", "ResolveIn", "ReasonIn", "AssignIn",
                 "FollowUpIn", "AssistIn", "ReleaseIn", "Clocks", "Escalation", "JointTicketOut", "FollowUpOut",
                 "EscalationOut"):
        assert spec["components"]["schemas"][name].get("examples"), name


async def test_simultaneous_actions_on_one_ticket_take_turns(service: Departments) -> None:
    ticket = await service.dispatched_ticket("water")
    headers = await service.auth("department_staff", "water")

    responses = await asyncio.gather(*[
        service.client.post(f"/v1/tickets/{ticket['id']}/acknowledge", headers=headers) for _ in range(4)])

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    verify = (await service.client.get(f"/v1/tickets/{ticket['id']}/audit/verify", headers=headers)).json()
    assert (verify["intact"], verify["entries"]) == (True, 2)
