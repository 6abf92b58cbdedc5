"""The app's log lines: text (the default) or one JSON object a line, with secrets scrubbed either way.

Two context variables say what a line is about, when known: the Slack request (set by the Bolt middleware from
the payload's `event_id` or `trigger_id`) and the audit row (set by the executor once an operation's row is
written). asyncio copies them into the tasks and threads (`asyncio.to_thread`) a request starts.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from bot.redact import scrub

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: The Slack request being handled: its `event_id` (Events API) or `trigger_id` (commands, interactivity).
slack_request_id: ContextVar[str] = ContextVar("projectops_slack_request_id", default="")
#: The audit row of the operation being run.
audit_id: ContextVar[int | None] = ContextVar("projectops_audit_id", default=None)


class ContextFilter(logging.Filter):
    """Scrub the message and note the Slack request and audit id the line was logged under."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        record.slack_request_id = slack_request_id.get()
        record.audit_id = audit_id.get()
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message`, the whole line (tracebacks too) scrubbed."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and audit_id / slack_request_id when known."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        audit = getattr(record, "audit_id", None)
        if audit is not None:
            line["audit_id"] = audit
        request = getattr(record, "slack_request_id", "")
        if request:
            line["slack_request_id"] = request
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = scrub(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(fmt: str = "text", stream: Any = None) -> logging.Handler:
    """A stream handler (stderr by default) writing `fmt` lines."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = logging.StreamHandler(stream or sys.stderr)
    out.addFilter(ContextFilter())
    out.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return out


def setup_logging(level: str = "info", fmt: str = "text", stream: Any = None) -> None:
    """Route every logger (uvicorn's too, when it is told not to configure its own) through one handler."""
    logging.basicConfig(level=level.upper(), handlers=[handler(fmt, stream)], force=True)


def announce(message: str, logger: str = "projectops") -> None:
    """A start-up line (what is served where) through the configured handlers whatever the level: in the json
    format too it is a JSON line."""
    target = logging.getLogger(logger)
    target.handle(target.makeRecord(logger, logging.INFO, "(projectops)", 0, message, (), None))
