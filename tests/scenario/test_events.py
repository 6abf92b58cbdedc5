"""Events API (event_callback): a mention answered in its thread, a DM answered in the DM, a redelivered event
handled once, the bot's own messages ignored, and the URL handshake."""

from __future__ import annotations

import time
from typing import Any

from rig import Bot, message_text

from bot.store import AuditQuery


def mention(text: str, ts: str = "1700000000.000100", user: str = "U0ADMIN", **extra: Any) -> dict[str, Any]:
    return {"type": "app_mention", "user": user, "text": f"<@U0BOT> {text}", "channel": "C0OPS", "ts": ts,
            "event_ts": ts, **extra}


def dm(text: str, user: str = "U0OPERATOR", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel_type": "im", "channel": "D0OPERATOR", "user": user, "text": text,
            "ts": f"{time.time():.6f}", **extra}


def test_a_mention_is_answered_in_its_thread(bot: Bot) -> None:
    response = bot.post(bot.requests.event_callback(mention("list phoenix", user="U0VIEWER")))
    assert response.status_code == 200  # acked at once; the answer follows
    reply = bot.slack.wait_for_sync("chat.postMessage").params
    assert (reply["channel"], reply["thread_ts"]) == ("C0OPS", "1700000000.000100")
    assert "rag-eval" in message_text(reply)
    row = bot.audit.query(AuditQuery(operation="phoenix.project.list"))[0]
    assert (row["user"], row["outcome"]) == ("U0VIEWER", "succeeded")


def test_a_mention_inside_a_thread_stays_in_that_thread(bot: Bot) -> None:
    event = mention("whoami", ts="1700000000.000300", thread_ts="1700000000.000200")
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    assert bot.slack.wait_for_sync("chat.postMessage").params["thread_ts"] == "1700000000.000200"


def test_a_direct_message_is_answered_in_the_dm_in_its_thread(bot: Bot) -> None:
    event = dm("whoami")
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    reply = bot.slack.wait_for_sync("chat.postMessage").params
    assert reply["channel"] == "D0OPERATOR" and reply["thread_ts"] == event["ts"]  # the agent view's threads
    assert "<@U0OPERATOR>" in message_text(reply) and "operator" in message_text(reply)


def test_a_typo_is_understood_not_refused(bot: Bot) -> None:
    bot.post(bot.requests.event_callback(dm("whomai")))
    reply = bot.slack.wait_for_sync("chat.postMessage").params
    assert "You are operator" in message_text(reply)


def test_the_bots_own_messages_and_edits_are_ignored(bot: Bot) -> None:
    for event in (dm("whoami", bot_id="B0PROJECTOPS"), dm("whoami", subtype="message_changed")):
        assert bot.post(bot.requests.event_callback(event)).status_code == 200
    time.sleep(0.3)
    assert bot.slack.calls_to("chat.postMessage") == [] and bot.audit.count() == 0


def test_a_redelivered_event_is_handled_once(bot: Bot) -> None:
    event = mention("whoami")
    first = bot.requests.event_callback(event, event_id="Ev0SCENARIO1")
    retry = bot.requests.event_callback(event, event_id="Ev0SCENARIO1", retry_num=1, retry_reason="http_timeout")
    assert bot.post(first).status_code == 200
    bot.slack.wait_for_sync("chat.postMessage")
    assert bot.post(retry).status_code == 200
    other = bot.requests.event_callback(mention("help", ts="1700000000.000900"))  # a new event id still runs
    assert bot.post(other).status_code == 200
    bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == "1700000000.000900")
    time.sleep(0.3)
    assert len(bot.slack.calls_to("chat.postMessage")) == 2
    asked = [r["operation"] for r in bot.audit.query(AuditQuery(limit=100)) if r["surface"] != "assistant"]
    assert asked == ["help", "whoami"]  # (the assistant's own live-name reads are audited too, as "assistant")


def test_url_verification_echoes_the_challenge(bot: Bot) -> None:
    response = bot.post(bot.requests.url_verification("challenge-token-42"))
    assert response.status_code == 200 and response.json() == {"challenge": "challenge-token-42"}
