"""Scenario tests: one module per Slack surface, the real app in process (Bolt's `async_dispatch`).

Here `bot` and `make_bot` are the in-process rig (`InprocBot`, the same interface as the HTTP `Bot`), so a test
written for the HTTP rig runs unchanged; the Slack and back-end emulators are the same as in tests/e2e.
`PROJECTOPS_SCENARIO_RIG=http pytest tests/scenario` runs the same tests against the real HTTP server instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import loopback
import pytest
from rig import bot_fixtures, running_bot, running_inproc_bot

RIG = running_bot if os.environ.get("PROJECTOPS_SCENARIO_RIG") == "http" else running_inproc_bot


bot, make_bot = bot_fixtures(RIG)


@pytest.fixture
def polaris(backends: str) -> Iterator[httpx.Client]:
    """The Polaris emulator's control endpoints, with quick state transitions (and no faults left) after the test."""
    with loopback.Client(base_url=f"{backends}/polaris", timeout=10) as http:
        before = http.get("/_admin/config").json()["transition_seconds"]
        http.post("/_admin/config", json={"transition_seconds": 0.3})
        yield http
        http.post("/_admin/config", json={"transition_seconds": before})
        http.delete("/_faults")
