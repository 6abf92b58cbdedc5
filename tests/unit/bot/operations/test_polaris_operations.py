"""Every Polaris operation parsed from its typed command, run through the choke point against the emulator,
and rendered into Block Kit that Slack accepts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import loopback
import pytest
from rig import message_text

from bot.backends.http import RetryPolicy
from bot.backends.polaris import PolarisClient
from bot.errors import BackendError, NotFoundError, RefusedError, UsageError
from bot.operations.base import Actor, OpRequest, OpResult, Preview, Rendered, Risk
from bot.operations.context import OpContext, Services
from bot.operations.executor import execute
from bot.operations.loader import load_operations
from bot.operations.parser import parse_command
from bot.settings import parse_config
from sandbox.backends.polaris import create_app, job_id
from sandbox.slack.blockkit import validate

FAILED_JOB = job_id("clickstream", "clickstream-backfill-2024-11")
ROLLUP_JOB = job_id("clickstream", "clicks-hourly-rollup")
STREAM_JOB = job_id("clickstream", "clicks-stream")


@pytest.fixture
def app() -> Any:
    return create_app("demo", transition_seconds=0.1)


@pytest.fixture
async def services(app: Any, make_services) -> AsyncIterator[Services]:
    config = {"targets": {"polaris": {"kind": "polaris", "url": "http://polaris",
                                      "credentials": {"api_key": "${POLARIS_KEY}"},
                                      "options": {"poll_seconds": 0.03, "follow_seconds": 3}}},
              "roles": {"admin": ["U0ADMIN", "U0ADMIN2"], "operator": ["U0OPERATOR"], "viewer": ["U0VIEWER"],
                        "default": "viewer"}}
    services = make_services(config, environ={"POLARIS_KEY": "test-key"})
    client = PolarisClient(services.config.targets["polaris"], transport=httpx.ASGITransport(app=app),
                           retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02))
    services.clients.register("polaris", client)
    yield services
    await services.clients.aclose()


async def run(services: Services, text: str, user: str = "U0ADMIN") -> tuple[OpResult, Rendered]:
    parsed = parse_command(text, services.registry, services.config)
    destructive = parsed.operation.risk is Risk.DESTRUCTIVE
    request = OpRequest(operation=parsed.operation, actor=Actor(user_id=user, channel_id="C0OPS"),
                        params=parsed.params, target=parsed.target.name if parsed.target else None,
                        confirmed_by=user if destructive else "", approved_by="U0ADMIN2" if destructive else "")
    result = await execute(services, request)
    if result.error is not None:
        return result, Rendered(text=str(result.error))
    rendered = parsed.operation.render(result.value, OpContext(services, request.actor))
    errors = validate({"text": rendered.text, "blocks": rendered.blocks}, "message")
    assert errors == [], errors
    return result, rendered


def text_of(rendered: Rendered) -> str:
    return message_text({"text": rendered.text, "blocks": rendered.blocks})


def test_every_operation_is_registered_with_the_right_risk() -> None:
    registry = load_operations()
    ops = {op.name: op.risk for op in registry.all() if op.kind == "polaris"}
    destructive = {"project.pause", "project.stop", "project.delete", "table.drop", "job.cancel", "job.reset",
                   "job.delete-data", "connection.delete"}
    write = {"project.create", "project.update", "project.edit", "project.resume", "table.create", "table.add-columns",
             "job.create", "connection.create"}
    read = {"project.list", "project.show", "table.list", "table.show", "job.list", "job.show", "job.logs",
            "job.metrics", "connection.list", "connection.show", "connection.test"}
    assert set(ops) == destructive | write | read
    assert {n for n, r in ops.items() if r is Risk.DESTRUCTIVE} == destructive
    assert {n for n, r in ops.items() if r is Risk.WRITE} == write


async def test_project_list_shows_state_markers_and_storage(services: Services) -> None:
    result, rendered = await run(services, "list polaris")
    text = text_of(rendered)
    assert "Polaris projects on polaris (6)" in text
    assert ":large_green_circle: running" in text and ":double_vertical_bar: paused" in text
    assert ":red_circle: stopped" in text and "storage volume removed · 41.5 GB in deep storage" in text
    assert "92.1 GB / 100 GB (92%) :warning: nearly full" in text
    services.config.digests.alert_percent = 95  # "nearly full" is the config's alert threshold, nowhere else
    _, calmer = await run(services, "list polaris")
    assert "92.1 GB / 100 GB (92%)" in text_of(calmer) and "nearly full" not in text_of(calmer)
    services.config.digests.alert_percent = 90
    row = services.audit.get(result.audit_id)
    assert row["operation"] == "polaris.project.list" and row["outcome"] == "succeeded"
    _, only = await run(services, "list polaris --state paused")
    assert "marketing-sandbox" in text_of(only) and "clickstream" not in text_of(only)


async def test_a_long_project_list_stays_within_slack_limits(app: Any, services: Services) -> None:
    async with loopback.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://polaris") as http:
        await http.post("/_admin/bulk", json={"projects": 120, "tables_per_project": 0, "jobs_per_project": 0})
    _, rendered = await run(services, "list polaris")
    assert len(rendered.blocks) <= 50 and "Page 1 of 13 · 126 in all" in text_of(rendered)


async def test_project_show_has_storage_tables_and_unhealthy_jobs(services: Services) -> None:
    _, rendered = await run(services, "show polaris clickstream")
    text = text_of(rendered)
    assert "92.1 GB / 100 GB (92%)" in text and "*Tables (3)*" in text and "*clicks*  detail · 78.9 GB" in text
    assert "Jobs needing attention (2)" in text and ":rotating_light:" in text and "Access Denied" in text
    assert "2 active jobs" in text


async def test_an_unknown_project_suggests_the_closest_name(services: Services) -> None:
    result, _ = await run(services, "show polaris clikstream")
    assert isinstance(result.error, NotFoundError) and "Did you mean `clickstream`?" in result.error.hint


async def test_create_project_waits_until_running(services: Services) -> None:
    _, rendered = await run(services, "create polaris web-analytics --plan starter --region eu-west-1",
                            user="U0OPERATOR")
    assert "Project *web-analytics* created: now :large_green_circle: running." in text_of(rendered)
    result, _ = await run(services, "create polaris web-analytics")
    assert isinstance(result.error, UsageError) and "already a project" in result.error.message


async def test_pause_resume_stop_and_update_report_the_settled_state(services: Services) -> None:
    _, paused = await run(services, "pause polaris clickstream")
    assert "now :double_vertical_bar: paused" in text_of(paused)
    _, again = await run(services, "pause polaris clickstream")
    assert "already paused" in text_of(again)
    _, resumed = await run(services, "resume polaris clickstream", user="U0OPERATOR")
    assert "resumed: now :large_green_circle: running" in text_of(resumed)
    _, updated = await run(services, "update polaris clickstream --plan a.02", user="U0OPERATOR")
    assert "a.02" in text_of(updated) and "running" in text_of(updated)
    result, _ = await run(services, "stop polaris analytics-prod")
    assert isinstance(result.error, BackendError)
    assert "--no-stop-protection" in result.error.hint
    _, unprotected = await run(services, "update polaris analytics-prod --no-stop-protection", user="U0OPERATOR")
    assert ":lock: delete" in text_of(unprotected) and ":lock: stop" not in text_of(unprotected)
    _, stopped = await run(services, "stop polaris analytics-prod")
    assert "now :red_circle: stopped" in text_of(stopped)


async def test_delete_project_refused_while_protected_then_deleted(services: Services) -> None:
    result, _ = await run(services, "delete polaris iot-telemetry")
    assert result.error is not None and result.error.message == "Project iot-telemetry has deletion protection on."
    assert "/projects update polaris iot-telemetry --no-deletion-protection" in result.error.hint
    assert services.audit.get(result.audit_id)["outcome"] == "failed"
    _, deleted = await run(services, "delete polaris marketing-sandbox")
    assert "was deleted" in text_of(deleted)


async def test_destructive_operations_need_confirmation_and_an_admin(services: Services) -> None:
    parsed = parse_command("stop polaris clickstream", services.registry, services.config)
    unconfirmed = await execute(services, OpRequest(parsed.operation, Actor("U0ADMIN"), parsed.params, "polaris"))
    assert isinstance(unconfirmed.error, RefusedError)
    confirmed_only = await execute(services, OpRequest(parsed.operation, Actor("U0ADMIN"), parsed.params, "polaris",
                                                       confirmed_by="U0ADMIN"))
    assert isinstance(confirmed_only.error, RefusedError) and "approval" in confirmed_only.error.message
    result, _ = await run(services, "create polaris nope", user="U0VIEWER")
    assert isinstance(result.error, RefusedError)


async def test_table_operations(services: Services) -> None:
    _, listed = await run(services, "table list polaris analytics-prod")
    assert "Tables in analytics-prod (3)" in text_of(listed) and "1.3 B rows" in text_of(listed)
    _, shown = await run(services, "table show polaris analytics-prod events")
    text = text_of(shown)
    assert "71.3 GB" in text and "*Segments*\n1,840" in text and "`event_type` string" in text
    assert "Discovered: `utm_source` string" in text and "Recent jobs" in text
    _, created = await run(services, "table create polaris support-insights agents --column __time:timestamp "
                                     "--column agent:string --partitioning month", user="U0OPERATOR")
    assert "Created detail table *agents*" in text_of(created)
    _, agg = await run(services, "table create polaris support-insights per_team --type aggregate "
                                 "--dimension team:string --measure tickets:long --time-resolution day")
    assert "Created aggregate table *per_team*" in text_of(agg) and "(measure)" in text_of(agg)
    _, added = await run(services, "table add-columns polaris analytics-prod users email:string --column tier:string")
    assert "Added `email`, `tier` to *users*" in text_of(added) and "version 2" in text_of(added)
    _, dropped = await run(services, "table drop polaris clickstream bot_traffic")
    assert "Dropping table *bot_traffic* (1.8 GB, 41 M rows)" in text_of(dropped)


async def test_bad_column_syntax_is_a_usage_error() -> None:
    registry = load_operations()
    config = parse_config({"targets": {"polaris": {"kind": "polaris", "url": "http://polaris"}}}, "c.yml", {})
    with pytest.raises(UsageError, match="name:type"):
        parse_command("table create polaris p t --column nocolon", registry, config)
    with pytest.raises(UsageError, match="mars-1"):
        parse_command("create polaris x --region mars-1", registry, config)
    with pytest.raises(UsageError, match="kafka connections need secrets"):
        parse_command("connection create polaris p c kafka", registry, config)
    with pytest.raises(UsageError, match="interval"):
        parse_command("job delete-data polaris p t", registry, config)


async def test_job_list_filters_and_health_markers(services: Services) -> None:
    result, rendered = await run(services, "job list polaris clickstream --health error")
    text = text_of(rendered)
    assert "Jobs in clickstream (1)" in text and ":rotating_light: `0b376ddb` batch → clicks" in text
    assert "Filtered by health `error`" in text
    assert json.loads(services.audit.get(result.audit_id)["params"]) == {
        "project": "clickstream", "health": ["error"], "status": [], "type": [], "table": None, "connection": None,
        "search": None, "limit": 30}
    _, both = await run(services, "job list polaris clickstream --health warn,error --status failed --table clicks")
    assert "Jobs in clickstream (1)" in text_of(both)
    _, limited = await run(services, "job list polaris clickstream --limit 2")
    assert "Jobs in clickstream (2+)" in text_of(limited) and "Showing the 2 most recently updated" in text_of(limited)


async def test_job_list_with_no_project_reads_every_running_project(services: Services) -> None:
    result, rendered = await run(services, "job list polaris --health error", user="U0VIEWER")
    text = text_of(rendered)
    assert "running projects on polaris (1)" in text and "*clickstream* · :rotating_light: `0b376ddb`" in text
    assert json.loads(services.audit.get(result.audit_id)["params"])["project"] is None
    _, every = await run(services, "job list polaris")
    projects = {line.split("*")[1] for line in text_of(every).splitlines() if line.startswith("*")}
    assert {"clickstream", "iot-telemetry"} <= projects


async def test_job_list_across_projects_names_a_project_it_could_not_read(app: Any, services: Services,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.operations.polaris import jobs

    async with loopback.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://polaris") as http:
        client = await services.clients.get(services.config.targets["polaris"])
        uid = next(p.uid for p in await client.list_projects() if p.name == "iot-telemetry")
        click = next(p.uid for p in await client.list_projects() if p.name == "clickstream")
        await http.post("/_faults", json={"status": 500, "path": f"/v1/projects/{uid}/jobs", "count": -1})
        _, rendered = await run(services, "job list polaris --health error")
        text = text_of(rendered)
        assert "*clickstream* · :rotating_light:" in text
        assert "Could not read the jobs of iot-telemetry" in text
        await http.post("/_faults", json={"status": 500, "path": f"/v1/projects/{click}/jobs", "count": -1})
        _, none_read = await run(services, "job list polaris --health error")
        assert "No jobs match in the projects read." in text_of(none_read), text_of(none_read)
        await http.delete("/_faults")
        monkeypatch.setattr(jobs, "MAX_ACROSS", 1)
        _, capped = await run(services, "job list polaris")
        assert "Read the first 1 of" in text_of(capped) and "running projects (by name)" in text_of(capped)
        await http.post("/_faults", json={"status": 500, "path": "/v1/projects/", "count": -1})
        result, _ = await run(services, "job list polaris")
        assert isinstance(result.error, BackendError)  # nothing readable: the back end's own error, not a list


async def test_job_show_logs_metrics_by_short_id(services: Services) -> None:
    short = FAILED_JOB.split("-")[0]
    _, shown = await run(services, f"job show polaris clickstream {short}")
    assert "could_not_connect_to_source" in text_of(shown) and FAILED_JOB in text_of(shown)
    _, logs = await run(services, f"job logs polaris clickstream {short}")
    assert "Job created by svc-ingest@acme.example." in text_of(logs)
    rollup = job_id("analytics-prod", "sessions-rollup")
    _, metrics = await run(services, f"job metrics polaris analytics-prod {rollup}")
    assert "12,880,411" in text_of(metrics)
    result, _ = await run(services, "job show polaris clickstream ffffffff")
    assert isinstance(result.error, NotFoundError)


async def test_job_create_cancel_reset_and_delete_data(services: Services) -> None:
    _, sql = await run(services, 'job create polaris support-insights sql --query "INSERT INTO tickets SELECT 1"',
                       user="U0OPERATOR")
    assert "SQL ingestion into *tickets*" in text_of(sql)
    _, batch = await run(services, "job create polaris support-insights batch --table csat_scores "
                                   "--connection zendesk-exports --prefix s3://acme-zendesk-exports/x/")
    assert "Batch ingestion from `zendesk-exports` into *csat_scores*" in text_of(batch)
    _, canceled = await run(services, f"job cancel polaris clickstream {ROLLUP_JOB[:8]}")
    assert "Canceled sql job" in text_of(canceled)
    result, _ = await run(services, f"job cancel polaris clickstream {ROLLUP_JOB[:8]}")
    assert isinstance(result.error, UsageError) and "already canceled" in result.error.message
    _, reset = await run(services, f"job reset polaris clickstream {STREAM_JOB[:8]}")
    assert "Reset the offset of streaming job" in text_of(reset)
    _, deleted = await run(services, "job delete-data polaris clickstream bot_traffic --interval 2024-02-01/2024-03-01")
    assert "Deleting 2024-02-01/2024-03-01 from *bot_traffic*" in text_of(deleted)


async def test_connection_operations(services: Services) -> None:
    _, listed = await run(services, "connection list polaris clickstream")
    assert "Connections in clickstream (2)" in text_of(listed)
    assert "bucket `acme-clickstream-archive`" in text_of(listed)
    _, shown = await run(services, "connection show polaris clickstream clickstream-archive")
    assert "aws_iam (values never shown)" in text_of(shown)
    _, created = await run(services, "connection create polaris clickstream clicks-2025 s3 --bucket acme-clicks "
                                     "--role-arn arn:aws:iam::1:role/p", user="U0OPERATOR")
    assert "Created s3 connection *clicks-2025*" in text_of(created)
    _, ok = await run(services, "connection test polaris clickstream clicks-2025", user="U0VIEWER")
    assert ":white_check_mark: Connection *clicks-2025*" in text_of(ok)
    _, bad = await run(services, "connection test polaris clickstream clickstream-archive")
    assert "failed its test: Access denied" in text_of(bad)
    _, deleted = await run(services, "connection delete polaris clickstream clicks-2025")
    assert "Deleted connection *clicks-2025*" in text_of(deleted)


async def verdict(services: Services, text: str) -> Preview:
    parsed = parse_command(text, services.registry, services.config)
    assert parsed.operation.preview is not None
    ctx = OpContext(services=services, actor=Actor("U0ADMIN"), target=parsed.target)
    return await parsed.operation.preview(ctx, parsed.params)


async def preview(services: Services, text: str) -> str:
    """The impact text of a preview that lets the change go ahead."""
    found = await verdict(services, text)
    assert not found.stops, found
    return found.text


async def test_destructive_operations_preview_what_they_touch(services: Services) -> None:
    stop = await verdict(services, "stop polaris analytics-prod")
    assert "3 table(s): 76.3 GB, 1.3 B rows" in stop.text and "1 active job(s) will stop" in stop.text
    assert "Stop protection is on" in stop.blocked and "--no-stop-protection" in stop.hint
    delete = await preview(services, "delete polaris clickstream")
    assert "It cannot be undone" in delete and "2 connection(s)" in delete and "protection" not in delete
    drop = await preview(services, "table drop polaris clickstream clicks")
    assert "78.9 GB, 2 B rows, 2,210 segments" in drop and "1 active job(s) write to it" in drop
    assert "streaming" in await preview(services, f"job reset polaris clickstream {STREAM_JOB[:8]}")
    assert "Cancels sql job" in await preview(services, f"job cancel polaris clickstream {ROLLUP_JOB[:8]}")
    assert "*all* its rows" in await preview(services, "job delete-data polaris clickstream bot_traffic --all")
    used = await verdict(services, "connection delete polaris clickstream clickstream-confluent")
    assert "1 job(s) used it" in used.text and "1 still active" in used.text
    assert "so Polaris will refuse to delete it" in used.blocked and "job cancel polaris clickstream" in used.hint
    for op in services.registry.all():
        if op.kind == "polaris" and op.risk is Risk.DESTRUCTIVE:
            assert op.preview is not None, op.name


async def test_a_long_job_list_stays_within_slack_limits(app: Any, services: Services) -> None:
    async with loopback.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://polaris") as http:
        await http.post("/_admin/bulk", json={"projects": 1, "tables_per_project": 2, "jobs_per_project": 300})
    _, rendered = await run(services, "job list polaris bulk-00006 --limit 1000")
    text = text_of(rendered)
    assert len(rendered.blocks) <= 50 and "Jobs in bulk-00006 (300)" in text and "…and 220 more jobs" in text


async def test_previews_say_when_the_change_cannot_happen_or_changes_nothing(services: Services) -> None:
    stopped = await verdict(services, "stop polaris finance-archive")
    assert "finance-archive* is already stopped" in stopped.nothing_to_do and not stopped.blocked
    assert "/projects resume polaris finance-archive" in stopped.hint
    paused = await verdict(services, "pause polaris finance-archive")
    assert "a stopped project can only be resumed" in paused.blocked
    protected = await verdict(services, "delete polaris analytics-prod")
    assert "Deletion protection is on" in protected.blocked and "--no-deletion-protection" in protected.hint
    assert "3 table(s)" in protected.text  # what it holds is still shown
    finished = await verdict(services, f"job cancel polaris clickstream {FAILED_JOB[:8]}")
    assert f"`{FAILED_JOB[:8]}` in clickstream is already failed; there is nothing to cancel" in finished.nothing_to_do
    with pytest.raises(NotFoundError, match="There is no project `nope`"):
        await verdict(services, "pause polaris nope")
    with pytest.raises(NotFoundError):
        await verdict(services, "table drop polaris clickstream nope")


async def test_only_a_streaming_job_is_offered_a_reset(services: Services) -> None:
    sql = await verdict(services, f"job reset polaris clickstream {ROLLUP_JOB[:8]}")
    assert "is a sql job; only streaming jobs have an offset to reset" in sql.blocked
    assert "streaming" not in sql.text
    hint = sql.hint.split("`")[1]
    assert hint == "/projects job list polaris clickstream --type streaming"
    _, listed = await run(services, hint.removeprefix("/projects "))  # the hint is a command that works
    assert "Jobs in clickstream" in text_of(listed)
    stream = await verdict(services, f"job reset polaris clickstream {STREAM_JOB[:8]}")
    assert not stream.stops and stream.text.startswith(f"Resets streaming job `{STREAM_JOB}`")


async def test_a_stopped_projects_deep_storage_is_said_once(services: Services) -> None:
    first = (await verdict(services, "delete polaris finance-archive")).text.splitlines()[0]
    assert first.endswith("storage volume removed · 41.5 GB in deep storage.") and first.count("deep") == 1, first
    first = (await verdict(services, "stop polaris clickstream")).text.splitlines()[0]
    assert first.endswith("(92%) :warning: nearly full, 64 GB in deep storage.") and first.count("deep") == 1, first


def test_the_registry_knows_what_can_be_undone(services: Services) -> None:
    get = services.registry.get
    assert get("project.pause", "polaris").reversible_by == "resume"  # type: ignore[union-attr]
    assert get("project.stop", "polaris").reversible_by == "resume"  # type: ignore[union-attr]
    for name in ("project.delete", "table.drop", "job.delete-data", "job.reset", "job.cancel", "connection.delete"):
        assert get(name, "polaris").reversible_by is None, name  # type: ignore[union-attr]
