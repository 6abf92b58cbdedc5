"""The HTTP edge: a request Slack could not have sent is answered 4xx before Bolt parses it.

Bolt answers 500 for a body that is JSON but not an object, a `payload=` form field that is not a JSON
object, or a timestamp header that is not a number; those are the sender's fault, so they get 400 / 401.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import parse_qs

TIMESTAMP_HEADER = "x-slack-request-timestamp"


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def malformed(body: bytes, headers: Mapping[str, str]) -> tuple[int, str] | None:
    """(status, reason) for a request to refuse before Bolt sees it; None for one to hand on."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    if not timestamp.strip().lstrip("-").isdigit():
        return 401, "missing or malformed X-Slack-Request-Timestamp"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "the body is not UTF-8"
    content_type = headers.get("content-type", "")
    if "application/json" in content_type or text.lstrip().startswith(("{", "[", '"')):
        return None if _is_object(text) else (400, "the JSON body is not an object")
    payload = parse_qs(text).get("payload")
    if payload is not None and not _is_object(payload[0]):
        return 400, "the payload field is not a JSON object"
    return None
