"""App Home lines: a target's answer (its project count) said once; recent actions name what they acted on, escaped."""

from __future__ import annotations

import json

from bot.operations.core import TargetStatus
from bot.slack.home import recent_line, target_line


def status(detail: str, ok: bool = True) -> TargetStatus:
    return TargetStatus(name="polaris", kind="polaris", url="http://x", ok=ok, detail=detail, ms=3)


def test_a_target_says_whether_it_answers_and_its_answer() -> None:
    assert target_line(status("2 projects")) == ":large_green_circle: *polaris* · polaris · 2 projects"
    assert target_line(status("1 project in  acme\n")).endswith("polaris · 1 project in acme")
    line = target_line(status("no answer within 5 s", ok=False))
    assert line == ":red_circle: *polaris* · polaris · no answer within 5 s"


def test_a_hostile_detail_is_escaped() -> None:
    line = target_line(status("<!channel> 3 projects", ok=False))
    assert "<!channel>" not in line and "&lt;!channel&gt;" in line


def test_a_recent_action_names_what_it_acted_on() -> None:
    row = {"at": "2026-11-01T10:00:00.000Z", "operation": "polaris.project.pause", "target": "polaris",
           "params": json.dumps({"project": "clickstream"}), "outcome": "succeeded"}
    assert recent_line(row) == "• 2026-11-01 10:00Z `polaris.project.pause` of `clickstream` on `polaris` — succeeded"
    hostile = recent_line({**row, "params": json.dumps({"project": "<!here>"}), "target": ""})
    assert "<!here>" not in hostile and "of `&lt;!here&gt;` — succeeded" in hostile
