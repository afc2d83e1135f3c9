"""Control characters in a report's other free-text fields, over HTTP on SQLite and PostgreSQL: the caller's name,
the address, the grid cell, the call centre's reference and a call-back's comment lose them before anything is
stored (PostgreSQL refuses NUL in text: these were 500s), one-line fields have their line breaks turned into
spaces, and nothing but control characters in an optional field leaves it empty, not refused."""

from __future__ import annotations

from sqlalchemy import select

from intake.reports.models import Feedback, Report
from tests.integration.intake.test_feedback_and_stats_http import Intake, closed_report, intake  # noqa: F401
from tests.support import bearer

REPORT = {"text": "我们小区3号楼门口的自来水管爆了", "channel": "phone_12345",
          "caller": {"name": "Ms\u0000 Li\u0007", "phone": "13800138000"},
          "location": {"address": "\u001b[1m18 Xingfu\u0000 Road,\r\nBuilding 3\u001b[0m", "grid_id": "G-\u00000412\t"},
          "external_ref": "CC-2026\u0000-000123\u0085"}


async def file(intake: Intake, body: dict[str, object]) -> dict[str, object]:
    r = await intake.client.post("/v1/reports", json=body, headers=bearer(intake.keys["call_centre"]))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def stored(intake: Intake, report_id: str) -> Report:
    async with intake.app.state.runtime.sessions() as s:
        report = await s.scalar(select(Report).where(Report.id == report_id))
    assert report is not None
    return report


async def test_control_characters_in_name_address_grid_and_reference_are_removed_before_storage(
        intake: Intake) -> None:
    body = await file(intake, REPORT)
    assert body["caller"] == {"name": "Ms Li", "phone": "13800138000"}
    assert body["location"]["address"] == "18 Xingfu Road, Building 3"  # type: ignore[index]
    assert body["location"]["grid_id"] == "G-0412"  # type: ignore[index]
    assert body["external_ref"] == "CC-2026-000123"
    report = await stored(intake, str(body["id"]))
    assert (report.caller_name, report.address, report.grid_id, report.external_ref) == (
        "Ms Li", "18 Xingfu Road, Building 3", "G-0412", "CC-2026-000123")


async def test_an_optional_field_of_nothing_but_control_characters_is_left_empty_not_refused(
        intake: Intake) -> None:
    body = await file(intake, {**REPORT, "caller": {"name": "\u0000\u0000"}, "external_ref": "\u0000 \u001b[0m"})
    report = await stored(intake, str(body["id"]))
    assert (report.caller_name, report.external_ref) == ("", "")


async def test_length_limits_count_what_is_left_after_cleaning(intake: Intake) -> None:
    body = await file(intake, {**REPORT, "caller": {"name": "x" * 100 + "\u0000" * 5}})
    assert body["caller"]["name"] == "x" * 100  # type: ignore[index]
    r = await intake.client.post("/v1/reports", json={**REPORT, "location": {"address": "y" * 501}},
                                 headers=bearer(intake.keys["call_centre"]))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["location.address"]


async def test_a_report_of_nothing_visible_is_refused_naming_the_field(intake: Intake) -> None:
    r = await intake.client.post("/v1/reports", json={**REPORT, "text": "\u0000\u0007 \u001b[0m"},
                                 headers=bearer(intake.keys["call_centre"]))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    [error] = r.json()["errors"]
    assert error["field"] == "text" and "no visible characters" in error["message"]


async def test_control_characters_in_a_call_back_comment_are_removed_and_its_lines_kept(intake: Intake) -> None:
    report_id = await closed_report(intake)
    r = await intake.feedback(report_id, {"satisfaction": "dissatisfied",
                                          "comment": "水管\u0000还在漏\r\n\u001b[31m没人来修\u001b[0m"})
    assert r.status_code == 201, r.text
    assert r.json()["comment"] == "水管还在漏\r\n没人来修"
    async with intake.app.state.runtime.sessions() as s:
        comments = (await s.scalars(select(Feedback.comment).where(Feedback.report_id == report_id))).all()
    assert comments == ["水管还在漏\r\n没人来修"]
