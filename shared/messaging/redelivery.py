"""End-to-end confirmation timing: when to send unconfirmed work again.

The broker is allowed to forget (Tansu's memory store does on restart), so each hop that matters is confirmed by
its downstream effect (a report is confirmed when its routing arrives, a dispatch when its ticket's first event
arrives). Until then the sender re-sends, with a fresh event id, after ``base``, then 2×, 4×… at most ``cap``.
Receivers are idempotent by domain key (one routing per report, one ticket per report and department), so a copy
that was not lost after all changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_DELAY_S = 600.0


def next_attempt(now: datetime, tries: int, base_s: float, cap_s: float = MAX_DELAY_S) -> datetime:
    return now + timedelta(seconds=min(cap_s, base_s * (2 ** max(0, tries))))
