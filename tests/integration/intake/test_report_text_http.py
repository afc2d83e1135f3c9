"""What intake accepts as a report's text, over HTTP: text with no visible character is refused naming `text`,
control characters are removed before storage, every script and emoji is content."""

from __future__ import annotations

import pytest

from intake.db import OutboxMessage
from tests.integration.intake.test_reports_http import VALID, Intake, intake  # noqa: F401  (the fixture)
from tests.support import bearer


@pytest.mark.parametrize("text", ["\u0000", "\u0000\u0007\u001b", "\u200b\u200b\u200b", "\ufeff\u2060",
                                  "   ", "\u001b[31m\u001b[0m"])
async def test_text_without_a_visible_character_is_refused_and_nothing_is_stored(intake: Intake, text: str) -> None:
    r = await intake.post({**VALID, "text": text})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    [error] = r.json()["errors"]
    assert error["field"] == "text" and "no visible characters" in error["message"], error
    assert r.json()["instance"] == "/v1/reports"
    assert await intake.count() == 0 and await intake.count(OutboxMessage) == 0


async def test_control_characters_are_removed_before_the_report_is_stored(intake: Intake) -> None:
    r = await intake.post({**VALID, "text": "\u001b[1;31mwater\u0000 main\u0007 burst\u001b[0m\r\n\tat gate 3"})
    assert r.status_code == 201, r.text
    assert r.json()["text"] == "water main burst\r\n\tat gate 3"
    stored = await intake.client.get(r.headers["location"], headers=bearer(intake.keys["call_centre"]))
    assert stored.json()["text"] == "water main burst\r\n\tat gate 3"


@pytest.mark.parametrize("text", ["🔥🔥🔥", "حريق في المبنى، الدخان في كل مكان", "👨\u200d👩\u200d👧 trapped", "пожар"])
async def test_emoji_and_every_script_are_content(intake: Intake, text: str) -> None:
    r = await intake.post({**VALID, "text": text})
    assert r.status_code == 201, r.text
    assert r.json()["text"] == text
