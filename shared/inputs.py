"""Types for what requests carry, stricter than pydantic's lax defaults where lax reading would silently misread.

Date-times are ISO 8601 text only: pydantic reads a number (``0``, ``1700000000``, ``"0.5"``) as seconds since 1970
where a ``datetime`` is expected, so a client that sends a number by mistake would have its report dated, or its
presence evaluated, in 1970 without a word; ``true`` and ``false`` are refused as such, and so are years before 1900
or after 2999. Coordinates refuse ``true``
and ``false``, which pydantic reads as 1.0 and 0.0. Every date-time and coordinate a request carries uses these types,
which answer such input with a 422 naming the field.

:data:`Text` is what a caller said (a report's text, the text to classify). Characters that are not text are removed
before anything else looks at it: terminal escape sequences (``ESC [ 31 m``, ``ESC ] … BEL``) whole, then every C0
and C1 control character but tab, line feed and carriage return (NUL, BEL, ESC, DEL, …), and lone UTF-16 surrogates;
the control characters that break a line (vertical tab, form feed, NEL) become a line feed, not nothing.
They come from telephony and transcription software, not from the caller, and PostgreSQL cannot store NUL; removing
them keeps the report (refusing it would lose an emergency over a stray byte). What is left, stripped of whitespace,
must have at least one visible character: text made only of whitespace, control or format characters (zero-width
space, word joiner, BOM, …) is refused with a 422 naming the field. Every script, emoji and symbol is content.

Every other free-text field a request carries is cleaned the same way, with its own length: :func:`free_text` for
several lines (a note, a resolution, a comment), :func:`one_line` for one (a name, an address, a reference, a short
reason), where line breaks and tabs become spaces. Such a field must show something too, unless it is one a caller may
leave blank (``blank=True``): then whatever is left, even nothing, is kept. Identifiers with their own pattern
(department codes) are refused, not cleaned, when they carry a control character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import (AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints,
                      model_validator)
from pydantic_core import PydanticCustomError

__all__ = ["MAX_TEXT", "Coordinate", "IsoAwareDatetime", "IsoDatetime", "LocationIn", "Text", "free_text", "one_line"]

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _text_only(value: Any) -> Any:
    if isinstance(value, bool):  # before int: True is an int to Python
        raise ValueError("expected an ISO 8601 date-time such as 2026-12-15T10:00:00+08:00, not true or false")
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("expected an ISO 8601 date-time such as 2026-12-15T10:00:00+08:00, not a number")
    return value


EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


def _in_range(value: datetime) -> datetime:
    """Years 1900 to 2999 (in UTC where the time has a zone): what a report or a query can mean. Outside them a
    time would also overflow where it is converted to UTC or to the city's time ("9999-12-31T23:59:59-12:00")."""
    try:
        year = value.astimezone(timezone.utc).year if value.tzinfo is not None else value.year
    except OverflowError:  # no such moment in UTC ("0001-01-01T00:00:00+14:00")
        year = 0
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValueError(f"expected a date-time in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_text_only), AfterValidator(_in_range)]
IsoAwareDatetime = Annotated[AwareDatetime, BeforeValidator(_text_only), AfterValidator(_in_range)]


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic would read false as 0.0: a place in the Gulf of Guinea
        raise ValueError("expected a number, not true or false")
    return value


Coordinate = Annotated[float, BeforeValidator(_not_a_boolean)]  # a latitude or longitude in degrees


MAX_TEXT = 4000
# ECMA-48 escape sequences: CSI (ESC [), then parameters, intermediates and one final byte; OSC (ESC ]) up to BEL or
# ESC \; any other ESC and one byte. What an unterminated sequence leaves behind is removed as controls below. A CSI
# never spans a space (the rare space intermediate, as in ESC [ 2 SP q, is not read), so "ESC [2 apartments" keeps
# "[2 apartments"; but ESC [ directly before a letter is a complete sequence (ESC [ a moves the cursor) and takes that
# letter. The lone C1 CSI (0x9B) starts no sequence: it is "›" in cp1252 mojibake, so only that byte is removed.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[!-/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # controls but \t \n \r; surrogates
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})  # and whitespace; marks show only on a base
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # letters and symbols drawn as nothing (Hangul fillers, braille)
_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")  # and tabs: one space on a one-line field
_CONTROL_BREAKS = re.compile(r"[\v\f\x85]")  # line breaks that are controls (Word's Shift+Enter is \v): a line feed


def _without_control_characters(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the str type refuses it, naming the field
    return _NOT_TEXT.sub("", _CONTROL_BREAKS.sub("\n", _ESCAPE_SEQUENCE.sub("", value)))


def _on_one_line(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return _NOT_TEXT.sub("", _LINE_BREAKS.sub(" ", _ESCAPE_SEQUENCE.sub("", value)))


def _visible(value: str) -> str:
    if not any(c not in _BLANK and not c.isspace() and unicodedata.category(c) not in _INVISIBLE for c in value):
        raise PydanticCustomError("no_visible_text",
                                  "Text has no visible characters (only whitespace, control or format characters)")
    return value


def _cleaned(clean: Callable[[Any], Any], max_length: int, blank: bool) -> Any:
    # the length bound sits on the str schema, under the cleaning: it counts what is left and says "characters"
    constrained = Annotated[str, StringConstraints(strip_whitespace=True, max_length=max_length),
                            BeforeValidator(clean)]
    if blank:
        return constrained
    return Annotated[constrained, AfterValidator(_visible), Field(json_schema_extra={"minLength": 1})]


def free_text(max_length: int, *, blank: bool = False) -> Any:
    """Several lines (a note, a resolution, a comment) of at most ``max_length`` characters once control characters
    are removed (tab, line feed and carriage return stay; vertical tab, form feed and NEL become a line feed; U+2028
    and U+2029 stay) and whitespace stripped; at least one visible character, or a 422 naming the field, unless
    ``blank``."""
    return _cleaned(_without_control_characters, max_length, blank)


def one_line(max_length: int, *, blank: bool = False) -> Any:
    """One line (a name, an address, a reference, a short reason) of at most ``max_length`` characters once control
    characters are removed, each run of line breaks and tabs turned into a space and whitespace stripped; at least
    one visible character, or a 422 naming the field, unless ``blank``."""
    return _cleaned(_on_one_line, max_length, blank)


Text = free_text(MAX_TEXT)
"""What a caller said, 1–4000 characters once control characters are removed and whitespace stripped, with at least
one visible character."""


_Address = one_line(500, blank=True)
_GridId = one_line(64, blank=True)


class LocationIn(BaseModel):
    """Where a report is, as a call centre sends it: any of an address, coordinates and a community grid cell.
    Coordinates come as a pair: a latitude without its longitude (or the reverse) is a 422 naming the one missing,
    not a place read as unknown (duplicate detection and departments rely on both)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    address: _Address | None = Field(None, examples=["18 Xingfu Road, Building 3"])
    lat: Coordinate | None = Field(None, ge=-90, le=90, examples=[30.6586])
    lon: Coordinate | None = Field(None, ge=-180, le=180, examples=[104.0648])
    grid_id: _GridId | None = Field(None, examples=["G-0412"])

    @model_validator(mode="after")
    def _coordinates_in_pairs(self) -> LocationIn:
        if (self.lat is None) != (self.lon is None):
            missing = "lon" if self.lon is None else "lat"
            raise PydanticCustomError("missing_coordinate", "lat and lon come together: {missing} is missing",
                                      {"missing": missing})
        return self
