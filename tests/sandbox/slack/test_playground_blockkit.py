"""Every Block Kit type the bot can emit (and every type the emulator accepts) has a renderer in the playground."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rig import Bot

from sandbox.slack.blockkit import BLOCK_TYPES, ELEMENT_TYPES

ROOT = Path(__file__).resolve().parents[3]
PLAYGROUND = ROOT / "sandbox" / "slack" / "playground"
SUPPORTED = json.loads((PLAYGROUND / "supported_types.json").read_text())
TEXT_OBJECTS = {"plain_text", "mrkdwn"}


def js_keys(table: str) -> set[str]:
    """Keys of `const <table> = { ... }` in blockkit.js."""
    js = (PLAYGROUND / "blockkit.js").read_text()
    body = js.split(f"const {table} = {{", 1)[1].split("\n  };", 1)[0]
    return set(re.findall(r"^    (\w+): ", body, re.MULTILINE))


def types_in_bot_source() -> set[str]:
    """Block Kit types named in bot/ and handlers/ (`"type": "section"`, `type="button"`, …)."""
    known = BLOCK_TYPES | ELEMENT_TYPES | TEXT_OBJECTS
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            found |= set(re.findall(r"""["']type["']\s*:\s*["'](\w+)["']""", text))
            found |= set(re.findall(r"""\btype\s*=\s*["'](\w+)["']""", text))
    return found & known


def test_exported_list_matches_the_renderer() -> None:
    assert set(SUPPORTED["blocks"]) == js_keys("BLOCKS")
    assert set(SUPPORTED["elements"]) == js_keys("ELEMENTS")


def test_renderer_knows_every_type_the_emulator_accepts() -> None:
    supported = set(SUPPORTED["blocks"]) | set(SUPPORTED["elements"])
    assert supported >= BLOCK_TYPES, sorted(BLOCK_TYPES - supported)
    assert supported >= ELEMENT_TYPES | TEXT_OBJECTS, sorted((ELEMENT_TYPES | TEXT_OBJECTS) - supported)


def test_renderer_knows_every_type_in_the_bot_source() -> None:
    used = types_in_bot_source()
    assert {"section", "button", "actions"} <= used  # the scan works
    missing = used - set(SUPPORTED["blocks"]) - set(SUPPORTED["elements"])
    assert not missing, f"the playground cannot render: {sorted(missing)}"


def test_renderer_knows_every_type_seen_in_a_run(bot: Bot) -> None:
    for text in ("list polaris", "show polaris clickstream", "delete terraform sandbox-playground", "help",
                 "audit last 5"):
        bot.run(text, user="U0ADMIN")
    seen = bot.slack.element_types_seen
    assert {"section", "button"} <= seen
    missing = seen - set(SUPPORTED["blocks"]) - set(SUPPORTED["elements"])
    assert not missing, f"the playground cannot render: {sorted(missing)}"
