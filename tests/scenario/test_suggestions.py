"""A project name that does not exist gets the closest existing names, on every back end."""

from __future__ import annotations

import pytest
from rig import Bot, message_text


@pytest.mark.parametrize(("command", "suggestion"), [
    ("show polaris clikstream", "clickstream"),
    ("show phoenix chatbot-prd", "chatbot-prod"),
    ("show terraform platform-cor", "platform-core"),
    ("show matillion analytics-dw", "analytics-dwh"),
])
def test_unknown_project_suggests_the_closest(bot: Bot, command: str, suggestion: str) -> None:
    assert f"Did you mean `{suggestion}`?" in message_text(bot.run(command))


def test_nothing_close_means_no_guess(bot: Bot) -> None:
    text = message_text(bot.run("show terraform zzzzzz"))
    assert "Did you mean" not in text and "/projects list terraform" in text
