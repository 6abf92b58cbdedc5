"""The HTTP edge: a request Slack could not have sent is answered 4xx before Bolt parses it.

Bolt answers 500 for a body that is JSON but not an object, a `payload=` form field that is not a JSON
object, a timestamp header that is not a number, or ids of the wrong type where it reads them (a `user` that
is a number, `authorizations` that is not a list of objects); those are the sender's fault, so they get
400 / 401. The payload's shape is checked by `bot.slack.payloads` (the same models the listeners read).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.payload_utils import (
    to_action,
    to_command,
    to_event,
    to_message,
    to_options,
    to_shortcut,
    to_step,
    to_view,
)

from bot.slack import payloads

TIMESTAMP_HEADER = "x-slack-request-timestamp"
_INTEGER = re.compile(r"-?[0-9]{1,18}")


def _object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


#: What Bolt reads from every request before and around any listener (the arguments it offers them all).
_BOLT_READS = (to_options, to_shortcut, to_action, to_view, to_command, to_event, to_message, to_step)


def _bolt_cannot_read(body: dict[str, Any]) -> bool:
    """Bolt's own reading of a payload (its request context, the arguments of every listener) fails on it."""
    try:
        build_async_context(AsyncBoltContext(), body)
        for read in _BOLT_READS:
            read(body)
    except Exception:  # any failure there is a 500 from Bolt: the payload is what is wrong
        return True
    return False


def malformed(body: bytes, headers: Mapping[str, str]) -> tuple[int, str] | None:
    """(status, reason) for a request to refuse before Bolt sees it; None for one to hand on."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    if not _INTEGER.fullmatch(timestamp.strip()):  # ASCII digits only: Bolt's int() takes "١٢٣", not "²"
        return 401, "missing or malformed X-Slack-Request-Timestamp"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "the body is not UTF-8"
    content_type = headers.get("content-type", "")
    if "application/json" in content_type or text.lstrip().startswith(("{", "[", '"')):
        parsed = _object(text)
        if parsed is None:
            return 400, "the JSON body is not an object"
    else:
        payload = parse_qs(text).get("payload")
        if payload is not None:
            parsed = _object(payload[0])
            if parsed is None:
                return 400, "the payload field is not a JSON object"
        else:
            parsed = dict(parse_qsl(text, keep_blank_values=True))
    problem = payloads.problem(parsed)
    if problem is not None:
        return 400, f"not a payload Slack sends ({problem})"
    if _bolt_cannot_read(parsed):
        return 400, "not a payload Slack sends"
    return None
