"""Requests Slack could not have sent are refused with 4xx at the edge, before Bolt parses them."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from bot.slack.edge import malformed

SIGNED = {"x-slack-request-timestamp": "1700000000"}
JSON = {**SIGNED, "content-type": "application/json"}


@pytest.mark.parametrize(("body", "headers", "status"), [
    (b"[1, 2]", JSON, 400), (b'"text"', JSON, 400), (b"{broken", JSON, 400), (b"\xff\xfe", JSON, 400),
    (b"payload=null", SIGNED, 400), (b"payload=%5B%5D", SIGNED, 400), (b"payload=%7Bx", SIGNED, 400),
    (b"{}", {"x-slack-request-timestamp": "soon"}, 401), (b"{}", {}, 401),
])
def test_refused(body: bytes, headers: dict, status: int) -> None:
    refused = malformed(body, headers)
    assert refused is not None and refused[0] == status


def _payload(value: dict) -> bytes:
    return ("payload=" + quote(json.dumps(value))).encode()


CLICK = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "a", "value": "v"}]}


@pytest.mark.parametrize("body", [
    b'{"type": "event_callback", "event": {"type": "app_mention", "user": "U1", "channel": "C1"}}',
    b'{"type": "url_verification", "challenge": "c"}', b"command=%2Fprojects&text=list",
    b"command=%2Fprojects&text=show+phoenix+payload-svc", _payload(CLICK),
    _payload({**CLICK, "actions": [{"action_id": "a", "value": None}], "team": None, "enterprise": None}),
])
def test_handed_on(body: bytes) -> None:
    assert malformed(body, SIGNED) is None


@pytest.mark.parametrize("body", [
    b'{"type": "event_callback"}', b'{"type": "event_callback", "event": {"type": "app_mention", "user": 5}}',
    b'{"type": "url_verification", "event": null}', b'{"authorizations": "abc"}', b'{"user": {"id": 5}}',
    _payload({"type": "block_actions"}), _payload({**CLICK, "user": "U1"}), _payload({**CLICK, "actions": None}),
    _payload({**CLICK, "actions": [{"action_id": "a", "value": {"x": 1}}]}),
    _payload({"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "c",
                                                                        "state": {"values": []}}}),
])
def test_a_shape_slack_never_sends_is_400(body: bytes) -> None:
    refused = malformed(body, SIGNED)
    assert refused is not None and refused[0] == 400
