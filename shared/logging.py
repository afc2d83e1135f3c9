"""JSON logs, one object per line, with the report id of the work at hand and never a caller's phone number.

``report_context(report_id)`` puts a report id on every line logged inside it (a context variable, so it follows
asyncio tasks). A filter masks anything that looks like a phone number in the message and its arguments, as a
second line of defence: code must not log phone numbers in the first place.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import orjson

_report_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("report_id", default=None)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

# Identifiers and times are kept whole, so none of their digit runs is taken for a phone number: UUIDs (a group of
# 7+ digits is common in them) and ISO 8601 dates and date-times. Elsewhere a phone number is 7+ digits, optionally
# with +, spaces or dashes, that does not touch an ASCII letter, digit or underscore (a hex id), does not follow a
# digit's dot (a decimal: ``30.6586123``) and is not joined by a dash to one (``CC-2026-000123``, an id's last group).
# A dot after a word is an abbreviation, no boundary: "Tel.13800138000" and "No.13800138000" are masked, as are "请打
# 13800138000" and "电话13800138000联系" (CJK text around it is no boundary either).
_KEEP = (r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
         r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?")
_PHONE = re.compile(rf"(?P<keep>{_KEEP})"
                    r"|(?<![0-9A-Za-z_+])(?<!\d\.)(?<![0-9A-Za-z_]-)\+?\d[\d \-]{5,}\d(?![0-9A-Za-z_]|-[0-9A-Za-z_])")


def _mask(match: re.Match[str]) -> str:
    text = match.group()
    if match.group("keep") is not None or sum(c.isdigit() for c in text) < 7:
        return text
    return "[redacted-phone]"


def redact(text: str) -> str:
    """Mask phone-number-like runs (see ``_PHONE``), leaving UUIDs, ids and ISO 8601 date-times as they are."""
    return _PHONE.sub(_mask, text)


@contextlib.contextmanager
def report_context(report_id: str | None) -> Iterator[None]:
    token = _report_id.set(report_id)
    try:
        yield
    finally:
        _report_id.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        report_id = getattr(record, "report_id", None) or _report_id.get()
        if report_id:
            entry["report_id"] = report_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, aiokafka's) through one JSON handler on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.access").setLevel(max(logging.WARNING, root.level))
