"""Slack's agent surfaces in the emulator: assistant.threads.* methods with their limits, the request builders
for the Messages tab, DMs and feedback buttons, a real Bolt app using them, and the playground showing them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import loopback
import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.serving import serve_in_thread
from sandbox.slack import SignedRequest, SlackEmulator, SlackRequestBuilder

SECRET = "assistant-signing-secret"
PROMPTS = [{"title": "Failing jobs", "message": "which jobs are failing?"},
           {"title": "Storage", "message": "what's eating disk in polaris?"}]
FEEDBACK = {
    "type": "context_actions",
    "block_id": "fb",
    "elements": [{
        "type": "feedback_buttons",
        "action_id": "answer_feedback",
        "positive_button": {"text": {"type": "plain_text", "text": "Good"}, "value": "good:7",
                            "accessibility_label": "This answer was what I meant"},
        "negative_button": {"text": {"type": "plain_text", "text": "Misunderstood"}, "value": "bad:7"},
    }],
}


def client(slack: SlackEmulator) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.api_url)


def error_of(excinfo: pytest.ExceptionInfo[SlackApiError]) -> tuple[str, list[str]]:
    response = excinfo.value.response
    return response["error"], (response.get("response_metadata") or {}).get("messages", [])


@pytest.fixture
def builder(slack: SlackEmulator) -> SlackRequestBuilder:
    return SlackRequestBuilder(SECRET).attach(slack)


# -- assistant.threads.setStatus ------------------------------------------------------------------


async def test_set_status_is_kept_per_thread_and_recorded(slack: SlackEmulator) -> None:
    api = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    loading = [f"step {i}" for i in range(10)]
    await api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts="1700000000.000100",
                                          status="is thinking…", loading_messages=loading)
    status = slack.assistant_status("D0ADMIN", "1700000000.000100")
    assert status is not None and (status.status, status.loading_messages) == ("is thinking…", loading)
    assert slack.assistant_status("D0ADMIN", "1700000000.000200") is None
    call = slack.last("assistant.threads.setStatus")
    assert call.ok and call.params["channel_id"] == "D0ADMIN" and call.params["loading_messages"] == loading
    assert slack.assistant_statuses("U0ADMIN") == {"1700000000.000100": status}  # a user id names the DM


def test_set_status_validation(slack: SlackEmulator) -> None:
    api = client(slack)
    with pytest.raises(SlackApiError) as excinfo:
        api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts="1.2", status="x",
                                        loading_messages=[f"m{i}" for i in range(11)])
    assert error_of(excinfo) == ("invalid_arguments", ["[ERROR] loading_messages has 11 items, max 10"])
    with pytest.raises(SlackApiError) as excinfo:
        api.api_call("assistant.threads.setStatus", json={"channel_id": "D0ADMIN", "thread_ts": "1.2"})
    assert error_of(excinfo) == ("invalid_arguments", ["[ERROR] missing required field: status"])
    with pytest.raises(SlackApiError) as excinfo:
        api.api_call("assistant.threads.setStatus", json={"status": "x"})
    assert error_of(excinfo)[1] == ["[ERROR] missing required field: channel_id",
                                    "[ERROR] missing required field: thread_ts"]
    with pytest.raises(SlackApiError) as excinfo:
        api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts="1.2", status=["x"])  # type: ignore[arg-type]
    assert error_of(excinfo)[0] == "invalid_arguments"
    with pytest.raises(SlackApiError) as excinfo:
        api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts="1.2", status="x", loading_messages=[3])
    assert error_of(excinfo)[0] == "invalid_arguments"
    with pytest.raises(SlackApiError) as excinfo:
        api.assistant_threads_setStatus(channel_id="nope", thread_ts="1.2", status="x")
    assert error_of(excinfo)[0] == "channel_not_found"
    slack.add_channel("G0SECRET", "secret", is_private=True, is_member=False)
    with pytest.raises(SlackApiError) as excinfo:
        api.assistant_threads_setStatus(channel_id="G0SECRET", thread_ts="1.2", status="x")
    assert error_of(excinfo)[0] == "channel_not_found"
    with pytest.raises(SlackApiError) as excinfo:
        api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts="yesterday", status="x")
    assert error_of(excinfo)[0] == "invalid_thread_ts"
    assert [c.ok for c in slack.calls_to("assistant.threads.setStatus")] == [False] * 8
    api.assistant_threads_setStatus(channel_id="C0OPS", thread_ts="1.2", status="is looking")  # channels too
    assert slack.assistant_status("C0OPS", "1.2") is not None


def test_status_clears_on_a_reply_in_its_thread_on_empty_status_and_after_two_minutes(slack: SlackEmulator) -> None:
    api = client(slack)
    root = slack.add_user_message("D0ADMIN", "U0ADMIN", "which jobs are failing?")
    other = slack.add_user_message("D0ADMIN", "U0ADMIN", "and storage?")
    for ts in (root["ts"], other["ts"]):
        api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts=ts, status="is thinking…")
    api.chat_postMessage(channel="D0ADMIN", text="not in a thread")
    api.chat_postMessage(channel="C0OPS", text="elsewhere", thread_ts=root["ts"])
    assert set(slack.assistant_statuses("D0ADMIN")) == {root["ts"], other["ts"]}
    api.chat_postMessage(channel="D0ADMIN", text="2 jobs are failing", thread_ts=root["ts"])
    assert set(slack.assistant_statuses("D0ADMIN")) == {other["ts"]}

    api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts=other["ts"], status="")
    assert slack.assistant_statuses("D0ADMIN") == {}

    api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts=other["ts"], status="is thinking…")
    slack._statuses[("D0ADMIN", other["ts"])].set_at = time.time() - 121
    assert slack.assistant_status("D0ADMIN", other["ts"]) is None


# -- assistant.threads.setSuggestedPrompts and setTitle ---------------------------------------------


def test_suggested_prompts_for_the_messages_tab_and_for_a_thread(slack: SlackEmulator) -> None:
    api = client(slack)
    api.assistant_threads_setSuggestedPrompts(channel_id="D0ADMIN", prompts=PROMPTS, title="Ask about projects")
    assert slack.suggested_prompts("D0ADMIN") == {"title": "Ask about projects", "prompts": PROMPTS}
    assert "thread_ts" not in slack.last("assistant.threads.setSuggestedPrompts").params
    api.assistant_threads_setSuggestedPrompts(channel_id="D0ADMIN", thread_ts="1.5", prompts=PROMPTS[:1])
    assert slack.suggested_prompts("D0ADMIN", "1.5") == {"title": None, "prompts": PROMPTS[:1]}
    assert slack.thread_prompts("D0ADMIN") == {"1.5": {"title": None, "prompts": PROMPTS[:1]}}
    assert slack.suggested_prompts("D0ADMIN")["title"] == "Ask about projects"  # the tab's are unchanged
    four = [{"title": f"t{i}", "message": f"m{i}"} for i in range(4)]
    api.api_call("assistant.threads.setSuggestedPrompts",  # form-encoded, prompts as a JSON string
                 params={"channel_id": "D0VIEWER", "prompts": json.dumps(four)})
    assert slack.suggested_prompts("U0VIEWER") == {"title": None, "prompts": four}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"prompts": PROMPTS}, ("invalid_arguments", ["[ERROR] missing required field: channel_id"])),
        ({"channel_id": "D0ADMIN"}, ("invalid_arguments", ["[ERROR] missing required field: prompts"])),
        ({"channel_id": "D0ADMIN", "prompts": [{"title": f"t{i}", "message": "m"} for i in range(5)]},
         ("invalid_arguments", ["[ERROR] prompts has 5 items, must be 1 to 4"])),
        ({"channel_id": "D0ADMIN", "prompts": []},
         ("invalid_arguments", ["[ERROR] prompts has 0 items, must be 1 to 4"])),
        ({"channel_id": "D0ADMIN", "prompts": [{"title": "no message"}]},
         ("invalid_arguments", ["[ERROR] prompts[0].message is required"])),
        ({"channel_id": "D0ADMIN", "prompts": ["just words"]},
         ("invalid_arguments", ["[ERROR] prompts[0] must be an object with title and message"])),
        ({"channel_id": "D0ADMIN", "prompts": {"title": "t", "message": "m"}},
         ("invalid_arguments", ["[ERROR] prompts must be an array of {title, message} objects"])),
        ({"channel_id": "U0ADMIN", "prompts": PROMPTS}, ("channel_not_found", [])),
        ({"channel_id": "D0ADMIN", "thread_ts": "abc", "prompts": PROMPTS}, ("invalid_thread_ts", [])),
    ],
)
def test_suggested_prompts_validation(slack: SlackEmulator, arguments: dict[str, Any],
                                      expected: tuple[str, list[str]]) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client(slack).api_call("assistant.threads.setSuggestedPrompts", json=arguments)
    assert error_of(excinfo) == expected
    assert slack.last("assistant.threads.setSuggestedPrompts").error == expected[0]
    assert slack.suggested_prompts("D0ADMIN") is None


def test_set_title(slack: SlackEmulator) -> None:
    api = client(slack)
    api.assistant_threads_setTitle(channel_id="D0ADMIN", thread_ts="1.5", title="Failing jobs")
    assert slack.thread_title("D0ADMIN", "1.5") == "Failing jobs"
    assert slack.thread_titles("D0ADMIN") == {"1.5": "Failing jobs"}
    with pytest.raises(SlackApiError) as excinfo:
        api.api_call("assistant.threads.setTitle", params={"channel_id": "D0ADMIN", "thread_ts": "1.5"})
    assert error_of(excinfo) == ("invalid_arguments", ["[ERROR] missing required field: title"])
    with pytest.raises(SlackApiError) as excinfo:
        api.assistant_threads_setTitle(channel_id="D0ADMIN", thread_ts="1.5", title="  ")
    assert error_of(excinfo)[0] == "invalid_arguments"
    assert [c.ok for c in slack.calls_to("assistant.threads.setTitle")] == [True, False, False]


def test_failures_can_be_injected(slack: SlackEmulator) -> None:
    slack.fail_next("assistant.threads.setStatus", "ratelimited")
    with pytest.raises(SlackApiError) as excinfo:
        client(slack).assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts="1.2", status="x")
    assert excinfo.value.response.status_code == 429


# -- request builders ----------------------------------------------------------------------------


def test_app_home_opened_for_the_messages_tab_and_the_home_tab(builder: SlackRequestBuilder) -> None:
    event = builder.app_home_opened("U0OPERATOR").payload["event"]
    assert event == {"type": "app_home_opened", "user": "U0OPERATOR", "channel": "D0OPERATOR", "tab": "messages",
                     "event_ts": event["event_ts"]}
    home = {"id": "V1", "type": "home", "blocks": []}
    event = builder.app_home_opened("U0OPERATOR", tab="home", view=home).payload["event"]
    assert (event["tab"], event["view"]) == ("home", home)
    assert "view" not in builder.app_home_opened(view=home).payload["event"]  # the Messages tab has no view


def test_dm_message_is_message_im_and_is_stored(slack: SlackEmulator, builder: SlackRequestBuilder) -> None:
    root = builder.dm_message("which jobs are failing?", "U0VIEWER").payload["event"]
    assert {k: root[k] for k in ("type", "channel", "channel_type", "user", "text")} == {
        "type": "message", "channel": "D0VIEWER", "channel_type": "im", "user": "U0VIEWER",
        "text": "which jobs are failing?"}
    assert "thread_ts" not in root and root["event_ts"] == root["ts"] and root["client_msg_id"]
    reply = builder.dm_message("and that one?", "U0VIEWER", thread_ts=root["ts"]).payload["event"]
    assert (reply["thread_ts"], reply["parent_user_id"]) == (root["ts"], "U0VIEWER")
    stored = slack.messages("D0VIEWER")
    assert [m["ts"] for m in stored] == [root["ts"], reply["ts"]] and stored[0]["reply_count"] == 1
    detached = SlackRequestBuilder(SECRET).dm_message("hi", "U0ADMIN", thread_ts="1.5", ts="1.6").payload["event"]
    assert (detached["ts"], detached["thread_ts"], detached["channel"]) == ("1.6", "1.5", "D0ADMIN")


def test_feedback_click_carries_the_chosen_buttons_value(slack: SlackEmulator, builder: SlackRequestBuilder) -> None:
    root = slack.add_user_message("D0ADMIN", "U0ADMIN", "list projects")
    posted = client(slack).chat_postMessage(channel="D0ADMIN", thread_ts=root["ts"], text="Was this it?",
                                            blocks=[FEEDBACK])
    payload = builder.feedback_click(posted["message"], positive=False, channel_id="D0ADMIN").payload
    (action,) = payload["actions"]
    assert {k: action[k] for k in ("type", "action_id", "block_id", "value", "text")} == {
        "type": "feedback_buttons", "action_id": "answer_feedback", "block_id": "fb", "value": "bad:7",
        "text": {"type": "plain_text", "text": "Misunderstood"}}
    assert payload["type"] == "block_actions" and payload["channel"]["id"] == "D0ADMIN"
    assert payload["container"] == {"type": "message", "message_ts": posted["ts"], "channel_id": "D0ADMIN",
                                    "is_ephemeral": False, "thread_ts": root["ts"]}
    assert builder.feedback_click(posted["message"]).payload["actions"][0]["value"] == "good:7"
    with pytest.raises(ValueError, match="no feedback_buttons element 'other'"):
        builder.feedback_click(posted["message"], action_id="other")


def test_bolt_app_on_the_agent_surfaces(slack: SlackEmulator, builder: SlackRequestBuilder) -> None:
    """Bolt's own set_suggested_prompts / set_status / say work against the emulator with the built events."""
    app = App(client=client(slack), signing_secret=SECRET, process_before_response=True)
    feedback: list[str] = []

    @app.event("app_home_opened")
    def opened(event: dict[str, Any], set_suggested_prompts: Any) -> None:
        assert event["tab"] == "messages"
        set_suggested_prompts(prompts=PROMPTS, title="Try")

    @app.event("message")
    def dm(event: dict[str, Any], set_status: Any, say: Any) -> None:
        set_status(status="is thinking…")
        assert slack.assistant_status(event["channel"], event["ts"]) is not None
        say(text="2 jobs are failing", thread_ts=event["ts"], blocks=[FEEDBACK])

    @app.action("answer_feedback")
    def clicked(ack: Any, action: dict[str, Any]) -> None:
        ack()
        feedback.append(action["value"])

    def dispatch(signed: SignedRequest) -> Any:
        return app.dispatch(BoltRequest(body=signed.text, headers=signed.headers))

    assert dispatch(builder.app_home_opened("U0OPERATOR")).status == 200
    assert slack.suggested_prompts("D0OPERATOR") == {"title": "Try", "prompts": PROMPTS}
    assert dispatch(builder.dm_message("which jobs are failing?", "U0OPERATOR")).status == 200
    root, answer = slack.messages("D0OPERATOR")
    assert answer["thread_ts"] == root["ts"] and slack.assistant_statuses("D0OPERATOR") == {}
    assert slack.last("assistant.threads.setStatus").params["thread_ts"] == root["ts"]
    assert dispatch(builder.feedback_click(answer, channel_id="D0OPERATOR", user_id="U0OPERATOR")).status == 200
    assert feedback == ["good:7"]


# -- the playground ------------------------------------------------------------------------------


@pytest.fixture
def page(slack: SlackEmulator) -> Iterator[httpx.Client]:
    """The playground wired to a stub app that answers every request with an empty 200."""

    async def events(request: Request) -> JSONResponse:
        return JSONResponse({})

    app = serve_in_thread(Starlette(routes=[Route("/events", events, methods=["POST"])]))
    slack.connect_app(app.url + "/events", SECRET)
    try:
        with loopback.Client(base_url=slack.base_url, timeout=10) as http:
            yield http
    finally:
        slack.playground.events_url = None
        app.stop()


def dm_items(page: httpx.Client, user: str = "U0ADMIN") -> list[dict[str, Any]]:
    return page.get("/playground/state", params={"user": user}).json()["channels"]["D" + user[1:]]


def test_playground_messages_tab_sends_app_home_opened_tab_messages(slack: SlackEmulator, page: httpx.Client) -> None:
    assert page.post("/playground/home", json={"user": "U0VIEWER", "tab": "messages"}).json()["ok"]
    assert page.post("/playground/home", json={"user": "U0VIEWER"}).json()["ok"]
    opened = [p["event"] for p in slack.playground.sent]
    assert [(e["type"], e["tab"], e["channel"], e["user"]) for e in opened] == [
        ("app_home_opened", "messages", "D0VIEWER", "U0VIEWER"), ("app_home_opened", "home", "D0VIEWER", "U0VIEWER")]


def test_playground_dm_threads_status_title_and_prompts(slack: SlackEmulator, page: httpx.Client) -> None:
    api = client(slack)
    api.assistant_threads_setSuggestedPrompts(channel_id="D0ADMIN", prompts=PROMPTS, title="Ask")
    state = page.get("/playground/state", params={"user": "U0ADMIN"}).json()
    assert state["prompts"] == {"D0ADMIN": {"title": "Ask", "prompts": PROMPTS}}
    assert page.get("/playground/state", params={"user": "U0VIEWER"}).json()["prompts"] == {}

    # what a chip sends: its message, as the person, in the DM; even a named @projectops is no app_mention there
    page.post("/playground/mention", json={"user": "U0ADMIN", "channel": "D0ADMIN", "text": "@projectops hi"})
    page.post("/playground/mention", json={"user": "U0ADMIN", "channel": "D0ADMIN", "text": PROMPTS[0]["message"]})
    first, second = (p["event"] for p in slack.playground.sent)
    assert (first["type"], first["channel_type"], first["text"]) == ("message", "im", "<@U0BOT> hi")
    assert (second["type"], second["channel_type"], second["text"]) == ("message", "im", PROMPTS[0]["message"])
    assert "thread_ts" not in second  # each top-level message is its own thread root

    api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts=second["ts"], status="is thinking…")
    api.assistant_threads_setTitle(channel_id="D0ADMIN", thread_ts=second["ts"], title="Failing jobs")
    api.assistant_threads_setSuggestedPrompts(channel_id="D0ADMIN", thread_ts=second["ts"], prompts=PROMPTS[1:])
    roots = dm_items(page)
    assert [r["message"]["ts"] for r in roots] == [first["ts"], second["ts"]]
    assert roots[1]["status"] == {"status": "is thinking…", "loading_messages": []}
    assert (roots[1]["title"], roots[1]["prompts"]["prompts"]) == ("Failing jobs", PROMPTS[1:])
    assert "status" not in roots[0]

    api.chat_postMessage(channel="D0ADMIN", thread_ts=second["ts"], text="2 jobs are failing", blocks=[FEEDBACK])
    thread = dm_items(page)[1]
    assert "status" not in thread and [r["message"]["text"] for r in thread["replies"]] == ["2 jobs are failing"]

    page.post("/playground/mention", json={"user": "U0ADMIN", "channel": "D0ADMIN", "text": "and that one?",
                                           "thread_ts": second["ts"]})
    follow_up = slack.playground.sent[-1]["event"]
    assert (follow_up["thread_ts"], follow_up["channel_type"]) == (second["ts"], "im")
    assert [r["message"]["text"] for r in dm_items(page)[1]["replies"]] == ["2 jobs are failing", "and that one?"]

    answer = dm_items(page)[1]["replies"][0]["message"]
    action = {"action_id": "answer_feedback", "block_id": "fb", "type": "feedback_buttons", "value": "bad:7",
              "text": {"type": "plain_text", "text": "Misunderstood"}}
    assert page.post("/playground/action", json={"user": "U0ADMIN", "channel": "D0ADMIN", "ts": answer["ts"],
                                                 "action": action}).json()["ok"]
    click = slack.playground.sent[-1]
    assert click["type"] == "block_actions" and click["actions"][0]["value"] == "bad:7"
    assert click["container"]["thread_ts"] == second["ts"]


def test_playground_mention_in_a_channel_thread(slack: SlackEmulator, page: httpx.Client) -> None:
    page.post("/playground/mention", json={"user": "U0ADMIN", "channel": "C0OPS", "text": "@projectops is it up?"})
    root = slack.playground.sent[-1]["event"]
    page.post("/playground/mention", json={"user": "U0ADMIN", "channel": "C0OPS", "text": "@projectops and now?",
                                           "thread_ts": root["ts"]})
    reply = slack.playground.sent[-1]["event"]
    assert (root["type"], reply["type"], reply["thread_ts"]) == ("app_mention", "app_mention", root["ts"])
    assert "channel_type" not in root
    assert slack.messages("C0OPS")[0]["reply_count"] == 1
