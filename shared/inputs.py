"""Types for what requests carry, stricter than pydantic's lax defaults where lax reading would silently misread.

Date-times are ISO 8601 text only: pydantic reads a number (``0``, ``1700000000``, ``"0.5"``) as seconds since 1970
where a ``datetime`` is expected, so a client that sends a number by mistake would have its report dated, or its
presence evaluated, in 1970 without a word. Coordinates refuse ``true`` and ``false``, which pydantic reads as 1.0 and
0.0. Every date-time and coordinate a request carries uses these types, which answer such input with a 422 naming the
field.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

__all__ = ["Coordinate", "IsoAwareDatetime", "IsoDatetime"]

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _text_only(value: Any) -> Any:
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
