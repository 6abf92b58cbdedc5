"""Foundation: help, whoami, targets, audit, event retries and App Home; signed requests dispatched in process,
answers through the Slack emulator. (Signatures over HTTP and /healthz: tests/e2e/test_http_e2e.py.)"""

from __future__ import annotations

import time

from rig import Bot, message_text

from bot.store import AuditQuery


def test_help_is_answered_with_an_ephemeral_list(bot: Bot) -> None:
    ack, rid = bot.command("help")
    assert ack.status_code == 200
    answer = bot.answer(rid)
    assert answer["response_type"] == "ephemeral"
    text = message_text(answer)
    for command in ("help", "whoami", "targets", "audit"):
        assert f"/projects {command}" in text
    rows = bot.audit.query(AuditQuery())
    assert [(r["operation"], r["outcome"], r["surface"]) for r in rows] == [("help", "succeeded", "command")]


def test_empty_command_means_help(bot: Bot) -> None:
    assert "/projects whoami" in message_text(bot.run(""))


def test_unknown_command_gets_usage_help_and_closest_command_in_the_ack(bot: Bot) -> None:
    ack, rid = bot.command("whomai")
    assert ack.status_code == 200
    body = ack.json()
    text = message_text(body)
    assert "don't know the command `whomai`" in text and "/projects whoami" in text
    assert body.get("response_type", "ephemeral") == "ephemeral"
    deadline = time.time() + 3
    while bot.audit.count() == 0 and time.time() < deadline:
        time.sleep(0.02)
    row = bot.audit.get(1)
    assert (row["operation"], row["outcome"]) == ("parse", "failed")


def test_bad_arguments_show_the_usage(bot: Bot) -> None:
    body = bot.command("audit last lots")[0].json()
    text = message_text(body)
    assert "`last` needs a number" in text and "Usage: `/projects audit [me|@user|&lt;target&gt;]" in text


def test_whoami_reports_role_and_profile(bot: Bot) -> None:
    text = message_text(bot.run("whoami", user="U0OPERATOR"))
    assert "<@U0OPERATOR>" in text and "operator" in text
    assert bot.slack.calls_to("users.info")


def test_targets_lists_every_configured_back_end(bot: Bot) -> None:
    text = message_text(bot.run("targets"))
    for name in bot.project.services.config.targets:
        assert f"*{name}*" in text


def test_audit_me_shows_my_earlier_actions(bot: Bot) -> None:
    bot.run("whoami", user="U0VIEWER")
    bot.run("help", user="U0ADMIN")
    text = message_text(bot.run("audit me", user="U0VIEWER"))
    assert "`whoami`" in text and "`help`" not in text
    text = message_text(bot.run("audit <@U0ADMIN|admin> last 5"))
    assert "`help`" in text and "`whoami`" not in text


def test_event_retry_runs_once(bot: Bot) -> None:
    event = {"type": "app_mention", "user": "U0ADMIN", "text": "<@U0BOT> whoami", "channel": "C0OPS",
             "ts": "1700000000.000100", "event_ts": "1700000000.000100"}
    first = bot.requests.event_callback(event, event_id="Ev0RETRY1")
    retry = bot.requests.event_callback(event, event_id="Ev0RETRY1", retry_num=1)
    assert bot.post(first).status_code == 200
    bot.slack.wait_for_sync("chat.postMessage")
    assert bot.post(retry).status_code == 200
    time.sleep(0.5)
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    assert [r["operation"] for r in bot.audit.query(AuditQuery())] == [
        "whoami"
    ]


def test_app_home_is_published(bot: Bot) -> None:
    bot.run("whoami", user="U0OPERATOR")
    event = {"type": "app_home_opened", "user": "U0OPERATOR", "channel": "D0HOME", "tab": "home",
             "event_ts": "1700000000.000200"}
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    bot.slack.wait_for_sync("views.publish")
    view = bot.slack.home_view("U0OPERATOR")
    text = message_text(view)
    assert "operator" in text and "`whoami`" in text
