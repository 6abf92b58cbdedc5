"""`/projects help` and the parser's refusals through signed slash commands, dispatched in process."""

from __future__ import annotations

from rig import Bot, message_text

from bot.store import AuditQuery
from scenario.helpers import wait_until


def test_help_create_says_what_it_does_then_each_back_ends_form(bot: Bot) -> None:
    text = message_text(bot.run("help create", user="U0OPERATOR"))
    assert "*/projects create* — create a project" in text
    assert "*/projects create* — create an empty Matillion project" not in text
    for label in ("Polaris", "Phoenix", "HCP Terraform", "Matillion"):
        assert f"*{label}*: " in text
    assert "/projects create &lt;target&gt; &lt;name&gt; &lt;snowflake|redshift&gt;" in text  # escaped grammar
    assert "e.g. `/projects create polaris web-analytics --plan starter --region eu-west-1`" in text


def test_help_create_on_one_back_end(bot: Bot) -> None:
    text = message_text(bot.run("help create Polaris", user="U0OPERATOR"))
    assert "*/projects create* on Polaris — create a Polaris project" in text
    assert "Matillion" not in text and "--plan" in text


def test_help_job_lists_the_job_commands(bot: Bot) -> None:
    text = message_text(bot.run("help job", user="U0ADMIN"))
    assert "There is no command" not in text
    for command in ("job list", "job show", "job logs", "job cancel", "job delete-data"):
        assert f"`/projects {command}` — " in text
    assert "`/projects help job list`" in text
    viewer = message_text(bot.run("help job", user="U0VIEWER"))
    assert "/projects job list" in viewer and "job cancel" not in viewer


def test_an_unknown_word_gets_no_destructive_guess(bot: Bot) -> None:
    text = message_text(bot.run("help nope"))
    assert "There is no command `nope`." in text and "table drop" not in text and "Did you mean" not in text
    assert "`job`" in text


def test_a_bad_status_names_the_option_and_its_choices(bot: Bot) -> None:
    ack, _ = bot.command("job list polaris clickstream --status runnin", user="U0VIEWER")
    text = message_text(ack.json())  # bad input is answered in the ack itself
    assert ("`--status` must be one of pending, running, completed, idle, canceled, failed, suspended or unknown, "
            "not `runnin`.") in text
    assert "Input should" not in text and "`status`:" not in text
    assert "Usage: `/projects job list &lt;target&gt;" in text
    [row] = wait_until(lambda: [r for r in bot.audit.query(AuditQuery()) if r["operation"] == "parse"])
    assert row["outcome"] == "failed" and "`--status` must be one of" in row["error"]


def test_an_unknown_option_is_named_and_echoed_text_stays_escaped(bot: Bot) -> None:
    ack, _ = bot.command("job list polaris clickstream --<!here>", user="U0VIEWER")
    text = message_text(ack.json())
    assert "There is no option `--&lt;!here&gt;` for `job list`; its options are `--health`" in text
    assert "<!here>" not in text
