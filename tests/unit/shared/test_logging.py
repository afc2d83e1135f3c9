import json
import logging

from shared.logging import JsonFormatter, redact, report_context


def test_phone_numbers_are_masked_but_ids_and_dates_are_not() -> None:
    assert redact("call back 13800138000 please") == "call back [redacted-phone] please"
    assert redact("landline 010-6552 3344 or +86 138 0013 8000") == "landline [redacted-phone] or [redacted-phone]"
    assert redact("revision dfe07632735b on 2026-11-22 at 08:00") == "revision dfe07632735b on 2026-11-22 at 08:00"
    assert redact("report 3 of 12, room 1203") == "report 3 of 12, room 1203"


def test_json_lines_carry_the_report_id_of_the_work_at_hand() -> None:
    formatter = JsonFormatter("intake")
    with report_context("r-42"):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "caller %s says hi", ("13800138000",), None)
        line = json.loads(formatter.format(record))
    assert line["report_id"] == "r-42" and line["service"] == "intake"
    assert "13800138000" not in line["msg"]
