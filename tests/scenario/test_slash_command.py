"""Slash command `/projects …`: a signed request dispatched in process, the ack, the answer at the response_url,
the channel announcement, and what reached the back end."""

from __future__ import annotations

import time

from rig import Bot, WireLog, message_text

from bot.store import AuditQuery
from scenario.helpers import block_ids, wait_until


def test_help_lists_the_commands_the_caller_may_run(bot: Bot) -> None:
    ack, rid = bot.command("help")
    assert (ack.status_code, ack.text) == (200, "")  # the answer comes after the ack
    answer = bot.answer(rid)
    assert answer["response_type"] == "ephemeral"
    text = message_text(answer)
    for command in ("help", "whoami", "targets", "list", "show", "create", "delete"):
        assert f"/projects {command}" in text
    viewer = message_text(bot.run("help", user="U0VIEWER"))
    assert "/projects list" in viewer and "/projects delete" not in viewer
    rows = bot.audit.query(AuditQuery(operation="help"))
    assert [(r["user"], r["outcome"], r["surface"]) for r in rows] == [
        ("U0VIEWER", "succeeded", "command"), ("U0ADMIN", "succeeded", "command")]


def test_an_empty_command_is_help(bot: Bot) -> None:
    assert "/projects whoami" in message_text(bot.run(""))


def test_list_reads_the_back_end_and_offers_share(bot: Bot, backend_calls: WireLog) -> None:
    answer = bot.run("list phoenix", user="U0VIEWER")
    text = message_text(answer)
    assert "Phoenix projects on phoenix" in text and "rag-eval" in text and "chatbot-prod" in text
    assert "projectops_share" in block_ids(answer)
    assert backend_calls.calls("GET", "/phoenix/v1/projects")
    assert not [c for c in backend_calls.calls() if c[0] != "GET"]  # a read changes nothing


def test_show_one_project(bot: Bot) -> None:
    text = message_text(bot.run("show terraform platform-core", user="U0VIEWER"))
    assert "platform-core" in text and "prj-" in text


def test_create_answers_the_requester_and_announces_in_the_channel(bot: Bot, backend_calls: WireLog) -> None:
    answer = bot.run("create terraform scenario-team --description 'from a scenario'", user="U0OPERATOR")
    assert "scenario-team" in message_text(answer) and answer["response_type"] == "ephemeral"
    call = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("channel") == "C0OPS")
    assert "<@U0OPERATOR> did this on `terraform`" in call.params["text"] and "audit #" in call.params["text"]
    assert len(backend_calls.calls("POST", "/terraform/")) == 1
    assert "scenario-team" in message_text(bot.run("list terraform"))
    row = wait_until(lambda: [r for r in bot.audit.query(AuditQuery(operation="terraform.project.create"))
                              if r["outcome"] != "started"])[0]
    assert (row["user"], row["outcome"], row["surface"]) == ("U0OPERATOR", "succeeded", "command")


def test_a_viewer_is_refused_a_write_and_nothing_reaches_the_back_end(bot: Bot, backend_calls: WireLog) -> None:
    text = message_text(bot.run("create terraform sneaky", user="U0VIEWER"))
    assert "needs the *operator* role" in text
    assert backend_calls.calls("POST") == []
    assert bot.slack.messages("C0OPS") == []  # nothing announced


def test_bad_input_is_answered_in_the_ack(bot: Bot) -> None:
    ack, rid = bot.command("whomai")
    assert ack.status_code == 200
    body = ack.json()
    text = message_text(body)
    assert "don't know the command `whomai`" in text and "/projects whoami" in text
    assert body.get("response_type", "ephemeral") == "ephemeral"
    row = wait_until(lambda: bot.audit.query(AuditQuery(operation="parse")))[0]
    assert row["outcome"] == "failed"
    assert bot.slack.response_posts(rid) == []  # the ack was the whole answer

    usage = message_text(bot.command("audit last lots")[0].json())
    assert "`last` needs a number" in usage and "Usage: `/projects audit" in usage


def test_a_destructive_command_asks_first_and_touches_nothing(bot: Bot, backend_calls: WireLog) -> None:
    prompt = bot.run("delete phoenix rag-eval", user="U0OPERATOR")
    assert "projectops_confirmation" in block_ids(prompt)
    assert "with all its traces" in message_text(prompt)
    assert backend_calls.calls("DELETE") == []


def test_signatures_are_verified_in_process_too(bot: Bot) -> None:
    bad = bot.requests.slash_command("help", bad_signature=True)
    stale = bot.requests.slash_command("help", timestamp=int(time.time()) - 6 * 60)
    for signed in (bad, stale):
        assert bot.post(signed).status_code == 401
    time.sleep(0.2)
    assert bot.audit.count() == 0 and bot.slack.calls_to("response_url") == []
