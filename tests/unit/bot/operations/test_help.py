"""`/projects help`: a command on several back ends, a command family, one back end's form, unknown words."""

from __future__ import annotations

from typing import Any

import pytest
from rig import message_text

from bot.errors import UsageError
from bot.operations.base import Actor
from bot.operations.context import OpContext, Services
from bot.operations.core import HelpParams, render_help, run_help
from bot.operations.parser import parse_command
from sandbox.slack.blockkit import validate

KINDS = ("polaris", "phoenix", "terraform", "matillion")


@pytest.fixture
def services(make_services) -> Services:
    return make_services({
        "targets": {name: {"kind": name, "url": "http://x"} for name in KINDS} | {
            "pol-eu": {"kind": "polaris", "url": "http://y"}},
        "roles": {"admin": ["U0ADMIN"], "operator": ["U0OPERATOR"], "viewer": ["U0VIEWER"], "default": "viewer"},
    })


async def help_text(services: Services, words: str, user: str = "U0ADMIN") -> str:
    """What `/projects help <words>` answers, read as Slack shows it (blocks checked against Block Kit)."""
    parsed = parse_command(f"help {words}", services.registry, services.config)
    ctx = OpContext(services=services, actor=Actor(user_id=user))
    assert isinstance(parsed.params, HelpParams)
    rendered = render_help(await run_help(ctx, parsed.params), ctx)
    payload: dict[str, Any] = {"text": rendered.text, "blocks": rendered.blocks}
    assert validate(payload, "message") == []
    return message_text(payload)


async def help_error(services: Services, words: str, user: str = "U0ADMIN") -> UsageError:
    with pytest.raises(UsageError) as info:
        await help_text(services, words, user)
    return info.value


async def test_a_command_on_several_back_ends_says_what_it_does_then_each_form(services: Services) -> None:
    text = await help_text(services, "create")
    assert "*/projects create* — create a project" in text
    assert "Matillion project" not in text.splitlines()[1]  # the first line is general, no back end's summary
    for label, example in [("Polaris", "/projects create polaris web-analytics"),
                           ("Phoenix", "/projects create phoenix my-proj"),
                           ("HCP Terraform", "/projects create terraform team-blue"),
                           ("Matillion", "/projects create matillion sales-dwh snowflake")]:
        assert f"*{label}*: " in text and example in text
    # each back end's grammar line, escaped so Slack never reads a placeholder as a link
    assert "/projects create &lt;target&gt; &lt;name&gt; [--plan &lt;value&gt;]" in text
    assert text.index("*Polaris*") < text.index("*Phoenix*") < text.index("*HCP Terraform*") < text.index(
        "*Matillion*")


@pytest.mark.parametrize(("command", "general", "not_first"), [
    ("list", "list projects", "list Matillion DPC projects"),
    ("update", "change a project's settings", "change a Phoenix project's description"),
])
async def test_general_summary_is_not_the_first_back_ends(services: Services, command: str, general: str,
                                                          not_first: str) -> None:
    text = await help_text(services, command)
    first = next(line for line in text.splitlines() if line.startswith(f"*/projects {command}*"))
    assert general in first and not_first not in first
    assert not_first in text  # still there, on its back end's line


@pytest.mark.parametrize("words", ["create polaris", "create Polaris", "create POLARIS", "create pol-eu"])
async def test_help_with_a_target_or_kind_shows_that_back_ends_form(services: Services, words: str) -> None:
    text = await help_text(services, words)
    assert "*/projects create* on Polaris — create a Polaris project" in text
    assert "--plan" in text and "/projects create polaris web-analytics" in text
    assert "Phoenix" not in text and "snowflake" not in text


async def test_help_for_a_back_end_the_command_does_not_run_on(services: Services) -> None:
    error = await help_error(services, "pause phoenix")
    assert "`pause` does not run on Phoenix targets" in error.message and "`polaris`" in error.hint
    error = await help_error(services, "create mars")
    assert "`mars` is neither a configured target nor a back end" in error.message


@pytest.mark.parametrize(("group", "members"), [
    ("job", ["job list", "job show", "job cancel", "job delete-data"]),
    ("table", ["table list", "table drop", "table create"]),
    ("connection", ["connection list", "connection test", "connection delete"]),
    ("digest", ["digest add", "digest list", "digest now", "digest remove"]),
])
async def test_a_family_word_lists_its_commands(services: Services, group: str, members: list[str]) -> None:
    text = await help_text(services, group)
    for member in members:
        assert f"`/projects {member}` — " in text
    assert "There is no command" not in text
    hint = next(line for line in text.splitlines() if "shows its arguments" in line)
    assert "delete" not in hint and "cancel" not in hint and "drop" not in hint  # points at a read, not a change
    if group != "digest":
        assert f"`/projects help {group} list`" in hint


async def test_a_family_lists_only_what_the_caller_may_run(services: Services) -> None:
    text = await help_text(services, "job", user="U0VIEWER")
    assert "/projects job list" in text and "job cancel" not in text and "job create" not in text


@pytest.mark.parametrize("word", ["nope", "zzzz", "restart", "remove"])
async def test_a_weak_guess_never_suggests_a_destructive_command(services: Services, word: str) -> None:
    error = await help_error(services, word)
    assert f"There is no command `{word}`." == error.message
    for destructive in ("drop", "delete", "cancel", "stop", "pause", "reset"):
        assert destructive not in error.suggestion
    assert "Did you mean" not in error.hint and "`job`" in error.hint and "`list`" in error.hint


@pytest.mark.parametrize(("word", "suggestion"), [
    ("jobs", "help job"), ("tabel", "help table"), ("lst", "help list"), ("delte", "help delete"),
    ("table dorp", "help table drop"), ("job lst", "help job list"),
])
async def test_a_close_word_is_suggested(services: Services, word: str, suggestion: str) -> None:
    error = await help_error(services, word)
    assert error.suggestion == suggestion and f"`/projects {suggestion}`" in error.hint


async def test_help_for_a_command_a_role_hides(services: Services) -> None:
    error = await help_error(services, "delete", user="U0VIEWER")
    assert "needs a role you do not have" in error.message


async def test_a_command_that_is_also_a_family_names_its_relatives(services: Services) -> None:
    text = await help_text(services, "audit")
    assert "*/projects audit*" in text and "`/projects help audit export`" in text


async def test_help_on_one_back_end_command_is_unchanged(services: Services) -> None:
    text = await help_text(services, "job list")
    assert "/projects job list &lt;target&gt; [&lt;project&gt;] [--health &lt;value&gt;]" in text
    assert "/projects job list polaris clickstream --health error" in text
