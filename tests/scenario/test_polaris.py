"""Imply Polaris end to end: signed Slack requests to the running app, the Polaris emulator behind it."""

from __future__ import annotations

import json
import time

import httpx
from rig import Bot, message_text

from bot.store import AuditQuery


def rows_for(bot: Bot, operation: str) -> list[dict]:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        rows = [r for r in bot.audit.query(AuditQuery()) if r["operation"] == operation]
        if rows and rows[0]["outcome"] != "started":
            return rows
        time.sleep(0.02)
    return [r for r in bot.audit.query(AuditQuery()) if r["operation"] == operation]


def test_list_shows_every_project_with_state_and_storage(bot: Bot, polaris: httpx.Client) -> None:
    answer = bot.run("list polaris", user="U0VIEWER")
    text = message_text(answer)
    assert "Polaris projects on polaris (6)" in text
    assert "*clickstream*  :large_green_circle: running · a.01 · us-east-1" in text
    assert "92.1 GB / 100 GB (92%) :warning: nearly full" in text and ":double_vertical_bar: paused" in text
    [row] = rows_for(bot, "polaris.project.list")
    assert (row["user"], row["target"], row["outcome"], row["surface"]) == ("U0VIEWER", "polaris", "succeeded",
                                                                              "command")


def test_show_a_project_by_name(bot: Bot, polaris: httpx.Client) -> None:
    text = message_text(bot.run("show polaris clickstream", user="U0VIEWER"))
    assert "▓▓▓▓▓▓▓▓▓░ 92.1 GB / 100 GB (92%)" in text and "*Tables (3)*" in text
    assert "Jobs needing attention (2)" in text and "Access Denied (403)" in text
    [row] = rows_for(bot, "polaris.project.show")
    assert row["outcome"] == "succeeded" and json.loads(row["params"]) == {"project": "clickstream"}


def test_job_list_filtered_by_health(bot: Bot, polaris: httpx.Client) -> None:
    text = message_text(bot.run("job list polaris clickstream --health error", user="U0VIEWER"))
    assert "Jobs in clickstream (1)" in text and ":rotating_light: `0b376ddb` batch → clicks" in text
    assert "Filtered by health `error`" in text
    [row] = rows_for(bot, "polaris.job.list")
    assert row["outcome"] == "succeeded" and json.loads(row["params"])["health"] == ["error"]


def test_a_typed_job_list_with_no_project_reads_every_running_project(bot: Bot, polaris: httpx.Client) -> None:
    text = message_text(bot.run("job list polaris --health error", user="U0VIEWER"))
    assert "running projects on polaris (1)" in text and "*clickstream* · :rotating_light: `0b376ddb`" in text
    uid = next(p["metadata"]["uid"] for p in polaris.get("/v1/projects", headers={"Authorization": "Bearer any"}).json()
               if p["metadata"]["name"] == "clickstream")
    polaris.post("/_faults", json={"status": 500, "path": f"/v1/projects/{uid}/jobs", "count": -1})
    text = message_text(bot.run("job list polaris --health error", user="U0VIEWER"))
    assert "Could not read the jobs of clickstream" in text and "No jobs match in the projects read." in text


def test_help_shows_the_polaris_grammar(bot: Bot) -> None:
    text = message_text(bot.run("help job list", user="U0VIEWER"))
    # Slack shows &lt; &gt; as < >: placeholders are escaped, never read as links or mentions
    assert ("/projects job list &lt;target&gt; [&lt;project&gt;] [--health &lt;value&gt;] [--status &lt;value&gt;]"
            in text)
    assert "/projects job list polaris clickstream --health error" in text


def test_create_follows_the_project_until_it_runs(bot: Bot, polaris: httpx.Client) -> None:
    started = time.monotonic()
    answer = bot.run("create polaris web-analytics --plan starter --region eu-west-1", user="U0OPERATOR")
    assert "Project *web-analytics* created: now :large_green_circle: running." in message_text(answer)
    assert time.monotonic() - started < 5
    state = {p["name"]: p["state"] for p in polaris.get("/_admin/state").json()["projects"]}
    assert state["web-analytics"] == "running"
    [row] = rows_for(bot, "polaris.project.create")
    assert (row["user"], row["outcome"], row["risk"]) == ("U0OPERATOR", "succeeded", "write")


def test_a_viewer_is_refused_a_write(bot: Bot, polaris: httpx.Client) -> None:
    text = message_text(bot.run("create polaris sneaky --plan starter", user="U0VIEWER"))
    assert "You may not run `create` on `polaris`" in text
    assert "sneaky" not in {p["name"] for p in polaris.get("/_admin/state").json()["projects"]}
    [row] = rows_for(bot, "polaris.project.create")
    assert (row["user"], row["outcome"]) == ("U0VIEWER", "refused")


def test_a_backend_503_ends_in_a_clear_message_and_the_ack_is_immediate(bot: Bot, polaris: httpx.Client) -> None:
    polaris.post("/_faults", json={"status": 503, "count": 20, "path": "/v1/projects"})
    started = time.monotonic()
    ack, rid = bot.command("list polaris", user="U0VIEWER")
    assert ack.status_code == 200 and time.monotonic() - started < 1.0
    text = message_text(bot.answer(rid))
    assert "Polaris answered HTTP 503: Service temporarily unavailable." in text
    assert "Polaris had a problem on its side; try again in a minute." in text
    [row] = rows_for(bot, "polaris.project.list")
    assert row["outcome"] == "failed" and "503" in row["error"]


def test_a_brief_503_is_retried_into_success(bot: Bot, polaris: httpx.Client) -> None:
    polaris.post("/_faults", json={"status": 503, "count": 1, "path": "/v1/projects"})
    assert "Polaris projects on polaris (6)" in message_text(bot.run("list polaris", user="U0VIEWER"))
    assert rows_for(bot, "polaris.project.list")[0]["outcome"] == "succeeded"


def test_pause_is_confirmed_then_reports_the_settled_state(bot: Bot, polaris: httpx.Client) -> None:
    prompt = bot.run("pause polaris clickstream")
    text = message_text(prompt)
    assert "3 table(s): 83.1 GB" in text and "Pausing stops queries and ingestion" in text
    final = bot.confirm("pause polaris clickstream")
    assert "Project *clickstream* paused: now :double_vertical_bar: paused." in message_text(final)
    rows = [r for r in rows_for(bot, "polaris.project.pause") if r["outcome"] == "succeeded"]
    assert len(rows) == 1 and rows[0]["confirmed_by"] == "U0ADMIN"
