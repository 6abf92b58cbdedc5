"""Typed text as Slack sends it (`&`, `<`, `>` escaped; references with real brackets), read back as typed."""

from __future__ import annotations

import pytest

from bot.slack.payloads import EventCallback, Interaction, SlashCommand, parse, slack_text
from bot.ui.mrkdwn import escape


@pytest.mark.parametrize(("sent", "typed"), [
    ("create polaris &lt;!here&gt;", "create polaris <!here>"),
    ("show polaris a&amp;b", "show polaris a&b"),
    ("a &amp;lt; b", "a &lt; b"),  # a typed `&lt;`: decoded once, never twice
    ("&amp;amp;&amp;gt;", "&amp;&gt;"),
    ("x &gt; y &lt; z", "x > y < z"),
    ("audit <@U0ADMIN|admin> <#C0OPS|ops> <!here> <https://x.test/?a=1&amp;b=2|go>",
     "audit <@U0ADMIN|admin> <#C0OPS|ops> <!here> <https://x.test/?a=1&b=2|go>"),
    ("&quot; &#39; &nbsp; & &amp", "&quot; &#39; &nbsp; & &amp"),  # only Slack's three escapes
    ("", ""),
])
def test_slack_text_undoes_exactly_slacks_three_escapes(sent: str, typed: str) -> None:
    assert slack_text(sent) == typed


@pytest.mark.parametrize("typed", ["a&b", "<!here>", "&lt;", "&amp;lt;", "1 < 2 > 0 & done", "&&<<>>"])
def test_slack_text_inverts_escaping(typed: str) -> None:
    assert slack_text(escape(typed)) == typed


def test_a_slash_commands_text_is_read_as_typed() -> None:
    command = parse({"command": "/projects", "text": "create polaris &lt;!here&gt; a&amp;b", "user_id": "U0ADMIN"})
    assert isinstance(command, SlashCommand) and command.text == "create polaris <!here> a&b"


@pytest.mark.parametrize("kind", ["app_mention", "message"])
def test_a_message_events_text_is_read_as_typed(kind: str) -> None:
    body = {"type": "event_callback", "event": {"type": kind, "user": "U0ADMIN", "channel": "D0ADMIN",
                                                "text": "<@U0BOT> audit <@U0OPERATOR> &amp; a&lt;b"}}
    delivery = parse(body)
    assert isinstance(delivery, EventCallback)
    assert delivery.event.text == "<@U0BOT> audit <@U0OPERATOR> & a<b"
    assert body["event"]["text"] == "<@U0BOT> audit <@U0OPERATOR> &amp; a&lt;b"  # the request itself is untouched


def test_an_event_without_text_keeps_none() -> None:
    delivery = parse({"type": "event_callback", "event": {"type": "app_home_opened", "user": "U0ADMIN"}})
    assert isinstance(delivery, EventCallback) and delivery.event.text is None


def test_form_values_and_option_searches_are_not_decoded() -> None:
    """Slack does not escape what is typed in a modal's inputs or an options search: they stay as they came."""
    view = {"id": "V1", "callback_id": "create", "state": {"values": {"name": {"name": {
        "type": "plain_text_input", "value": "a&amp;b &lt;x&gt;"}}}}}
    submitted = parse({"type": "view_submission", "user": {"id": "U0ADMIN"}, "view": view})
    assert isinstance(submitted, Interaction) and submitted.view is not None
    assert submitted.view.state.values["name"]["name"].value == "a&amp;b &lt;x&gt;"
    search = parse({"type": "block_suggestion", "user": {"id": "U0ADMIN"}, "action_id": "target",
                    "value": "a&amp;b"})
    assert isinstance(search, Interaction) and search.value == "a&amp;b"
