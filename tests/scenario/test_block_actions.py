"""Buttons and menus (block_actions): Confirm → typed name → a second admin's approval, Reject, Cancel, Share,
Previous / Next and a row's menu, each click signed and dispatched in process."""

from __future__ import annotations

import loopback
from rig import Bot, WireLog, message_text

from bot.store import AuditQuery
from scenario.helpers import block_ids, buttons, newest_view, wait_until

DELETE = "delete phoenix rag-eval"


def approval_request(bot: Bot, channel: str = "C0OPS") -> dict:
    """The newest approval request message in `channel`, as edited since."""
    return wait_until(lambda: [m for m in bot.slack.messages(channel) if any(
        b.get("block_id", "").startswith("approval_") for b in m.get("blocks", []))])[-1]


def decision(bot: Bot, request: dict, words: str) -> dict:
    """The approval request message once it has been edited to say `words`."""
    return wait_until(lambda: next((m for m in [bot.slack.message("C0OPS", request["ts"]) or {}]
                                    if words in message_text(m)), None))


def ask_and_confirm(bot: Bot, user: str = "U0OPERATOR") -> tuple[dict, str]:
    """`/projects delete …`, Confirm, the name typed, sent for approval; returns the prompt and the click's rid."""
    prompt = bot.run(DELETE, user=user)
    ack, rid = bot.click(prompt, "projectops_confirm", user=user)
    assert (ack.status_code, ack.text) == (200, "")
    bot.type_confirmation(user=user)
    # the requester is told once the request is stored with its message (a click before that is a race)
    assert "needs a second person" in message_text(bot.final_answer(rid))
    return prompt, rid


def test_delete_is_confirmed_typed_approved_by_another_admin_and_runs_once(
        bot: Bot, backend_calls: WireLog) -> None:
    prompt = bot.run(DELETE, user="U0OPERATOR")
    assert "an admin other than you must approve" in message_text(prompt)
    confirm = next(e for e in prompt["blocks"][-2]["elements"] if e["action_id"] == "projectops_confirm")
    assert confirm["style"] == "danger" and "confirm" in confirm  # Slack's own "Are you sure?" dialog first

    ack, rid = bot.click(prompt, "projectops_confirm", user="U0OPERATOR")
    assert ack.status_code == 200
    typed = newest_view(bot, "projectops_typed_confirm")
    assert "Type rag-eval to confirm" in message_text(typed)
    wrong = bot.type_confirmation(user="U0OPERATOR", typed="rag-evl")
    assert wrong.json()["response_action"] == "errors" and "Type rag-eval exactly" in wrong.text
    assert bot.type_confirmation(user="U0OPERATOR").text == ""  # the modal closes
    assert "needs a second person" in message_text(bot.final_answer(rid))
    assert backend_calls.calls("DELETE") == []

    request = approval_request(bot)
    assert "<@U0OPERATOR>" in message_text(request) and "rag-eval" in message_text(request)
    _, own = bot.click(request, "projectops_approve", user="U0OPERATOR")
    assert "cannot approve your own request" in message_text(bot.answer(own))
    _, viewer = bot.click(request, "projectops_approve", user="U0VIEWER")
    assert "Only an admin" in message_text(bot.answer(viewer))
    assert backend_calls.calls("DELETE") == []

    ack, _ = bot.click(request, "projectops_approve", user="U0ADMIN")
    assert ack.status_code == 200
    reply = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == request["ts"])
    assert "Deleted Phoenix project *rag-eval*" in message_text(reply.params)
    decided = decision(bot, request, "Approved by <@U0ADMIN>")
    assert not any(b["type"] == "actions" for b in decided["blocks"])  # the decision replaced the buttons
    _, again = bot.click(request, "projectops_approve", user="U0ADMIN")  # a double click on the old message
    assert "already decided" in message_text(bot.answer(again))

    assert backend_calls.calls("DELETE", "/phoenix/v1/projects/") == [("DELETE", "/phoenix/v1/projects/UHJvamVjdDoz")]
    row = wait_until(lambda: [r for r in bot.audit.query(AuditQuery(operation="phoenix.project.delete"))
                              if r["outcome"] != "started"])[0]
    assert (row["user"], row["confirmed_by"], row["approved_by"], row["outcome"]) == (
        "U0OPERATOR", "U0OPERATOR", "U0ADMIN", "succeeded")
    assert "rag-eval" not in message_text(bot.run("list phoenix"))


def test_reject_runs_nothing(bot: Bot, backend_calls: WireLog) -> None:
    ask_and_confirm(bot)
    request = approval_request(bot)
    bot.click(request, "projectops_reject", user="U0ADMIN")
    decision(bot, request, "Rejected by <@U0ADMIN>")
    _, rid = bot.click(request, "projectops_approve", user="U0ADMIN")
    assert "already decided" in message_text(bot.answer(rid))
    assert backend_calls.calls("DELETE") == []
    assert "rag-eval" in message_text(bot.run("list phoenix"))


def test_cancel_runs_nothing_and_is_audited(bot: Bot, backend_calls: WireLog) -> None:
    prompt = bot.run(DELETE, user="U0OPERATOR")
    _, rid = bot.click(prompt, "projectops_cancel", user="U0ADMIN")  # not the requester's to cancel
    assert "Only <@U0OPERATOR>" in message_text(bot.answer(rid))
    _, rid = bot.click(prompt, "projectops_cancel", user="U0OPERATOR")
    answer = bot.answer(rid)
    assert "Cancelled by <@U0OPERATOR>" in message_text(answer) and answer.get("replace_original") is True
    assert bot.slack.calls_to("views.open") == [] and backend_calls.calls("DELETE") == []
    row = wait_until(lambda: bot.audit.query(AuditQuery(operation="confirm.cancel")))[0]
    assert (row["user"], row["outcome"]) == ("U0OPERATOR", "refused")


def test_only_the_requester_can_confirm(bot: Bot) -> None:
    prompt = bot.run(DELETE, user="U0OPERATOR")
    _, rid = bot.click(prompt, "projectops_confirm", user="U0ADMIN")
    assert "Only <@U0OPERATOR>" in message_text(bot.answer(rid))
    assert bot.slack.calls_to("views.open") == []


def test_share_posts_the_result_in_the_channel(bot: Bot) -> None:
    answer = bot.run("list phoenix", user="U0VIEWER")
    ack, _ = bot.click(answer, "projectops_share", user="U0VIEWER")
    assert ack.status_code == 200
    posted = bot.slack.wait_for_sync("chat.postMessage", lambda c: "Shared by" in message_text(c.params))
    assert posted.params["channel"] == "C0OPS"
    assert "<@U0VIEWER>" in message_text(posted.params) and "Phoenix projects on phoenix" in message_text(posted.params)
    assert "projectops_share" not in block_ids(posted.params)


def test_next_page_reruns_the_command_and_replaces_the_message(bot: Bot, backends: str) -> None:
    loopback.post(f"{backends}/terraform/_admin/bulk", json={"projects": 25, "workspaces_per_project": 0})
    first = bot.run("list terraform --search bulk")
    assert "Page 1 of 3" in message_text(first)
    assert buttons(first)["projectops_rerun_next"] == "list terraform --search bulk --page 2"
    _, rid = bot.click(first, "projectops_rerun_next", user="U0VIEWER")
    second = bot.final_answer(rid)
    assert "Page 2 of 3" in message_text(second) and second.get("replace_original") is True
    assert {"projectops_rerun_prev", "projectops_rerun_next"} <= set(buttons(second))


def test_a_rows_menu_shows_the_project(bot: Bot) -> None:
    listing = bot.run("list terraform")
    menu = next(b["accessory"] for b in listing["blocks"] if "sandbox-playground" in str(b.get("accessory")))
    _, rid = bot.pick(listing, "Show", user="U0VIEWER", menu=menu)
    assert "sandbox-playground" in message_text(bot.answer(rid))
    _, rid = bot.pick(listing, "Delete…", user="U0VIEWER", menu=menu)
    assert "needs the *operator* role" in message_text(bot.answer(rid))
