"""The parser's refusals in a person's words: options as they are typed (`--status`), never pydantic's wording or
a params model's internal names; choices and target names regardless of case; unknown options named as such."""

from __future__ import annotations

import enum
from typing import Literal

import pytest
from pydantic import BaseModel, Field, model_validator

from bot.errors import UsageError
from bot.operations.base import Operation, Rendered, Risk
from bot.operations.loader import load_operations
from bot.operations.params_words import choices_of
from bot.operations.parser import closest_command, parse_command
from bot.operations.registry import Registry
from bot.settings import AppConfig, parse_config

KINDS = ("polaris", "phoenix", "terraform", "matillion")


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class StandInParams(BaseModel):
    project: str
    status: list[Literal["pending", "running", "failed"]] = Field(default_factory=list)
    mode: Literal["fast", "safe"] | None = None
    colour: Colour | None = None
    limit: int = Field(default=10, ge=1, le=100)
    label: str = Field(default="x", max_length=5)
    everything: bool = False

    @model_validator(mode="after")
    def _say_what(self) -> StandInParams:
        if self.project == "nothing" and not self.everything:
            raise ValueError("say what to delete: `--everything`")
        return self


async def _run(ctx, params):  # pragma: no cover - the parser never runs operations
    return None


def _render(value, ctx) -> Rendered:  # pragma: no cover
    return Rendered("")


@pytest.fixture(scope="module")
def registry() -> Registry:
    reg = load_operations()
    reg.register(Operation(name="thing.check", summary="check a thing", params=StandInParams, risk=Risk.READ,
                           run=_run, render=_render, kind="polaris"))
    return reg


@pytest.fixture(scope="module")
def config() -> AppConfig:
    return parse_config({"targets": {k: {"kind": k, "url": "http://x"} for k in KINDS}}, "c.yml", {})


def refusal(text: str, registry: Registry, config: AppConfig) -> UsageError:
    with pytest.raises(UsageError) as info:
        parse_command(text, registry, config)
    return info.value


@pytest.mark.parametrize(("text", "message"), [
    ("thing check polaris p --status RUNNING --status bogus",
     "`--status` must be one of pending, running or failed, not `bogus`."),
    ("thing check polaris p --mode slow", "`--mode` must be one of fast or safe, not `slow`."),
    ("thing check polaris p --colour blue", "`--colour` must be one of red or green, not `blue`."),
    ("thing check polaris p --limit abc", "`--limit` must be a whole number, not `abc`."),
    ("thing check polaris p --limit 0", "`--limit` must be at least 1, not `0`."),
    ("thing check polaris p --limit 101", "`--limit` must be at most 100, not `101`."),
    ("thing check polaris p --label toolong", "`--label` must be at most 5 characters, not `toolong`."),
    ("thing check polaris nothing", "Say what to delete: `--everything`."),
    ("thing check polaris", "`thing check` needs `project`."),
])
def test_a_bad_value_is_said_as_typed(text: str, message: str, registry: Registry, config: AppConfig) -> None:
    error = refusal(text, registry, config)
    assert error.message == message
    assert error.usage.startswith("/projects thing check <target> <project>")
    for leak in ("Input should", "input", "Value error", "`status`:", "`limit`:"):
        assert leak not in error.message


@pytest.mark.parametrize(("text", "status", "mode", "colour"), [
    ("thing check polaris p --status RUNNING --mode FAST --colour Red", ["running"], "fast", Colour.RED),
    ("thing check polaris p --status Running --status FAILED --status pending", ["running", "failed", "pending"],
     None, None),
    ("thing check polaris p status=running mode=Safe", ["running"], "safe", None),
])
def test_choices_match_regardless_of_case(text: str, status: list[str], mode: str | None, colour: Colour | None,
                                          registry: Registry, config: AppConfig) -> None:
    params = parse_command(text, registry, config).params
    assert (params.status, params.mode, params.colour) == (status, mode, colour)


def test_real_job_list_status_is_case_insensitive_and_a_bad_one_lists_the_choices(
        registry: Registry, config: AppConfig) -> None:
    parsed = parse_command("job list polaris clickstream --status RUNNING,Failed --health ERROR", registry, config)
    assert parsed.params.status == ["running", "failed"] and parsed.params.health == ["error"]
    error = refusal("job list polaris clickstream --status runing", registry, config)
    assert error.message.startswith("`--status` must be one of pending, running, completed, idle, canceled")
    assert error.message.endswith("not `runing`.")


def test_delete_data_without_a_range_names_no_internal_field(registry: Registry, config: AppConfig) -> None:
    error = refusal("job delete-data polaris clickstream events", registry, config)
    assert error.message.startswith("Say what to delete: `--interval")
    assert "`input`" not in error.message


@pytest.mark.parametrize("text", ["job list polaris clickstream --bogus", "job list polaris clickstream --bogus x",
                                  "job list polaris clickstream --bogus=x"])
def test_an_unknown_option_is_named_with_the_options_there_are(text: str, registry: Registry,
                                                                 config: AppConfig) -> None:
    error = refusal(text, registry, config)
    assert error.message.startswith("There is no option `--bogus` for `job list`; its options are `--health`, ")
    assert "`--status`" in error.message and "needs a value" not in error.message


def test_an_unknown_option_close_to_a_real_one_is_suggested(registry: Registry, config: AppConfig) -> None:
    error = refusal("job list polaris clickstream --stauts running", registry, config)
    assert "There is no option `--stauts`" in error.message and error.hint == "Did you mean `--status`?"
    assert "it takes no options" in refusal("whoami --verbose", registry, config).message


def test_echoed_text_cannot_end_its_code_span(registry: Registry, config: AppConfig) -> None:
    error = refusal("thing check polaris p --mode a`b", registry, config)
    assert error.message.count("`") == 4  # `--mode` and `…`: the typed backtick is shown as a look-alike


@pytest.mark.parametrize("text", ["show Polaris x", "show POLARIS x", "list POLARIS", "LIST Polaris",
                                  "Table Show POLARIS clickstream events"])
def test_target_names_match_regardless_of_case(text: str, registry: Registry, config: AppConfig) -> None:
    parsed = parse_command(text, registry, config)
    assert parsed.target is not None and parsed.target.name == "polaris"


def test_a_family_word_alone_lists_its_commands(registry: Registry, config: AppConfig) -> None:
    error = refusal("job", registry, config)
    assert error.message.startswith("`job` needs a subcommand. Its commands: `job cancel`, ")
    assert "`/projects help job`" in error.hint and error.suggestion == ""
    error = refusal("table dorp polaris x y", registry, config)
    assert error.message.startswith("`table` has no subcommand `dorp`.") and error.suggestion == "table drop"


@pytest.mark.parametrize(("typed", "expected"), [
    ("nope", None), ("zzzz", None), ("remove", None),  # nothing close: no guess at all, least of all a drop
    ("delte", "delete"), ("dlete", "delete"), ("table dorp", "table drop"),  # a strong match may be destructive
    ("shwo", "show"), ("lst", "list"), ("jbo list", "job list"), ("pase", "pause"),
])
def test_closest_command_prefers_no_destructive_guess(typed: str, expected: str | None,
                                                      registry: Registry) -> None:
    assert closest_command(typed, registry.all()) == expected


def test_an_unknown_command_suggests_nothing_destructive(registry: Registry, config: AppConfig) -> None:
    error = refusal("nope", registry, config)
    assert error.suggestion == "" and "Did you mean" not in error.hint


def test_closest_command_with_families(registry: Registry) -> None:
    assert closest_command("jobs", registry.all(), groups=True) == "job"
    assert closest_command("jobs", registry.all()) != "job"


def test_choices_of_reads_literals_enums_lists_and_optionals() -> None:
    fields = StandInParams.model_fields
    assert choices_of(fields["status"].annotation) == ["pending", "running", "failed"]
    assert choices_of(fields["mode"].annotation) == ["fast", "safe"]
    assert choices_of(fields["colour"].annotation) == ["red", "green"]
    assert choices_of(fields["limit"].annotation) == []
