"""Types for what requests carry, stricter than pydantic's lax defaults where lax reading would silently misread.

Date-times are ISO 8601 text only: pydantic reads a number (``0``, ``1700000000``, ``"0.5"``) as seconds since 1970
where a ``datetime`` is expected, so a client that sends a number by mistake would have its report dated, or its
presence evaluated, in 1970 without a word; ``true`` and ``false`` are refused as such. Coordinates refuse ``true``
and ``false``, which pydantic reads as 1.0 and 0.0. Every date-time and coordinate a request carries uses these types,
which answer such input with a 422 naming the field.

:data:`Text` is what a caller said (a report's text, the text to classify). Characters that are not text are removed
before anything else looks at it: terminal escape sequences (``ESC [ 31 m``, ``ESC ] … BEL``) whole, then every C0
and C1 control character but tab, line feed and carriage return (NUL, BEL, ESC, DEL, …), and lone UTF-16 surrogates.
They come from telephony and transcription software, not from the caller, and PostgreSQL cannot store NUL; removing
them keeps the report (refusing it would lose an emergency over a stray byte). What is left, stripped of whitespace,
must have at least one visible character: text made only of whitespace, control or format characters (zero-width
space, word joiner, BOM, …) is refused with a 422 naming the field. Every script, emoji and symbol is content.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

__all__ = ["MAX_TEXT", "Coordinate", "IsoAwareDatetime", "IsoDatetime", "Text"]

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _text_only(value: Any) -> Any:
    if isinstance(value, bool):  # before int: True is an int to Python
        raise ValueError("expected an ISO 8601 date-time such as 2026-12-15T10:00:00+08:00, not true or false")
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("expected an ISO 8601 date-time such as 2026-12-15T10:00:00+08:00, not a number")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_text_only)]
IsoAwareDatetime = Annotated[AwareDatetime, BeforeValidator(_text_only)]


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic would read false as 0.0: a place in the Gulf of Guinea
        raise ValueError("expected a number, not true or false")
    return value


Coordinate = Annotated[float, BeforeValidator(_not_a_boolean)]  # a latitude or longitude in degrees


MAX_TEXT = 4000
# ECMA-48 escape sequences: CSI (ESC [ or the C1 CSI), then parameters and one final byte; OSC (ESC ]) up to BEL or
# ESC \; any other ESC and one byte. What an unterminated sequence leaves behind is removed as controls below.
_ESCAPE_SEQUENCE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # controls but \t \n \r; surrogates
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})  # and whitespace; marks show only on a base
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # letters and symbols drawn as nothing (Hangul fillers, braille)


def _without_control_characters(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the str type refuses it, naming the field
    return _NOT_TEXT.sub("", _ESCAPE_SEQUENCE.sub("", value))


def _visible(value: str) -> str:
    if not any(c not in _BLANK and not c.isspace() and unicodedata.category(c) not in _INVISIBLE for c in value):
        raise PydanticCustomError("no_visible_text",
                                  "Text has no visible characters (only whitespace, control or format characters)")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT),
                 BeforeValidator(_without_control_characters), AfterValidator(_visible),
                 Field(json_schema_extra={"minLength": 1})]
"""What a caller said, 1–4000 characters once control characters are removed and whitespace stripped, with at least
one visible character."""
