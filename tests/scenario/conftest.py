"""Scenario tests: one module per Slack surface, the real app in process (Bolt's `async_dispatch`).

Here `bot` and `make_bot` are the in-process rig (`InprocBot`, the same interface as the HTTP `Bot`), so a test
written for the HTTP rig runs unchanged; the Slack and back-end emulators are the same as in tests/e2e.
`PROJECTOPS_SCENARIO_RIG=http pytest tests/scenario` runs the same tests against the real HTTP server instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rig import Bot, running_bot, running_inproc_bot

from bot.operations.registry import Registry
from sandbox.slack import SlackEmulator

RIG = running_bot if os.environ.get("PROJECTOPS_SCENARIO_RIG") == "http" else running_inproc_bot


@pytest.fixture
def bot(slack: SlackEmulator, demo_config_dict: dict, tmp_path: Path, registry: Registry) -> Iterator[Bot]:
    with RIG(slack, demo_config_dict, tmp_path, registry) as running:
        yield running


@pytest.fixture
def make_bot(slack: SlackEmulator, tmp_path: Path, registry: Registry):
    """`with make_bot(config) as bot: ...` for a config of the test's choosing."""

    def factory(config: dict):
        return RIG(slack, config, tmp_path, registry)

    return factory
