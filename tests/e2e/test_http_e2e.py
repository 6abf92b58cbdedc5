"""HTTP mode end to end: the real server (uvicorn + Starlette + Bolt's adapter) on a port. Only what needs the
server lives here: signatures checked over HTTP, the edge that refuses malformed requests, /healthz, and one
smoke run of a command, a click and an event. Behaviour per Slack surface is in tests/scenario (in process)."""

from __future__ import annotations

import time

import loopback
from rig import Bot, message_text

from bot.store.audit import AuditQuery


def test_a_command_a_click_and_an_event_over_http(bot: Bot) -> None:
    ack, rid = bot.command("list phoenix", user="U0VIEWER")
    assert (ack.status_code, ack.text) == (200, "")
    answer = bot.answer(rid)
    assert answer["response_type"] == "ephemeral" and "rag-eval" in message_text(answer)

    ack, _ = bot.click(answer, "projectops_share", user="U0VIEWER")
    assert ack.status_code == 200
    shared = bot.slack.wait_for_sync("chat.postMessage", lambda c: "Shared by" in message_text(c.params))
    assert shared.params["channel"] == "C0OPS"

    event = {"type": "app_mention", "user": "U0ADMIN", "text": "<@U0BOT> whoami", "channel": "C0OPS",
             "ts": "1700000000.000100", "event_ts": "1700000000.000100"}
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    reply = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"])
    assert "<@U0ADMIN>" in message_text(reply.params)
    rows = bot.audit.query(AuditQuery())
    assert {(r["operation"], r["surface"]) for r in rows} >= {("phoenix.project.list", "command")}


def test_bad_or_stale_signature_is_401_and_runs_nothing(bot: Bot) -> None:
    bad = bot.requests.slash_command("help", bad_signature=True)
    stale = bot.requests.slash_command("help", timestamp=int(time.time()) - 6 * 60)
    for signed in (bad, stale):
        response = bot.post(signed)
        assert response.status_code == 401
    time.sleep(0.3)
    assert bot.audit.count() == 0
    assert bot.slack.calls_to("response_url") == []


def test_a_request_slack_could_not_have_sent_is_refused_at_the_edge(bot: Bot) -> None:
    ts = str(int(time.time()))
    signature = bot.requests.verifier.generate_signature(timestamp=ts, body="[]")  # signed, but not an object
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    assert bot.http.post(f"{bot.url}/slack/events", content=b"[]", headers=headers).status_code == 400
    signed = bot.requests.url_verification("x")
    broken_ts = {**signed.headers, "X-Slack-Request-Timestamp": "soon"}
    assert bot.http.post(f"{bot.url}/slack/events", content=signed.body, headers=broken_ts).status_code == 401
    assert bot.audit.count() == 0


def test_healthz(bot: Bot) -> None:
    response = loopback.get(f"{bot.url}/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True
