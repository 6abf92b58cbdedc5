"""Signed requests with Slack's real payload shapes: slash commands, interactivity and events.

Each builder method returns a `SignedRequest` whose body and headers can be given to
``BoltRequest(body=..., headers=...)`` / ``app.dispatch`` or POSTed to ``/slack/events``.
Signatures are ``v0=HMAC-SHA256(secret, "v0:{ts}:{body}")`` (slack_sdk's SignatureVerifier).

Text a person typed (a slash command's ``text``, a message or app_mention event's ``text``) is sent the way Slack
sends it: ``&``, ``<`` and ``>`` escaped as ``&amp;``, ``&lt;``, ``&gt;`` (`as_sent`), except inside Slack's own
references, which the client writes itself with real brackets: ``<@U…>``, ``<#C…|name>``, ``<!here>``,
``<https://…|label>``. So ``slash_command("create polaris a&b")`` sends ``a&amp;b``, while
``slash_command("audit <@U0ADMIN>")`` sends the mention as it is.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from slack_sdk.signature import SignatureVerifier

from sandbox.slack.identity import BOT_ID, BOT_USER_ID, dm_channel, name_from_id

if TYPE_CHECKING:
    from sandbox.slack.web_api import SlackWebApi

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

#: Slack's references in a message (a person, a channel, a special mention or date, a link): real brackets on the
#: wire. Everything else of what a person typed has its `&`, `<`, `>` escaped.
REFERENCE = re.compile(r"<[@#!][^<>]*>|<https?://[^<>]*>")
#: Events whose `text` is what a person typed (a bot's message or an edit is sent as it was stored).
TYPED_EVENTS = ("message", "app_mention")


def as_sent(typed: str) -> str:
    """`typed` as Slack sends it to the app: `&`, `<`, `>` escaped (`&amp;`, `&lt;`, `&gt;`) outside Slack's
    references (`REFERENCE`), which stay as they are, as the Slack client does."""
    out, last = [], 0
    for match in REFERENCE.finditer(typed):
        out += [_escape(typed[last:match.start()]), match.group(0)]
        last = match.end()
    out.append(_escape(typed[last:]))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _typed_event(event: dict[str, Any]) -> bool:
    return (event.get("type") in TYPED_EVENTS and isinstance(event.get("text"), str) and not event.get("subtype")
            and not event.get("bot_id"))


@dataclass(frozen=True)
class SignedRequest:
    """An HTTP request as Slack would send it."""

    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def payload(self) -> dict[str, Any]:
        """The decoded content: JSON body, the JSON ``payload`` form field, or the form fields."""
        if self.headers.get("Content-Type") == JSON:
            return json.loads(self.body)
        form = dict(parse_qsl(self.text, keep_blank_values=True))
        return json.loads(form["payload"]) if set(form) == {"payload"} else form


class SlackRequestBuilder:
    """Build signed Slack requests; `attach` an emulator so its trigger_ids and response_urls are known."""

    def __init__(
        self,
        signing_secret: str,
        team_id: str = "T0TEAM",
        response_url_base: str | None = None,
        api_app_id: str = "A0PROJECTOPS",
        team_domain: str = "projectops",
        verification_token: str = "legacy-verification-token",
    ) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.response_url_base = response_url_base
        self.verification_token = verification_token
        self.trigger_ids: list[str] = []
        self.response_url_ids: list[str] = []
        self.event_ids: list[str] = []
        self.emulator: SlackWebApi | None = None
        self._seq = itertools.count(1)

    def attach(self, emulator: SlackWebApi) -> SlackRequestBuilder:
        """Register issued trigger_ids and response_urls with `emulator` (its URL is the default base)."""
        self.emulator = emulator
        return self

    @property
    def last_trigger_id(self) -> str | None:
        return self.trigger_ids[-1] if self.trigger_ids else None

    @property
    def last_response_url_id(self) -> str | None:
        return self.response_url_ids[-1] if self.response_url_ids else None

    @property
    def last_event_id(self) -> str | None:
        return self.event_ids[-1] if self.event_ids else None

    # -- requests ----------------------------------------------------------------------------

    def slash_command(
        self,
        text: str,
        user_id: str = "U0ADMIN",
        channel_id: str = "C0OPS",
        command: str = "/projects",
        user_name: str | None = None,
        *,
        typed: bool = True,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> SignedRequest:
        """A slash command invocation (form-encoded). `text` is what the person typed, sent escaped as Slack does
        (`as_sent`); with ``typed=False`` it is already Slack's text and sent as it is."""
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_name or name_from_id(user_id),
            "command": command,
            "text": as_sent(text) if typed else text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
        }
        response_url = self._new_response_url(channel_id, None, user_id)
        if response_url:
            fields["response_url"] = response_url
        fields["trigger_id"] = self._new_trigger()
        return self._sign(urlencode(fields), FORM, timestamp, bad_signature)

    def block_actions(
        self,
        actions: list[dict[str, Any]],
        user_id: str = "U0ADMIN",
        channel_id: str = "C0OPS",
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        container: dict[str, Any] | None = None,
        *,
        state_values: dict[str, Any] | None = None,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> SignedRequest:
        """Button clicks / menu picks in a message (default) or, with `view`, in a modal or Home tab.

        Missing action fields (type, block_id, text, value, action_ts) are filled from the element
        with the same action_id in the message's or view's blocks.
        """
        payload = self._interaction("block_actions", user_id)
        if view is not None:
            view = self._full_view(view, state_values)
            payload["container"] = container or {"type": "view", "view_id": view["id"]}
            payload["view"] = view
            payload["trigger_id"] = self._new_trigger(view["id"])
            blocks = view.get("blocks", [])
        else:
            message = copy.deepcopy(message) if message is not None else {"type": "message", "text": ""}
            message.setdefault("type", "message")
            message.setdefault("ts", f"{time.time():.6f}")
            message.setdefault("user", BOT_USER_ID)
            message.setdefault("bot_id", BOT_ID)
            payload["container"] = container or {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            if message.get("thread_ts") and "thread_ts" not in payload["container"]:
                payload["container"]["thread_ts"] = message["thread_ts"]  # Slack names the thread of a reply
            payload["trigger_id"] = self._new_trigger()
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
            payload["message"] = message
            payload["state"] = {"values": _state_values(state_values)}
            response_url = self._new_response_url(channel_id, message["ts"], user_id)
            if response_url:
                payload["response_url"] = response_url
            blocks = message.get("blocks", [])
        payload["actions"] = [_complete_action(action, blocks) for action in actions]
        return self._sign_payload(payload, timestamp, bad_signature)

    def view_submission(
        self,
        view: dict[str, Any],
        user_id: str = "U0ADMIN",
        values: dict[str, Any] | None = None,
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> SignedRequest:
        """A modal submitted with `values` ({block_id: {action_id: state}}; a bare str means a text input)."""
        payload = self._interaction("view_submission", user_id)
        view = self._full_view(view, values)
        payload.update(trigger_id=self._new_trigger(view["id"]), view=view, response_urls=[])
        return self._sign_payload(payload, timestamp, bad_signature)

    def view_closed(
        self,
        view: dict[str, Any],
        user_id: str = "U0ADMIN",
        is_cleared: bool = False,
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> SignedRequest:
        """A modal closed with notify_on_close."""
        payload = self._interaction("view_closed", user_id)
        payload.update(view=self._full_view(view, None), is_cleared=is_cleared)
        return self._sign_payload(payload, timestamp, bad_signature)

    def block_suggestion(
        self,
        action_id: str,
        block_id: str,
        value: str,
        user_id: str = "U0ADMIN",
        view: dict[str, Any] | None = None,
        *,
        channel_id: str = "C0OPS",
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> SignedRequest:
        """An external_select options request (the user typed `value`)."""
        payload = self._interaction("block_suggestion", user_id)
        payload.update(action_id=action_id, block_id=block_id, value=value)
        if view is not None:
            view = self._full_view(view, None)
            payload.update(container={"type": "view", "view_id": view["id"]}, view=view)
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": f"{time.time():.6f}",
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
        return self._sign_payload(payload, timestamp, bad_signature)

    def event_callback(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        *,
        typed: bool = True,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> SignedRequest:
        """An Events API delivery (JSON); `retry_num` adds the X-Slack-Retry-* headers of a redelivery.

        The `text` of a person's message or app_mention (no subtype, no bot_id) is what they typed, sent escaped
        as Slack does (`as_sent`); with ``typed=False`` it is already Slack's text and sent as it is."""
        now = int(time.time())
        event = {**event, "event_ts": event.get("event_ts", f"{time.time():.6f}")}
        if typed and _typed_event(event):
            event["text"] = as_sent(event["text"])
        event_id = event_id or f"Ev{next(self._seq):08d}{secrets.token_hex(3).upper()}"
        self.event_ids.append(event_id)
        body = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(12)}",
        }
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self._sign(json.dumps(body), JSON, timestamp, bad_signature, extra)

    def app_home_opened(
        self,
        user_id: str = "U0ADMIN",
        tab: str = "messages",
        channel_id: str | None = None,
        view: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> SignedRequest:
        """A person opened the app: ``tab="messages"`` is the agent view's Messages tab (the DM with the app,
        replacing ``assistant_thread_started``), ``tab="home"`` the Home tab (with the `view` last published
        there, if any). `kwargs` go to `event_callback` (event_id, retry_num, timestamp, bad_signature)."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user_id,
                                 "channel": channel_id or dm_channel(user_id), "tab": tab}
        if view is not None and tab == "home":
            event["view"] = view
        return self.event_callback(event, **kwargs)

    def dm_message(
        self,
        text: str,
        user_id: str = "U0ADMIN",
        channel_id: str | None = None,
        thread_ts: str | None = None,
        *,
        ts: str | None = None,
        typed: bool = True,
        **kwargs: Any,
    ) -> SignedRequest:
        """A person's message in their DM with the app (``message.im``: ``channel_type: "im"``). Without
        `thread_ts` it is a top-level message, which in the agent view starts a thread (its ts is the root);
        with it, a reply in that thread. With an attached emulator the message is stored there first, as Slack
        holds it before sending the event (the app's replies then thread under it). `text` is what the person
        typed, stored and sent escaped as Slack does (`as_sent`; ``typed=False``: it is already Slack's text)."""
        channel = channel_id or dm_channel(user_id)
        text = as_sent(text) if typed else text
        if self.emulator is not None:
            message = self.emulator.add_user_message(channel, user_id, text, thread_ts=thread_ts, ts=ts)
        else:
            message = {"type": "message", "user": user_id, "text": text, "ts": ts or f"{time.time():.6f}",
                       "team": self.team_id}
            if thread_ts:
                message["thread_ts"] = thread_ts
        event = {**message, "client_msg_id": str(uuid.uuid4()), "channel": channel, "event_ts": message["ts"],
                 "channel_type": "im"}
        return self.event_callback(event, typed=False, **kwargs)

    def feedback_click(
        self,
        message: dict[str, Any],
        positive: bool = True,
        user_id: str = "U0ADMIN",
        channel_id: str = "C0OPS",
        action_id: str | None = None,
        **kwargs: Any,
    ) -> SignedRequest:
        """A click on the 👍 (`positive`) or 👎 button of the ``feedback_buttons`` element (the one with
        `action_id`, else the first) in `message`'s ``context_actions`` block: a ``block_actions`` payload whose
        action carries the element's action_id and the chosen button's value and text. `kwargs` go to
        `block_actions` (container, state_values, timestamp, bad_signature)."""
        for block in message.get("blocks") or []:
            for element in block.get("elements") or [] if isinstance(block, dict) else []:
                if not isinstance(element, dict) or element.get("type") != "feedback_buttons":
                    continue
                if action_id is not None and element.get("action_id") != action_id:
                    continue
                button = element.get("positive_button" if positive else "negative_button") or {}
                action = {"type": "feedback_buttons", "action_id": element.get("action_id"),
                          "value": button.get("value"), "text": copy.deepcopy(button.get("text"))}
                if "block_id" in block:
                    action["block_id"] = block["block_id"]
                return self.block_actions([action], user_id=user_id, channel_id=channel_id, message=message,
                                          **kwargs)
        raise ValueError(f"no feedback_buttons element{f' {action_id!r}' if action_id else ''} in the message")

    def url_verification(
        self, challenge: str, *, timestamp: int | None = None, bad_signature: bool = False
    ) -> SignedRequest:
        """The Events API URL handshake."""
        body = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        return self._sign(json.dumps(body), JSON, timestamp, bad_signature)

    # -- internals ---------------------------------------------------------------------------

    def _sign(
        self,
        body: str,
        content_type: str,
        timestamp: int | None,
        bad_signature: bool,
        extra_headers: dict[str, str] | None = None,
    ) -> SignedRequest:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = self.verifier.generate_signature(timestamp=ts, body=body)
        if bad_signature:
            signature = "v0=" + ("0" if signature[-1] != "0" else "1") * 64
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **(extra_headers or {}),
        }
        return SignedRequest(body.encode(), headers)

    def _sign_payload(self, payload: dict[str, Any], timestamp: int | None, bad_signature: bool) -> SignedRequest:
        return self._sign(urlencode({"payload": json.dumps(payload)}), FORM, timestamp, bad_signature)

    def _interaction(self, kind: str, user_id: str) -> dict[str, Any]:
        name = name_from_id(user_id)
        return {
            "type": kind,
            "user": {"id": user_id, "username": name, "name": name, "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _full_view(self, view: dict[str, Any], values: dict[str, Any] | None) -> dict[str, Any]:
        """A view as Slack echoes it back: ids, hash, state and app fields filled in."""
        full = copy.deepcopy(view)
        full.setdefault("id", f"VX{next(self._seq):07d}")
        full.setdefault("type", "modal")
        full.setdefault("team_id", self.team_id)
        full.setdefault("callback_id", "")
        full.setdefault("private_metadata", "")
        full.setdefault("external_id", "")
        full.setdefault("hash", f"{int(time.time())}.{secrets.token_hex(4)}")
        full.setdefault("root_view_id", full["id"])
        full.setdefault("previous_view_id", None)
        full.setdefault("app_id", self.api_app_id)
        full.setdefault("bot_id", BOT_ID)
        full.setdefault("app_installed_team_id", self.team_id)
        state = full.setdefault("state", {"values": {}})
        if values is not None:
            state["values"] = _state_values(values)
        return full

    def _channel_name(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return "directmessage"
        return self.emulator.channel_name(channel_id) if self.emulator else name_from_id(channel_id)

    def _new_trigger(self, view_id: str | None = None) -> str:
        trigger_id = f"{int(time.time())}{next(self._seq)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        self.trigger_ids.append(trigger_id)
        if self.emulator is not None:
            self.emulator.register_trigger(trigger_id, view_id=view_id)
        return trigger_id

    def _new_response_url(self, channel_id: str | None, message_ts: str | None, user_id: str) -> str | None:
        base = self.response_url_base
        if base is None and self.emulator is not None and self.emulator.base_url:
            base = self.emulator.response_url_base
        if base is None:
            return None
        rid = f"{next(self._seq)}{secrets.token_hex(6)}"
        self.response_url_ids.append(rid)
        if self.emulator is not None:
            self.emulator.register_response_url(rid, channel_id, message_ts, user_id)
        return base.rstrip("/") + "/" + rid


def _state_values(values: dict[str, Any] | None) -> dict[str, Any]:
    """Normalise {block_id: {action_id: state}}; a bare string becomes a plain_text_input value."""
    out: dict[str, Any] = {}
    for block_id, actions in (values or {}).items():
        out[block_id] = {
            action_id: {"type": "plain_text_input", "value": state} if isinstance(state, str) else state
            for action_id, state in actions.items()
        }
    return out


def _complete_action(action: dict[str, Any], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Fill an action from the element with its action_id, as Slack would report it."""
    full = dict(action)
    for block in blocks:
        elements = list(block.get("elements") or [])
        elements += [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action.get("action_id"):
                if "block_id" in block:
                    full.setdefault("block_id", block["block_id"])
                for key in ("type", "text", "value", "style"):
                    if key in element:
                        full.setdefault(key, copy.deepcopy(element[key]))
                break
    full.setdefault("type", "button")
    full.setdefault("block_id", secrets.token_hex(3))
    full.setdefault("action_ts", f"{time.time():.6f}")
    return full
