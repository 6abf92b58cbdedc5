"""`/projects audit`: each row names what it acted on (escaped, never a secret), and the listing leaves out reads
still in progress without skipping or repeating a row between pages."""

from __future__ import annotations

import json

from bot.operations.audit import AuditParams, render_audit, row_line, run_audit, subject
from bot.operations.base import Actor
from bot.operations.context import OpContext, Services
from bot.redact import MASK, redact
from bot.store.audit import AuditEntry


def row(operation: str, params: dict, **extra) -> dict:
    return {"id": 5, "at": "2026-11-01T10:00:00.000Z", "user": "U0ADMIN", "operation": operation,
            "target": "polaris", "params": json.dumps(params), "outcome": "succeeded", **extra}


def test_a_row_names_the_project_it_acted_on() -> None:
    line = row_line(row("polaris.project.pause", {"project": "clickstream"}))
    assert "<@U0ADMIN> `polaris.project.pause` of `clickstream` on `polaris` — succeeded" in line


def test_tables_jobs_connections_workspaces_and_approvals_are_named() -> None:
    assert subject("polaris.table.drop", {"project": "cs", "table": "events"}) == "table `events` in `cs`"
    assert subject("polaris.job.cancel", {"project": "cs", "job": "0b376ddb"}) == "job `0b376ddb` in `cs`"
    assert subject("polaris.connection.delete", {"project": "cs", "name": "kafka"}) == "connection `kafka` in `cs`"
    assert subject("terraform.project.move-workspaces", {"project": "core", "workspaces": ["a", "b"]}) == (
        "workspaces `a`, `b` into `core`")
    assert subject("terraform.project.create", {"name": "new-proj", "description": "x"}) == "`new-proj`"
    assert subject("approval.request", {"command": "delete phoenix rag-eval", "approval": "a1"}) == (
        "`/projects delete phoenix rag-eval`")
    assert subject("polaris.job.list", {"project": "cs", "table": "events"}) == "`cs`"  # a filter, not a subject
    assert subject("whoami", {}) == "" and subject("whoami", "not json") == ""


def test_hostile_names_stay_escaped() -> None:
    line = row_line(row("polaris.table.drop", {"project": "<!channel>", "table": "<@U0BOSS> `x` <http://e|y>"}))
    assert "<!channel>" not in line and "<@U0BOSS>" not in line and "<http" not in line
    assert "`&lt;!channel&gt;`" in line and "`&lt;@U0BOSS&gt; ˋxˋ &lt;http://e|y&gt;`" in line


def test_secrets_never_show() -> None:
    params = redact({"name": "wh-proj", "password": "hunter22", "private_key": "-----BEGIN",
                     "token": "xoxb-123456789012-abc"})
    assert params["password"] == MASK and params["token"] == MASK
    line = row_line(row("matillion.provision", params))
    assert "hunter22" not in line and "xoxb" not in line and "BEGIN" not in line and "`wh-proj`" in line
    scrubbed = subject("polaris.project.show", redact({"project": "xoxb-123456789012-abc"}))
    assert scrubbed == f"`{MASK}`"


def start(services: Services, operation: str, risk: str = "read", user: str = "U0ADMIN") -> int:
    return services.audit.start(AuditEntry(user=user, operation=operation, surface="command", risk=risk))


def finish(services: Services, row_id: int) -> None:
    services.audit.finish(row_id, "succeeded")


async def test_pages_leave_out_reads_in_progress_and_never_repeat_a_row(make_services) -> None:
    services = make_services({"targets": {}})
    done = []
    for i in range(7):
        done.append(start(services, f"op{i}"))
        finish(services, done[-1])
        if i in (1, 4):
            start(services, "slow.read")  # a read still running: hidden
        if i == 3:
            start(services, "polaris.project.delete", risk="destructive")  # a change still running: shown
    own = start(services, "audit")
    ctx = OpContext(services=services, actor=Actor(user_id="U0ADMIN"))
    seen: list[int] = []
    for page in (1, 2, 3):
        result = await run_audit(ctx, AuditParams(last=3, page=page))
        assert all(r["outcome"] != "started" or r["risk"] != "read" for r in result.rows)
        seen += [r["id"] for r in result.rows]
        assert result.has_more == (page < 3)
    assert own not in seen and len(seen) == len(set(seen)) == 8
    assert sorted(seen, reverse=True) == seen and set(done) <= set(seen)
    first = render_audit(await run_audit(ctx, AuditParams(last=3)), ctx)
    assert first.text == "Audit entries 1–3 (more on the next page)"
    last = render_audit(await run_audit(ctx, AuditParams(last=3, page=3)), ctx)
    assert last.text == "Audit entries 7–8"


async def test_asking_for_started_rows_shows_the_reads_in_progress(make_services) -> None:
    services = make_services({"targets": {}})
    slow = start(services, "slow.read")
    ctx = OpContext(services=services, actor=Actor(user_id="U0ADMIN"))
    shown = await run_audit(ctx, AuditParams(outcome="started"))
    assert slow in [r["id"] for r in shown.rows]
