"""What `POST /v1/classify` refuses, over HTTP: text with no visible character (emoji and every script are content)
and a date-time that is a boolean, called one."""

from __future__ import annotations

import pytest

from tests.integration.router.conftest import Router

HEATING = "no heat in apt, radiators cold"


async def classify(router: Router, body: object) -> tuple[int, dict[str, object]]:
    r = await router.client.post("/v1/classify", json=body, headers=router.auth("call_centre"))
    return r.status_code, r.json()


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200b\u200c\u200d\u2060\ufeff", "\u0000", " \t\n "])
async def test_classify_refuses_text_without_a_visible_character(router: Router, text: str) -> None:
    status, problem = await classify(router, {"text": text})
    assert status == 422 and problem["instance"] == "/v1/classify", problem
    [error] = problem["errors"]  # type: ignore[misc]
    assert error["field"] == "text" and "no visible characters" in error["message"]


async def test_classify_reads_emoji_and_arabic_as_content(router: Router) -> None:
    for text in ("🔥🔥", "رائحة غاز قوية في الدرج"):
        status, body = await classify(router, {"text": text})
        assert status == 200, body


@pytest.mark.parametrize(("value", "said"), [(True, "not true or false"), (False, "not true or false"),
                                             (1700000000, "not a number"),
                                             # would overflow in UTC or in the city's time: a 500 before
                                             ("9999-12-31T23:59:59-12:00", "in the years 1900 to 2999"),
                                             ("0001-01-01T00:00:00+14:00", "in the years 1900 to 2999")])
async def test_a_date_time_that_is_a_boolean_is_called_one(router: Router, value: object, said: str) -> None:
    status, problem = await classify(router, {"text": HEATING, "at": value})
    assert status == 422
    [error] = problem["errors"]  # type: ignore[misc]
    assert error["field"] == "at" and error["message"].endswith(said), error
