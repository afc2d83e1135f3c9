"""Request input types: a report's text has visible content and carries no control characters; date-times are ISO
8601 text, and the refusal says what was sent instead."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shared.inputs import MAX_TEXT, IsoAwareDatetime, Text


class Report(BaseModel):
    text: Text


class Moment(BaseModel):
    at: IsoAwareDatetime


def error(model: type[BaseModel], **values: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as caught:
        model(**values)
    [first] = caught.value.errors()
    return dict(first)


@pytest.mark.parametrize("text", [
    "", "   ", "\u0000", "\u0000\u0007\u001b", "\u200b\u200b\u200b", "\ufeff\u2060\u200d", " \u200b \t\n",
    "\u3164", "\u0301", "\u001b[31m\u001b[0m",
])
def test_text_without_a_visible_character_is_refused_saying_so(text: str) -> None:
    problem = error(Report, text=text)
    assert problem["type"] == "no_visible_text" and "no visible characters" in str(problem["msg"])


@pytest.mark.parametrize("text", [
    "🔥", "🚒🚑", "👨\u200d👩\u200d👧", "حريق في المبنى", "пожар", "火事です", "ไฟไหม้", "楼道里燃气味很大", "!",
])
def test_every_script_emoji_and_symbol_is_content(text: str) -> None:
    assert Report(text=text).text == text


def test_control_characters_are_removed_and_escape_sequences_whole() -> None:
    assert Report(text="gas\u0000 leak").text == "gas leak"
    assert Report(text="\u001b[1;31mFIRE\u001b[0m in \u0007building 3\u007f\u0085").text == "FIRE in building 3"
    assert Report(text="\u001b]0;owned\u0007water main burst").text == "water main burst"
    assert Report(text="line one\r\n\tline two").text == "line one\r\n\tline two"  # tab, CR and LF are text
    assert Report(text="lone \ud83d surrogate").text == "lone  surrogate"  # PostgreSQL cannot store it either


def test_text_is_stripped_and_limited_after_cleaning() -> None:
    assert Report(text="  \u0000 burst pipe \u0000 ").text == "burst pipe"
    assert Report(text="x" * MAX_TEXT + "\u0000" * 10).text == "x" * MAX_TEXT
    assert error(Report, text="x" * (MAX_TEXT + 1))["type"] == "string_too_long"
    assert error(Report, text=42)["type"] == "string_type"


def test_text_schema_documents_its_bounds() -> None:
    schema = Report.model_json_schema()["properties"]["text"]
    assert (schema["type"], schema["minLength"], schema["maxLength"]) == ("string", 1, MAX_TEXT)


@pytest.mark.parametrize(("value", "said"), [(True, "not true or false"), (False, "not true or false"),
                                             (0, "not a number"), (1700000000.5, "not a number"),
                                             ("0.5", "not a number")])
def test_a_date_time_refusal_names_what_was_sent(value: object, said: str) -> None:
    assert str(error(Moment, at=value)["msg"]).endswith(said)
