"""Scenario tests: one module per Slack surface, the real app in process (Bolt's `async_dispatch`).

Here `bot` and `make_bot` are the in-process rig (`InprocBot`, the same interface as the HTTP `Bot`), so a test
written for the HTTP rig runs unchanged; the Slack and back-end emulators are the same as in tests/e2e.
`PROJECTOPS_SCENARIO_RIG=http pytest tests/scenario` runs the same tests against the real HTTP server instead.
"""

from __future__ import annotations

import os

from rig import bot_fixtures, running_bot, running_inproc_bot

RIG = running_bot if os.environ.get("PROJECTOPS_SCENARIO_RIG") == "http" else running_inproc_bot


bot, make_bot = bot_fixtures(RIG)
