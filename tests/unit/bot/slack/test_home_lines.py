"""App Home lines: a target's project count said once; recent actions name what they acted on, escaped."""

from __future__ import annotations

import json

from bot.operations.core import TargetStatus
from bot.operations.multi import ProjectSummary, TargetProjects
from bot.slack.home import recent_line, target_line


def status(detail: str, ok: bool = True) -> TargetStatus:
    return TargetStatus(name="polaris", kind="polaris", url="http://x", ok=ok, detail=detail, ms=3)


def listed(count: int) -> TargetProjects:
    return TargetProjects(target="polaris", kind="polaris",
                          projects=[ProjectSummary(name=f"p{i}", id=str(i)) for i in range(count)])


def test_the_project_count_is_said_once() -> None:
    assert target_line(status("2 projects"), listed(2)) == ":large_green_circle: *polaris* · polaris · 2 projects"
    assert target_line(status("100+ projects"), listed(10)).count("project") == 1
    assert target_line(status("1 project in acme"), listed(1)).endswith("polaris · 1 project in acme")


def test_the_listing_counts_when_the_answer_does_not() -> None:
    assert target_line(status("ok"), listed(1)) == ":large_green_circle: *polaris* · polaris · 1 project · ok"
    assert target_line(status("ok"), None) == ":large_green_circle: *polaris* · polaris · ok"
    line = target_line(status("no answer within 5 s", ok=False), None)
    assert line == ":red_circle: *polaris* · polaris · no answer within 5 s"


def test_a_hostile_detail_is_escaped() -> None:
    line = target_line(status("<!channel> 3 projects", ok=False), None)
    assert "<!channel>" not in line and "&lt;!channel&gt;" in line


def test_a_recent_action_names_what_it_acted_on() -> None:
    row = {"at": "2026-11-01T10:00:00.000Z", "operation": "polaris.project.pause", "target": "polaris",
           "params": json.dumps({"project": "clickstream"}), "outcome": "succeeded"}
    assert recent_line(row) == "• 2026-11-01 10:00Z `polaris.project.pause` of `clickstream` on `polaris` — succeeded"
    hostile = recent_line({**row, "params": json.dumps({"project": "<!here>"}), "target": ""})
    assert "<!here>" not in hostile and "of `&lt;!here&gt;` — succeeded" in hostile
