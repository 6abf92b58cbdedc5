"""Slack Web API emulator (Starlette) with Slack's own rules built in, for tests and the playground.

Serves ``POST|GET /api/<method>`` (point ``WebClient(base_url=emulator.api_url)`` at it),
``POST /response_url/<id>`` (what Bolt's ``respond()`` posts to) and ``POST /upload/<file_id>``
(the upload step of ``files_upload_v2``). Every call is recorded; payloads are checked with
`sandbox.slack.blockkit.validate`; trigger_id / response_url / view hash / push limits and rate
limits behave as Slack documents them (notes/slack.md §2).

Slack's agent surfaces are emulated too (notes/assistant.md §1): ``assistant.threads.setStatus``,
``assistant.threads.setSuggestedPrompts`` and ``assistant.threads.setTitle`` are validated like the real
methods and their state is kept per channel and thread (`assistant_status`, `suggested_prompts`,
`thread_title`) for tests and the playground; a status clears when the bot posts in its thread or after
two minutes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import mimetypes
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.serving import ServerHandle, serve_in_thread
from sandbox.slack.blockkit import Surface, validate
from sandbox.slack.identity import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, name_from_id

SCOPES = (
    "chat:write,commands,users:read,channels:read,groups:read,im:read,usergroups:read,files:write,"
    "assistant:write"
)
TRIGGER_RE = re.compile(r"\d+\.\d+\.\w+")
JSON_FIELDS = ("blocks", "view", "attachments", "files", "metadata", "prompts", "loading_messages")
RESPONSE_URL_USES = 5
TS_RE = re.compile(r"\d+\.\d+")
CHANNEL_RE = re.compile(r"[CDG][A-Z0-9]+")
#: assistant.threads.setSuggestedPrompts: "up to four suggested prompts".
MAX_SUGGESTED_PROMPTS = 4
#: assistant.threads.setStatus: "Maximum of 10 messages" in loading_messages.
MAX_LOADING_MESSAGES = 10
#: "A two minute timeout applies, which will cause the status to be removed if no message has been sent."
STATUS_TTL = 120.0


@dataclass
class RecordedCall:
    """One request the emulator answered (Web API method, response_url post or file upload)."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    ok: bool
    error: str | None
    at: float
    path: str = ""


@dataclass
class Rejection:
    """A payload refused by Block Kit validation."""

    method: str
    errors: list[str]
    payload: dict[str, Any]
    at: float


@dataclass
class UploadedFile:
    """A file uploaded through files.getUploadURLExternal -> upload URL -> files.completeUploadExternal."""

    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None
    alt_txt: str | None = None
    completed: bool = False

    @property
    def text(self) -> str:
        """The content decoded as UTF-8 (CSV and other text files)."""
        return (self.content or b"").decode()


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None
    count: int


@dataclass
class _Trigger:
    issued_at: float
    view_id: str | None = None
    used: bool = False
    user_id: str | None = None


@dataclass
class _ResponseUrl:
    created_at: float
    channel_id: str | None = None
    message_ts: str | None = None
    user_id: str | None = None
    uses: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AssistantStatus:
    """A thread's status line (``assistant.threads.setStatus``): "projectops is thinking…"."""

    status: str
    loading_messages: list[str]
    set_at: float


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error": error, **extra}`` with an HTTP status."""

    def __init__(self, error: str, status: int = 200, retry_after: int | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.status, self.retry_after, self.extra = error, status, retry_after, extra


class SlackWebApi:
    """In-memory Slack workspace behind a Web API; see the module docstring. `routes` are served beside the
    Web API on the same app (`sandbox.slack.emulator.SlackEmulator` adds the playground and Socket Mode)."""

    def __init__(self, base_url: str | None = None, routes: Sequence[BaseRoute] = ()) -> None:
        self.base_url = base_url
        self._lock = threading.RLock()
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "usergroups.users.list": self._usergroups_users_list,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "apps.connections.open": self._apps_connections_open,
            "assistant.threads.setStatus": self._assistant_set_status,
            "assistant.threads.setSuggestedPrompts": self._assistant_set_suggested_prompts,
            "assistant.threads.setTitle": self._assistant_set_title,
        }
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/api/{method}", self._api_endpoint, methods=["GET", "POST"]),
                Route("/response_url/{rid}", self._response_url_endpoint, methods=["POST"]),
                Route("/upload/{file_id}", self._upload_endpoint, methods=["POST"]),
                *routes,
            ]
        )

    # -- setup -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to a fresh workspace: default users and settings; no calls, messages, views, files,
        triggers, response_urls, failures or rejections. Only `base_url` is kept."""
        with self._lock:
            self.strict = True
            self.enforce_post_rate = False
            self.trigger_ttl = 3.0
            self.response_url_ttl = 30 * 60.0
            self.users: dict[str, dict[str, Any]] = {}
            self.channels: dict[str, dict[str, Any]] = {}
            self.usergroups: dict[str, list[str]] = {}
            for user_id, name, is_admin in (
                ("U0ADMIN", "admin", True),
                ("U0OPERATOR", "operator", False),
                ("U0VIEWER", "viewer", False),
                (BOT_USER_ID, "projectops", False),
            ):
                self.add_user(user_id, name, is_admin=is_admin)
            bot = self.users[BOT_USER_ID]
            bot.update(is_bot=True, profile={**bot["profile"], "bot_id": BOT_ID})
            self.calls: list[RecordedCall] = []
            self.rejections: list[Rejection] = []
            self.element_types_seen: set[str] = set()
            self.files: dict[str, UploadedFile] = {}
            self.views: dict[str, dict[str, Any]] = {}
            self.ephemerals: list[dict[str, Any]] = []
            self.view_users: dict[str, str] = {}
            self._messages: dict[str, dict[str, dict[str, Any]]] = {}
            self._homes: dict[str, str] = {}
            self._stacks: dict[str, list[str]] = {}
            self._triggers: dict[str, _Trigger] = {}
            self._response_urls: dict[str, _ResponseUrl] = {}
            self._failures: dict[str, list[_Failure]] = {}
            self._post_buckets: dict[str, tuple[float, float]] = {}
            self._last_ts = 0
            self._counter = 0
            self.status_ttl = STATUS_TTL
            self._statuses: dict[tuple[str, str], AssistantStatus] = {}
            self._prompts: dict[tuple[str, str | None], dict[str, Any]] = {}
            self._titles: dict[tuple[str, str], str] = {}

    def add_user(
        self,
        user_id: str,
        name: str,
        tz: str = "Europe/London",
        tz_offset: int = 0,
        is_admin: bool = False,
        email: str | None = None,
    ) -> dict[str, Any]:
        """Add or replace a user that users.info returns."""
        real_name = name.replace(".", " ").title()
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset,
            "is_admin": is_admin,
            "is_owner": False,
            "is_bot": False,
            "is_app_user": False,
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "email": email or f"{name}@example.com",
                "team": TEAM_ID,
            },
        }
        with self._lock:
            self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str, is_private: bool = False, is_member: bool = True,
                    is_archived: bool = False) -> None:
        """Name a channel (any C…/G…/D… id works without this; the name then comes from the id). With
        `is_member=False` the app is not in it: chat.postMessage answers `not_in_channel`, and a private one is
        invisible (`channel_not_found`) as in Slack. An archived channel refuses posts with `is_archived`."""
        with self._lock:
            self.channels[channel_id] = {"name": name, "is_private": is_private, "is_member": is_member,
                                         "is_archived": is_archived}

    def set_usergroup(self, usergroup_id: str, users: list[str]) -> None:
        """Set the members usergroups.users.list returns for `usergroup_id`."""
        with self._lock:
            self.usergroups[usergroup_id] = list(users)

    def channel_name(self, channel_id: str) -> str:
        """The channel's configured name, else one derived from its id."""
        return self.channels.get(channel_id, {}).get("name") or name_from_id(channel_id)

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        status: int | None = None,
        retry_after: int = 1,
        count: int = 1,
    ) -> None:
        """Answer the next `count` calls of `method` (or "response_url") with `error`.

        ``ratelimited`` defaults to HTTP 429 with a Retry-After header; other errors to HTTP 200.
        """
        status = status if status is not None else (429 if error == "ratelimited" else 200)
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(error, status, retry_after if status == 429 else None, count)
            )

    def register_trigger(
        self,
        trigger_id: str,
        issued_at: float | None = None,
        view_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Record a trigger_id as issued at `issued_at` (now by default), optionally from inside a view;
        views opened with it belong to `user_id` (see `view_users`)."""
        with self._lock:
            issued = issued_at if issued_at is not None else time.time()
            self._triggers[trigger_id] = _Trigger(issued, view_id, user_id=user_id)

    def register_response_url(
        self,
        rid: str,
        channel_id: str | None = None,
        message_ts: str | None = None,
        user_id: str | None = None,
        created_at: float | None = None,
    ) -> None:
        """Tie a response_url id to the message it came from, so replace/delete_original can act on it."""
        with self._lock:
            self._response_urls[rid] = _ResponseUrl(
                created_at if created_at is not None else time.time(), channel_id, message_ts, user_id
            )

    def serve(self) -> ServerHandle:
        """Run on a free local port in a background thread; sets `base_url`."""
        handle = serve_in_thread(self.app)
        self.base_url = handle.url
        return handle

    # -- URLs --------------------------------------------------------------------------------

    def _base(self) -> str:
        if not self.base_url:
            raise RuntimeError("emulator.base_url is not set; use emulator.serve() or set base_url")
        return self.base_url.rstrip("/")

    @property
    def api_url(self) -> str:
        """The base_url to give slack_sdk clients (ends in ``/api/``)."""
        return f"{self._base()}/api/"

    @property
    def response_url_base(self) -> str:
        """Prefix for response_urls (give it to SlackRequestBuilder)."""
        return f"{self._base()}/response_url/"

    def response_url(self, rid: str) -> str:
        """The full response_url for id `rid`."""
        return self.response_url_base + rid

    # -- inspection --------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls of `method` ("chat.update", "response_url", "upload", …), oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def last(self, method: str) -> RecordedCall | None:
        """The latest recorded call of `method`, if any."""
        found = self.calls_to(method)
        return found[-1] if found else None

    def _match(self, method: str, predicate: Callable[[RecordedCall], bool] | None) -> RecordedCall | None:
        return next((c for c in self.calls_to(method) if predicate is None or predicate(c)), None)

    async def wait_for(
        self, method: str, predicate: Callable[[RecordedCall], bool] | None = None, timeout: float = 5.0
    ) -> RecordedCall:
        """The first recorded call of `method` matching `predicate`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (found := self._match(method, predicate)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(self._timeout_message(method, timeout))
            await asyncio.sleep(0.01)
        return found

    def wait_for_sync(
        self, method: str, predicate: Callable[[RecordedCall], bool] | None = None, timeout: float = 5.0
    ) -> RecordedCall:
        """Blocking `wait_for`."""
        deadline = time.monotonic() + timeout
        while (found := self._match(method, predicate)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(self._timeout_message(method, timeout))
            time.sleep(0.01)
        return found

    def _timeout_message(self, method: str, timeout: float) -> str:
        seen = [f"{c.method}({'ok' if c.ok else c.error})" for c in self.calls[-10:]]
        return f"no matching {method} call within {timeout}s; last calls: {seen}"

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages stored in `channel` (as edited), oldest first; thread replies included."""
        with self._lock:
            stored = self._messages.get(self._resolve_channel(channel), {})
            return [copy.deepcopy(m) for _, m in sorted(stored.items())]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One stored message by channel and ts."""
        with self._lock:
            found = self._messages.get(self._resolve_channel(channel), {}).get(ts)
            return copy.deepcopy(found) if found else None

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for `user_id`."""
        with self._lock:
            view_id = self._homes.get(user_id)
            return copy.deepcopy(self.views[view_id]) if view_id else None

    def assistant_status(self, channel: str, thread_ts: str) -> AssistantStatus | None:
        """The status shown in a thread (``assistant.threads.setStatus``), unless cleared or expired."""
        with self._lock:
            key = (self._resolve_channel(channel), thread_ts)
            status = self._statuses.get(key)
            if status is not None and time.time() - status.set_at > self.status_ttl:
                del self._statuses[key]
                return None
            return copy.deepcopy(status)

    def assistant_statuses(self, channel: str) -> dict[str, AssistantStatus]:
        """Every live status in `channel`, by thread_ts."""
        with self._lock:
            channel = self._resolve_channel(channel)
            threads = [ts for (ch, ts) in list(self._statuses) if ch == channel]
            found = {ts: self.assistant_status(channel, ts) for ts in threads}
            return {ts: status for ts, status in found.items() if status is not None}

    def suggested_prompts(self, channel: str, thread_ts: str | None = None) -> dict[str, Any] | None:
        """``{"title": str | None, "prompts": [{"title", "message"}, …]}`` last set for the channel (the agent
        view's Messages tab: no thread_ts) or for one thread."""
        with self._lock:
            found = self._prompts.get((self._resolve_channel(channel), thread_ts))
            return copy.deepcopy(found) if found else None

    def thread_prompts(self, channel: str) -> dict[str, dict[str, Any]]:
        """Suggested prompts set for single threads of `channel`, by thread_ts."""
        with self._lock:
            channel = self._resolve_channel(channel)
            return {ts: copy.deepcopy(p) for (ch, ts), p in self._prompts.items() if ch == channel and ts}

    def thread_title(self, channel: str, thread_ts: str) -> str | None:
        """The title set with ``assistant.threads.setTitle``."""
        with self._lock:
            return self._titles.get((self._resolve_channel(channel), thread_ts))

    def thread_titles(self, channel: str) -> dict[str, str]:
        """Every thread title of `channel`, by thread_ts."""
        with self._lock:
            channel = self._resolve_channel(channel)
            return {ts: title for (ch, ts), title in self._titles.items() if ch == channel}

    def add_user_message(self, channel: str, user: str, text: str, thread_ts: str | None = None,
                         ts: str | None = None) -> dict[str, Any]:
        """Store a message a person wrote (what Slack holds before it sends the event); returns it."""
        with self._lock:
            channel = self._resolve_channel(channel)
            message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts or self._next_ts(),
                                       "team": TEAM_ID}
            if thread_ts:
                message["thread_ts"] = thread_ts
                parent = self._messages.get(channel, {}).get(thread_ts)
                if parent is not None:
                    message["parent_user_id"] = parent.get("user")
            self._store(channel, message)
            return copy.deepcopy(message)

    def response_posts(self, rid: str) -> list[dict[str, Any]]:
        """Payloads accepted at response_url `rid`."""
        with self._lock:
            state = self._response_urls.get(rid)
            return copy.deepcopy(state.posts) if state else []

    def assert_no_rejections(self) -> None:
        """Raise AssertionError listing every payload refused by Block Kit validation."""
        if self.rejections:
            lines = [f"{r.method}: {'; '.join(r.errors)}" for r in self.rejections]
            raise AssertionError("Slack would reject these payloads:\n" + "\n".join(lines))

    # -- HTTP endpoints ----------------------------------------------------------------------

    async def _api_endpoint(self, request: Request) -> Response:
        method = request.path_params["method"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            params = await _read_params(request)
        except ValueError:
            params, bad_body = {}, True
        else:
            bad_body = False
        self._request_base = str(request.base_url).rstrip("/")
        with self._lock:
            try:
                if bad_body:
                    raise ApiError("invalid_json")
                result = self._call(method, params, headers)
            except ApiError as exc:
                self._record(method, params, headers, exc.error, f"/api/{method}")
                return _error_response(exc)
            self._record(method, params, headers, None, f"/api/{method}")
        return JSONResponse({"ok": True, **result}, headers={"x-oauth-scopes": SCOPES})

    def _call(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        handler = self._handlers.get(method)
        if handler is None:
            raise ApiError("unknown_method")
        token = params.pop("token", None)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if not token:
            raise ApiError("not_authed")
        if not token.startswith(("xoxb-", "xoxp-", "xapp-")):
            raise ApiError("invalid_auth")
        if token.startswith("xapp-") != (method == "apps.connections.open"):
            raise ApiError("not_allowed_token_type")
        self._take_failure(method)
        return handler(params)

    def _take_failure(self, method: str) -> None:
        queue = self._failures.get(method)
        if not queue:
            return
        failure = queue[0]
        failure.count -= 1
        if failure.count <= 0:
            queue.pop(0)
        raise ApiError(failure.error, failure.status, failure.retry_after)

    def _record(
        self, method: str, params: dict[str, Any], headers: dict[str, str], error: str | None, path: str
    ) -> None:
        self.calls.append(RecordedCall(method, params, headers, error is None, error, time.time(), path))

    async def _response_url_endpoint(self, request: Request) -> Response:
        rid = request.path_params["rid"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            payload = json.loads(await request.body() or b"{}")
            if not isinstance(payload, dict):
                raise ValueError
        except ValueError:
            payload = {}
            exc: ApiError | None = ApiError("invalid_payload", 400)
        else:
            exc = None
        path = f"/response_url/{rid}"
        with self._lock:
            try:
                if exc:
                    raise exc
                self._take_failure("response_url")
                self._respond(rid, _decode_json_fields(payload))
            except ApiError as err:
                self._record("response_url", payload, headers, err.error, path)
                return _error_response(err)
            self._record("response_url", payload, headers, None, path)
        return JSONResponse({"ok": True})

    async def _upload_endpoint(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        path = f"/upload/{file_id}"
        with self._lock:
            upload = self.files.get(file_id)
            if upload is None:
                self._record("upload", {"file_id": file_id, "size": len(body)}, headers, "file_not_found", path)
                return PlainTextResponse("file_not_found", status_code=404)
            upload.content = body
            self._record("upload", {"file_id": file_id, "size": len(body)}, headers, None, path)
        return PlainTextResponse(f"OK - {len(body)}")

    # -- helpers -----------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:08d}"

    def _next_ts(self) -> str:
        micros = max(int(time.time() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _resolve_channel(self, channel: str) -> str:
        return "D" + channel[1:] if channel.startswith(("U", "W")) else channel

    def _check_blocks(self, method: str, payload: dict[str, Any], surface: Surface) -> None:
        seen: set[str] = set()
        errors = validate(payload, surface, seen)
        if errors:
            if self.strict:
                self.rejections.append(Rejection(method, errors, copy.deepcopy(payload), time.time()))
            raise ApiError("invalid_blocks", errors=errors, response_metadata={"messages": errors})
        self.element_types_seen |= seen

    def _channel_param(self, params: dict[str, Any]) -> str:
        channel = params.get("channel")
        if not channel or not isinstance(channel, str):
            raise ApiError("channel_not_found")
        return self._resolve_channel(channel)

    def _new_message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if params.get(key) is not None:
                message[key] = copy.deepcopy(params[key])
        return message

    def _store(self, channel: str, message: dict[str, Any]) -> None:
        stored = self._messages.setdefault(channel, {})
        stored[message["ts"]] = message
        parent = stored.get(message.get("thread_ts") or "")
        if parent is not None and parent is not message:
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent.setdefault("thread_ts", parent["ts"])

    def _rate_limit_post(self, channel: str) -> None:
        """Token bucket per channel: bursts of 3, then 1 message per second."""
        now = time.monotonic()
        tokens, last = self._post_buckets.get(channel, (3.0, now))
        tokens = min(3.0, tokens + (now - last))
        if tokens < 1:
            self._post_buckets[channel] = (tokens, now)
            raise ApiError("ratelimited", 429, retry_after=1)
        self._post_buckets[channel] = (tokens - 1, now)

    def _view_object(self, view: dict[str, Any], view_id: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type"),
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
            **extra,
        }

    def _use_trigger(self, trigger_id: Any) -> _Trigger:
        if not isinstance(trigger_id, str) or not trigger_id:
            raise ApiError("invalid_trigger_id")
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            if not TRIGGER_RE.fullmatch(trigger_id):
                raise ApiError("invalid_trigger_id")
            trigger = self._triggers[trigger_id] = _Trigger(time.time())
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if time.time() - trigger.issued_at > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger

    def _view_param(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            raise ApiError("invalid_arguments", response_metadata={"messages": ["view must be a JSON object"]})
        return view

    def _check_external_id(self, view: dict[str, Any], own_id: str | None = None) -> None:
        external_id = view.get("external_id")
        if external_id and any(v.get("external_id") == external_id and vid != own_id for vid, v in self.views.items()):
            raise ApiError("duplicate_external_id")

    def _respond(self, rid: str, payload: dict[str, Any]) -> None:
        """Apply a response_url post the way Slack does."""
        now = time.time()
        state = self._response_urls.setdefault(rid, _ResponseUrl(now))
        if now - state.created_at > self.response_url_ttl:
            raise ApiError("expired_url", 404)
        if state.uses >= RESPONSE_URL_USES:
            raise ApiError("used_url", 404)
        if not payload.get("delete_original"):
            try:
                self._check_blocks("response_url", payload, "message")
            except ApiError as exc:
                exc.status = 400
                raise
        state.uses += 1
        state.posts.append(copy.deepcopy(payload))
        channel, ts = state.channel_id, state.message_ts
        original = self._messages.get(channel or "", {}).get(ts or "")
        if payload.get("delete_original"):
            if original is not None:
                del self._messages[channel or ""][ts or ""]
        elif payload.get("replace_original") and channel and ts:
            message = self._new_message(payload, ts)
            if original is not None:
                message = {**original, **message, "edited": {"user": BOT_USER_ID, "ts": self._next_ts()}}
                for key in ("blocks", "attachments"):
                    if key not in payload:
                        message.pop(key, None)
            self._messages.setdefault(channel, {})[ts] = message
        elif payload.get("response_type") == "in_channel" and channel:
            self._store(channel, self._new_message(payload, self._next_ts()))
        else:
            self.ephemerals.append(
                {
                    "channel": channel,
                    "user": state.user_id,
                    "message": self._new_message(payload, self._next_ts()),
                    "rid": rid,
                    "replace_original": bool(payload.get("replace_original")),
                }
            )

    # -- methods -----------------------------------------------------------------------------

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "ProjectOps",
            "user": "projectops",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_param(params)
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise ApiError("no_text")
        self._check_blocks("chat.postMessage", params, "message")
        config = self.channels.get(channel, {})
        if config.get("is_archived"):
            raise ApiError("is_archived")
        if not config.get("is_member", True):
            private = channel.startswith("G") or config.get("is_private")
            raise ApiError("channel_not_found" if private else "not_in_channel")
        if self.enforce_post_rate:
            self._rate_limit_post(channel)
        message = self._new_message(params, self._next_ts())
        self._store(channel, message)
        self._statuses.pop((channel, message.get("thread_ts") or ""), None)  # a reply clears the status
        return {"channel": channel, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_param(params)
        ts = params.get("ts")
        stored = self._messages.get(channel, {})
        if not isinstance(ts, str) or ts not in stored:
            raise ApiError("message_not_found")
        self._check_blocks("chat.update", params, "message")
        message = stored[ts]
        if "text" in params:
            message["text"] = params.get("text") or ""
        for key in ("blocks", "attachments", "metadata"):
            if params.get(key) is not None:
                message[key] = copy.deepcopy(params[key])
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {"channel": channel, "ts": ts, "text": message["text"], "message": copy.deepcopy(message)}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_param(params)
        if not params.get("user"):
            raise ApiError("user_not_found")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            raise ApiError("no_text")
        self._check_blocks("chat.postEphemeral", params, "message")
        message = self._new_message(params, self._next_ts())
        self.ephemerals.append({"channel": channel, "user": params["user"], "message": message})
        return {"message_ts": message["ts"]}

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_param(params)
        ts = params.get("ts")
        stored = self._messages.get(channel, {})
        if not isinstance(ts, str) or ts not in stored:
            raise ApiError("message_not_found")
        message = stored.pop(ts)
        parent = stored.get(message.get("thread_ts") or "")
        if parent is not None and parent.get("reply_count"):
            parent["reply_count"] -= 1
        return {"channel": channel, "ts": ts}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._view_param(params)
        trigger = self._use_trigger(params.get("trigger_id"))
        self._check_blocks("views.open", view, "modal")
        self._check_external_id(view)
        view_id = self._next_id("V")
        if trigger.user_id:
            self.view_users[view_id] = trigger.user_id
        self.views[view_id] = self._view_object(view, view_id)
        self._stacks[view_id] = [view_id]
        return {"view": copy.deepcopy(self.views[view_id])}

    def _views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._view_param(params)
        trigger = self._use_trigger(params.get("trigger_id"))
        self._check_blocks("views.push", view, "modal")
        self._check_external_id(view)
        source = self.views.get(trigger.view_id or "")
        root = source["root_view_id"] if source else next(reversed(self._stacks), None)
        stack = self._stacks.setdefault(root, []) if root else None
        if stack is not None and len(stack) >= 3:
            raise ApiError("push_limit_reached")
        view_id = self._next_id("V")
        if stack is None:  # no modal open: Slack opens a new stack
            root, stack = view_id, self._stacks.setdefault(view_id, [])
        self.views[view_id] = self._view_object(
            view, view_id, root_view_id=root, previous_view_id=stack[-1] if stack else None
        )
        stack.append(view_id)
        if trigger.user_id:
            self.view_users[view_id] = trigger.user_id
        return {"view": copy.deepcopy(self.views[view_id])}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._view_param(params)
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        if not view_id and external_id:
            view_id = next((vid for vid, v in self.views.items() if v.get("external_id") == external_id), None)
        current = self.views.get(view_id or "")
        if current is None:
            raise ApiError("not_found")
        if params.get("hash") and params["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = {"type": current["type"], "external_id": current["external_id"], **view}
        self._check_blocks("views.update", view, "home" if current["type"] == "home" else "modal")
        self._check_external_id(view, own_id=view_id)
        keep = {k: current[k] for k in ("root_view_id", "previous_view_id")}
        self.views[current["id"]] = self._view_object(view, current["id"], **keep)
        return {"view": copy.deepcopy(self.views[current["id"]])}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._view_param(params)
        user_id = params.get("user_id")
        if not user_id:
            raise ApiError("invalid_arguments", response_metadata={"messages": ["user_id is required"]})
        current = self.views.get(self._homes.get(user_id, ""))
        if current and params.get("hash") and params["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        self._check_blocks("views.publish", view, "home")
        view_id = current["id"] if current else self._next_id("V")
        self.views[view_id] = self._view_object(view, view_id)
        self._homes[user_id] = view_id
        return {"view": copy.deepcopy(self.views[view_id])}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(params.get("user") or "")
        if user is None:
            raise ApiError("user_not_found")
        return {"user": copy.deepcopy(user)}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = params.get("channel") or ""
        if not re.fullmatch(r"[CDG][A-Z0-9]+", channel_id):
            raise ApiError("channel_not_found")
        config = self.channels.get(channel_id, {})
        is_im = channel_id.startswith("D")
        private = channel_id.startswith("G") or bool(config.get("is_private"))
        if private and not config.get("is_member", True):
            raise ApiError("channel_not_found")
        channel: dict[str, Any] = {
            "id": channel_id,
            "created": 1_700_000_000,
            "is_channel": channel_id.startswith("C"),
            "is_group": channel_id.startswith("G"),
            "is_im": is_im,
            "is_private": is_im or channel_id.startswith("G") or bool(config.get("is_private")),
            "is_archived": bool(config.get("is_archived")),
            "is_member": bool(config.get("is_member", True)),
            "context_team_id": TEAM_ID,
        }
        if is_im:
            channel["user"] = "U" + channel_id[1:]
        else:
            name = self.channel_name(channel_id)
            channel.update(name=name, name_normalized=name, is_general=False)
        return {"channel": channel}

    def _conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """Named channels (`add_channel`), filtered by `types` and `exclude_archived`, in pages of `limit` (at
        most 1000) with an opaque cursor. Only channels are emulated, so `im` and `mpim` list nothing."""
        types = set(str(params.get("types") or "public_channel").split(","))
        unknown = types - {"public_channel", "private_channel", "mpim", "im"}
        if unknown:
            raise ApiError("invalid_types", response_metadata={"messages": [f"unknown types: {sorted(unknown)}"]})
        try:
            limit = int(params.get("limit") or 100)
        except ValueError:
            raise ApiError("invalid_limit") from None
        if not 1 <= limit <= 1000:
            raise ApiError("invalid_limit")
        try:
            start = int(base64.b64decode(params["cursor"]).decode().removeprefix("offset:")) if params.get(
                "cursor") else 0
        except (ValueError, binascii.Error):
            raise ApiError("invalid_cursor") from None
        skip_archived = str(params.get("exclude_archived", "false")).lower() in ("true", "1")
        wanted = []
        for channel_id in sorted(self.channels):
            private = channel_id.startswith("G") or bool(self.channels[channel_id].get("is_private"))
            if channel_id.startswith("D") or ("private_channel" if private else "public_channel") not in types:
                continue
            if private and not self.channels[channel_id].get("is_member", True):
                continue  # a private channel the app is not in is invisible to it
            if skip_archived and self.channels[channel_id].get("is_archived"):
                continue
            wanted.append(self._conversations_info({"channel": channel_id})["channel"])
        page = wanted[start:start + limit]
        more = start + limit < len(wanted)
        cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        users = self.usergroups.get(params.get("usergroup") or "")
        if users is None:
            raise ApiError("no_such_subteam")
        return {"users": list(users)}

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = params.get("filename"), params.get("length")
        if not filename or length in (None, ""):
            raise ApiError("invalid_arguments")
        file_id = self._next_id("F")
        self.files[file_id] = UploadedFile(file_id, str(filename), int(length), alt_txt=params.get("alt_txt") or None)
        return {"upload_url": f"{self.base_url or self._request_base}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments")
        channels = params.get("channels")
        channel_id = params.get("channel_id") or (channels.split(",")[0] if isinstance(channels, str) else None)
        done = []
        for entry in entries:
            upload = self.files.get(entry.get("id", "")) if isinstance(entry, dict) else None
            if upload is None or upload.content is None:
                raise ApiError("file_not_found")
            upload.title = entry.get("title") or upload.filename
            upload.channel_id = channel_id
            upload.initial_comment = params.get("initial_comment") or None
            upload.thread_ts = params.get("thread_ts") or None
            upload.completed = True
            if channel_id and upload.thread_ts:
                self._statuses.pop((channel_id, upload.thread_ts), None)
            done.append(
                {
                    "id": upload.id,
                    "name": upload.filename,
                    "title": upload.title,
                    "mimetype": mimetypes.guess_type(upload.filename)[0] or "application/octet-stream",
                    "size": len(upload.content),
                    "user": BOT_USER_ID,
                    "created": int(time.time()),
                    "channels": [channel_id] if channel_id else [],
                    "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{upload.id}/{upload.filename}",
                    "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{upload.id}",
                }
            )
        return {"files": done}

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        host = (self.base_url or self._request_base).split("://", 1)[-1]
        return {"url": f"ws://{host}/link/?ticket={secrets.token_hex(8)}&app_id={APP_ID}"}

    def _assistant_set_status(self, params: dict[str, Any]) -> dict[str, Any]:
        """Required channel_id, thread_ts and status (a string; empty clears it); loading_messages at most 10
        strings. Works in DMs and, with chat:write, in channels (a mention's thread)."""
        _required(params, "channel_id", "thread_ts", "status")
        channel = self._assistant_channel(params)
        thread_ts = _thread_ts(params["thread_ts"])
        status = params["status"]
        if not isinstance(status, str):
            raise _invalid("status must be a string")
        loading = params.get("loading_messages")
        if loading is None:
            loading = []
        if not isinstance(loading, list) or not all(isinstance(m, str) and m for m in loading):
            raise _invalid("loading_messages must be an array of strings")
        if len(loading) > MAX_LOADING_MESSAGES:
            raise _invalid(f"loading_messages has {len(loading)} items, max {MAX_LOADING_MESSAGES}")
        if status or loading:
            self._statuses[(channel, thread_ts)] = AssistantStatus(status, list(loading), time.time())
        else:
            self._statuses.pop((channel, thread_ts), None)
        return {}

    def _assistant_set_suggested_prompts(self, params: dict[str, Any]) -> dict[str, Any]:
        """Required channel_id and prompts (1 to 4 objects with a title and a message); optional title and
        thread_ts (without it the prompts are the channel's: the agent view's Messages tab)."""
        _required(params, "channel_id", "prompts")
        channel = self._assistant_channel(params)
        thread_ts = _thread_ts(params["thread_ts"]) if params.get("thread_ts") else None
        prompts = params["prompts"]
        if not isinstance(prompts, list):
            raise _invalid("prompts must be an array of {title, message} objects")
        if not 1 <= len(prompts) <= MAX_SUGGESTED_PROMPTS:
            raise _invalid(f"prompts has {len(prompts)} items, must be 1 to {MAX_SUGGESTED_PROMPTS}")
        for i, prompt in enumerate(prompts):
            if not isinstance(prompt, dict):
                raise _invalid(f"prompts[{i}] must be an object with title and message")
            for key in ("title", "message"):
                if not isinstance(prompt.get(key), str) or not prompt[key].strip():
                    raise _invalid(f"prompts[{i}].{key} is required")
        title = params.get("title")
        if title is not None and not isinstance(title, str):
            raise _invalid("title must be a string")
        self._prompts[(channel, thread_ts)] = {
            "title": title or None,
            "prompts": [{"title": p["title"], "message": p["message"]} for p in prompts],
        }
        return {}

    def _assistant_set_title(self, params: dict[str, Any]) -> dict[str, Any]:
        """Required channel_id, thread_ts and title."""
        _required(params, "channel_id", "thread_ts", "title")
        channel = self._assistant_channel(params)
        thread_ts = _thread_ts(params["thread_ts"])
        title = params["title"]
        if not isinstance(title, str) or not title.strip():
            raise _invalid("title must be a non-empty string")
        self._titles[(channel, thread_ts)] = title
        return {}

    def _assistant_channel(self, params: dict[str, Any]) -> str:
        channel = params.get("channel_id")
        if not isinstance(channel, str) or not CHANNEL_RE.fullmatch(channel):
            raise ApiError("channel_not_found", detail="Invalid channel_id")
        config = self.channels.get(channel, {})
        private = channel.startswith("G") or bool(config.get("is_private"))
        if private and not config.get("is_member", True):
            raise ApiError("channel_not_found", detail="Invalid channel_id")
        return channel

    _request_base = "http://127.0.0.1"


def _invalid(message: str) -> ApiError:
    """Slack's answer to a malformed argument: ``invalid_arguments`` with the reason in response_metadata."""
    return ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})


def _required(params: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if params.get(name) is None]
    if missing:
        raise ApiError("invalid_arguments", response_metadata={
            "messages": [f"[ERROR] missing required field: {name}" for name in missing]})


def _thread_ts(value: Any) -> str:
    if not isinstance(value, str) or not TS_RE.fullmatch(value):
        raise ApiError("invalid_thread_ts")
    return value


async def _read_params(request: Request) -> dict[str, Any]:
    """Query string plus a JSON or form-encoded body; JSON-in-form fields (blocks, view, …) decoded."""
    params: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    if raw.strip():
        if "json" in request.headers.get("content-type", "") or raw.lstrip().startswith(b"{"):
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("JSON body must be an object")
            params.update(data)
        else:
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
    return _decode_json_fields(params)


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except ValueError:
                continue
    return params


def _error_response(exc: ApiError) -> Response:
    headers = {"retry-after": str(exc.retry_after)} if exc.retry_after is not None else None
    return JSONResponse({"ok": False, "error": exc.error, **exc.extra}, status_code=exc.status, headers=headers)
