"""App Home (app_home_opened → views.publish): the per-user dashboard, the approvals waiting on an admin, and
the Home tab's Create button opening the create form."""

from __future__ import annotations

from typing import Any

import httpx
import loopback
from rig import Bot, message_text

from scenario.helpers import newest_view


def open_home(bot: Bot, user: str, tab: str = "home") -> httpx.Response:
    event = {"type": "app_home_opened", "user": user, "channel": f"D0{user[2:]}", "tab": tab,
             "event_ts": "1700000000.000200"}
    return bot.post(bot.requests.event_callback(event))


def home_of(bot: Bot, user: str) -> dict[str, Any]:
    published = len(bot.slack.calls_to("views.publish"))
    assert open_home(bot, user).status_code == 200
    bot.slack.wait_for_sync("views.publish", lambda c: len(bot.slack.calls_to("views.publish")) > published,
                            timeout=8)
    view = bot.slack.home_view(user)
    assert view is not None and view["type"] == "home" and len(view["blocks"]) <= 100
    return view


def test_home_shows_role_targets_and_recent_actions(bot: Bot, backends: str) -> None:
    loopback.patch(f"{backends}/polaris/_admin/projects/clickstream", json={"currentBytes": 95, "maxBytes": 100})
    bot.run("whoami", user="U0OPERATOR")
    text = message_text(home_of(bot, "U0OPERATOR"))
    assert "You are *operator*" in text
    for heading in ("Targets", "Projects near their storage limit", "Unhealthy Polaris jobs", "Your recent actions",
                    "Pending approvals waiting on you"):
        assert heading in text
    assert ":large_green_circle: *polaris* · polaris" in text
    assert "*clickstream* on `polaris`: 95%" in text
    assert "`whoami`" in text


def test_each_target_counts_its_projects_once_and_recent_actions_name_the_project(bot: Bot) -> None:
    bot.run("show polaris clickstream", user="U0OPERATOR")
    text = message_text(home_of(bot, "U0OPERATOR"))
    targets = [line for line in text.splitlines() if line.startswith((":large_green_circle:", ":red_circle:"))]
    assert targets and all(line.count("project") == 1 for line in targets), targets
    assert "`polaris.project.show` of `clickstream` on `polaris` — succeeded" in text


def test_an_admin_sees_the_approvals_waiting_on_them(bot: Bot) -> None:
    prompt = bot.run("delete phoenix rag-eval", user="U0OPERATOR")
    _, rid = bot.click(prompt, "projectops_confirm", user="U0OPERATOR")
    bot.type_confirmation(user="U0OPERATOR")
    assert "needs a second person" in message_text(bot.final_answer(rid))
    assert "<@U0OPERATOR> asks `/projects delete phoenix rag-eval`" in message_text(home_of(bot, "U0ADMIN"))
    operator_home = message_text(home_of(bot, "U0OPERATOR"))  # not their own request to approve
    assert "asks `/projects delete" not in operator_home


def test_the_create_button_opens_the_create_form(bot: Bot) -> None:
    home = home_of(bot, "U0OPERATOR")
    click = bot.requests.block_actions([{"action_id": "projectops_open_create"}], user_id="U0OPERATOR", view=home)
    assert bot.post(click).status_code == 200
    form = newest_view(bot, "projectops_create")
    assert {o["value"] for o in form["blocks"][0]["element"]["options"]} >= {"phoenix", "terraform"}


def test_the_messages_tab_does_not_republish_home(bot: Bot) -> None:
    assert open_home(bot, "U0VIEWER", tab="messages").status_code == 200
    home_of(bot, "U0OPERATOR")  # a later event, handled after the first one
    assert bot.slack.home_view("U0VIEWER") is None
