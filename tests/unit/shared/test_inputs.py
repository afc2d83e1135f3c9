"""Request input types: a report's text, and every other free-text field, has visible content (unless it may be left
blank) and carries no control characters, one-line fields no line breaks; date-times are ISO 8601 text, and the
refusal says what was sent instead."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shared.inputs import MAX_TEXT, IsoAwareDatetime, Text, free_text, one_line


class Report(BaseModel):
    text: Text


class Moment(BaseModel):
    at: IsoAwareDatetime


Reason = one_line(20)
Name = one_line(10, blank=True)
Note = free_text(40)
Comment = free_text(40, blank=True)


class Ticket(BaseModel):
    reason: Reason
    name: Name | None = None
    note: Note | None = None
    comment: Comment | None = None


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


@pytest.mark.parametrize("model", ["report", "note"])
def test_control_characters_that_break_a_line_become_a_line_feed_not_glue(model: str) -> None:
    def cleaned(text: str) -> str:
        return Report(text=text).text if model == "report" else str(Ticket(reason="x", note=text).note)
    assert cleaned("Line one\u000bLine two") == "Line one\nLine two"  # Word's Shift+Enter
    assert cleaned("page one\u000cpage two\u0085end") == "page one\npage two\nend"
    assert cleaned("one\u2028two\u2029three") == "one\u2028two\u2029three"  # not controls: they stay as they are


def test_a_lone_c1_csi_is_removed_alone_and_eats_nothing_after_it() -> None:
    assert Report(text="Price\u009b120 meters from the river").text == "Price120 meters from the river"
    assert Report(text="\u009b31mred").text == "31mred"


def test_an_escape_bracket_before_words_takes_no_word_with_it() -> None:
    # a CSI never spans a space, so ESC [ before a number and a word is a stray ESC, removed alone
    assert Report(text="fire in \u001b[2 apartments").text == "fire in [2 apartments"
    assert Report(text="\u001b[? who is there").text == "[? who is there"
    assert Report(text="\u001b[ 3 floors").text == "[ 3 floors"
    # a complete sequence before a word is removed whole, and the word stays
    assert Report(text="\u001b[2Jsmoke on \u001b[?25hfloor 2\u001b[K").text == "smoke on floor 2"
    assert Report(text="\u001b[38;5;196mFIRE\u001b[0m").text == "FIRE"
    # documented limit: ESC [ directly before a letter is a complete sequence (ESC [ a moves the cursor), so it takes
    # that one letter; that cannot be told from an ordinary word
    assert Report(text="\u001b[apartment 5").text == "partment 5"


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


@pytest.mark.parametrize(("value", "ok"), [
    ("1900-01-01T00:00:00Z", True), ("2999-12-31T23:59:59Z", True),
    # inside the years as written, outside them in UTC
    ("1900-01-01T00:30:00+01:00", False), ("2999-12-31T23:30:00-01:00", False),
    ("1899-12-31T23:30:00-01:00", True),  # 1900 in UTC
])
def test_a_date_time_counts_its_years_in_utc(value: str, ok: bool) -> None:
    if ok:
        assert Moment(at=value).at is not None
    else:
        assert str(error(Moment, at=value)["msg"]).endswith("in the years 1900 to 2999")


def test_a_line_loses_control_characters_and_its_line_breaks_become_spaces() -> None:
    assert Ticket(reason="wa\u0000ter\u0007").reason == "water"
    assert Ticket(reason="\u001b[1mNorth\u001b[0m crew").reason == "North crew"
    assert Ticket(reason="North\r\n\tcrew\u2028two").reason == "North crew two"  # one space per run
    assert Ticket(reason="a\u000bb\u000cc\u0085d").reason == "a b c d"  # line breaks, not glue
    assert Ticket(reason="\n\u0000 crew \t").reason == "crew"


def test_several_lines_lose_control_characters_and_keep_their_lines() -> None:
    assert Ticket(reason="x", note="crew\u0000 on site\r\n\tvalve\u0007 closed").note == (
        "crew on site\r\n\tvalve closed")


@pytest.mark.parametrize("field", ["reason", "note"])
@pytest.mark.parametrize("value", ["", " ", "\u0000", "\u0000\r\n\t", "\u001b[31m\u001b[0m", "\u200b"])
def test_a_field_that_must_show_something_refuses_nothing_visible_naming_it(field: str, value: str) -> None:
    problem = error(Ticket, **{"reason": "x", field: value})
    assert problem["loc"] == (field,) and problem["type"] == "no_visible_text"
    assert "no visible characters" in str(problem["msg"])


@pytest.mark.parametrize("field", ["name", "comment"])
def test_a_field_that_may_be_left_blank_keeps_what_is_left_even_nothing(field: str) -> None:
    assert getattr(Ticket(reason="x", **{field: "\u0000 \u0007"}), field) == ""
    assert getattr(Ticket(reason="x", **{field: "\u0000Li\u0000"}), field) == "Li"
    assert getattr(Ticket(reason="x"), field) is None


def test_a_fields_length_counts_what_is_left_and_its_refusal_says_characters() -> None:
    assert Ticket(reason="x" * 20 + "\u0000" * 5, name=" " + "y" * 10 + "\n").name == "y" * 10
    for field, limit in [("reason", 20), ("name", 10), ("note", 40), ("comment", 40)]:
        problem = error(Ticket, **{"reason": "x", field: "z" * (limit + 1)})
        assert (problem["loc"], problem["type"]) == ((field,), "string_too_long")
        assert problem["msg"] == f"String should have at most {limit} characters"
    assert error(Ticket, reason=42)["type"] == "string_type"


def test_the_schema_documents_each_fields_bounds() -> None:
    properties = Ticket.model_json_schema()["properties"]
    assert {k: v for k, v in properties["reason"].items() if k != "title"} == {
        "type": "string", "minLength": 1, "maxLength": 20}
    assert properties["name"]["anyOf"][0] == {"type": "string", "maxLength": 10}
    assert properties["note"]["anyOf"][0] == {"type": "string", "minLength": 1, "maxLength": 40}
