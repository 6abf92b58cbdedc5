"""What a person types reaches projectops the way Slack sends it: `&`, `<` and `>` escaped (`&amp;`, `&lt;`, `&gt;`),
Slack's own references (`<@U…>`, `<#C…|name>`, `<!here>`, links) with real brackets. projectops reads the text as
it was typed (`bot.slack.payloads.slack_text`) and escapes it again, once, wherever it shows it.

The request builder escapes typed text as the Slack client does (`sandbox.slack.signing.as_sent`); where a test
gives Slack's wire text itself it says `typed=False`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import loopback
import pytest
from rig import Bot, message_text

from bot.store import AuditQuery

from .helpers import wait_until

NAME_RULE = "A name cannot contain &lt; or &gt;"
_ts = itertools.count(1)


@pytest.fixture
def polaris(backends: str) -> Iterator[httpx.Client]:
    """The Polaris emulator's control endpoints."""
    with loopback.Client(base_url=f"{backends}/polaris", timeout=10) as http:
        yield http


def polaris_names(polaris: httpx.Client) -> set[str]:
    return {p["name"] for p in polaris.get("/_admin/state").json()["projects"]}


def ack_text(ack: httpx.Response) -> str:
    assert ack.status_code == 200, ack.text
    return message_text(ack.json()) if ack.content else ""


def next_ts() -> str:
    return f"1810000000.{next(_ts):06d}"


def reply_in_thread(bot: Bot, channel: str, thread: str) -> dict[str, Any]:
    """The app's answer in `thread` (the message carrying the feedback buttons, or the first one there)."""

    def found() -> dict[str, Any] | None:
        posts = [c.params for c in bot.slack.calls_to("chat.postMessage")
                 if c.params.get("channel") == channel and c.params.get("thread_ts") == thread]
        with_buttons = [p for p in posts if any(b.get("type") == "context_actions" for b in p.get("blocks") or [])]
        return (with_buttons or posts or [None])[-1]

    return wait_until(found, timeout=10)


# ---------------------------------------------------------------- the emulator sends what Slack sends


def test_the_builder_escapes_typed_text_but_not_slack_references(bot: Bot) -> None:
    sent = bot.requests.slash_command("create polaris a&b <x> <!here> <@U0ADMIN|admin> <https://x.test?a=1&b=2|go>")
    assert sent.payload["text"] == ("create polaris a&amp;b &lt;x&gt; <!here> <@U0ADMIN|admin> "
                                    "<https://x.test?a=1&b=2|go>")
    event = bot.requests.event_callback({"type": "app_mention", "user": "U0ADMIN", "channel": "C0OPS",
                                         "text": "<@U0BOT> show polaris a&b", "ts": next_ts()}).payload["event"]
    assert event["text"] == "<@U0BOT> show polaris a&amp;b"


# ---------------------------------------------------------------- slash commands


@pytest.mark.parametrize("wire", ["create polaris &lt;!here&gt;", "create polaris a&lt;b&gt;c",
                                  "create polaris &lt;!channel&gt; --plan starter"])
def test_an_escaped_name_is_refused_by_the_name_rule(bot: Bot, polaris: httpx.Client, wire: str) -> None:
    """`create polaris <!here>` typed as text: Slack sends `&lt;!here&gt;`, refused exactly as the raw `<!here>`."""
    escaped = ack_text(bot.command(wire, user="U0OPERATOR", typed=False)[0])
    raw = ack_text(bot.command(wire.replace("&lt;", "<").replace("&gt;", ">"), user="U0OPERATOR", typed=False)[0])
    assert NAME_RULE in escaped, escaped
    assert escaped == raw
    assert not any("&" in name or "<" in name for name in polaris_names(polaris))
    assert not bot.audit.query(AuditQuery(operation="polaris.project.create"))


def test_a_name_typed_with_brackets_is_refused_in_the_ack(bot: Bot, polaris: httpx.Client) -> None:
    text = ack_text(bot.command("create polaris a<b>c", user="U0OPERATOR")[0])
    assert NAME_RULE in text and "e.g. `abc`" in text, text
    assert "abc" not in polaris_names(polaris) and "a&lt;b&gt;c" not in polaris_names(polaris)


def test_an_ampersand_is_escaped_once_in_the_answer(bot: Bot) -> None:
    assert bot.requests.slash_command("show polaris a&b").payload["text"] == "show polaris a&amp;b"
    text = message_text(bot.run("show polaris a&b", user="U0VIEWER"))
    assert "There is no project `a&amp;b`" in text, text
    assert "&amp;amp;" not in text


def test_a_typed_entity_stays_what_was_typed(bot: Bot) -> None:
    """A person who types `&lt;` literally: Slack sends `&amp;lt;`, projectops reads `&lt;`, shows `&amp;lt;`."""
    assert bot.requests.slash_command("show polaris x&lt;y").payload["text"] == "show polaris x&amp;lt;y"
    text = message_text(bot.run("show polaris x&lt;y", user="U0VIEWER"))
    assert "There is no project `x&amp;lt;y`" in text, text


def test_a_user_reference_still_filters_the_audit(bot: Bot) -> None:
    bot.run("whoami", user="U0OPERATOR")
    bot.run("targets", user="U0VIEWER")
    for reference in ("<@U0OPERATOR>", "<@U0OPERATOR|op>"):
        text = message_text(bot.run(f"audit {reference}", user="U0ADMIN"))
        assert "`whoami`" in text and "`targets`" not in text, text


def test_a_channel_reference_still_names_the_digest_channel(bot: Bot) -> None:
    text = message_text(bot.run("digest add job-health <#C0DIGEST|digests> polaris daily 09:00",
                                user="U0OPERATOR"))
    assert "<#C0DIGEST>" in text, text


# ---------------------------------------------------------------- mentions and the assistant


@pytest.mark.parametrize("words", ["<@U0BOT> audit <@U0OPERATOR>", "audit <@U0OPERATOR|op> <@U0BOT>"])
def test_a_mention_with_a_user_reference_filters_the_audit(bot: Bot, words: str) -> None:
    """Only the app's own mention is taken out of the words; another person's is the audit's `@user` filter."""
    bot.run("whoami", user="U0OPERATOR")
    bot.run("targets", user="U0VIEWER")
    ts = next_ts()
    event = {"type": "app_mention", "user": "U0ADMIN", "channel": "C0OPS", "ts": ts, "text": words}
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    text = message_text(reply_in_thread(bot, "C0OPS", ts))
    assert "`whoami`" in text and "`targets`" not in text, text


def test_a_mention_with_an_ampersand_reads_it_as_typed(bot: Bot) -> None:
    ts = next_ts()
    event = {"type": "app_mention", "user": "U0VIEWER", "channel": "C0OPS", "ts": ts,
             "text": "<@U0BOT> /projects show polaris a&b"}
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    text = message_text(reply_in_thread(bot, "C0OPS", ts))
    assert "There is no project `a&amp;b`" in text and "&amp;amp;" not in text, text


def test_a_dm_with_an_ampersand_is_understood(bot: Bot) -> None:
    signed = bot.requests.dm_message("list phoenix & polaris", user_id="U0VIEWER")
    event = signed.payload["event"]
    assert event["text"] == "list phoenix &amp; polaris"
    assert bot.slack.messages(event["channel"])[-1]["text"] == "list phoenix &amp; polaris"  # as Slack keeps it
    assert bot.post(signed).status_code == 200
    text = message_text(reply_in_thread(bot, event["channel"], event["ts"]))
    assert "&amp;amp;" not in text and "rag-eval" in text, text
    [row] = [r for r in bot.audit.query(AuditQuery(operation="assistant.message", limit=10))]
    assert "&amp;" not in row["params"] and "phoenix & polaris" in row["params"], row["params"]


def test_a_dm_with_an_escaped_name_creates_nothing(bot: Bot, polaris: httpx.Client) -> None:
    """Before, `&lt;x&gt;` passed the name rule and the assistant offered to create a project of that name."""
    signed = bot.requests.dm_message("/projects create polaris <x> --plan starter", user_id="U0OPERATOR")
    event = signed.payload["event"]
    assert "polaris &lt;x&gt; --plan" in event["text"]
    assert bot.post(signed).status_code == 200
    reply = reply_in_thread(bot, event["channel"], event["ts"])
    assert "projectops_confirm" not in str(reply) and "&lt;x&gt;" not in polaris_names(polaris), message_text(reply)
    assert not bot.audit.query(AuditQuery(operation="polaris.project.create"))
