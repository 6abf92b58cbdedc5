"""Signed Slack requests: signatures, payload shapes, and a real Bolt app accepting them."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import loopback
import pytest
from sample_views import MODAL
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from sandbox.slack import SignedRequest, SlackEmulator, SlackRequestBuilder
from sandbox.slack.signing import as_sent

SECRET = "test-signing-secret"
TRIGGER = re.compile(r"\d+\.\d+\.\w+")
BUTTONS = {
    "type": "actions",
    "block_id": "approval",
    "elements": [
        {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Approve"}, "value": "req-7"}
    ],
}


@pytest.fixture
def builder(slack: SlackEmulator) -> SlackRequestBuilder:
    return SlackRequestBuilder(SECRET).attach(slack)


def every_kind(builder: SlackRequestBuilder) -> dict[str, Callable[..., SignedRequest]]:
    return {
        "slash_command": lambda **kw: builder.slash_command("list", **kw),
        "block_actions": lambda **kw: builder.block_actions([{"action_id": "approve"}], **kw),
        "view_submission": lambda **kw: builder.view_submission(MODAL, "U0ADMIN", {"name": {"value": "x"}}, **kw),
        "view_closed": lambda **kw: builder.view_closed(MODAL, **kw),
        "block_suggestion": lambda **kw: builder.block_suggestion("target", "target_block", "pol", **kw),
        "event_callback": lambda **kw: builder.event_callback({"type": "app_home_opened", "user": "U0ADMIN"}, **kw),
        "url_verification": lambda **kw: builder.url_verification("challenge-1", **kw),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "slash_command",
        "block_actions",
        "view_submission",
        "view_closed",
        "block_suggestion",
        "event_callback",
        "url_verification",
    ],
)
def test_signatures(builder: SlackRequestBuilder, kind: str) -> None:
    make = every_kind(builder)[kind]
    verifier = SignatureVerifier(SECRET)
    request = make()
    assert verifier.is_valid_request(request.body, request.headers)
    assert not SignatureVerifier("other-secret").is_valid_request(request.body, request.headers)
    stale = make(timestamp=int(time.time()) - 301)
    assert not verifier.is_valid_request(stale.body, stale.headers)
    bad = make(bad_signature=True)
    assert bad.headers["X-Slack-Signature"].startswith("v0=")
    assert not verifier.is_valid_request(bad.body, bad.headers)


def test_slash_command_shape(slack: SlackEmulator) -> None:
    plain = SlackRequestBuilder(SECRET).slash_command("list polaris", user_id="U0OPERATOR")
    fields = plain.payload
    assert fields["command"] == "/projects" and fields["text"] == "list polaris"
    assert (fields["team_id"], fields["channel_id"], fields["channel_name"]) == ("T0TEAM", "C0OPS", "ops")
    assert (fields["user_id"], fields["user_name"], fields["api_app_id"]) == ("U0OPERATOR", "operator", "A0PROJECTOPS")
    assert fields["is_enterprise_install"] == "false" and "response_url" not in fields
    assert TRIGGER.fullmatch(fields["trigger_id"])
    assert plain.headers["Content-Type"] == "application/x-www-form-urlencoded"

    builder = SlackRequestBuilder(SECRET, response_url_base=slack.response_url_base)
    first = builder.slash_command("a").payload
    second = builder.slash_command("b").payload
    assert first["response_url"] == slack.response_url(builder.response_url_ids[0])
    assert second["response_url"].endswith("/" + builder.last_response_url_id)
    assert first["trigger_id"] != second["trigger_id"] and builder.last_trigger_id == second["trigger_id"]


@pytest.mark.parametrize(("typed", "sent"), [
    ("create polaris a&b", "create polaris a&amp;b"),
    ("a<b>c", "a&lt;b&gt;c"),
    ("x &lt; y", "x &amp;lt; y"),  # a typed entity is escaped like any `&`
    ("<@U0ADMIN> <@U0ADMIN|admin> <#C0OPS|ops> <!here> <!subteam^S0OPS> <!date^1^{date}|x>",
     "<@U0ADMIN> <@U0ADMIN|admin> <#C0OPS|ops> <!here> <!subteam^S0OPS> <!date^1^{date}|x>"),
    ("<https://x.test/?a=1&b=2|go> & <http://y.test>", "<https://x.test/?a=1&b=2|go> &amp; <http://y.test>"),
    ("<x> <ftp://z> <@ 1 < 2", "&lt;x&gt; &lt;ftp://z&gt; &lt;@ 1 &lt; 2"),
    ("<<@U0ADMIN>>", "&lt;<@U0ADMIN>&gt;"),
    ("", ""),
])
def test_typed_text_is_escaped_outside_slack_references(typed: str, sent: str) -> None:
    assert as_sent(typed) == sent


def test_what_a_person_types_is_sent_escaped(slack: SlackEmulator) -> None:
    builder = SlackRequestBuilder(SECRET).attach(slack)
    assert builder.slash_command("show polaris a&b <@U0ADMIN>").payload["text"] == "show polaris a&amp;b <@U0ADMIN>"
    assert builder.slash_command("a&amp;b", typed=False).payload["text"] == "a&amp;b"  # already Slack's text

    mention = {"type": "app_mention", "user": "U0ADMIN", "channel": "C0OPS", "text": "<@U0BOT> show a&b"}
    assert builder.event_callback(mention).payload["event"]["text"] == "<@U0BOT> show a&amp;b"
    assert builder.event_callback(mention, typed=False).payload["event"]["text"] == "<@U0BOT> show a&b"
    assert mention["text"] == "<@U0BOT> show a&b"  # the caller's event is not changed
    for untyped in ({**mention, "type": "message", "bot_id": "B0BOT"}, {**mention, "subtype": "message_changed"},
                    {"type": "app_home_opened", "user": "U0ADMIN", "text": "a&b"}):  # not typed by a person
        assert builder.event_callback(untyped).payload["event"]["text"] == untyped["text"]

    dm = builder.dm_message("list phoenix & <polaris>", user_id="U0VIEWER").payload["event"]
    assert dm["text"] == "list phoenix &amp; &lt;polaris&gt;"
    assert slack.messages(dm["channel"])[-1]["text"] == dm["text"]  # stored as Slack keeps it, escaped once


def test_attached_builder_registers_triggers_and_response_urls(slack: SlackEmulator) -> None:
    slack.add_channel("C0DATA", "data-platform")
    builder = SlackRequestBuilder(SECRET).attach(slack)
    api = WebClient(token="xoxb-test", base_url=slack.api_url)
    command = builder.slash_command("create", channel_id="C0DATA").payload
    assert command["channel_name"] == "data-platform"
    assert command["response_url"] == slack.response_url(builder.last_response_url_id)
    opened = api.views_open(trigger_id=command["trigger_id"], view=MODAL)["view"]
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        api.views_open(trigger_id=command["trigger_id"], view=MODAL)

    # a button inside the modal yields a trigger tied to it, so views.push lands on its stack
    click = builder.block_actions([{"action_id": "approve"}], view=opened).payload
    assert click["container"] == {"type": "view", "view_id": opened["id"]} and "response_url" not in click
    pushed = api.views_push(trigger_id=click["trigger_id"], view=MODAL)["view"]
    assert pushed["root_view_id"] == opened["id"]


def test_block_actions_on_a_message(slack: SlackEmulator, builder: SlackRequestBuilder) -> None:
    posted = WebClient(token="xoxb-test", base_url=slack.api_url).chat_postMessage(
        channel="C0OPS", text="Approve?", blocks=[BUTTONS]
    )
    payload = builder.block_actions([{"action_id": "approve"}], user_id="U0OPERATOR", message=posted["message"]).payload
    assert payload["type"] == "block_actions" and payload["user"]["id"] == "U0OPERATOR"
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": "C0OPS",
        "is_ephemeral": False,
    }
    (action,) = payload["actions"]
    assert (action["type"], action["block_id"], action["value"]) == ("button", "approval", "req-7")
    assert action["text"]["text"] == "Approve" and "action_ts" in action
    assert payload["channel"] == {"id": "C0OPS", "name": "ops"} and payload["message"]["ts"] == posted["ts"]
    assert TRIGGER.fullmatch(payload["trigger_id"]) and payload["state"] == {"values": {}}

    loopback.post(payload["response_url"], json={"replace_original": True, "text": "Approved by operator"})
    assert [m["text"] for m in slack.messages("C0OPS")] == ["Approved by operator"]


def test_view_payload_shapes(builder: SlackRequestBuilder) -> None:
    values = {"name": {"value": "polaris-eu"}, "plan": {"value": {"type": "static_select", "selected_option": None}}}
    submitted = builder.view_submission(MODAL, "U0ADMIN", values).payload
    view = submitted["view"]
    assert submitted["type"] == "view_submission" and submitted["response_urls"] == []
    assert view["state"]["values"]["name"]["value"] == {"type": "plain_text_input", "value": "polaris-eu"}
    assert view["state"]["values"]["plan"]["value"]["type"] == "static_select"
    assert view["callback_id"] == "project_create" and view["hash"] and view["root_view_id"] == view["id"]
    assert TRIGGER.fullmatch(submitted["trigger_id"])

    closed = builder.view_closed({**view, "id": "V123"}, "U0VIEWER", is_cleared=True).payload
    assert (closed["type"], closed["view"]["id"], closed["is_cleared"]) == ("view_closed", "V123", True)

    suggestion = builder.block_suggestion("target", "target_block", "pol", view=view).payload
    assert (suggestion["type"], suggestion["action_id"], suggestion["value"]) == ("block_suggestion", "target", "pol")
    assert suggestion["container"] == {"type": "view", "view_id": view["id"]}


def test_events(builder: SlackRequestBuilder) -> None:
    first = builder.event_callback({"type": "app_mention", "text": "<@U0BOT> list", "user": "U0ADMIN"})
    body = first.payload
    assert first.headers["Content-Type"] == "application/json" and "X-Slack-Retry-Num" not in first.headers
    assert body["type"] == "event_callback" and body["event_id"] == builder.last_event_id
    assert body["event"]["event_ts"] and body["authorizations"][0]["user_id"] == "U0BOT"
    retry = builder.event_callback(body["event"], event_id=body["event_id"], retry_num=1)
    assert retry.headers["X-Slack-Retry-Num"] == "1" and retry.headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert retry.payload["event_id"] == body["event_id"]
    assert builder.url_verification("abc").payload == {
        "token": "legacy-verification-token",
        "challenge": "abc",
        "type": "url_verification",
    }


def test_bolt_app_accepts_built_requests(slack: SlackEmulator, builder: SlackRequestBuilder) -> None:
    """The shapes are the real ones: a plain Bolt app routes and answers every kind."""
    app = App(
        client=WebClient(token="xoxb-test", base_url=slack.api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )
    seen: list[str] = []

    @app.command("/projects")
    def command(ack: Any, body: dict[str, Any], client: WebClient, respond: Any) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        respond(text=f"opened for {body['user_name']}")

    @app.action("approve")
    def approve(ack: Any, respond: Any) -> None:
        ack()
        respond(replace_original=True, text="Approved")

    @app.view("project_create")
    def submit(ack: Any, view: dict[str, Any]) -> None:
        name = view["state"]["values"]["name"]["value"]["value"]
        ack(response_action="errors", errors={"name": f"{name} is taken"})

    @app.options("target")
    def options(ack: Any, payload: dict[str, Any]) -> None:
        ack(options=[{"text": {"type": "plain_text", "text": payload["value"]}, "value": "1"}])

    @app.event("app_mention")
    def mention(event: dict[str, Any], say: Any, request: BoltRequest) -> None:
        seen.append(request.headers.get("x-slack-retry-num", ["0"])[0])
        say(f"hi <@{event['user']}>")

    def dispatch(signed: SignedRequest) -> Any:
        return app.dispatch(BoltRequest(body=signed.text, headers=signed.headers))

    assert dispatch(builder.slash_command("create")).status == 200
    assert slack.last("views.open").ok
    (answer,) = slack.response_posts(builder.last_response_url_id)
    assert answer["text"] == "opened for admin"

    posted = WebClient(token="xoxb-test", base_url=slack.api_url).chat_postMessage(
        channel="C0OPS", text="Approve?", blocks=[BUTTONS]
    )
    assert dispatch(builder.block_actions([{"action_id": "approve"}], message=posted["message"])).status == 200
    assert slack.messages("C0OPS")[0]["text"] == "Approved"

    errors = dispatch(builder.view_submission(MODAL, "U0ADMIN", {"name": {"value": "p1"}}))
    assert json.loads(errors.body) == {"response_action": "errors", "errors": {"name": "p1 is taken"}}
    options_response = dispatch(builder.block_suggestion("target", "t", "polaris"))
    assert json.loads(options_response.body)["options"][0]["text"]["text"] == "polaris"

    mention_event = {"type": "app_mention", "user": "U0VIEWER", "text": "<@U0BOT> hi", "channel": "C0OPS"}
    assert dispatch(builder.event_callback(mention_event, retry_num=2)).status == 200
    assert seen == ["2"] and slack.messages("C0OPS")[-1]["text"] == "hi <@U0VIEWER>"
    challenge = dispatch(builder.url_verification("xyz"))
    assert json.loads(challenge.body) == {"challenge": "xyz"}

    assert dispatch(builder.slash_command("create", bad_signature=True)).status == 401
    assert dispatch(builder.slash_command("create", timestamp=int(time.time()) - 600)).status == 401
