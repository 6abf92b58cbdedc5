from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from bot.errors import UsageError
from bot.operations.base import Operation, Rendered, Risk
from bot.operations.parser import parse_command, usage
from bot.operations.registry import Registry
from bot.settings import parse_config


class ShowParams(BaseModel):
    project: str
    limit: int = Field(default=10, ge=1)
    verbose: bool = False
    tag: list[str] = []


async def _run(ctx, params):  # pragma: no cover - never executed by the parser
    return None


def _render(value, ctx) -> Rendered:  # pragma: no cover
    return Rendered("")


def op(name: str, kind: str | None, params=ShowParams, risk=Risk.READ) -> Operation:
    return Operation(name=name, summary=name, params=params, risk=risk, run=_run, render=_render, kind=kind)


@pytest.fixture
def registry() -> Registry:
    reg = Registry()
    reg.register(op("project.show", "polaris"))
    reg.register(op("project.show", "phoenix"))
    reg.register(op("table.show", "polaris"))
    return reg


def config(*targets: tuple[str, str]):
    return parse_config({"targets": {n: {"kind": k, "url": "http://x"} for n, k in targets}}, "c.yml", {})


def test_verb_target_positionals_and_options(registry: Registry) -> None:
    cfg = config(("pol", "polaris"), ("phx", "phoenix"))
    parsed = parse_command('show pol "my project" --limit 5 --verbose --tag a --tag=b', registry, cfg)
    assert parsed.operation.kind == "polaris" and parsed.target.name == "pol"
    assert parsed.params.model_dump() == {"project": "my project", "limit": 5, "verbose": True, "tag": ["a", "b"]}
    assert parse_command("show phx alpha", registry, cfg).operation.kind == "phoenix"
    assert parse_command("table show pol events limit=3", registry, cfg).params.limit == 3


def test_single_target_of_a_kind_is_implied(registry: Registry) -> None:
    parsed = parse_command("table show events", registry, config(("pol", "polaris"), ("phx", "phoenix")))
    assert parsed.target.name == "pol" and parsed.params.project == "events"


@pytest.mark.parametrize(
    ("text", "message", "suggestion"),
    [
        ("shwo pol x", "don't know the command `shwo`", "show"),
        ("show pol", "needs `project`", ""),
        ("show pol x --limit 0", "`--limit` must be at least 1", ""),
        ("show pol x --colour red", "no option `--colour`", ""),
        ("show pol x y", "did not expect `y`", ""),
        ("show pool x", "`pool` is not a configured target", "pol"),
        ("table show phx x", "polaris targets", ""),
        ('show pol "x', "quote is not closed", ""),
    ],
)
def test_bad_input_says_what_and_suggests(registry: Registry, text: str, message: str, suggestion: str) -> None:
    cfg = config(("pol", "polaris"), ("phx", "phoenix"))
    with pytest.raises(UsageError) as info:
        parse_command(text, registry, cfg)
    assert message in info.value.message
    assert info.value.suggestion == suggestion


def test_usage_is_built_from_the_params_model(registry: Registry) -> None:
    text = usage(registry.get("project.show", "polaris"))
    assert text == "/projects show <target> <project> [--limit <value>] [--verbose] [--tag <value>]"
