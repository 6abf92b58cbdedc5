"""External-select options (block_suggestion): the edit picker's targets and projects, filtered as typed and
answered in the ack itself (Slack waits 3 s for them)."""

from __future__ import annotations

from typing import Any

from rig import Bot, WireLog

from scenario.helpers import newest_view, select

TARGETS = "projectops_pick_target"
PROJECTS = "projectops_pick_project"


def picker(bot: Bot, user: str = "U0VIEWER") -> dict[str, Any]:
    """`/projects edit` with nothing named opens the picker modal: two external selects."""
    bot.command("edit", user=user)
    view = newest_view(bot, "projectops_edit_pick")
    assert {b["block_id"]: b["element"]["type"] for b in view["blocks"]} == {
        "pick_target": "external_select", "pick_project": "external_select"}
    return view


def options(bot: Bot, action_id: str, block_id: str, typed: str, view: dict[str, Any],
            user: str = "U0VIEWER") -> list[str]:
    response = bot.post(bot.requests.block_suggestion(action_id, block_id, typed, user_id=user, view=view))
    assert response.status_code == 200, response.text
    return [o["value"] for o in response.json()["options"]]


def test_targets_are_filtered_as_typed(bot: Bot) -> None:
    view = picker(bot)
    assert options(bot, TARGETS, "pick_target", "pol", view) == ["t:polaris"]
    assert options(bot, TARGETS, "pick_target", "", view) == ["t:matillion", "t:phoenix", "t:polaris",
                                                              "t:terraform"]
    assert options(bot, TARGETS, "pick_target", "zzzz", view) == []


def test_projects_of_the_picked_target_closest_first(bot: Bot, backend_calls: WireLog) -> None:
    view = picker(bot)
    assert options(bot, PROJECTS, "pick_project", "", view) == []  # no target picked yet: nothing to list
    assert backend_calls.calls() == []

    view["state"] = {"values": {"pick_target": {TARGETS: select("t:polaris")}}}
    found = options(bot, PROJECTS, "pick_project", "clik", view)
    assert found and found[0] == "clickstream"  # a typo still finds it
    assert backend_calls.calls("GET", "/polaris/v1/projects")

    view["state"] = {"values": {"pick_target": {TARGETS: select("t:phoenix")}}}
    assert options(bot, PROJECTS, "pick_project", "staging", view)[0] == "summarizer-staging"


def test_picked_target_and_project_open_the_edit_form(bot: Bot) -> None:
    view = picker(bot, user="U0ADMIN")
    values = {"pick_target": {"value": select("t:phoenix")}, "pick_project": {"value": select("default")}}
    response = bot.post(bot.requests.view_submission(view, user_id="U0ADMIN", values=values))
    assert response.json()["response_action"] == "update"  # Loading… in place, then the form
    form = newest_view(bot, "projectops_edit", with_submit=True)
    assert "default" in str(form["private_metadata"])
