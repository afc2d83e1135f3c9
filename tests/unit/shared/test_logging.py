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


def test_uuids_with_long_digit_runs_are_not_taken_for_phone_numbers() -> None:
    ids = ["12345678-f87b-439c-8123-456789012345",  # a first group of 8 digits, a last one of 12
           "3f2a9c1e-4b7d-4e21-9a0c-000000138000",  # the last group ends in a phone-like run
           "12345678-1234-4234-8234-123456789012"]  # every group digits only
    for ticket_id in ids:
        line = f'ticket {ticket_id} for report t-{ticket_id}-water; {{"ticket_id":"{ticket_id}"}}'
        assert redact(line) == line


def test_hex_ids_external_references_and_iso_times_are_left_alone() -> None:
    for text in ["sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                 "revision 1234567abcdef00 and 0000000001f", "external ref CC-2026-000123",
                 "received 2026-04-01T04:00:00+08:00, routed 2026-11-22 08:00:00.1234567+00:00",
                 "at lat 30.6586123, lon 104.0648991"]:
        assert redact(text) == text


def test_phone_numbers_next_to_ids_or_chinese_text_are_still_masked() -> None:
    assert redact("请打13800138000联系我") == "请打[redacted-phone]联系我"
    assert redact("电话：138 0013 8000。") == "电话：[redacted-phone]。"
    assert redact("{'phone': '13800138000'}") == "{'phone': '[redacted-phone]'}"
    assert redact("caller 13800138000 ticket 12345678-f87b-439c-8123-456789012345") == \
        "caller [redacted-phone] ticket 12345678-f87b-439c-8123-456789012345"


def test_phone_numbers_after_an_abbreviations_dot_are_masked_but_decimals_are_not() -> None:
    for label in ["Tel.", "No.", "mob.", "tel. ", "Mob.+"]:
        assert redact(f"{label}13800138000") == f"{label.rstrip('+')}[redacted-phone]"
    assert redact("call.13800138000, ok") == "call.[redacted-phone], ok"
    for text in ["at lat 30.6586123, lon 104.0648991", "ratio 0.13800138000", "v1.2.13800138000"]:
        assert redact(text) == text


def test_json_lines_keep_ticket_ids_in_extra_fields() -> None:
    ticket_id = "12345678-f87b-439c-8123-456789012345"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "ticket %s created", (ticket_id,), None)
    record.ticket_id = ticket_id
    line = json.loads(JsonFormatter("departments").format(record))
    assert line["ticket_id"] == ticket_id and line["msg"] == f"ticket {ticket_id} created"
