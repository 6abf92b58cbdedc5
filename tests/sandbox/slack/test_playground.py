"""The playground's endpoints against the real app (no browser): what each user sees, replacements, modals."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import loopback
import pytest
from rig import SIGNING_SECRET, Bot

from sandbox.slack.playground import CHANNEL, _threaded


@pytest.fixture
def page(bot: Bot) -> Iterator[httpx.Client]:
    """An HTTP client on the playground, wired to the test's bot."""
    bot.slack.connect_app(bot.url + "/slack/events", SIGNING_SECRET)
    with loopback.Client(base_url=bot.slack.base_url, timeout=30) as client:
        yield client
    bot.slack.playground.events_url = None


def state(page: httpx.Client, user: str) -> dict[str, Any]:
    response = page.get("/playground/state", params={"user": user})
    assert response.status_code == 200
    return response.json()


def items(page: httpx.Client, user: str, kind: str, channel: str = CHANNEL) -> list[dict[str, Any]]:
    return [item for item in state(page, user)["channels"][channel] if item["kind"] == kind]


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
    return result


def command(page: httpx.Client, user: str, text: str, channel: str = CHANNEL) -> None:
    response = page.post("/playground/command", json={"user": user, "channel": channel, "text": text})
    assert response.json()["ok"], response.text


def test_page_and_static_files_are_served(page: httpx.Client) -> None:
    index = page.get("/")
    assert index.status_code == 200 and "playground/static/app.js" in index.text
    for name in ("app.js", "blockkit.js", "style.css", "supported_types.json"):
        assert page.get(f"/playground/static/{name}").status_code == 200


def test_command_answer_is_visible_only_to_its_user(page: httpx.Client) -> None:
    command(page, "U0OPERATOR", "/projects list polaris")
    mine = eventually(lambda: [i for i in items(page, "U0OPERATOR", "ephemeral") if "Polaris projects" in
                               i["message"]["text"]])
    assert mine[0]["message"]["blocks"]
    assert [i["message"]["text"] for i in items(page, "U0OPERATOR", "echo")] == ["/projects list polaris"]
    assert items(page, "U0ADMIN", "ephemeral") == [] and items(page, "U0ADMIN", "echo") == []
    assert items(page, "U0OPERATOR", "message") == []


def test_click_on_an_ephemeral_replaces_it_in_place(page: httpx.Client) -> None:
    command(page, "U0OPERATOR", "/projects delete terraform sandbox-playground")
    prompt = eventually(lambda: [i["message"] for i in items(page, "U0OPERATOR", "ephemeral")])[-1]
    action = {"action_id": "projectops_cancel"}
    response = page.post("/playground/action", json={"user": "U0OPERATOR", "channel": CHANNEL, "ts": prompt["ts"],
                                                     "ephemeral": True, "action": action})
    assert response.json()["ok"]

    def cancelled() -> list[dict[str, Any]]:
        shown = items(page, "U0OPERATOR", "ephemeral")
        return [i for i in shown if i["message"]["ts"] == prompt["ts"] and "Cancelled" in i["message"]["text"]]

    eventually(cancelled)
    assert len(items(page, "U0OPERATOR", "ephemeral")) == 1
    assert items(page, "U0OPERATOR", "message") == []  # never leaked into the channel


def test_typed_name_modal_errors_then_approval_in_thread(page: httpx.Client, bot: Bot) -> None:
    command(page, "U0OPERATOR", "/projects delete terraform sandbox-playground")
    prompt = eventually(lambda: [i["message"] for i in items(page, "U0OPERATOR", "ephemeral")])[-1]
    page.post("/playground/action", json={"user": "U0OPERATOR", "channel": CHANNEL, "ts": prompt["ts"],
                                          "ephemeral": True, "action": {"action_id": "projectops_confirm"}})
    modal = eventually(lambda: state(page, "U0OPERATOR")["modal"])
    assert state(page, "U0ADMIN")["modal"] is None  # the modal is the operator's
    block = modal["blocks"][1]
    values = {block["block_id"]: {block["element"]["action_id"]: "wrong"}}
    answer = page.post("/playground/submit", json={"user": "U0OPERATOR", "view_id": modal["id"], "values": values})
    assert answer.json()["answer"]["response_action"] == "errors"
    assert "does not match" in state(page, "U0OPERATOR")["modal"]["errors"][block["block_id"]]
    values = {block["block_id"]: {block["element"]["action_id"]: "sandbox-playground"}}
    page.post("/playground/submit", json={"user": "U0OPERATOR", "view_id": modal["id"], "values": values})
    assert state(page, "U0OPERATOR")["modal"] is None
    request = eventually(lambda: [i["message"] for i in items(page, "U0ADMIN", "message")
                                  if "Approval needed" in i["message"]["text"]
                                  or "approval" in str(i["message"].get("blocks"))])[-1]
    page.post("/playground/action", json={"user": "U0ADMIN", "channel": CHANNEL, "ts": request["ts"],
                                          "action": {"action_id": "projectops_approve"}})
    thread = eventually(lambda: [i for i in items(page, "U0VIEWER", "message") if i["replies"]], timeout=20)
    assert "sandbox-playground" in thread[0]["replies"][0]["message"]["text"]


def test_mention_is_stored_and_home_request_is_accepted(page: httpx.Client) -> None:
    response = page.post("/playground/mention", json={"user": "U0ADMIN", "channel": CHANNEL,
                                                      "text": "@projectops help"})
    assert response.status_code == 200
    assert [i["message"]["text"] for i in items(page, "U0VIEWER", "message")] == ["<@U0BOT> help"]
    assert page.post("/playground/home", json={"user": "U0ADMIN"}).status_code == 200


def test_what_the_person_types_is_sent_escaped_as_slack_does(bot: Bot, page: httpx.Client) -> None:
    command(page, "U0VIEWER", "/projects show polaris a&b")
    sent = eventually(lambda: [p for p in bot.slack.playground.sent if p.get("command") == "/projects"])
    assert sent[-1]["text"] == "show polaris a&amp;b"
    answer = eventually(lambda: [i for i in items(page, "U0VIEWER", "ephemeral") if "no project" in
                                 i["message"]["text"]])
    assert "`a&amp;b`" in answer[-1]["message"]["text"] and "&amp;amp;" not in answer[-1]["message"]["text"]

    response = page.post("/playground/mention", json={"user": "U0ADMIN", "channel": CHANNEL,
                                                      "text": "@projectops help & <more>"})
    assert response.status_code == 200
    event = bot.slack.playground.sent[-1]["event"]
    assert event["text"] == "<@U0BOT> help &amp; &lt;more&gt;"
    assert items(page, "U0VIEWER", "message")[-1]["message"]["text"] == event["text"]  # kept as Slack keeps it

    page.post("/playground/mention", json={"user": "U0ADMIN", "channel": "D0ADMIN", "text": "whoami & more"})
    assert bot.slack.playground.sent[-1]["event"]["text"] == "whoami &amp; more"


def test_without_an_app_the_page_says_so(slack) -> None:
    slack.playground.events_url = None
    with loopback.Client(base_url=slack.base_url, timeout=10) as client:
        assert client.get("/playground/state").json()["connected"] is False
        response = client.post("/playground/mention", json={"user": "U0ADMIN", "text": "hi"})
    assert response.status_code == 503


def test_threaded_nests_replies_and_keeps_order() -> None:
    def item(ts: str, thread: str | None = None) -> dict[str, Any]:
        message = {"ts": ts, **({"thread_ts": thread} if thread else {})}
        return {"kind": "message", "message": message}

    out = _threaded([item("3.0", "1.0"), item("2.0"), item("1.0", "1.0"), item("5.0", "9.0")])
    assert [o["message"]["ts"] for o in out] == ["1.0", "2.0", "5.0"]
    assert [r["message"]["ts"] for r in out[0]["replies"]] == ["3.0"]


def modal_view(title: str) -> dict[str, Any]:
    block = {"type": "input", "block_id": "name", "label": {"type": "plain_text", "text": "Name"},
             "element": {"type": "plain_text_input", "action_id": "value"}}
    return {"type": "modal", "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": "Next"}, "blocks": [block]}


def test_submit_answers_push_update_close_and_clear(slack) -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from sandbox.serving import serve_in_thread

    answers: list[dict[str, Any]] = []

    async def events(request):
        return JSONResponse(answers.pop(0)) if answers else JSONResponse({})

    app = serve_in_thread(Starlette(routes=[Route("/events", events, methods=["POST"])]))
    slack.connect_app(app.url + "/events", "secret")
    try:
        with loopback.Client(base_url=slack.base_url, timeout=10) as page:
            slack.register_trigger("1.2.abc", user_id="U0OPERATOR")
            opened = page.post("/api/views.open", json={"trigger_id": "1.2.abc", "view": modal_view("Step 1")},
                               headers={"authorization": "Bearer xoxb-test"}).json()
            assert opened["ok"], opened

            def top() -> dict[str, Any] | None:
                return state(page, "U0OPERATOR")["modal"]

            def submit(answer: dict[str, Any]) -> None:
                answers.append(answer)
                response = page.post("/playground/submit", json={
                    "user": "U0OPERATOR", "view_id": top()["id"], "values": {"name": {"value": "x"}}})
                assert response.json()["ok"]

            assert top()["title"]["text"] == "Step 1" and state(page, "U0ADMIN")["modal"] is None
            submit({"response_action": "push", "view": modal_view("Step 2")})
            assert (top()["title"]["text"], top()["depth"]) == ("Step 2", 2)
            submit({"response_action": "update", "view": modal_view("Step 2b")})
            assert (top()["title"]["text"], top()["depth"]) == ("Step 2b", 2)
            submit({})  # no response_action: this view closes, the one below shows again
            assert (top()["title"]["text"], top()["depth"]) == ("Step 1", 1)
            submit({"response_action": "push", "view": modal_view("Step 2")})
            page.post("/playground/close", json={"user": "U0OPERATOR", "view_id": top()["id"]})
            assert top()["title"]["text"] == "Step 1"
            submit({"response_action": "clear"})
            assert top() is None
    finally:
        slack.playground.events_url = None
        app.stop()
