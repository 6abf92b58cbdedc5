"""bot.logs: JSON lines with the audit and Slack request ids, secrets scrubbed, text the default."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pydantic import BaseModel
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncBoltRequest

from bot import logs
from bot.operations.base import Actor, Operation, OpRequest, Rendered, Risk
from bot.operations.executor import execute
from bot.operations.registry import Registry
from bot.redact import register_secret
from bot.slack.middleware import observe_request


@pytest.fixture
def captured():
    """The root logger writing to a buffer in `fmt`: `lines()` are what it wrote."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buffer = io.StringIO()
    # earlier tests (servers started in process, the CLI) may have quietened or detached these loggers
    loggers = [logging.getLogger(name) for name in ("projectops", "projectops.test", "projectops.ops",
                                                     "projectops.executor")]
    kept = [(lg.level, lg.propagate, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.NOTSET)
        lg.propagate, lg.disabled = True, False

    def use(fmt: str):
        root.handlers[:] = [logs.handler(fmt, buffer)]
        root.setLevel(logging.INFO)
        return lambda: [line for line in buffer.getvalue().splitlines() if line]

    yield use
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for lg, (level, propagate, disabled) in zip(loggers, kept, strict=True):
        lg.setLevel(level)
        lg.propagate, lg.disabled = propagate, disabled


def test_json_lines_carry_time_level_logger_message_and_the_ids(captured) -> None:
    lines = captured("json")
    log = logging.getLogger("projectops.test")
    log.info("before anything is known")
    request_token = logs.slack_request_id.set("Ev0123")
    audit_token = logs.audit_id.set(42)
    try:
        log.warning("deleting %s", "rag-eval")
    finally:
        logs.audit_id.reset(audit_token)
        logs.slack_request_id.reset(request_token)
    first, second = (json.loads(line) for line in lines())
    assert set(first) == {"time", "level", "logger", "message"} and first["level"] == "INFO"
    assert first["time"].endswith("+00:00") and first["logger"] == "projectops.test"
    assert second["message"] == "deleting rag-eval" and second["level"] == "WARNING"
    assert second["audit_id"] == 42 and second["slack_request_id"] == "Ev0123"


def test_secrets_never_reach_a_line_in_either_format(captured) -> None:
    register_secret("s3cr3t-value-for-logs")
    for fmt in ("json", "text"):
        lines = captured(fmt)
        log = logging.getLogger("projectops.test")
        log.error("token xoxb-1234567890-abcdef and %s", "s3cr3t-value-for-logs")
        try:
            raise RuntimeError("inside: s3cr3t-value-for-logs")
        except RuntimeError:
            log.exception("failed")
        text = "\n".join(lines())
        assert "s3cr3t-value-for-logs" not in text and "xoxb-1234567890" not in text and "***" in text
        if fmt == "json":
            entries = [json.loads(line) for line in lines()]
            assert "RuntimeError" in entries[-1]["exception"]


def test_text_stays_the_default_and_unknown_formats_are_refused(captured) -> None:
    lines = captured("text")
    logging.getLogger("projectops.test").info("plain")
    assert lines()[-1].endswith("INFO projectops.test: plain")
    with pytest.raises(ValueError):
        logs.handler("xml")


class Params(BaseModel):
    name: str = "p"


async def test_an_operation_logs_under_its_audit_id_and_the_slack_request(captured, make_services) -> None:
    lines = captured("json")
    services = make_services({"targets": {"pol": {"kind": "polaris", "url": "http://x"}},
                              "roles": {"operator": ["UOPS"]}}, registry=Registry())

    async def run(ctx, params):
        logging.getLogger("projectops.ops").info("running")
        return "done"

    op = Operation(name="thing.do", summary="do", params=Params, risk=Risk.WRITE, run=run,
                   render=lambda v, c: Rendered(str(v)), kind="polaris")
    request = AsyncBoltRequest(body="", context={})
    request.body = {"command": "/projects", "text": "thing do", "trigger_id": "13345.98.abc"}

    async def go_on() -> None:
        return None

    await observe_request(services)(request, BoltResponse(status=200), go_on)  # as Bolt runs it per request
    result = await execute(services, OpRequest(operation=op, actor=Actor(user_id="UOPS", channel_id="C1"),
                                               params=Params(), target="pol"))
    logging.getLogger("projectops.after").info("answered")
    running, answered = (json.loads(line) for line in lines())
    assert running["audit_id"] == result.audit_id and running["slack_request_id"] == "13345.98.abc"
    assert "audit_id" not in answered and answered["slack_request_id"] == "13345.98.abc"  # the operation is over
