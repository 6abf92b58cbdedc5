"""The end-to-end rig: the real app over HTTP, signed Slack requests, the Slack and back-end emulators."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import loopback
import pytest
import yaml
from slack_bolt.async_app import AsyncBoltRequest

from bot.app import ProjectOps, build, http_app, start_background, stop_background
from bot.operations.registry import Registry
from bot.settings import Env, load_config
from sandbox.serving import ServerHandle, serve_in_thread
from sandbox.slack import SlackEmulator, SlackRequestBuilder

SIGNING_SECRET = "e2e-signing-secret-0123456789"
BOT_TOKEN = "xoxb-e2e-bot-token"


@dataclass
class Bot:
    """A running projectops (HTTP mode) plus a way to talk to it like Slack does."""

    url: str
    project: ProjectOps
    slack: SlackEmulator
    requests: SlackRequestBuilder
    http: httpx.Client = field(default_factory=lambda: loopback.Client(timeout=10))

    @property
    def audit(self):
        return self.project.services.audit

    @property
    def store(self):
        return self.project.services.store

    def post(self, signed) -> httpx.Response:
        return self.http.post(f"{self.url}/slack/events", content=signed.body, headers=signed.headers)

    def command(
        self, text: str, user: str = "U0ADMIN", channel: str = "C0OPS", **kw: Any
    ) -> tuple[httpx.Response, str]:
        """Send `/projects <text>`; returns the ack response and the response_url id to wait on."""
        signed = self.requests.slash_command(text, user_id=user, channel_id=channel, **kw)
        return self.post(signed), self.requests.last_response_url_id

    def answer(self, rid: str, timeout: float = 10.0) -> dict[str, Any]:
        """The first message the bot posted to the command's response_url."""
        call = self.slack.wait_for_sync("response_url", lambda c: c.path == f"/response_url/{rid}", timeout)
        return call.params

    def click(self, message: dict[str, Any], action_id: str, user: str = "U0ADMIN",
              channel: str = "C0OPS") -> tuple[httpx.Response, str]:
        """Click the button `action_id` in `message` (a posted payload); returns the ack and its response_url id."""
        message.setdefault("ts", f"{time.time():.6f}")  # the same message keeps its ts across clicks
        signed = self.requests.block_actions([{"action_id": action_id}], user_id=user, channel_id=channel,
                                             message=message)
        return self.post(signed), self.requests.last_response_url_id

    def pick(self, message: dict[str, Any], label: str, user: str = "U0ADMIN", channel: str = "C0OPS",
             menu: dict[str, Any] | None = None) -> tuple[httpx.Response, str]:
        """Choose `label` in an overflow menu of `message` (the first one offering it, unless `menu` is given)."""
        menus = [menu] if menu else [b["accessory"] for b in message.get("blocks", [])
                                     if (b.get("accessory") or {}).get("type") == "overflow"]
        option = next(o for m in menus for o in m["options"] if o["text"]["text"] == label)
        action_id = next(m["action_id"] for m in menus if option in m["options"])
        signed = self.requests.block_actions([{"action_id": action_id, "type": "overflow", "selected_option": option}],
                                             user_id=user, channel_id=channel, message=message)
        return self.post(signed), self.requests.last_response_url_id

    def final_answer(self, rid: str, timeout: float = 15.0) -> dict[str, Any]:
        """The last message posted to a response_url once the bot stops saying it is still running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            posts = self.slack.response_posts(rid)
            if posts and "Running" not in (posts[-1].get("text") or ""):
                return posts[-1]
            time.sleep(0.02)
        raise TimeoutError(f"no final answer at response_url {rid}: {self.slack.response_posts(rid)}")

    def confirm(self, text: str, user: str = "U0ADMIN", channel: str = "C0OPS") -> dict[str, Any]:
        """`/projects <text>` for a destructive operation, then click Confirm; returns the final answer."""
        prompt = self.run(text, user=user, channel=channel)
        assert any(b.get("block_id") == "projectops_confirmation" for b in prompt.get("blocks", [])), prompt
        opened = len(self.slack.calls_to("views.open"))
        ack, rid = self.click(prompt, "projectops_confirm", user=user, channel=channel)
        assert ack.status_code == 200, ack.text
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not self.slack.response_posts(rid):
            if len(self.slack.calls_to("views.open")) > opened:  # typed-name confirmation modal
                self.type_confirmation(user=user)
                break
            time.sleep(0.02)
        return self.final_answer(rid)

    def approve(self, requester_answer: dict[str, Any], approver: str = "U0ADMIN",
                channel: str = "C0OPS") -> dict[str, Any]:
        """Click Approve (as `approver`) on the newest approval request in `channel`; returns the result posted in
        its thread. `requester_answer` is what `confirm` returned ("needs a second person…")."""
        assert "second person" in message_text(requester_answer), requester_answer
        top = [m for m in self.slack.messages(channel) if any(
            b.get("block_id", "").startswith("approval_") for b in m.get("blocks", []))]
        assert top, f"no approval request in {channel}"
        message = top[-1]
        ack, _ = self.click(message, "projectops_approve", user=approver, channel=channel)
        assert ack.status_code == 200, ack.text
        reply = self.slack.wait_for_sync(
            "chat.postMessage", lambda c: c.params.get("thread_ts") == message["ts"], timeout=30)
        return reply.params

    def confirm_and_approve(self, text: str, user: str = "U0OPERATOR", approver: str = "U0ADMIN",
                            channel: str = "C0OPS") -> dict[str, Any]:
        """A destructive command through the whole path: ask, confirm (typing the name where asked), approve."""
        return self.approve(self.confirm(text, user=user, channel=channel), approver=approver, channel=channel)

    def type_confirmation(self, user: str = "U0ADMIN", typed: str | None = None) -> httpx.Response:
        """Submit the open typed-name confirmation modal with the name it asks for (or `typed`)."""
        self.slack.wait_for_sync("views.open")
        view = next(v for v in reversed(list(self.slack.views.values()))
                    if v.get("callback_id") == "projectops_typed_confirm")
        label = view["blocks"][1]["label"]["text"]
        expected = label.removeprefix("Type ").removesuffix(" to confirm")
        signed = self.requests.view_submission(view, user_id=user, values={"typed_name": {"value": typed or expected}})
        response = self.post(signed)
        assert response.status_code == 200, response.text
        return response

    def run(self, text: str, user: str = "U0ADMIN", channel: str = "C0OPS") -> dict[str, Any]:
        """`/projects <text>`, asserting a plain 200 ack, and return the answer."""
        ack, rid = self.command(text, user=user, channel=channel)
        assert ack.status_code == 200, ack.text
        return self.answer(rid)


def message_text(payload: dict[str, Any]) -> str:
    """All the text of a message or view payload, blocks included, for assertions."""
    parts: list[str] = [payload.get("text") or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload.get("blocks") or [])
    return "\n".join(parts)


@contextmanager
def running_bot(slack: SlackEmulator, config: dict[str, Any], workdir: Path,
                registry: Registry | None = None) -> Iterator[Bot]:
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    env = Env(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        projectops_config=config_path,
        projectops_db=workdir / "projectops.db",
    )
    project = build(env, load_config(config_path, environ={}), registry=registry)
    server: ServerHandle = serve_in_thread(http_app(project))
    builder = SlackRequestBuilder(SIGNING_SECRET, response_url_base=slack.response_url_base)
    if hasattr(builder, "attach"):
        builder.attach(slack)
    bot = Bot(url=server.url, project=project, slack=slack, requests=builder)
    try:
        yield bot
    finally:
        bot.http.close()
        server.stop()
        project.services.store.close()


# -- in process ------------------------------------------------------------------------------------------------
# The same app and the same signed bytes, handed to Bolt's `async_dispatch` instead of uvicorn: Bolt's request
# verification still checks every signature, and the app's loop (listeners, lazy work, the approval sweeper and
# the scheduler) runs in a background thread, so sync tests drive it exactly like the HTTP `Bot`.


class AppLoop:
    """An asyncio event loop running forever in a daemon thread; `call` runs a coroutine on it and waits."""

    def __init__(self, name: str = "projectops-inproc") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coroutine: Any, timeout: float | None = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        """Cancel whatever still runs (listener tasks Bolt left after the ack), then stop and close the loop."""

        async def cancel_the_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=5)
            await self.loop.shutdown_asyncgens()

        if self.loop.is_running():
            with contextlib.suppress(Exception):
                self.call(cancel_the_rest(), timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
        if not self.loop.is_running():
            self.loop.close()


@dataclass
class InprocBot(Bot):
    """`Bot`'s interface without a server: each signed request goes through `AsyncApp.async_dispatch`."""

    app_loop: AppLoop | None = None

    def post(self, signed) -> httpx.Response:
        assert self.app_loop is not None
        request = AsyncBoltRequest(body=signed.body.decode(), headers=dict(signed.headers))
        response = self.app_loop.call(self.project.bolt.async_dispatch(request))
        return httpx.Response(
            response.status,
            headers=[(k, v) for k, values in response.headers.items() for v in values],
            content=(response.body or "").encode(),
            request=httpx.Request("POST", f"{self.url}/slack/events"),
        )

    def on_app_loop(self, coroutine: Any, timeout: float | None = 20.0) -> Any:
        """Run `coroutine` on the app's own loop (where its HTTP clients and background duties live)."""
        assert self.app_loop is not None
        return self.app_loop.call(coroutine, timeout)


def build_project(slack: SlackEmulator, config: dict[str, Any], workdir: Path,
                  registry: Registry | None = None, **env_extra: Any) -> ProjectOps:
    """The real app, as `projectops run` builds it: config file on disk, SQLite in `workdir`, Slack emulated."""
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    env = Env(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        projectops_config=config_path,
        projectops_db=workdir / "projectops.db",
        **env_extra,
    )
    return build(env, load_config(config_path, environ={}), registry=registry)


def close_project_store(project: ProjectOps) -> None:
    project.services.store.close()


@contextmanager
def running_inproc_bot(slack: SlackEmulator, config: dict[str, Any], workdir: Path,
                       registry: Registry | None = None, **env_extra: Any) -> Iterator[InprocBot]:
    """projectops in process: `start_background` on its own loop, requests dispatched to Bolt directly.

    `env_extra` sets more of the environment (`projectops_llm_base_url=…` for a model)."""
    project = build_project(slack, config, workdir, registry, **env_extra)
    app_loop = AppLoop()
    builder = SlackRequestBuilder(SIGNING_SECRET, response_url_base=slack.response_url_base)
    if hasattr(builder, "attach"):
        builder.attach(slack)
    bot = InprocBot(url="http://inproc.invalid", project=project, slack=slack, requests=builder, app_loop=app_loop)

    async def start() -> list[asyncio.Task]:
        return start_background(project)

    background = app_loop.call(start())
    try:
        yield bot
    finally:
        try:
            app_loop.call(stop_background(project, background), timeout=20)
        finally:
            app_loop.close()
            bot.http.close()
            close_project_store(project)


class WireLog:
    """ASGI middleware that records each request reaching the wrapped app as (method, path): what really went
    over the wire to the back-end emulators. Control paths (`/<kind>/_admin`, `/_faults`) are left out."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and "/_" not in scope["path"]:
            with self.lock:
                self.requests.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def calls(self, method: str | None = None, path_prefix: str = "") -> list[tuple[str, str]]:
        """Recorded requests, oldest first, filtered by method and path prefix (e.g. "/phoenix/v1/projects")."""
        with self.lock:
            return [(m, p) for m, p in self.requests
                    if (method is None or m == method) and p.startswith(path_prefix)]


# -- the fixtures ----------------------------------------------------------------------------------------------

Rig = Callable[..., AbstractContextManager[Bot]]


def bot_fixtures(rig: Rig, name: str = "bot", make_name: str = "make_bot") -> tuple[Any, Any]:
    """A conftest's two fixtures running projectops through `rig` (`running_bot` or `running_inproc_bot`):

        bot, make_bot = bot_fixtures(running_bot)

    `name` is configured with one target per emulated back end and the demo roles; `make_name` takes a config of
    the test's choosing, `with make_bot(config) as bot: ...`."""

    def bot(slack: SlackEmulator, demo_config_dict: dict, tmp_path: Path, registry: Registry) -> Iterator[Bot]:
        """projectops, configured with one target per emulated back end and the demo roles."""
        with rig(slack, demo_config_dict, tmp_path, registry) as running:
            yield running

    def make_bot(slack: SlackEmulator, tmp_path: Path, registry: Registry) -> Callable[[dict], Any]:
        """Start projectops with a config of the test's choosing: `with make_bot(config) as bot: ...`."""

        def factory(config: dict):
            return rig(slack, config, tmp_path, registry)

        return factory

    return pytest.fixture(bot, name=name), pytest.fixture(make_bot, name=make_name)
