"""`HttpBackend` under faults: answers that are not JSON, changes whose outcome is open, the command's budget.

Every fault becomes a `BackendError` in words naming the back end (never an exception's class name, never a raw
page); a change (POST, PUT, PATCH, DELETE) whose answer does not say whether it happened is `OutcomeUnknown`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from bot.backends.http import HttpBackend, RetryPolicy, body_text, budget, remaining_seconds
from bot.errors import BackendError, OutcomeUnknown, Reason

HTML = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
CLASS_NAMES = ("Error", "Exception", "Timeout")


def parse_error(response: httpx.Response) -> BackendError:
    """A back end's mapping that falls back to the body as text (as the real ones do)."""
    return BackendError(f"Example answered {response.status_code}: {body_text(response) or response.reason_phrase}.")


def backend(handler: Callable[[httpx.Request], httpx.Response], attempts: int = 4) -> HttpBackend:
    return HttpBackend("Example", "http://example.test", parse_error=parse_error,
                       retry=RetryPolicy(attempts=attempts, base_delay=0.01), transport=httpx.MockTransport(handler))


def words_only(error: BackendError) -> None:
    text = f"{error.message} {error.hint}"
    assert not any(name in text for name in CLASS_NAMES) and "<" not in text, text


@pytest.mark.parametrize(("body", "content_type", "said"), [
    (HTML, "text/html", "a web page"),
    ('{"values": [{"name": "click', "application/json", "JSON that breaks off"),
    ("ok", "text/plain", "something that is not JSON"),
])
async def test_an_answer_that_is_not_json_names_the_back_end_and_the_cause(body: str, content_type: str,
                                                                           said: str) -> None:
    http = backend(lambda request: httpx.Response(200, text=body, headers={"content-type": content_type}))
    with pytest.raises(BackendError) as caught:
        await http.get_json("/v1/things")
    error = caught.value
    assert error.message.startswith(f"Example answered GET /v1/things with {said}")
    assert error.reason == Reason.NOT_JSON
    assert not isinstance(error, OutcomeUnknown)
    words_only(error)
    await http.aclose()


async def test_json_is_parsed_once_and_text_can_be_asked_for() -> None:
    http = backend(lambda request: httpx.Response(200, json={"ok": True}) if request.url.path == "/json"
                   else httpx.Response(200, text="plain words"))
    response = await http.request("GET", "/json")
    assert response.json() == {"ok": True} and response.json() is response.json()
    assert (await http.request("GET", "/text", expect_json=False)).text == "plain words"
    assert (await http.request("DELETE", "/json")).status_code == 200
    await http.aclose()


@pytest.mark.parametrize("body", [HTML, '{"trace": "at com.example.Handler(Handler.java:42)"}',
                                  "Traceback (most recent call last):\n  File \"app.py\", line 1"])
async def test_a_5xx_body_not_in_the_apis_shape_is_never_shown(body: str) -> None:
    http = backend(lambda request: httpx.Response(500, text=body), attempts=1)
    with pytest.raises(BackendError) as caught:
        await http.get_json("/v1/things")
    assert caught.value.message == "Example answered 500: Internal Server Error." and caught.value.status == 500
    assert "problem on its side" in caught.value.hint
    await http.aclose()


async def test_a_change_answered_with_a_5xx_has_an_open_outcome() -> None:
    http = backend(lambda request: httpx.Response(500, text="Internal Server Error"))
    with pytest.raises(OutcomeUnknown) as caught:
        await http.request("DELETE", "/v1/things/clickstream")
    error = caught.value
    assert (error.what, error.method, error.path, error.status) == (
        "answered HTTP 500", "DELETE", "/v1/things/clickstream", 500)
    assert error.reason == Reason.OUTCOME_UNKNOWN and error.backend == "Example"
    assert "cannot tell whether the change happened" in error.message
    await http.aclose()


async def test_a_change_refused_with_507_is_a_plain_refusal() -> None:
    http = backend(lambda request: httpx.Response(507, text="Insufficient storage"))
    with pytest.raises(BackendError) as caught:
        await http.request("POST", "/v1/things", json={"name": "x"})
    assert not isinstance(caught.value, OutcomeUnknown) and caught.value.status == 507
    await http.aclose()


async def test_a_dropped_delete_sent_again_and_answered_404_stays_open() -> None:
    """The first DELETE may have done it: the 404 to the second cannot say it did not happen."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) == 1:
            raise httpx.ReadError("Server disconnected", request=request)
        return httpx.Response(404, text="not found")

    http = backend(handler)
    with pytest.raises(OutcomeUnknown) as caught:
        await http.request("DELETE", "/v1/things/clickstream")
    assert seen == ["DELETE", "DELETE"] and caught.value.what == "dropped the connection before answering"
    assert caught.value.cause.reason == Reason.CONNECTION_LOST
    words_only(caught.value.cause)
    await http.aclose()


async def test_a_post_whose_answer_times_out_is_not_sent_again() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        raise httpx.ReadTimeout("timed out", request=request)

    http = backend(handler)
    with pytest.raises(OutcomeUnknown) as caught:
        await http.request("POST", "/v1/things", json={"name": "x"})
    assert seen == ["POST"] and caught.value.what.startswith("did not confirm within")
    words_only(caught.value)
    await http.aclose()


async def test_a_change_that_never_left_is_a_plain_unreachable_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    http = backend(handler, attempts=2)
    with pytest.raises(BackendError) as caught:
        await http.request("POST", "/v1/things", json={"name": "x"})
    error = caught.value
    assert not isinstance(error, OutcomeUnknown) and error.reason == Reason.UNREACHABLE
    assert error.message == "Could not reach Example at http://example.test: the connection was refused, or the " \
                            "host is unknown."
    words_only(error)
    await http.aclose()


async def test_a_change_answered_with_a_broken_body_has_an_open_outcome() -> None:
    http = backend(lambda request: httpx.Response(201, text='{"data": {"id": "UHJv',
                                                  headers={"content-type": "application/json"}))
    with pytest.raises(OutcomeUnknown) as caught:
        await http.request("POST", "/v1/things", json={"name": "x"})
    assert caught.value.what == "answered with something that is not JSON"
    assert caught.value.cause.reason == Reason.NOT_JSON
    await http.aclose()


async def test_a_post_that_changes_nothing_fails_plainly() -> None:
    http = backend(lambda request: httpx.Response(500, text="boom"))
    with pytest.raises(BackendError) as caught:
        await http.request("POST", "/oauth/token", changes=False, data={"grant_type": "client_credentials"})
    assert not isinstance(caught.value, OutcomeUnknown)
    await http.aclose()


async def test_the_budget_cuts_a_slow_answer_and_notes_the_changes_sent() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(2)
        return httpx.Response(200, json={})

    http = backend(handler)  # type: ignore[arg-type]
    started = time.monotonic()
    with budget(0.3) as spent:
        assert remaining_seconds() is not None
        with pytest.raises(BackendError) as read:
            await http.get_json("/v1/things")
        assert read.value.reason == Reason.TIMEOUT and read.value.message.startswith("Example did not answer")
    assert time.monotonic() - started < 1.0 and spent.sent == []
    with budget(0.2) as spent, pytest.raises(OutcomeUnknown):
        await http.request("DELETE", "/v1/things/x")
    assert spent.sent == ["DELETE /v1/things/x"] and remaining_seconds() is None
    await http.aclose()


async def test_a_retry_after_longer_than_the_budget_is_not_waited_for() -> None:
    http = backend(lambda request: httpx.Response(429, text="slow down", headers={"retry-after": "5"}))
    started = time.monotonic()
    with budget(1.0), pytest.raises(BackendError) as caught:
        await http.get_json("/v1/things")
    assert time.monotonic() - started < 0.5
    assert caught.value.status == 429 and "try again in 5 s" in caught.value.hint
    await http.aclose()
