"""Offline Block Kit validation: every documented limit, and realistic payloads that pass."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import SlackEmulator, validate


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def button(action_id: str = "go", text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain(text), **extra}


def option(text: str = "One", value: str = "1") -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def section(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def actions(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements), **extra}


def select(options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "pick", "placeholder": plain("Pick"), "options": options}


def text_input(block_id: str = "name") -> dict[str, Any]:
    element = {"type": "plain_text_input", "action_id": "value"}
    return {"type": "input", "block_id": block_id, "label": plain("Name"), "element": element}


def modal(**extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Create"), "submit": plain("Create"), "blocks": [text_input()], **extra}


IMAGE = {"type": "image", "image_url": "https://example.com/chart.png", "alt_text": "chart"}
CONFIRM = {"title": plain("Sure?"), "text": mrkdwn("It *will* go"), "confirm": plain("Yes"), "deny": plain("No")}

VALID_MESSAGE = {
    "text": "Project polaris-us",
    "blocks": [
        {"type": "header", "text": plain("polaris-us")},
        section("*State:* running", block_id="state", accessory=button("details", value="p1")),
        {"type": "section", "fields": [mrkdwn("*Plan*\nstarter"), mrkdwn("*Region*\nus-east-1")]},
        {"type": "divider"},
        actions(
            button("stop", "Stop", style="danger", confirm=CONFIRM),
            select([option("Starter", "starter"), option("Pro", "pro")]),
            {"type": "overflow", "action_id": "more", "options": [option("Logs", "logs"), option("Jobs", "j")]},
            {"type": "datepicker", "action_id": "when"},
            block_id="controls",
        ),
        {"type": "context", "elements": [mrkdwn("Updated now"), IMAGE]},
        {**IMAGE, "title": plain("Storage")},
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "x"}]}]},
    ],
}
VALID_MODAL = modal(
    callback_id="project_create",
    private_metadata='{"target": "polaris-us"}',
    close=plain("Cancel"),
    blocks=[
        text_input("name"),
        {
            "type": "input",
            "block_id": "plan",
            "label": plain("Plan"),
            "hint": plain("Can be changed later"),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "option_groups": [{"label": plain("Paid"), "options": [option("Pro", "pro")]}],
            },
        },
        {
            "type": "input",
            "block_id": "flags",
            "optional": True,
            "label": plain("Flags"),
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [{"text": mrkdwn("*Protect*"), "value": "p"}],
            },
        },
        {
            "type": "input",
            "block_id": "owner",
            "label": plain("Owner"),
            "element": {"type": "users_select", "action_id": "v"},
        },
    ],
)
VALID_HOME = {"type": "home", "callback_id": "home", "blocks": [{"type": "header", "text": plain("Hi")}, section()]}


def test_valid_payloads_pass_and_collect_types() -> None:
    seen: set[str] = set()
    assert validate(VALID_MESSAGE, "message", seen) == []
    assert validate(VALID_MODAL, "modal", seen) == []
    assert validate(VALID_HOME, "home", seen) == []
    assert {"header", "section", "actions", "button", "static_select", "overflow", "image", "input"} <= seen
    assert {"checkboxes", "users_select", "plain_text_input", "datepicker", "context", "rich_text"} <= seen


LONG = "x" * 3001


def msg(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"blocks": list(blocks)}


def with_confirm(**overrides: Any) -> dict[str, Any]:
    return msg(actions(button(confirm={**CONFIRM, **overrides})))


CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("message blocks > 50", "message", msg(*[section()] * 51), "blocks: 51 items, max 50"),
    ("view blocks > 100", "modal", modal(blocks=[section()] * 101), "blocks: 101 items, max 100"),
    ("home blocks > 100", "home", {"type": "home", "blocks": [section()] * 101}, "max 100"),
    ("message text > 40000", "message", {"text": "x" * 40_001}, "text: 40001 characters, max 40000"),
    ("section text > 3000", "message", msg(section(LONG)), "blocks[0].text: 3001 characters"),
    ("section fields > 10", "message", msg({"type": "section", "fields": [mrkdwn("a")] * 11}), "11 items, max 10"),
    ("field text > 2000", "message", msg({"type": "section", "fields": [mrkdwn("x" * 2001)]}), "fields[0]: 2001"),
    ("section empty", "message", msg({"type": "section"}), "needs 'text' or 'fields'"),
    ("header > 150", "message", msg({"type": "header", "text": plain("x" * 151)}), "151 characters, max 150"),
    ("header mrkdwn", "message", msg({"type": "header", "text": mrkdwn("x")}), "must be plain_text"),
    ("button text > 75", "message", msg(actions(button(text="x" * 76))), "text: 76 characters, max 75"),
    ("button value > 2000", "message", msg(actions(button(value="x" * 2001))), "value: 2001 characters"),
    ("button mrkdwn text", "message", msg(actions({**button(), "text": mrkdwn("Go")})), "must be plain_text"),
    ("option text > 75", "message", msg(actions(select([option("x" * 76)]))), "options[0].text: 76"),
    ("option value > 150", "message", msg(actions(select([option(value="x" * 151)]))), "value: 151"),
    ("option mrkdwn", "message", msg(actions(select([{**option(), "text": mrkdwn("a")}]))), "plain_text"),
    ("options > 100", "message", msg(actions(select([option()] * 101))), "options: 101 items, max 100"),
    ("actions > 25", "message", msg(actions(*[button(f"b{i}") for i in range(26)])), "26 items, max 25"),
    ("context > 10", "message", msg({"type": "context", "elements": [mrkdwn("a")] * 11}), "11 items, max 10"),
    ("action_id > 255", "message", msg(actions(button("x" * 256))), "action_id: 256 characters"),
    ("block_id > 255", "message", msg(section(block_id="x" * 256)), "block_id: 256 characters"),
    ("duplicate block_id", "message", msg(section(block_id="a"), section(block_id="a")), "duplicate block_id 'a'"),
    ("duplicate action_id", "message", msg(actions(button("a"), button("a"))), "duplicate action_id 'a'"),
    ("modal title > 24", "modal", modal(title=plain("x" * 25)), "title: 25 characters, max 24"),
    ("modal title empty", "modal", modal(title=plain("")), "title: text must not be empty"),
    ("modal title missing", "modal", {"type": "modal", "blocks": []}, "title: is required"),
    ("modal submit > 24", "modal", modal(submit=plain("x" * 25)), "submit: 25 characters"),
    ("modal close > 24", "modal", modal(close=plain("x" * 25)), "close: 25 characters"),
    ("input without submit", "modal", {**modal(), "submit": None}, "submit: is required"),
    ("private_metadata > 3000", "modal", modal(private_metadata=LONG), "private_metadata: 3001 characters"),
    ("callback_id > 255", "modal", modal(callback_id="x" * 256), "callback_id: 256 characters"),
    ("confirm title > 100", "message", with_confirm(title=plain("x" * 101)), "confirm.title: 101"),
    ("confirm text > 300", "message", with_confirm(text=mrkdwn("x" * 301)), "confirm.text: 301"),
    ("confirm confirm > 30", "message", with_confirm(confirm=plain("x" * 31)), "confirm.confirm: 31"),
    ("confirm deny > 30", "message", with_confirm(deny=plain("x" * 31)), "confirm.deny: 31"),
    ("home submit", "home", {**VALID_HOME, "submit": plain("Go")}, "submit: home views cannot have"),
    ("home close", "home", {**VALID_HOME, "close": plain("Go")}, "close: home views cannot have"),
    ("text missing type", "message", msg({"type": "section", "text": {"text": "hi"}}), "missing 'type'"),
    ("text missing text", "message", msg({"type": "section", "text": {"type": "mrkdwn"}}), "missing 'text'"),
    ("input label mrkdwn", "modal", modal(blocks=[{**text_input(), "label": mrkdwn("x")}]), "must be plain_text"),
    ("input in message", "message", msg(text_input()), "input blocks are not allowed in messages"),
    ("unknown block", "message", msg({"type": "sektion"}), "unknown block type 'sektion'"),
    ("wrong block", "message", msg(actions({"type": "plain_text_input", "action_id": "a"})), "not allowed in a"),
    ("wrong view type", "home", {"type": "modal", "blocks": []}, "view type must be 'home'"),
    ("blocks not a list", "message", {"blocks": "[]"}, "blocks: must be a list"),
]


@pytest.mark.parametrize(("surface", "payload", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_limit_is_enforced(surface: Any, payload: dict[str, Any], expected: str) -> None:
    errors = validate(payload, surface)
    assert any(expected in e for e in errors), errors


def test_limits_are_inclusive() -> None:
    at_limit = {
        "text": "x" * 40_000,
        "blocks": [section("x" * 3000, block_id="b" * 255)]
        + [{"type": "header", "text": plain("x" * 150)}]
        + [actions(*[button(f"a{i}", "x" * 75, value="v" * 2000) for i in range(25)])]
        + [section() for _ in range(47)],
    }
    assert validate(at_limit, "message") == []
    assert validate(modal(title=plain("x" * 24), private_metadata="x" * 3000), "modal") == []


def feedback(**overrides: Any) -> dict[str, Any]:
    """A feedback_buttons element (context actions block reference)."""
    element = {
        "type": "feedback_buttons",
        "action_id": "fb",
        "positive_button": {"text": plain("👍"), "value": "positive_feedback", "accessibility_label": "Good"},
        "negative_button": {"text": plain("👎"), "value": "negative_feedback"},
    }
    return {**element, **overrides}


def icon_button(**overrides: Any) -> dict[str, Any]:
    return {"type": "icon_button", "icon": "trash", "text": plain("Delete"), "action_id": "del", "value": "x",
            **overrides}


def context_actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "context_actions", "elements": list(elements)}


def positive(**fields: Any) -> dict[str, Any]:
    return feedback(positive_button={"text": plain("👍"), "value": "p", **fields})


CONTEXT_ACTIONS_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("elements > 5", context_actions(*[icon_button(action_id=f"d{i}") for i in range(6)]), "6 items, max 5"),
    ("no elements", context_actions(), "elements: 0 items, min 1"),
    ("button in context_actions", context_actions(button()), "button is not allowed in a context_actions block"),
    ("feedback in actions", actions(feedback()), "feedback_buttons is not allowed in a actions block"),
    ("icon_button in actions", actions(icon_button()), "icon_button is not allowed in a actions block"),
    ("negative missing", context_actions(feedback(negative_button=None)), "negative_button: is required"),
    ("button not an object", context_actions(feedback(positive_button="yes")), "must be an object with text"),
    ("feedback text > 75", context_actions(positive(text=plain("x" * 76))), "positive_button.text: 76 characters"),
    ("feedback text mrkdwn", context_actions(positive(text=mrkdwn("x"))), "must be plain_text"),
    ("feedback value missing", context_actions(feedback(positive_button={"text": plain("a")})), "value: is required"),
    ("feedback value > 2000", context_actions(positive(value="x" * 2001)), "value: 2001 characters, max 2000"),
    ("feedback label > 75", context_actions(positive(accessibility_label="x" * 76)), "accessibility_label: 76"),
    ("feedback action_id > 255", context_actions(feedback(action_id="x" * 256)), "action_id: 256 characters"),
    ("icon unknown", context_actions(icon_button(icon="pencil")), "unknown icon 'pencil'; available: trash"),
    ("icon missing", context_actions(icon_button(icon=None)), "icon: is required"),
    ("icon text missing", context_actions(icon_button(text=None)), "text: is required"),
    ("icon value > 2000", context_actions(icon_button(value="x" * 2001)), "value: 2001 characters"),
    ("icon label > 75", context_actions(icon_button(accessibility_label="x" * 76)), "accessibility_label: 76"),
    ("icon visible_to", context_actions(icon_button(visible_to_user_ids="U0ADMIN")), "must be a list of user ids"),
    ("duplicate action_id", context_actions(feedback(action_id="a"), icon_button(action_id="a")), "duplicate"),
]


@pytest.mark.parametrize(("block", "expected"), [c[1:] for c in CONTEXT_ACTIONS_CASES],
                         ids=[c[0] for c in CONTEXT_ACTIONS_CASES])
def test_context_actions_limit_is_enforced(block: dict[str, Any], expected: str) -> None:
    errors = validate(msg(block), "message")
    assert any(expected in e for e in errors), errors


def test_context_actions_at_its_limits_pass() -> None:
    seen: set[str] = set()
    at_limit = positive(text=plain("x" * 75), value="v" * 2000, accessibility_label="a" * 75)
    block = context_actions(at_limit, *[icon_button(action_id=f"d{i}", visible_to_user_ids=["U0ADMIN"])
                                        for i in range(4)])
    assert validate(msg(block, section()), "message", seen) == []
    assert {"context_actions", "feedback_buttons", "icon_button"} <= seen
    assert validate(msg(actions(button(accessibility_label="x" * 75))), "message") == []
    assert any("accessibility_label: 76" in e for e in validate(msg(actions(button(accessibility_label="x" * 76))),
                                                                  "message"))


def test_emulator_rejects_with_invalid_blocks(slack: SlackEmulator) -> None:
    api = WebClient(token="xoxb-test", base_url=slack.api_url)
    api.chat_postMessage(channel="C0OPS", **VALID_MESSAGE)
    api.views_publish(user_id="U0ADMIN", view=VALID_HOME)
    api.views_open(trigger_id="1.2.abc", view=VALID_MODAL)
    assert {"overflow", "checkboxes", "option_groups"} - slack.element_types_seen == {"option_groups"}
    with pytest.raises(SlackApiError) as excinfo:
        api.chat_postMessage(channel="C0OPS", text="x", blocks=[section(LONG)])
    assert excinfo.value.response["errors"] == ["blocks[0].text: 3001 characters, max 3000"]
    (rejection,) = slack.rejections
    assert rejection.method == "chat.postMessage" and rejection.payload["blocks"][0]["text"]["text"] == LONG
    slack.rejections.clear()
