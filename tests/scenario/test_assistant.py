"""The assistant through signed Slack events: questions answered, changes confirmed before they run,
ambiguity asked with buttons, out of scope refused, follow-ups in a thread, feedback recorded."""

from __future__ import annotations

import itertools
import json
from typing import Any

from rig import Bot, message_text

from bot.store import AuditQuery

from .helpers import wait_until

_ts = itertools.count(1)


def dm(text: str, user: str = "U0OPERATOR", thread_ts: str | None = None) -> dict[str, Any]:
    ts = f"1800000000.{next(_ts):06d}"
    event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user, "text": text, "ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def ask(bot: Bot, text: str, user: str = "U0OPERATOR", thread_ts: str | None = None) -> tuple[dict, str]:
    """DM `text`; returns the last reply in its thread (the one with the feedback buttons) and the thread."""
    event = dm(text, user, thread_ts)
    seen = len(bot.slack.calls_to("chat.postMessage"))
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    thread = thread_ts or event["ts"]

    def answered() -> dict | None:
        for call in bot.slack.calls_to("chat.postMessage")[seen:]:
            params = call.params
            if params.get("thread_ts") == thread and any(b.get("type") == "context_actions"
                                                         for b in params.get("blocks") or []):
                return params
        return None

    return wait_until(answered), thread


def elements(message: dict, kind: str = "button") -> list[dict]:
    return [e for b in message.get("blocks") or [] if b.get("type") in ("actions", "context_actions")
            for e in b.get("elements", []) if e.get("type") == kind]


def rows(bot: Bot, operation: str) -> list[dict]:
    """Audit rows of `operation` asked by people (not the live-name reads the assistant does itself)."""
    return [r for r in bot.audit.query(AuditQuery(operation=operation, limit=100)) if r["surface"] != "assistant"]


def test_a_question_is_answered_and_audited_with_its_words(bot: Bot) -> None:
    reply, _ = ask(bot, "how many phoenix projects are there", user="U0VIEWER")
    assert "rag-eval" in message_text(reply)
    message = rows(bot, "assistant.message")[0]
    params = json.loads(message["params"])
    assert params["words"] == "how many phoenix projects are there" and params["resolver"] == "offline"
    assert params["resolved"] == ["/projects list phoenix"]
    assert rows(bot, "phoenix.project.list")


def test_a_change_waits_for_the_button(bot: Bot, backends: str) -> None:
    reply, _ = ask(bot, "pls pause clickstream thx")
    text = message_text(reply)
    assert "/projects pause polaris clickstream" in text
    assert [b["action_id"] for b in elements(reply)] == ["projectops_confirm", "projectops_cancel"]
    assert not rows(bot, "polaris.project.pause")  # nothing ran
    ack, _ = bot.click(reply, "projectops_confirm", user="U0OPERATOR", channel=reply["channel"])
    assert ack.status_code == 200
    approval = bot.slack.wait_for_sync("chat.postMessage", lambda c: "Approval needed" in c.params.get("text", ""))
    assert "pause polaris clickstream" in approval.params["text"]


def test_slang_for_delete_is_a_typed_name_confirmation(bot: Bot) -> None:
    reply, _ = ask(bot, "nuke sandbox-playground", user="U0ADMIN")
    assert "/projects delete terraform sandbox-playground" in message_text(reply)
    assert elements(reply)[0]["action_id"] == "projectops_confirm" and not rows(bot, "terraform.project.delete")


def test_bulk_and_impossible_asks_get_no_button(bot: Bot) -> None:
    for words in ("delete everything", "delete the default phoenix project", "delete clickstream and analytics-prod"):
        reply, _ = ask(bot, words, user="U0ADMIN")
        assert elements(reply) == [] and message_text(reply)
    assert not [r for r in bot.audit.query(AuditQuery(limit=100)) if r["operation"].endswith(".delete")]


def test_free_text_after_description_is_the_value_not_a_digest(bot: Bot) -> None:
    reply, _ = ask(bot, "set the description of rag-eval to nightly eval runs")
    text = message_text(reply)
    assert '/projects update phoenix rag-eval --description "nightly eval runs"' in text and "digest" not in text, text
    assert elements(reply)[0]["action_id"] == "projectops_confirm" and not rows(bot, "phoenix.project.update")


def test_failing_jobs_are_found_across_every_project(bot: Bot) -> None:
    reply, _ = ask(bot, "which jobs are failing?", user="U0VIEWER")
    text = message_text(reply)
    assert "running projects on polaris" in text and "*clickstream*" in text and "0b376ddb" in text, text
    assert rows(bot, "polaris.job.list")


def test_ambiguity_asks_with_a_button_per_candidate(bot: Bot) -> None:
    reply, thread = ask(bot, "list the tables", user="U0VIEWER")
    choices = [b for b in elements(reply) if b["action_id"].startswith("projectops_assist_choice")]
    assert len(choices) >= 2 and not rows(bot, "polaris.table.list"), message_text(reply)
    clickstream = next(c for c in choices if "clickstream" in c["value"])
    bot.click(reply, clickstream["action_id"], user="U0VIEWER", channel=reply["channel"])
    wait_until(lambda: rows(bot, "polaris.table.list"))
    answer = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == thread
                                     and "projectops_assist_choice" not in str(c.params))
    assert "clickstream" in message_text(answer.params)


def test_a_follow_up_understands_it(bot: Bot) -> None:
    _, thread = ask(bot, "show clickstream")
    reply, _ = ask(bot, "pause it", thread_ts=thread)
    assert "/projects pause polaris clickstream" in message_text(reply)


def test_misunderstood_feedback_is_listed_for_admins_only(bot: Bot) -> None:
    reply, _ = ask(bot, "how full is clickstream")
    feedback = elements(reply, "feedback_buttons")[0]
    signed = bot.requests.block_actions(
        [{"action_id": feedback["action_id"], "value": feedback["negative_button"]["value"],
          "type": "feedback_buttons"}], user_id="U0OPERATOR", channel_id=reply["channel"], message=reply)
    assert bot.post(signed).status_code == 200
    bot.slack.wait_for_sync("response_url")
    listed = message_text(bot.run("misunderstood", user="U0ADMIN"))
    assert "how full is clickstream" in listed
    refused = message_text(bot.run("misunderstood", user="U0OPERATOR"))
    assert "may not" in refused.lower()


def test_the_messages_tab_gets_prompts_fitted_to_the_role(bot: Bot) -> None:
    event = {"type": "app_home_opened", "user": "U0VIEWER", "channel": "D0VIEWER", "tab": "messages"}
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    call = bot.slack.wait_for_sync("assistant.threads.setSuggestedPrompts")
    prompts = call.params["prompts"]
    prompts = json.loads(prompts) if isinstance(prompts, str) else prompts
    assert 1 <= len(prompts) <= 4 and not any("create" in p["message"] for p in prompts)


def test_assistant_requests_are_counted_by_how_they_were_resolved(bot: Bot) -> None:
    ask(bot, "how many phoenix projects are there", user="U0VIEWER")
    registry = bot.project.services.metrics.registry
    assert registry.get_sample_value("projectops_assistant_requests_total",
                                     {"resolver": "offline", "answer": "understood"}) == 1


def test_live_names_let_connections_workspaces_states_and_jobs_be_found(bot: Bot) -> None:
    """The catalog read through the choke point carries connections, workspaces, project states and job health."""
    reply, _ = ask(bot, "test the clickstream-archive connection", user="U0ADMIN")
    assert "Connection *clickstream-archive* in clickstream" in message_text(reply)
    reply, _ = ask(bot, "move scratch to sandbox-playground", user="U0ADMIN")
    assert "`/projects move-workspaces terraform sandbox-playground scratch`" in message_text(reply)
    reply, _ = ask(bot, "pause", user="U0ADMIN")
    offered = [b["text"]["text"] for b in elements(reply) if b["action_id"].startswith("projectops_assist_choice")]
    assert offered and all("marketing-sandbox" not in o for o in offered), offered  # it is paused already
    reply, _ = ask(bot, "resume the paused one", user="U0ADMIN")
    offered = [b["text"]["text"] for b in elements(reply) if b["action_id"].startswith("projectops_assist_choice")]
    assert [o.split(" ")[0] for o in offered] == ["marketing-sandbox"], offered
    _, thread = ask(bot, "which jobs are failing?", user="U0ADMIN")
    reply, _ = ask(bot, "show me the logs", user="U0ADMIN", thread_ts=thread)
    assert "Logs of batch job 0b376ddb" in message_text(reply)
