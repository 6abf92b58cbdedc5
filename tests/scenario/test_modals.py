"""Modals, external selects, live progress and App Home, end to end through signed Slack requests."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import loopback
import pytest
from rig import Bot, message_text

from bot import modals
from bot.store import AuditQuery


def wait_until(check, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def current_view(bot: Bot, callback_id: str, changed_from: str | None = None) -> dict[str, Any]:
    """The newest open view with `callback_id` (whose hash differs from `changed_from`)."""
    def find():
        views = [v for v in bot.slack.views.values() if v.get("callback_id") == callback_id]
        if views and views[-1]["hash"] != changed_from:
            return views[-1]
        return None
    return wait_until(find)


def select(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text",
                                                                                  "text": value}}}


def open_create_form(bot: Bot, target: str, user: str = "U0ADMIN") -> dict[str, Any]:
    opened = len(bot.slack.calls_to("views.open"))
    ack, _ = bot.command("create", user=user)
    assert ack.status_code == 200 and ack.text == ""
    wait_until(lambda: len(bot.slack.calls_to("views.open")) > opened)
    view = current_view(bot, modals.CREATE_CALLBACK)
    options = [o["value"] for o in view["blocks"][0]["element"]["options"]]
    assert target in options
    signed = bot.requests.block_actions([{"action_id": modals.TARGET_ACTION, "selected_option": select(target)
                                          ["selected_option"]}], user_id=user, view=view)
    assert bot.post(signed).status_code == 200
    return current_view(bot, modals.CREATE_CALLBACK, changed_from=view["hash"])


def submit(bot: Bot, view: dict[str, Any], values: dict[str, Any], user: str = "U0ADMIN") -> httpx.Response:
    state = {block: {modals.VALUE: value} for block, value in values.items()}
    response = bot.post(bot.requests.view_submission(view, user_id=user, values=state))
    assert response.status_code == 200, response.text
    return response


def ephemeral_text(bot: Bot, needle: str) -> str:
    def find():
        texts = [message_text(e["message"]) for e in bot.slack.ephemerals]
        return next((t for t in texts if needle in t), None)
    return wait_until(find)


@pytest.mark.parametrize(("target", "values", "listed"), [
    ("phoenix", {"name": "modal-traces", "description": "made in a modal"}, "modal-traces"),
    ("terraform", {"name": "modal-team", "description": "Blue", "auto_destroy": "14d"}, "modal-team"),
    ("matillion", {"name": "modal-dwh", "warehouse": select("snowflake"), "deployment_type": select("hybrid")},
     "modal-dwh"),
])
def test_create_via_modal(bot: Bot, target: str, values: dict[str, Any], listed: str) -> None:
    form = open_create_form(bot, target)
    assert {b.get("block_id") for b in form["blocks"]} >= set(values)
    assert submit(bot, form, values).text == ""
    assert "Created" in ephemeral_text(bot, listed)
    assert listed in message_text(bot.run(f"list {target}"))


def test_create_polaris_via_modal_updates_its_message_until_running(bot: Bot, polaris: httpx.Client) -> None:
    form = open_create_form(bot, "polaris", user="U0OPERATOR")
    submit(bot, form, {"name": "modal-analytics", "plan": "starter", "region": select("eu-west-1")},
           user="U0OPERATOR")
    post = bot.slack.wait_for_sync("chat.postMessage", lambda c: "modal-analytics" in (c.params.get("text") or ""))
    ts = post.response["ts"] if getattr(post, "response", None) else None

    def final():
        updates = bot.slack.calls_to("chat.update")
        texts = [message_text(u.params) for u in updates if ts is None or u.params.get("ts") == ts]
        return texts if any("now :large_green_circle: running" in t for t in texts) else None
    texts = wait_until(final)
    assert any("creating" in t.lower() for t in texts[:-1]), texts
    state = {p["name"]: p["state"] for p in polaris.get("/_admin/state").json()["projects"]}
    assert state["modal-analytics"] == "running"


def test_resume_by_command_posts_live_progress(bot: Bot, polaris: httpx.Client) -> None:
    state = {p["name"]: p for p in polaris.get("/_admin/state").json()["projects"]}
    stopped = next((n for n, p in state.items() if p["state"] in ("stopped", "paused")), None)
    if stopped is None:
        pytest.skip("no paused or stopped project in the demo seed")
    answer = bot.run(f"resume polaris {stopped}", user="U0OPERATOR")
    assert "running" in message_text(answer)
    assert bot.slack.calls_to("chat.update")


def test_field_errors_use_each_back_ends_rules(bot: Bot) -> None:
    form = open_create_form(bot, "terraform")
    response = submit(bot, form, {"name": "x", "auto_destroy": "soon"})
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"name", "auto_destroy"}
    form = open_create_form(bot, "polaris")
    body = submit(bot, form, {"name": "a" * 129, "plan": "starter"}).json()
    assert body["response_action"] == "errors" and "name" in body["errors"]


def test_create_modal_lists_only_targets_the_caller_may_write(bot: Bot) -> None:
    bot.command("create", user="U0VIEWER")
    view = current_view(bot, modals.CREATE_CALLBACK)
    assert "You may not create projects" in message_text(view)


def test_edit_polaris_sends_only_changed_fields(bot: Bot, polaris: httpx.Client) -> None:
    ack, _ = bot.command("edit polaris clickstream", user="U0OPERATOR")
    assert ack.status_code == 200
    form = wait_until(lambda: next((v for v in bot.slack.views.values() if v.get("callback_id")
                                    == modals.EDIT_CALLBACK and v.get("submit")), None))
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    stop_before = blocks["stop_protection"]["element"]["initial_option"]["value"]
    deletion_before = blocks["deletion_protection"]["element"]["initial_option"]["value"]
    flipped = "off" if deletion_before == "on" else "on"
    submit(bot, form, {"plan": blocks["plan"]["element"].get("initial_value", "starter"),
                       "deletion_protection": select(flipped), "stop_protection": select(stop_before)},
           user="U0OPERATOR")
    row = wait_until(lambda: [r for r in bot.audit.query(AuditQuery())
                              if r["operation"] == "polaris.project.update" and r["outcome"] != "started"])
    params = json.loads(row[0]["params"])
    assert params.get("deletion_protection") is (flipped == "on")
    assert params.get("stop_protection") is None and params.get("plan") is None
    answer = message_text(bot.run("show polaris clickstream"))
    assert "clickstream" in answer


def test_edit_with_nothing_changed_is_a_field_error(bot: Bot) -> None:
    bot.command("edit terraform platform-core", user="U0ADMIN")
    form = wait_until(lambda: next((v for v in bot.slack.views.values() if v.get("callback_id")
                                    == modals.EDIT_CALLBACK and v.get("submit")), None))
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    values = {k: blocks[k]["element"]["initial_value"] for k in ("name", "description", "auto_destroy")
              if blocks[k]["element"].get("initial_value")}
    body = submit(bot, form, values).json()
    assert body == {"response_action": "errors", "errors": {"name": "Nothing changed."}}


def test_external_selects_offer_targets_and_projects_filtered_as_typed(bot: Bot) -> None:
    bot.command("edit", user="U0VIEWER")
    view = current_view(bot, modals.EDIT_PICK_CALLBACK)
    types = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert types == {"pick_target": "external_select", "pick_project": "external_select"}
    response = bot.post(bot.requests.block_suggestion(modals.PICK_TARGET_ACTION, "pick_target", "pol",
                                                      user_id="U0VIEWER", view=view))
    assert [o["value"] for o in response.json()["options"]] == ["t:polaris"]
    view["state"] = {"values": {"pick_target": {modals.PICK_TARGET_ACTION: select("t:polaris")}}}
    response = bot.post(bot.requests.block_suggestion(modals.PICK_PROJECT_ACTION, "pick_project", "clik",
                                                      user_id="U0VIEWER", view=view))
    options = [o["value"] for o in response.json()["options"]]
    assert options and options[0] == "clickstream"


def test_edit_picker_then_form(bot: Bot) -> None:
    bot.command("edit", user="U0ADMIN")
    view = current_view(bot, modals.EDIT_PICK_CALLBACK)
    response = submit(bot, view, {"pick_target": select("t:phoenix"), "pick_project": select("default")})
    assert response.json()["response_action"] == "update"
    form = wait_until(lambda: (v := bot.slack.views.get(view["id"])) and v.get("callback_id")
                      == modals.EDIT_CALLBACK and v.get("submit") and v)
    submit(bot, form, {"description": "edited in a modal"})
    assert "Updated Phoenix project" in ephemeral_text(bot, "edited in a modal")


def test_read_results_can_be_shared_in_channel(bot: Bot) -> None:
    answer = bot.run("list phoenix", user="U0VIEWER")
    assert answer["blocks"][-1]["block_id"] == "projectops_share"
    ack, _ = bot.click(answer, "projectops_share", user="U0VIEWER")
    assert ack.status_code == 200
    posted = bot.slack.wait_for_sync("chat.postMessage", lambda c: "Shared by" in message_text(c.params))
    text = message_text(posted.params)
    assert "<@U0VIEWER>" in text and "Phoenix projects on phoenix" in text
    assert all(b.get("block_id") != "projectops_share" for b in posted.params["blocks"])


def test_app_home_dashboard(bot: Bot, backends: str) -> None:
    with loopback.Client(base_url=f"{backends}/polaris", timeout=10) as http:
        http.patch("/_admin/projects/clickstream", json={"currentBytes": 95, "maxBytes": 100})
    bot.run("list phoenix", user="U0OPERATOR")
    event = {"type": "app_home_opened", "user": "U0OPERATOR", "channel": "D0HOME", "tab": "home",
             "event_ts": "1700000000.000300"}
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    bot.slack.wait_for_sync("views.publish", timeout=8)
    view = bot.slack.home_view("U0OPERATOR")
    text = message_text(view)
    assert len(view["blocks"]) <= 100
    for heading in ("Targets", "Projects near their storage limit", "Unhealthy Polaris jobs", "Your recent actions",
                    "Pending approvals waiting on you"):
        assert heading in text
    assert ":large_green_circle: *polaris* · polaris ·" in text and "projects" in text
    assert "*clickstream* on `polaris`: 95%" in text
    assert "phoenix.project.list" in text


def test_confirmed_pause_updates_the_answer_in_place(bot: Bot, polaris: httpx.Client) -> None:
    final = bot.confirm("pause polaris clickstream")
    assert "now :double_vertical_bar: paused" in message_text(final)
    rid = bot.requests.last_response_url_id
    texts = [p.get("text") or "" for p in bot.slack.response_posts(rid)]
    assert any("Running `/projects pause polaris clickstream`… clickstream:" in t for t in texts), texts
    assert all(p.get("replace_original") for p in bot.slack.response_posts(rid))
