"""The assistant with a model configured (the OpenAI-compatible emulator): tools follow the caller's role, a
destructive tool call becomes a confirmation, nothing secret reaches the model, and a failing model falls back
to the offline understanding."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import loopback
import pytest
from rig import Bot, message_text, running_inproc_bot

from bot.operations.registry import Registry
from bot.store import AuditQuery
from sandbox.llm import create_app
from sandbox.serving import ServerHandle, serve_in_thread
from sandbox.slack import SlackEmulator

from .helpers import wait_until

API_KEY = "sk-test-model-key-0123456789"
_ts = itertools.count(1)


@pytest.fixture(scope="module")
def llm_server() -> Iterator[ServerHandle]:
    handle = serve_in_thread(create_app(api_key=API_KEY))
    yield handle
    handle.stop()


@pytest.fixture
def llm(llm_server: ServerHandle) -> Iterator[httpx.Client]:
    with loopback.Client(base_url=llm_server.url, timeout=5) as client:
        client.post("/_admin/reset")
        yield client


@pytest.fixture
def bot(slack: SlackEmulator, demo_config_dict: dict, tmp_path: Path, registry: Registry,
        llm_server: ServerHandle) -> Iterator[Bot]:
    with running_inproc_bot(slack, demo_config_dict, tmp_path, registry,
                            projectops_llm_base_url=f"{llm_server.url}/v1", projectops_llm_model="gpt-4o-mini",
                            projectops_llm_api_key=API_KEY) as running:
        yield running


def ask(bot: Bot, text: str, user: str) -> dict[str, Any]:
    ts = f"1810000000.{next(_ts):06d}"
    event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user, "text": text, "ts": ts}
    assert bot.post(bot.requests.event_callback(event)).status_code == 200

    def answered() -> dict | None:
        return next((c.params for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts
                     and any(b.get("type") == "context_actions" for b in c.params.get("blocks") or [])), None)

    return wait_until(answered, timeout=10)


def offered(llm: httpx.Client) -> list[str]:
    bodies = [r["body"] for r in llm.get("/_requests").json()["requests"] if r["path"].endswith("/chat/completions")]
    return [t["function"]["name"] for t in bodies[-1].get("tools") or []]


def test_a_viewers_model_is_offered_reads_only(bot: Bot, llm: httpx.Client) -> None:
    llm.post("/_script", json={"content": "I can list projects for you."})
    ask(bot, "tell me something about my stuff", user="U0VIEWER")
    tools = offered(llm)
    assert "polaris__project__list" in tools
    assert not [t for t in tools if t.endswith(("__delete", "__pause", "__create", "__stop"))]


def test_a_destructive_tool_call_becomes_a_confirmation(bot: Bot, llm: httpx.Client) -> None:
    llm.post("/_script", json={"tool_call": {"name": "polaris__project__pause",
                                             "arguments": {"target": "polaris", "project": "clickstream"}}})
    reply = ask(bot, "could you put the clickstream thing to sleep for a while", user="U0ADMIN")
    assert "/projects pause polaris clickstream" in message_text(reply) and "model:gpt-4o-mini" in message_text(reply)
    buttons = [e["action_id"] for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["projectops_confirm", "projectops_cancel"]
    assert not bot.audit.query(AuditQuery(operation="polaris.project.pause"))
    row = json.loads(bot.audit.query(AuditQuery(operation="assistant.message"))[0]["params"])
    assert row["resolver"] == "model:gpt-4o-mini"
    sent = json.dumps(llm.get("/_requests").json())
    for secret in (API_KEY, "xoxb-e2e-bot-token", "e2e-signing-secret"):
        assert secret not in sent


def test_a_failing_model_falls_back_to_offline(bot: Bot, llm: httpx.Client) -> None:
    llm.post("/_faults", json={"status": 500, "count": -1})
    reply = ask(bot, "how many phoenix projects are there", user="U0VIEWER")
    text = message_text(reply)
    assert "rag-eval" in text and "offline" in text
