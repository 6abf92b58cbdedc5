"""Every hand-written utterance of the bench resolves to commands the real parser accepts, quickly."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.assistant import Catalog, Clarify, Understanding, Understood, understand
from bot.assistant.commands import config_for
from bot.operations.parser import parse_command
from bot.operations.registry import Registry

ROOT = Path(__file__).resolve().parents[4]
SETS = ROOT / "bench" / "assistant_utterances"
TARGETS = {"polaris": "polaris", "phoenix": "phoenix", "terraform": "terraform", "matillion": "matillion"}
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def cases() -> list[dict[str, Any]]:
    return [c for name in ("tuning.yaml", "heldout.yaml") for c in yaml.safe_load((SETS / name).read_text())]


def run(case: dict[str, Any], registry: Registry, catalog: Catalog) -> Understanding:
    history: list[Understanding] = []
    for earlier in case.get("after", []):
        history.append(understand(earlier, registry, TARGETS, catalog, history, now=NOW))
    return understand(case["say"], registry, TARGETS, catalog, history, now=NOW)


def test_the_sets_are_big_enough_and_cover_every_operation(registry: Registry) -> None:
    all_cases = cases()
    heldout = yaml.safe_load((SETS / "heldout.yaml").read_text())
    assert len(all_cases) >= 300
    assert 0.3 <= len(heldout) / len(all_cases) <= 0.45
    wanted = set()
    for c in all_cases:
        want = c["want"]
        wanted.update(want if isinstance(want, list) else [want])
    missing = {op.qualified_name for op in registry.all()} - wanted
    assert not missing, f"add utterances for {sorted(missing)} to bench/assistant_utterances/tuning.yaml"
    assert {"clarify", "cannot"} <= wanted


def test_every_command_and_every_button_parses(registry: Registry, catalog: Catalog) -> None:
    config = config_for(TARGETS)
    for case in cases():
        result = run(case, registry, catalog)
        if isinstance(result, Understood):
            for request in result.requests:
                parsed = parse_command(request.command_args, registry, config)
                assert (parsed.operation.name, parsed.operation.kind) == (request.operation_name, request.kind), case
                parsed.operation.params.model_validate(request.params)
        elif isinstance(result, Clarify):
            for _, command in result.choices:
                parse_command(command.removeprefix("/projects").strip(), registry, config)


def test_understanding_is_fast(registry: Registry, catalog: Catalog) -> None:
    """CPU time of this thread, not wall time: a busy test machine deschedules us, it does not slow the work.

    `python -m bench.assistant` measures the wall-clock figures the README reports."""
    texts = [c["say"] for c in cases()]
    for text in texts:  # warm up
        understand(text, registry, TARGETS, catalog, now=NOW)
    timings = []
    for text in texts:
        started = time.thread_time()
        understand(text, registry, TARGETS, catalog, now=NOW)
        timings.append((time.thread_time() - started) * 1000)
    timings.sort()
    assert statistics.median(timings) < 10
    assert timings[int(len(timings) * 0.99)] < 50


@pytest.mark.parametrize("size", [300])
def test_names_scale_to_a_large_catalog(registry: Registry, size: int) -> None:
    from bot.assistant import ProjectNames

    big = Catalog.build({"polaris": ("polaris", [ProjectNames(f"bulk-{i:05d}", tables=("events", "users"))
                                                 for i in range(size)] + [ProjectNames("clickstream")])})
    started = time.thread_time()
    result = understand("pause clickstream", registry, {"polaris": "polaris"}, big, now=NOW)
    assert (time.thread_time() - started) < 0.25
    assert isinstance(result, Understood)
    assert result.requests[0].command_text == "/projects pause polaris clickstream"
