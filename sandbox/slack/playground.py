"""The browser playground: a Slack-like page served by `SlackEmulator`, talking to the app with signed requests.

The page (``/``, files under ``playground/``) polls ``GET /playground/state?user=`` and sends what a
person does through ``POST /playground/{command,mention,action,submit,close,suggest,home}``; each is
turned into the request Slack would send (`SlackRequestBuilder`: what the person typed is escaped as
Slack's client does, `signing.as_sent`), signed and POSTed to the app's events URL (and kept, decoded, in
`Playground.sent`). What the app answers through the Web API or response_urls lands in the emulator and
shows on the next poll: channel messages with their thread replies, each user's ephemerals, the user's open
modal (with field errors) and Home tab.

The DM is the app's Messages tab (Slack's agent view): opening it sends ``app_home_opened`` with
``tab: "messages"`` (the Home tab sends ``tab: "home"``); what the person writes there is a ``message``
event with ``channel_type: "im"``, each top-level message the root of its own thread. Each thread shows
the app's replies, its status line ("projectops is thinking…", until the app posts in it), its title and
suggested prompts; the prompts set for the whole DM show as chips above the composer. Picking a chip
sends its message as the person would.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from sandbox.slack.identity import BOT_USER_ID, dm_channel
from sandbox.slack.signing import SignedRequest, SlackRequestBuilder, as_sent

if TYPE_CHECKING:
    from sandbox.slack.web_api import SlackWebApi

STATIC = Path(__file__).parent / "playground"
CHANNEL = "C0OPS"

__all__ = ["CHANNEL", "Playground", "dm_channel"]


class Playground:
    """Routes and state of the playground page for one emulated workspace (`SlackWebApi`)."""

    def __init__(self, emulator: SlackWebApi) -> None:
        self.emulator = emulator
        self.events_url: str | None = None
        self.builder: SlackRequestBuilder | None = None
        self._http: httpx.AsyncClient | None = None
        self.reset()

    def reset(self) -> None:
        """Forget echoes, anchors and field errors (the emulator's own state is reset by it)."""
        self.echoes: list[dict[str, Any]] = []
        self.anchors: dict[str, str] = {}
        self.errors: dict[str, dict[str, str]] = {}
        self.sent: list[dict[str, Any]] = []

    def connect(self, events_url: str, signing_secret: str) -> None:
        """Sign requests with `signing_secret` and send them to `events_url`."""
        self.events_url = events_url
        self.builder = SlackRequestBuilder(signing_secret).attach(self.emulator)

    def routes(self) -> list[BaseRoute]:
        post = ["POST"]
        return [
            Route("/", self._index, methods=["GET"]),
            Route("/playground", self._index, methods=["GET"]),
            Route("/playground/state", self._state, methods=["GET"]),
            Route("/playground/command", self._command, methods=post),
            Route("/playground/mention", self._mention, methods=post),
            Route("/playground/action", self._action, methods=post),
            Route("/playground/submit", self._submit, methods=post),
            Route("/playground/close", self._close, methods=post),
            Route("/playground/suggest", self._suggest, methods=post),
            Route("/playground/home", self._home, methods=post),
            Mount("/playground/static", StaticFiles(directory=STATIC), name="playground-static"),
        ]

    # -- page and state ----------------------------------------------------------------------

    async def _index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    async def _state(self, request: Request) -> Response:
        user = request.query_params.get("user") or "U0ADMIN"
        return JSONResponse(self.state(user))

    def state(self, user: str) -> dict[str, Any]:
        """Everything the page shows to `user`."""
        em = self.emulator
        with em._lock:
            users = [
                {"id": u["id"], "name": u["name"]} for u in em.users.values() if not u.get("is_bot")
            ]
            channels = {}
            for channel in (CHANNEL, dm_channel(user)):
                items = [{"kind": "message", "message": m} for m in em.messages(channel)]
                items += [{"kind": "ephemeral", "message": m} for m in self._ephemerals(user, channel)]
                items += [
                    {"kind": "echo", "message": copy.deepcopy(e)}
                    for e in self.echoes
                    if e["user"] == user and e["channel"] == channel
                ]
                channels[channel] = self._annotate(channel, _threaded(items))
            modal = self._modal(user)
            home = em.home_view(user)
            prompts = {ch: p for ch in (CHANNEL, dm_channel(user)) if (p := em.suggested_prompts(ch))}
        return {
            "user": user,
            "users": users,
            "connected": self.events_url is not None,
            "channels": channels,
            "channel_names": {CHANNEL: "ops", dm_channel(user): "projectops"},
            "modal": modal,
            "home": home,
            "prompts": prompts,
        }

    def _annotate(self, channel: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add each thread's assistant status, title and suggested prompts to its root item."""
        em = self.emulator
        statuses, titles, prompts = em.assistant_statuses(channel), em.thread_titles(channel), em.thread_prompts(
            channel)
        for item in items:
            ts = item["message"].get("ts")
            if ts in statuses:
                item["status"] = {"status": statuses[ts].status, "loading_messages": statuses[ts].loading_messages}
            if ts in titles:
                item["title"] = titles[ts]
            if ts in prompts:
                item["prompts"] = prompts[ts]
        return items

    def _ephemerals(self, user: str, channel: str) -> list[dict[str, Any]]:
        """The user's ephemerals in `channel`, with replace_original/delete_original applied."""
        shown: dict[str, dict[str, Any]] = {}
        last: dict[str, str] = {}
        for entry in self.emulator.ephemerals:
            if entry.get("user") != user or entry.get("channel") != channel:
                continue
            message, rid = copy.deepcopy(entry["message"]), entry.get("rid")
            key = self.anchors.get(rid or "") or last.get(rid or "")
            if rid and entry.get("replace_original") and key in shown:
                shown[key] = {**message, "ts": key}
                continue
            shown[message["ts"]] = message
            if rid:
                last[rid] = message["ts"]
        for rid in set(last) | set(self.anchors):
            if any(p.get("delete_original") for p in self.emulator.response_posts(rid)):
                shown.pop(self.anchors.get(rid) or last.get(rid, ""), None)
        return list(shown.values())

    def _modal(self, user: str) -> dict[str, Any] | None:
        """The top view of `user`'s newest open modal stack, with its field errors and depth."""
        em = self.emulator
        for root, stack in reversed(list(em._stacks.items())):
            if stack and em.view_users.get(root) == user and stack[-1] in em.views:
                view = copy.deepcopy(em.views[stack[-1]])
                view["errors"] = self.errors.get(view["id"], {})
                view["depth"] = len(stack)
                return view
        return None

    # -- actions from the page ---------------------------------------------------------------

    async def _command(self, request: Request) -> Response:
        body = await request.json()
        user, channel, text = body.get("user", "U0ADMIN"), body.get("channel", CHANNEL), body.get("text", "")
        command, _, rest = text.strip().partition(" ")
        builder = self._builder()
        with self.emulator._lock:
            self.echoes.append(
                {"type": "message", "user": user, "channel": channel, "text": text, "ts": self.emulator._next_ts()}
            )
        signed = builder.slash_command(rest, user_id=user, channel_id=channel, command=command or "/projects")
        self._own_trigger(user)
        return await self._send(signed, user, channel)

    async def _mention(self, request: Request) -> Response:
        """What the person wrote (not a slash command): in the DM a ``message.im`` event (Slack sends no
        ``app_mention`` for DMs, named or not), in the channel an ``app_mention``; `thread_ts` for a reply."""
        body = await request.json()
        user, channel = body.get("user", "U0ADMIN"), body.get("channel", CHANNEL)
        text = body.get("text", "")
        text = text.replace("@projectops", f"<@{BOT_USER_ID}>", 1)
        thread_ts = body.get("thread_ts") or None
        if self.events_url is None:
            return JSONResponse({"ok": False, "error": "no app connected"}, status_code=503)
        if channel.startswith("D"):
            return await self._send(self._builder().dm_message(text, user, channel, thread_ts), user, channel)
        message = self.emulator.add_user_message(channel, user, as_sent(text), thread_ts=thread_ts)  # as Slack keeps it
        event = {**message, "type": "app_mention", "channel": channel, "event_ts": message["ts"]}
        return await self._send(self._builder().event_callback(event, typed=False), user, channel)

    async def _home(self, request: Request) -> Response:
        """The person opened the Home tab (``tab: "home"``, the default) or the Messages tab (``"messages"``)."""
        body = await request.json()
        user = body.get("user", "U0ADMIN")
        tab = "messages" if body.get("tab") == "messages" else "home"
        signed = self._builder().app_home_opened(user, tab, view=self.emulator.home_view(user))
        return await self._send(signed, user, dm_channel(user))

    async def _action(self, request: Request) -> Response:
        body = await request.json()
        user, action = body.get("user", "U0ADMIN"), body.get("action") or {}
        builder, em = self._builder(), self.emulator
        view_id = body.get("view_id")
        if view_id:
            with em._lock:
                view = copy.deepcopy(em.views.get(view_id))
            if view is None:
                return JSONResponse({"ok": False, "error": "view_not_found"}, status_code=404)
            signed = builder.block_actions([action], user_id=user, view=view, state_values=body.get("values"))
            self._own_trigger(user, view_id)
            return await self._send(signed, user, None)
        channel, ts = body.get("channel", CHANNEL), body.get("ts", "")
        ephemeral = bool(body.get("ephemeral"))
        if ephemeral:
            message = next((m for m in self._ephemerals(user, channel) if m["ts"] == ts), None)
        else:
            message = em.message(channel, ts)
        if message is None:
            return JSONResponse({"ok": False, "error": "message_not_found"}, status_code=404)
        container = {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral}
        signed = builder.block_actions(
            [action], user_id=user, channel_id=channel, message=message, container=container,
            state_values=body.get("values"),
        )
        rid = builder.last_response_url_id
        if ephemeral and rid:  # Slack replaces the ephemeral itself, never a channel message
            em.register_response_url(rid, channel, None, user)
            self.anchors[rid] = ts
        self._own_trigger(user)
        return await self._send(signed, user, channel)

    async def _submit(self, request: Request) -> Response:
        body = await request.json()
        user, view_id = body.get("user", "U0ADMIN"), body.get("view_id", "")
        em = self.emulator
        with em._lock:
            view = copy.deepcopy(em.views.get(view_id))
        if view is None:
            return JSONResponse({"ok": False, "error": "view_not_found"}, status_code=404)
        builder = self._builder()
        signed = builder.view_submission(view, user_id=user, values=body.get("values") or {})
        self._own_trigger(user, view_id)
        response = await self._post(signed)
        answer = _json(response)
        self.errors.pop(view_id, None)
        action = answer.get("response_action")
        with em._lock:
            stack = em._stacks.get(view["root_view_id"], [])
            if action == "errors":
                self.errors[view_id] = dict(answer.get("errors") or {})
            elif action == "update":
                new = {"type": "modal", **answer["view"]}
                em.views[view_id] = em._view_object(
                    new, view_id, root_view_id=view["root_view_id"], previous_view_id=view.get("previous_view_id")
                )
            elif action == "push":
                new_id = em._next_id("V")
                em.views[new_id] = em._view_object(
                    {"type": "modal", **answer["view"]}, new_id, root_view_id=view["root_view_id"],
                    previous_view_id=view_id,
                )
                em.view_users[new_id] = user
                stack.append(new_id)
            elif action == "clear":
                stack.clear()
            elif view_id in stack:
                stack.remove(view_id)
        return JSONResponse({"ok": response.status_code == 200, "status": response.status_code, "answer": answer})

    async def _close(self, request: Request) -> Response:
        body = await request.json()
        user, view_id = body.get("user", "U0ADMIN"), body.get("view_id", "")
        em = self.emulator
        with em._lock:
            view = copy.deepcopy(em.views.get(view_id))
            if view is None:
                return JSONResponse({"ok": False, "error": "view_not_found"}, status_code=404)
            stack = em._stacks.get(view["root_view_id"], [])
            if view_id in stack:
                stack.remove(view_id)
            self.errors.pop(view_id, None)
        if view.get("notify_on_close"):
            return await self._send(self._builder().view_closed(view, user_id=user), user, None)
        return JSONResponse({"ok": True})

    async def _suggest(self, request: Request) -> Response:
        body = await request.json()
        user = body.get("user", "U0ADMIN")
        view = None
        if body.get("view_id"):
            with self.emulator._lock:
                view = copy.deepcopy(self.emulator.views.get(body["view_id"]))
        signed = self._builder().block_suggestion(
            body.get("action_id", ""), body.get("block_id", ""), body.get("value", ""), user_id=user, view=view,
            channel_id=body.get("channel", CHANNEL),
        )
        response = await self._post(signed)
        answer = _json(response)
        return JSONResponse({"options": answer.get("options", []), "option_groups": answer.get("option_groups", [])})

    # -- plumbing ----------------------------------------------------------------------------

    def _builder(self) -> SlackRequestBuilder:
        if self.builder is None:
            raise RuntimeError("no app connected: call SlackEmulator.connect_app(events_url, signing_secret)")
        return self.builder

    def _own_trigger(self, user: str, view_id: str | None = None) -> None:
        """Tie the trigger_id just issued to `user`, so the modal it opens is theirs."""
        trigger = self._builder().last_trigger_id
        if trigger:
            self.emulator.register_trigger(trigger, view_id=view_id, user_id=user)

    async def _post(self, signed: SignedRequest) -> httpx.Response:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=30)
        if self.events_url is None:
            raise RuntimeError("no app connected")
        self.sent.append(signed.payload)
        return await self._http.post(self.events_url, content=signed.body, headers=signed.headers)

    async def _send(self, signed: SignedRequest, user: str, channel: str | None) -> Response:
        """POST to the app; an ack carrying a message becomes an ephemeral for `user`."""
        if self.events_url is None:
            return JSONResponse({"ok": False, "error": "no app connected"}, status_code=503)
        response = await self._post(signed)
        answer = _json(response)
        if channel and (answer.get("text") or answer.get("blocks")):
            em = self.emulator
            with em._lock:
                message = em._new_message(answer, em._next_ts())
                em.ephemerals.append({"channel": channel, "user": user, "message": message})
        return JSONResponse({"ok": response.status_code == 200, "status": response.status_code})


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = json.loads(response.content or b"{}")
    except ValueError:
        return {"text": response.text} if response.status_code == 200 and response.text.strip() else {}
    return data if isinstance(data, dict) else {}


def _threaded(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Top-level items by ts, each with its thread replies (oldest first) under ``replies``."""
    items.sort(key=lambda item: float(item["message"]["ts"]))
    top: dict[str, dict[str, Any]] = {}
    orphans: list[dict[str, Any]] = []
    for item in items:
        message = item["message"]
        parent = message.get("thread_ts")
        if parent and parent != message["ts"]:
            if parent in top:
                top[parent]["replies"].append(item)
            else:
                orphans.append(item)
            continue
        top[message["ts"]] = {**item, "replies": []}
    return list(top.values()) + [{**o, "replies": []} for o in orphans]
