"""`/projects list` with no target: every configured target in one answer; one failing back end is one line."""

from __future__ import annotations

import time

import loopback
from rig import Bot, message_text

from bot.store import AuditQuery


def finished_rows(bot: Bot, operation: str) -> list[dict]:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        rows = bot.audit.query(AuditQuery(operation=operation))
        if rows and rows[0]["outcome"] != "started":
            return rows
        time.sleep(0.02)
    return bot.audit.query(AuditQuery(operation=operation))


def test_list_with_no_target_lists_every_target(bot: Bot) -> None:
    answer = bot.run("list", user="U0VIEWER")
    text = message_text(answer)
    targets = bot.project.services.config.targets
    assert f"Projects on {len(targets)} targets" in text
    for name, target in targets.items():
        assert f"*{name}* · {target.kind}" in text
    assert ":red_circle:" not in text
    assert "*phoenix* · phoenix — 6 projects\n`chatbot-prod`" in text
    assert "*terraform* · terraform — 6 projects" in text and "`platform-core` (5 workspaces)" in text
    [row] = finished_rows(bot, "project.list")
    assert (row["user"], row["target"], row["outcome"]) == ("U0VIEWER", "", "succeeded")


def test_one_failing_back_end_is_a_line_not_a_failure(bot: Bot, backends: str) -> None:
    # A 503 storm longer than the client's retries: HCP Terraform fails fast, the others answer.
    loopback.post(f"{backends}/terraform/_faults", json={"status": 503, "count": 50})
    started = time.monotonic()
    text = message_text(bot.run("list"))
    assert time.monotonic() - started < 8
    assert ":red_circle: *terraform* · terraform — HCP Terraform answered 503" in text
    assert "*phoenix* · phoenix — 6 projects" in text and "1 target could not be listed" in text
    assert finished_rows(bot, "project.list")[0]["outcome"] == "succeeded"


def test_a_target_name_still_lists_one_target_and_a_wrong_one_is_explained(bot: Bot) -> None:
    assert "Phoenix projects on phoenix (6)" in message_text(bot.run("list phoenix"))
    assert finished_rows(bot, "phoenix.project.list")[0]["outcome"] == "succeeded"
    ack, _ = bot.command("list phenix")
    text = message_text(ack.json())
    assert "`phenix` is not a configured target" in text and "/projects targets" in text
    ack, _ = bot.command("list --name-contains chat")
    assert "needs a target" in message_text(ack.json())


def test_large_listings_stay_inside_slack_limits(bot: Bot, backends: str) -> None:
    loopback.post(f"{backends}/phoenix/_admin/bulk", json={"projects": 400, "prefix": "bulk-with-a-longer-name"})
    loopback.post(f"{backends}/terraform/_admin/bulk", json={"projects": 300})
    text = message_text(bot.run("list phoenix"))
    assert "Phoenix projects on phoenix (406)" in text and "Page 1 of 41 · 406 in all" in text
    text = message_text(bot.run("list terraform"))
    assert "HCP Terraform projects in acme (306)" in text and "Page 1 of 31 · 306 in all" in text
    text = message_text(bot.run("list"))
    assert "*phoenix* · phoenix — 406 projects" in text and "…and 376 more" in text
    # the `slack` fixture fails the test if any payload broke a Block Kit limit
