"""Changes are announced in the channel; reads stay private."""

from __future__ import annotations

from rig import Bot, message_text


def test_a_change_is_announced_and_a_read_is_not(bot: Bot) -> None:
    bot.run("list terraform", user="U0OPERATOR")
    assert bot.slack.messages("C0OPS") == []
    answer = bot.run("create terraform announced-proj --description 'made in chat'", user="U0OPERATOR")
    assert "announced-proj" in message_text(answer) and answer["response_type"] == "ephemeral"
    call = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("channel") == "C0OPS")
    assert "<@U0OPERATOR> did this on `terraform`" in call.params["text"] and "audit #" in call.params["text"]
