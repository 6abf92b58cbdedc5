"""Requests Slack could not have sent are refused with 4xx at the edge, before Bolt parses them."""

from __future__ import annotations

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


@pytest.mark.parametrize("body", [b'{"type": "event_callback"}', b"command=%2Fprojects&text=list",
                                  b"payload=%7B%22type%22%3A%22block_actions%22%7D"])
def test_handed_on(body: bytes) -> None:
    assert malformed(body, SIGNED) is None
