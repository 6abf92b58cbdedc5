"""Modal submissions (view_submission): the create form with its field errors, the edit form, and the typed-name
confirmation; the ack carries errors or closes the modal, and the work happens after it."""

from __future__ import annotations

import json
from typing import Any

import httpx
from rig import Bot, WireLog, message_text

from bot.store import AuditQuery
from scenario.helpers import ephemeral_text, newest_view, select, wait_until

FIELD = "value"  # action_id of every form field


def submit(bot: Bot, view: dict[str, Any], values: dict[str, Any], user: str = "U0ADMIN") -> httpx.Response:
    state = {block: {FIELD: value} for block, value in values.items()}
    response = bot.post(bot.requests.view_submission(view, user_id=user, values=state))
    assert response.status_code == 200, response.text
    return response


def open_create_form(bot: Bot, target: str, user: str = "U0ADMIN") -> dict[str, Any]:
    """`/projects create` opens the form; picking `target` swaps in that back end's fields (views.update)."""
    ack, _ = bot.command("create", user=user)
    assert (ack.status_code, ack.text) == (200, "")
    view = newest_view(bot, "projectops_create")
    assert target in [o["value"] for o in view["blocks"][0]["element"]["options"]]
    picked = bot.requests.block_actions([{"action_id": "projectops_create_target",
                                          "selected_option": select(target)["selected_option"]}],
                                        user_id=user, view=view)
    assert bot.post(picked).status_code == 200
    return newest_view(bot, "projectops_create", changed_from=view["hash"])


def test_create_form_answers_field_errors_in_the_ack_then_creates(bot: Bot, backend_calls: WireLog) -> None:
    form = open_create_form(bot, "terraform", user="U0OPERATOR")
    assert {"name", "description", "auto_destroy"} <= {b.get("block_id") for b in form["blocks"]}

    body = submit(bot, form, {"name": "x", "auto_destroy": "soon"}, user="U0OPERATOR").json()
    assert body["response_action"] == "errors" and set(body["errors"]) == {"name", "auto_destroy"}
    assert backend_calls.calls("POST") == []  # refused before any back-end call

    assert submit(bot, form, {"name": "form-team", "description": "from a form", "auto_destroy": "14d"},
                  user="U0OPERATOR").text == ""  # the modal closes
    assert "Created" in ephemeral_text(bot, "form-team")
    assert len(backend_calls.calls("POST", "/terraform/")) == 1
    assert "form-team" in message_text(bot.run("list terraform"))
    row = wait_until(lambda: [r for r in bot.audit.query(AuditQuery(operation="terraform.project.create"))
                              if r["outcome"] != "started"])[0]
    assert (row["user"], row["outcome"], row["surface"]) == ("U0OPERATOR", "succeeded", "modal")


def test_a_viewer_gets_no_form_to_submit(bot: Bot) -> None:
    bot.command("create", user="U0VIEWER")
    view = newest_view(bot, "projectops_create")
    assert "You may not create projects" in message_text(view) and not view.get("submit")


def test_edit_form_sends_only_what_changed(bot: Bot, backend_calls: WireLog) -> None:
    ack, _ = bot.command("edit phoenix chatbot-prod", user="U0OPERATOR")
    assert ack.status_code == 200
    form = newest_view(bot, "projectops_edit", with_submit=True)
    assert json.loads(form["private_metadata"])["project"] == "chatbot-prod"
    assert submit(bot, form, {"description": "edited in a scenario"}, user="U0OPERATOR").text == ""
    assert "Updated Phoenix project" in ephemeral_text(bot, "edited in a scenario")
    assert len(backend_calls.calls("PUT", "/phoenix/v1/projects/")) == 1
    row = wait_until(lambda: [r for r in bot.audit.query(AuditQuery(operation="phoenix.project.update"))
                              if r["outcome"] != "started"])[0]
    assert json.loads(row["params"])["description"] == "edited in a scenario"


def test_edit_with_nothing_changed_is_a_field_error(bot: Bot, backend_calls: WireLog) -> None:
    bot.command("edit terraform platform-core")
    form = newest_view(bot, "projectops_edit", with_submit=True)
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    unchanged = {k: blocks[k]["element"]["initial_value"] for k in ("name", "description", "auto_destroy")
                 if blocks[k]["element"].get("initial_value")}
    assert submit(bot, form, unchanged).json() == {"response_action": "errors",
                                                   "errors": {"name": "Nothing changed."}}
    assert backend_calls.calls("PATCH") == []


def test_typed_confirmation_belongs_to_the_requester(make_bot, demo_config_dict: dict) -> None:
    config = {**demo_config_dict, "approvals": {"required_for": []}}
    with make_bot(config) as bot:
        prompt = bot.run("delete terraform sandbox-playground")
        _, rid = bot.click(prompt, "projectops_confirm")
        typed = newest_view(bot, "projectops_typed_confirm")
        stranger = bot.post(bot.requests.view_submission(
            typed, user_id="U0OPERATOR", values={"typed_name": {"value": "sandbox-playground"}}))
        assert stranger.json() == {"response_action": "errors",
                                   "errors": {"typed_name": "This confirmation is not yours to submit."}}
        assert bot.type_confirmation().text == ""
        assert "Deleted HCP Terraform project *sandbox-playground*" in message_text(bot.final_answer(rid))
