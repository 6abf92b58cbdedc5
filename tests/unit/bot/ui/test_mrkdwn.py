"""Outside text cannot ping or link through projectops: `Mrkdwn` is projectops' own markup, everything else is
escaped by the Block Kit builders (Slack's three escapes), whatever it holds."""

from __future__ import annotations

import pytest

from bot.errors import RefusedError, UsageError
from bot.redact import register_secret, scrub
from bot.ui import blocks as bk
from bot.ui.csvfile import cell, csv_text
from bot.ui.mrkdwn import (
    Mrkdwn,
    bold,
    channel,
    clip,
    code,
    date,
    defang_blocks,
    escape,
    md,
    pre,
    unescape,
    user,
    usergroup,
)

PINGS = ["<!everyone>", "<!channel>", "<!here>", "<@U0ADMIN>", "<#C0OPS>", "<https://evil.example|click>",
         "<!subteam^S123>"]


def texts(node) -> list[str]:
    """Every mrkdwn text in a block (or list of blocks)."""
    if isinstance(node, list):
        return [t for item in node for t in texts(item)]
    if not isinstance(node, dict):
        return []
    found = [node["text"]] if node.get("type") == "mrkdwn" else []
    return found + [t for value in node.values() for t in texts(value)]


@pytest.mark.parametrize("ping", PINGS)
def test_escape_neutralises_every_control_sequence(ping: str) -> None:
    escaped = escape(f"a & {ping}")
    assert "<" not in escaped and ">" not in escaped
    assert escaped.startswith("a &amp; &lt;") and isinstance(escaped, Mrkdwn)
    assert escape(escaped) is escaped  # once is enough: Mrkdwn is never escaped again
    assert unescape(escaped) == f"a & {ping}"


def test_md_escapes_arguments_and_keeps_its_own_markup() -> None:
    text = md("*{}* by {} in {} at {}: {n:,} rows", "<!here>", user("U0ADMIN"), channel("C0OPS"), date(0), n=12345)
    assert text.startswith("*&lt;!here&gt;* by <@U0ADMIN> in <#C0OPS> at <!date^0^")
    assert text.endswith(": 12,345 rows") and isinstance(text, Mrkdwn)
    assert md("{x.name}", x=type("P", (), {"name": "<!channel>"})()) == "&lt;!channel&gt;"
    assert md("{}", Mrkdwn("<@U1>")) == "<@U1>"


def test_adding_and_joining_escape_the_plain_part() -> None:
    own = user("U0ADMIN")
    assert own + " <!here>" == "<@U0ADMIN> &lt;!here&gt;"
    assert "<!here> " + own == "&lt;!here&gt; <@U0ADMIN>"
    assert isinstance("x" + own, Mrkdwn) and isinstance(own + "x", Mrkdwn)
    joined = Mrkdwn(", ").join([own, "<!channel>"])
    assert joined == "<@U0ADMIN>, &lt;!channel&gt;" and isinstance(joined, Mrkdwn)
    assert Mrkdwn("{}").format("<!here>") == "&lt;!here&gt;"
    # an f-string makes a plain str again: the builders then escape all of it (safe, if not pretty)
    assert bk.section(f"{own}")["text"]["text"] == "&lt;@U0ADMIN&gt;"


def test_mentions_only_for_real_ids() -> None:
    assert user("U0ADMIN") == "<@U0ADMIN>" and user("W0ABC") == "<@W0ABC>"
    assert user("<!here>") == "&lt;!here&gt;" and user("U0|x") == "U0|x" and user("") == "someone"
    assert channel("C0OPS") == "<#C0OPS>" and channel("C0>|<!here") == "C0&gt;|&lt;!here"
    assert usergroup("S0DEVS") == "<!subteam^S0DEVS>" and usergroup("everyone") == "everyone"
    assert date(1_700_000_000) == "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>"
    assert date(0, "{date}<!here>", fallback="<!here>|x") == "<!date^0^{date}here|&lt;!here&gt;/x>"


def test_code_and_bold_cannot_be_broken_out_of() -> None:
    assert code("a`<!here>`b") == "`a\u02cb&lt;!here&gt;\u02cbb`"
    assert code("") == "` `"
    assert pre("x```<!channel>") == "```x\u02cb\u02cb\u02cb&lt;!channel&gt;```"
    assert bold("<@U1>") == "*&lt;@U1&gt;*"


def test_clip_never_cuts_own_markup_in_half() -> None:
    own = md("see {} now", user("U0ADMIN"))
    assert clip(own, 8) == "see …" and isinstance(clip(own, 8), Mrkdwn)
    assert clip(escape("a<b"), 4) == "a…"  # not inside &lt;
    assert clip("plain text", 6) == "plain…"


@pytest.mark.parametrize("ping", PINGS)
def test_builders_escape_plain_text_and_pass_mrkdwn(ping: str) -> None:
    blocks = [
        bk.section(f"*{ping}*", fields=[f"*Name*\n{ping}", md("*By*\n{}", user("U0ADMIN"))]),
        bk.context(ping, md("{} said {}", user("U0ADMIN"), ping)),
        *bk.line_sections([ping, md("{} {}", channel("C0OPS"), ping)]),
        *bk.listing(ping, [bk.section(ping)], ping, filtered=ping),
        bk.section(bk.table_lines([["name", "owner"], [ping, "x"]])),
        bk.section(block_id="b", text=ping, accessory=bk.button(ping, "a", value=ping)),
    ]
    for text in texts(blocks):
        without_own = text.replace("<@U0ADMIN>", "").replace("<#C0OPS>", "")
        assert "<" not in without_own and ">" not in without_own, text
    assert "*By*\n<@U0ADMIN>" in texts(blocks) and "<#C0OPS>" in str(blocks)
    # plain_text (headers, buttons) is shown as typed and never read as markup
    assert bk.header(ping)["text"] == {"type": "plain_text", "text": ping, "emoji": True}
    assert bk.plain(escape(ping))["text"] == ping
    assert bk.fallback(ping) == escape(ping) and bk.fallback(bk.fallback(ping)) == escape(ping)


def test_error_messages_escape_back_end_words_and_keep_projectops_mentions() -> None:
    error = UsageError("Not found: <!channel>", "Try `<!here>`.", usage="/projects show <target> <project>")
    rendered = bk.error_message(error, audit_id=7)
    shown = "\n".join(texts(rendered.blocks))
    assert "&lt;!channel&gt;" in shown and "`&lt;!here&gt;`" in shown
    assert "Usage: `/projects show &lt;target&gt; &lt;project&gt;`" in shown and "audit #7" in shown
    assert bk.fallback(rendered.text) == "Not found: &lt;!channel&gt;"
    refused = bk.error_message(RefusedError(md("{} may not approve {}.", user("U0OPERATOR"), code("<x>")), "Ask."))
    assert "<@U0OPERATOR> may not approve `&lt;x&gt;`." in texts(refused.blocks)[0]


def test_scrub_keeps_own_markup_trusted_and_masks_escaped_secrets() -> None:
    register_secret("s3cr<t&pw")
    text = md("{} typed {}", user("U0ADMIN"), "s3cr<t&pw")
    scrubbed = scrub(text)
    assert isinstance(scrubbed, Mrkdwn) and scrubbed == "<@U0ADMIN> typed ***"
    assert scrub("plain s3cr<t&pw") == "plain ***"


def test_shared_blocks_lose_mass_pings_but_keep_mentions_and_dates() -> None:
    blocks = [bk.section(Mrkdwn("<!here> <!channel> <@U1> <!date^0^{date}|x> <!subteam^S1>")),
              bk.section(block_id="x", text="ok", accessory=bk.button("<!here>", "a"))]
    cleaned = defang_blocks(blocks)
    assert cleaned[0]["text"]["text"] == "&lt;!here> &lt;!channel> <@U1> <!date^0^{date}|x> &lt;!subteam^S1>"
    assert cleaned[1]["accessory"]["text"]["text"] == "<!here>"  # plain_text: shown, not parsed
    assert blocks[0]["text"]["text"].startswith("<!here>")  # a copy


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\")"])
def test_csv_cells_that_a_spreadsheet_would_run_start_with_a_quote(value: str) -> None:
    assert cell(value) == "'" + value
    assert csv_text(["a", "b"], [{"a": value, "b": 3, "extra": "=x"}]).splitlines()[1].startswith(("'", "\"'"))


def test_csv_cells_that_are_data_stay_as_they_are() -> None:
    assert cell("clickstream") == "clickstream" and cell(-5) == -5 and cell(None) is None and cell("") == ""
    assert csv_text(["a"], [{"a": "x,y"}]) == 'a\r\n"x,y"\r\n'
