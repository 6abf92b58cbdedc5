"""Changes are announced in the channel, naming what they acted on; reads stay private."""

from __future__ import annotations

import httpx
from rig import Bot, message_text


def announcements(bot: Bot) -> list[str]:
    return [c.params["text"] for c in bot.slack.calls_to("chat.postMessage")
            if c.params.get("channel") == "C0OPS" and "(audit #" in (c.params.get("text") or "")]


def test_a_change_is_announced_and_a_read_is_not(bot: Bot) -> None:
    bot.run("list terraform", user="U0OPERATOR")
    assert bot.slack.messages("C0OPS") == []
    answer = bot.run("create terraform announced-proj --description 'made in chat'", user="U0OPERATOR")
    assert "announced-proj" in message_text(answer) and answer["response_type"] == "ephemeral"
    call = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("channel") == "C0OPS")
    text = call.params["text"]
    assert "<@U0OPERATOR> did this on `terraform` for `announced-proj`: " in text and "audit #" in text


def test_a_pause_announcement_names_the_project(bot: Bot, polaris: httpx.Client) -> None:
    final = bot.confirm("pause polaris clickstream")
    assert "paused" in message_text(final)
    call = bot.slack.wait_for_sync("chat.postMessage", lambda c: "(audit #" in (c.params.get("text") or ""))
    text = call.params["text"]
    assert text.startswith(":information_source: <@U0ADMIN> did this on `polaris` for `clickstream`: pause "), text
    assert announcements(bot) == [text]  # announced once, in the channel it was asked in
    assert call.params["blocks"][0]["elements"][0]["text"] == text
