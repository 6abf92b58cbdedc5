"""Malformed requests over the real HTTP server (issue 15, item 2): the edge (bot/slack/edge.py) and Bolt behind it.

A body Slack could not have sent is refused 4xx before Bolt parses it (Bolt itself answers 500 for many); a
payload of the right shape with a broken value gets a 200 and a clear answer. The generated cases per listener run
in process (tests/scenario/test_malformed.py); here the server's own handling, with a few generated bodies too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from malformed import (
    assert_answered_well,
    catching_logs,
    event,
    exchange,
    form,
    interaction,
    junk,
    mutate,
    sign,
    texts,
)
from rig import Bot, message_text

from bot.ui import ids
from sandbox.slack.signing import FORM, JSON


@pytest.fixture
def logs() -> Iterator[Any]:
    with catching_logs() as catcher:
        yield catcher


def click(bot: Bot, action_id: str, value: Any) -> dict[str, Any]:
    message = {"text": "a result", "blocks": [{"type": "section", "block_id": "b1",
                                               "text": {"type": "plain_text", "text": "x"}}]}
    payload = bot.requests.block_actions([{"action_id": action_id, "value": "v"}], message=message).payload
    return mutate(payload, {("actions", 0, "value"): value})


@pytest.mark.parametrize(("body", "content_type"), [
    (b"[]", JSON), (b'"text"', JSON), (b"{broken", JSON), (b"[1, {}]", JSON), (b"null", JSON), (b"\xff\xfe", JSON),
    (b"payload=%5B%5D", FORM), (b"payload=%7Bbroken", FORM), (b"payload=null", FORM), (b'payload="x"', FORM),
])
def test_a_body_that_is_not_a_json_object_is_400(bot: Bot, logs: Any, body: bytes, content_type: str) -> None:
    outcome = exchange(bot, sign(bot.requests, body, content_type), logs)
    assert_answered_well(outcome, body)
    assert outcome.status == 400 and outcome.calls == []


@pytest.mark.parametrize("timestamp", ["soon", "", "1.5e9", "0x10", "12 34", "²", "9" * 40])
def test_a_timestamp_that_is_not_a_number_is_401(bot: Bot, logs: Any, timestamp: str) -> None:
    signed = bot.requests.event_callback({"type": "app_mention", "user": "U0ADMIN", "text": "<@U0BOT> help",
                                          "channel": "C0OPS", "ts": "1700000000.000100"})
    resigned = sign(bot.requests, signed.body, JSON, timestamp=timestamp)
    started = time.monotonic()  # the header goes as latin-1 bytes, as a client could send it
    response = bot.http.post(f"{bot.url}/slack/events", content=resigned.body,
                             headers={k: v.encode("latin-1") for k, v in resigned.headers.items()})
    assert time.monotonic() - started < 3
    assert response.status_code == 401, response.text
    time.sleep(0.2)
    assert bot.slack.calls == [] and not [r for r in logs.records if r.levelname == "ERROR"]


@pytest.mark.parametrize("body", [
    {"type": "event_callback", "authorizations": "abc", "event": {"type": "app_mention"}},
    {"type": "event_callback", "event": {"type": "app_mention", "user": 5, "channel": "C0OPS"}},
    {"type": "event_callback", "event": "x"},
    {"type": "url_verification", "challenge": "c", "enterprise": 5},
    {"type": "url_verification", "challenge": "c", "user": {"id": 5}},
    {"type": "block_actions", "user": "U0ADMIN", "actions": [{"action_id": ids.SHARE_ACTION}]},
])
def test_ids_of_the_wrong_type_are_400_not_bolts_500(bot: Bot, logs: Any, body: dict[str, Any]) -> None:
    signed = event(bot.requests, body) if body["type"] != "block_actions" else interaction(bot.requests, body)
    outcome = exchange(bot, signed, logs)
    assert_answered_well(outcome, body)
    assert outcome.status == 400 and outcome.calls == []


@pytest.mark.parametrize("value", [{"text": 123, "user": "U0ADMIN"}, ["x"], 5])
@pytest.mark.parametrize("action_id", [ids.CONFIRM_ACTION, ids.APPROVE_ACTION, ids.REJECT_ACTION,
                                       ids.PROVISION_RESUME_ACTION])
def test_a_button_value_of_the_wrong_type_is_400(bot: Bot, logs: Any, action_id: str, value: Any) -> None:
    outcome = exchange(bot, interaction(bot.requests, click(bot, action_id, value)), logs)
    assert_answered_well(outcome, value)
    assert outcome.status == 400 and outcome.calls == []


@pytest.mark.parametrize(("action_id", "value"), [
    (ids.CONFIRM_ACTION, '{"text": 123, "user": "U0ADMIN"}'), (ids.CONFIRM_ACTION, "null"),
    (ids.CANCEL_ACTION, "[]"), (ids.PROVISION_RESUME_ACTION, "[]"), (ids.ASSIST_FEEDBACK_ACTION, "good:²"),
])
def test_a_broken_button_value_gets_a_clear_private_answer(bot: Bot, logs: Any, action_id: str, value: str) -> None:
    outcome = exchange(bot, interaction(bot.requests, click(bot, action_id, value)), logs)
    assert_answered_well(outcome, value)
    assert outcome.status == 200
    said = [message_text(c.params) for c in outcome.posted("response_url")]
    assert any("broken or out of date" in s for s in said), said


@pytest.mark.parametrize("metadata", ["not json", "[]", json.dumps({"user": "U0ADMIN", "step": "two"})])
def test_a_form_with_broken_metadata_says_so_on_the_form(bot: Bot, logs: Any, metadata: str) -> None:
    view = {"callback_id": ids.PROVISION_CALLBACK, "private_metadata": metadata,
            "blocks": [{"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
                        "element": {"type": "plain_text_input", "action_id": "value"}}]}
    outcome = exchange(bot, bot.requests.view_submission(view, values={"name": {"value": "x"}}), logs)
    assert_answered_well(outcome, metadata)
    assert outcome.status == 200
    assert json.loads(outcome.body) == {"response_action": "errors", "errors": {
        "name": "This form is broken or out of date; close it and start again."}}


@pytest.mark.parametrize("text", ["audit since 99999999d", "show phoenix payload-svc"])
def test_commands_that_used_to_fail(bot: Bot, logs: Any, text: str) -> None:
    """`audit since 99999999d` overflowed the date; a text containing "payload" was read by Bolt as an empty
    interactivity payload and dropped."""
    outcome = exchange(bot, bot.requests.slash_command(text), logs)
    assert_answered_well(outcome, text)
    assert outcome.status == 200
    said = outcome.body + "".join(message_text(c.params) for c in outcome.posted("response_url"))
    assert ("out of range" in said) if "audit" in text else ("payload-svc" in said), said


HTTP = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

bolt_fields = st.sampled_from(["user", "team", "enterprise", "channel", "authorizations", "event", "view", "message",
                               "response_url", "response_urls", "user_id", "team_id", "thread_ts", "container",
                               "actions", "is_ext_shared_channel", "command", "type"])


@HTTP
@given(kind=st.sampled_from(["event_callback", "block_actions", "view_submission", "block_suggestion",
                             "url_verification", None]),
       fields=st.dictionaries(bolt_fields, junk, min_size=1, max_size=4), as_form=st.booleans())
def test_generated_bodies_never_get_a_5xx(bot: Bot, logs: Any, kind: str | None, fields: dict[str, Any],
                                          as_form: bool) -> None:
    body = {**({"type": kind} if kind else {}), **fields}
    signed = interaction(bot.requests, body) if as_form else event(bot.requests, body)
    assert_answered_well(exchange(bot, signed, logs, quiet=0.2), body)


@HTTP
@given(text=texts, extra=st.dictionaries(st.sampled_from(["user_id", "channel_id", "payload", "response_url"]),
                                         texts, max_size=2), dropped=st.sampled_from([None, "user_id", "command"]))
def test_generated_form_bodies_never_get_a_5xx(bot: Bot, logs: Any, text: str, extra: dict[str, str],
                                               dropped: str | None) -> None:
    fields = {**dict(bot.requests.slash_command(text).payload), **extra}
    if dropped:
        fields.pop(dropped, None)
    assert_answered_well(exchange(bot, form(bot.requests, fields), logs, quiet=0.2), fields)


def test_after_broken_requests_a_normal_command_is_answered_at_once(bot: Bot, logs: Any) -> None:
    for value in ("[]", "null", '{"x": 1}', 5):
        exchange(bot, interaction(bot.requests, click(bot, ids.CONFIRM_ACTION, value)), logs)
    started = time.monotonic()
    ack, rid = bot.command("help")
    assert ack.status_code == 200 and time.monotonic() - started < 3
    assert "/projects" in (ack.text or message_text(bot.answer(rid)))
