"""Connections to Slack kept per event loop: one session for every Web API call and respond() of a running app."""

from __future__ import annotations

from bot.slack.sessions import SESSIONS, PooledRespond, PooledWebClient
from sandbox.slack import SlackEmulator


async def test_a_loop_that_opted_in_reuses_one_session_and_closes_it(slack_server) -> None:
    slack: SlackEmulator = slack_server[0]
    client = PooledWebClient(token="xoxb-test", base_url=slack.api_url)
    assert client.session is None  # not opened here: slack_sdk's own session per call
    await client.auth_test()
    SESSIONS.open()
    try:
        first = client.session
        assert first is not None and client.session is first
        await client.auth_test()
        await client.chat_postMessage(channel="C0OPS", text="hi")
        respond = PooledRespond(response_url=slack.response_url("pooled1"))
        await respond(text="answer", response_type="ephemeral")
        assert client.session is first and not first.closed
        assert slack.response_posts("pooled1")[0]["text"] == "answer"
    finally:
        await SESSIONS.aclose()
    assert first.closed and client.session is None
