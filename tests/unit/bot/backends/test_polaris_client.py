"""PolarisClient against the Polaris emulator served in-process: every endpoint, errors, retries, timeouts."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import loopback
import pytest

from bot.backends.http import RetryPolicy
from bot.backends.polaris import PolarisClient
from bot.errors import BackendError, ConflictError, NotFoundError, Reason, UsageError
from bot.settings import Target
from sandbox.backends.polaris import create_app, job_id, project_id
from sandbox.serving import ServerHandle, serve_in_thread

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, max_retry_after=5)
PROD = project_id("analytics-prod")
CLICK = project_id("clickstream")
IOT = project_id("iot-telemetry")
MARKETING = project_id("marketing-sandbox")
SUPPORT = project_id("support-insights")
FAILED_JOB = job_id("clickstream", "clickstream-backfill-2024-11")
ROLLUP_JOB = job_id("clickstream", "clicks-hourly-rollup")
STREAM_JOB = job_id("clickstream", "clicks-stream")
TRANSITION = 0.15


def target(url: str = "http://polaris", key: str = "test-key", timeout: float = 5.0) -> Target:
    return Target(name="polaris", kind="polaris", url=url, credentials={"api_key": key}, timeout_seconds=timeout,
                  options={"poll_seconds": 0.05, "follow_seconds": 5})


def store_of(app: Any) -> Any:
    """The emulator's in-memory store, below its middleware."""
    while not hasattr(getattr(app, "state", None), "store"):
        app = app.app
    return app.state.store


class Recorder:
    """Keeps every request the client sends (method, path, query, content type, JSON body)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, request: httpx.Request) -> None:
        body = request.content
        self.requests.append({
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query.decode(),
            "content_type": request.headers.get("content-type", ""),
            "json": json.loads(body) if body else None,
            "auth": request.headers.get("authorization", ""),
        })

    def of(self, method: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method]


@pytest.fixture
def app() -> Any:
    return create_app("demo", transition_seconds=TRANSITION)


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(app: Any, recorder: Recorder) -> AsyncIterator[PolarisClient]:
    polaris = PolarisClient(target(), transport=httpx.ASGITransport(app=app), retry=FAST)
    polaris.http.client.event_hooks["request"].append(recorder)
    yield polaris
    await polaris.aclose()


async def faults(app: Any, **spec: Any) -> None:
    async with loopback.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://polaris") as http:
        (await http.post("/_faults", json=spec)).raise_for_status()


# ---------------------------------------------------------------- auth and projects


async def test_ping_counts_projects_and_sends_basic_auth_with_the_key(client: PolarisClient, recorder: Recorder):
    assert await client.ping() == "6 projects"
    assert recorder.requests[0]["auth"] == "Basic " + base64.b64encode(b"test-key:").decode()


async def test_a_rejected_key_is_a_401_saying_what_to_fix() -> None:
    app = create_app("demo", api_keys=["right-key"])
    polaris = PolarisClient(target(key="wrong-key"), transport=httpx.ASGITransport(app=app), retry=FAST)
    with pytest.raises(BackendError) as info:
        await polaris.list_projects()
    assert info.value.status == 401
    assert "rejected our credentials" in info.value.message and "api_key" in info.value.hint
    assert "wrong-key" not in str(info.value)
    await polaris.aclose()


def test_a_target_without_an_api_key_is_a_clear_error() -> None:
    bare = Target(name="polaris", kind="polaris", url="http://polaris")
    with pytest.raises(BackendError, match="no `api_key` credential"):
        PolarisClient(bare)


async def test_list_and_get_projects_parse_spec_and_storage(client: PolarisClient) -> None:
    projects = {p.name: p for p in await client.list_projects()}
    assert len(projects) == 6
    click = projects["clickstream"]
    assert click.uid == CLICK and click.state == "running" and click.spec.plan == "a.01"
    assert click.status.max_bytes == 100_000_000_000 and click.used_fraction == pytest.approx(0.921)
    assert projects["analytics-prod"].spec.deletion_protection is True
    again = await client.get_project(CLICK)
    assert again.metadata.created_on_timestamp is not None and again.status.deep_storage_bytes == 64_000_000_000


async def test_get_a_missing_project_is_not_found(client: PolarisClient) -> None:
    with pytest.raises(NotFoundError, match="was not found") as info:
        await client.get_project("00000000-0000-0000-0000-000000000000")
    assert info.value.status == 404
    assert (info.value.resource, info.value.name) == ("project", "00000000-0000-0000-0000-000000000000")


async def test_resolve_project_by_uid_then_name_and_names_what_exists(client: PolarisClient) -> None:
    assert (await client.resolve_project(CLICK)).name == "clickstream"
    assert (await client.resolve_project("clickstream")).uid == CLICK
    assert (await client.resolve_project("ClickStream")).uid == CLICK
    with pytest.raises(NotFoundError) as info:
        await client.resolve_project("clikstream")
    error = info.value
    assert (error.resource, error.name, error.hint) == ("project", "clikstream", "")
    assert "clickstream" in (error.candidates or [])  # the operations layer words "Did you mean" from these


async def test_create_project_is_accepted_then_settles_running(client: PolarisClient, recorder: Recorder) -> None:
    created = await client.create_project("web-analytics", "starter", "eu-west-1")
    assert created.state == "creating" and created.spec.region == "eu-west-1"
    assert recorder.of("POST")[-1]["json"] == {
        "metadata": {"name": "web-analytics"}, "spec": {"plan": "starter", "region": "eu-west-1"}}
    seen: list[str] = []
    final = await client.wait_for_state(created.uid, until={"running"}, on_change=lambda p: seen.append(p.state))
    assert final.state == "running" and seen == ["creating", "running"]


async def test_a_bad_enum_is_a_400_listing_valid_values(client: PolarisClient) -> None:
    with pytest.raises(BackendError) as info:
        await client.create_project("x", "starter", "mars-north-1")
    error = info.value
    assert error.status == 400 and not isinstance(error, NotFoundError | ConflictError)
    assert "mars-north-1" in error.message and "us-east-1" in error.message and "spec.region" in error.message
    with pytest.raises(BackendError, match="healthStatus") as info:
        await client.list_jobs(CLICK, health_status=["terrible"])
    assert info.value.status == 400


async def test_update_sends_a_merge_patch_with_only_the_fields_asked(client: PolarisClient, recorder: Recorder):
    await client.update_project(IOT, plan="a.08")
    await client.update_project(IOT, stop_protection=True)
    patches = recorder.of("PATCH")
    assert [p["json"] for p in patches] == [{"spec": {"plan": "a.08"}}, {"spec": {"stopProtection": True}}]
    assert {p["content_type"] for p in patches} == {"application/merge-patch+json"}
    project = await client.get_project(IOT)
    assert project.spec.deletion_protection is True and project.spec.stop_protection is True


async def test_update_with_nothing_to_change_sends_nothing(client: PolarisClient, recorder: Recorder) -> None:
    with pytest.raises(UsageError):
        await client.update_project(IOT)
    assert recorder.of("PATCH") == []


async def test_pause_resume_stop_follow_the_state_machine(client: PolarisClient) -> None:
    paused = await client.update_project(CLICK, desired_state="paused")
    assert paused.state == "pausing"
    assert (await client.wait_for_state(CLICK, until={"paused"})).state == "paused"
    await client.update_project(CLICK, desired_state="running")
    assert (await client.wait_for_state(CLICK)).state == "running"  # no `until`: first settled state
    await client.update_project(CLICK, desired_state="stopped")
    assert (await client.wait_for_state(CLICK, until={"stopped"})).state == "stopped"


async def test_wait_for_state_gives_up_at_its_timeout_with_the_last_state(app: Any, client: PolarisClient) -> None:
    store_of(app).config.transition_seconds = 30
    await client.update_project(CLICK, desired_state="paused")
    started = time.monotonic()
    project = await client.wait_for_state(CLICK, until={"paused"}, timeout=0.3, interval=0.05)
    assert project.state == "pausing" and time.monotonic() - started < 1.5


async def test_stopping_a_stop_protected_project_says_how_to_unprotect(client: PolarisClient) -> None:
    with pytest.raises(BackendError) as info:
        await client.update_project(PROD, desired_state="stopped")
    assert info.value.message == "Project analytics-prod has stop protection on, so it can't be stopped."
    assert (info.value.reason, info.value.name) == (Reason.STOP_PROTECTION, "analytics-prod")
    assert "/projects" not in info.value.hint


async def test_deleting_a_protected_project_is_a_409_saying_how_to_unprotect(client: PolarisClient) -> None:
    with pytest.raises(ConflictError) as info:
        await client.delete_project(PROD)
    assert info.value.status == 409
    assert info.value.message == "Project analytics-prod has deletion protection on."
    assert (info.value.reason, info.value.resource, info.value.name) == (
        Reason.DELETION_PROTECTION, "project", "analytics-prod")
    assert "/projects" not in info.value.hint


async def test_delete_is_accepted_and_followed_until_gone(client: PolarisClient, recorder: Recorder) -> None:
    before = await client.get_project(MARKETING)
    await client.delete_project(MARKETING)
    final = await client.wait_for_state(MARKETING, until={"deleted"}, initial=before)
    assert final.state == "deleted"
    assert [p.name for p in await client.list_projects()].count("marketing-sandbox") == 0


# ---------------------------------------------------------------- tables


async def test_tables_list_and_show_size_rows_and_segments(client: PolarisClient) -> None:
    tables = {t.name: t for t in await client.list_tables(CLICK)}
    assert set(tables) == {"clicks", "clicks_hourly", "bot_traffic"}
    clicks = await client.get_table(CLICK, "clicks")
    assert clicks.total_rows == 2_040_118_773 and clicks.segment_count == 2210
    assert clicks.total_data_size_bytes == 78_900_000_000 and clicks.version == 1
    assert [c.name for c in clicks.columns][:2] == ["__time", "page"]
    with pytest.raises(NotFoundError, match="Table nope was not found") as info:
        await client.get_table(CLICK, "nope")
    assert (info.value.resource, info.value.name, info.value.within) == ("table", "nope", CLICK)


async def test_create_detail_and_aggregate_tables(client: PolarisClient) -> None:
    detail = await client.create_table(SUPPORT, "agents", "detail",
                                       [{"name": "__time", "dataType": "timestamp"},
                                        {"name": "agent", "dataType": "string"}], partitioning_granularity="month")
    assert detail.type == "detail" and detail.version == 0 and detail.partitioning_granularity == "month"
    agg = await client.create_table(
        SUPPORT, "tickets_daily", "aggregate",
        [{"type": "dimension", "name": "team", "dataType": "string"},
         {"type": "measure", "name": "tickets", "dataType": "long"}], time_resolution="day")
    assert agg.type == "aggregate" and agg.time_resolution == "day"
    assert [(c.name, c.type) for c in agg.columns] == [("team", "dimension"), ("tickets", "measure")]
    with pytest.raises(ConflictError, match="already exists"):
        await client.create_table(SUPPORT, "agents")
    with pytest.raises(BackendError, match="schema"):
        await client.create_table(SUPPORT, "bad", "detail", [{"name": "x", "dataType": "nonsense"}])


async def test_add_columns_sends_the_current_version(client: PolarisClient, recorder: Recorder) -> None:
    table = await client.add_columns(PROD, "users", [{"name": "email", "dataType": "string"}])
    assert table.version == 2 and table.columns[-1].name == "email"
    put = recorder.of("PUT")[-1]["json"]
    assert put["version"] == 1 and put["name"] == "users" and put["type"] == "detail"
    assert "totalRows" not in put and "id" not in put  # read-only fields are not sent back
    with pytest.raises(UsageError, match="already has column"):
        await client.add_columns(PROD, "users", [{"name": "email", "dataType": "string"}])


async def test_a_stale_version_409_is_handled_by_rereading_and_retrying(app: Any, client: PolarisClient,
                                                                         recorder: Recorder) -> None:
    table = store_of(app).projects[PROD].tables["users"]
    calls: list[int] = []

    def change(body: dict[str, Any]) -> dict[str, Any]:
        calls.append(body["version"])
        if len(calls) == 1:
            table.version += 1  # someone else saved the table between our read and our write
        body["description"] = "who signed up"
        return body

    updated = await client.update_table(PROD, "users", change)
    assert calls == [1, 2] and updated.version == 3 and updated.description == "who signed up"
    assert [r["json"]["version"] for r in recorder.of("PUT")] == [1, 2]


async def test_a_second_409_is_reported_as_a_conflict(app: Any, client: PolarisClient) -> None:
    table = store_of(app).projects[PROD].tables["users"]

    def always_stale(body: dict[str, Any]) -> dict[str, Any]:
        table.version += 1
        return body

    with pytest.raises(ConflictError, match="kept changing"):
        await client.update_table(PROD, "users", always_stale)


# ---------------------------------------------------------------- jobs


async def test_job_filters_are_sent_as_repeated_query_parameters(client: PolarisClient, recorder: Recorder) -> None:
    failed = await client.list_jobs(CLICK, health_status=["error"], execution_status=["failed"], table="clicks")
    assert [j.id for j in failed] == [FAILED_JOB]
    assert failed[0].health.status == "error" and "Access Denied" in failed[0].health.detail
    query = recorder.requests[-1]["query"]
    assert "healthStatus=error" in query and "executionStatus=failed" in query and "targetTableName=clicks" in query
    both = await client.list_jobs(CLICK, health_status=["warn", "error"])
    assert {j.health.status for j in both} == {"warn", "error"} and len(both) == 2
    streaming = await client.list_jobs(CLICK, types=["streaming"])
    assert [j.id for j in streaming] == [STREAM_JOB]


async def test_job_paging_follows_more_results_fetching_pages_concurrently(client: PolarisClient,
                                                                          recorder: Recorder) -> None:
    everything = await client.list_jobs(CLICK)
    assert len(everything) == 4
    recorder.requests.clear()
    paged = await client.list_jobs(CLICK, page_size=1, concurrency=2)
    assert [j.id for j in paged] == [j.id for j in everything]
    offsets = [r["query"].split("paginationOffset=")[1].split("&")[0] for r in recorder.requests]
    assert offsets == ["0", "1", "2", "3", "4"]  # page 0, then two batches of two (the last one past the end)
    recorder.requests.clear()
    assert len(await client.list_jobs(CLICK, limit=2)) == 2
    assert len(recorder.requests) == 1


async def test_job_show_logs_and_metrics(client: PolarisClient) -> None:
    job = await client.get_job(CLICK, FAILED_JOB)
    assert job.type == "batch" and job.execution_status == "failed" and job.table == "clicks"
    assert job.source and job.source["connectionName"] == "clickstream-archive"
    logs = await client.job_logs(CLICK, FAILED_JOB)
    assert logs[0].message.startswith("Job created") and logs[-1].health_status == "error"
    metrics = await client.job_metrics(PROD, job_id("analytics-prod", "sessions-rollup"))
    assert metrics.num_rows_persisted == 12_880_411 and metrics.num_rows_processed_with_warning == 1_204
    with pytest.raises(NotFoundError, match="Job .* was not found"):
        await client.get_job(CLICK, "00000000-0000-0000-0000-000000000000")


async def test_cancel_and_reset_jobs(client: PolarisClient, recorder: Recorder) -> None:
    canceled = await client.cancel_job(CLICK, ROLLUP_JOB)
    assert canceled.execution_status == "canceled" and canceled.desired_execution_status == "canceled"
    assert recorder.of("PUT")[-1]["json"] == {"desiredExecutionStatus": "canceled"}
    with pytest.raises(BackendError, match="already canceled"):
        await client.cancel_job(CLICK, ROLLUP_JOB)
    await client.reset_job(CLICK, STREAM_JOB)
    assert (await client.job_logs(CLICK, STREAM_JOB))[-1].code == "offset_reset"
    with pytest.raises(BackendError, match="Only streaming jobs"):
        await client.reset_job(CLICK, FAILED_JOB)


async def test_create_sql_batch_delete_data_and_drop_table_jobs(client: PolarisClient) -> None:
    sql = await client.create_sql_job(SUPPORT, 'INSERT INTO "tickets" SELECT * FROM TABLE(EXTERN(...))')
    assert sql.type == "sql" and sql.table == "tickets" and sql.execution_status == "pending"
    batch = await client.create_batch_job(SUPPORT, "csat_scores", "zendesk-exports",
                                          ["s3://acme-zendesk-exports/2025-01-15/"])
    assert batch.type == "batch" and batch.source and batch.source["connectionName"] == "zendesk-exports"
    deleted = await client.create_delete_data_job(SUPPORT, "csat_scores", ["2024-01-01/2024-02-01"])
    assert deleted.type == "delete_data" and deleted.target["intervals"] == ["2024-01-01/2024-02-01"]
    with pytest.raises(UsageError):
        await client.create_delete_data_job(SUPPORT, "csat_scores")
    drop = await client.create_drop_table_job(CLICK, "bot_traffic")
    assert drop.type == "drop_table"
    assert (await client.get_table(CLICK, "bot_traffic")).availability == "deleting"
    await asyncio.sleep(TRANSITION * 1.5)
    assert (await client.get_job(CLICK, drop.id)).execution_status == "completed"
    assert "bot_traffic" not in {t.name for t in await client.list_tables(CLICK)}
    with pytest.raises(BackendError, match="does not exist"):
        await client.create_drop_table_job(CLICK, "bot_traffic")


# ---------------------------------------------------------------- connections


async def test_connections_list_show_create_update_test_delete(client: PolarisClient) -> None:
    names = {c.name for c in await client.list_connections(CLICK)}
    assert names == {"clickstream-confluent", "clickstream-archive"}
    archive = await client.get_connection(CLICK, "clickstream-archive")
    assert archive.type == "s3" and archive.properties["bucket"] == "acme-clickstream-archive"
    created = await client.create_connection(CLICK, {"name": "clicks-2025", "type": "s3", "bucket": "acme-clicks"})
    assert created.name == "clicks-2025" and created.properties["bucket"] == "acme-clicks"
    with pytest.raises(ConflictError):
        await client.create_connection(CLICK, {"name": "clicks-2025", "type": "s3", "bucket": "acme-clicks"})
    updated = await client.update_connection(CLICK, "clicks-2025", {"description": "2025 clicks"})
    assert updated.description == "2025 clicks"
    assert (await client.test_connection(CLICK, "clicks-2025")).ok
    failing = await client.test_connection(CLICK, "clickstream-archive")
    assert not failing.ok and "Access denied" in failing.message
    await client.delete_connection(CLICK, "clicks-2025")
    with pytest.raises(NotFoundError, match="Connection clicks-2025 was not found") as info:
        await client.get_connection(CLICK, "clicks-2025")
    assert (info.value.resource, info.value.name, info.value.within) == ("connection", "clicks-2025", CLICK)
    with pytest.raises(NotFoundError):
        await client.delete_connection(CLICK, "clicks-2025")
    with pytest.raises(NotFoundError):
        await client.test_connection(CLICK, "clicks-2025")


# ---------------------------------------------------------------- retries and timeouts


async def test_a_429_storm_with_retry_after_ends_in_success(app: Any, client: PolarisClient,
                                                            recorder: Recorder) -> None:
    await faults(app, status=429, count=3, retry_after=0.05, path="/v1/projects")
    started = time.monotonic()
    assert len(await client.list_projects()) == 6
    assert len(recorder.requests) == 4 and time.monotonic() - started >= 0.15


async def test_a_429_storm_longer_than_the_retries_says_so(app: Any, client: PolarisClient) -> None:
    await faults(app, status=429, count=20, retry_after=0.01)
    with pytest.raises(BackendError) as info:
        await client.list_projects()
    assert info.value.status == 429 and info.value.retryable and "rate limiting" in info.value.hint


async def test_a_503_is_retried_to_success_or_ends_in_a_clear_message(app: Any, client: PolarisClient) -> None:
    await faults(app, status=503, count=1)
    assert await client.ping() == "6 projects"
    await faults(app, status=503, count=10)
    with pytest.raises(BackendError) as info:
        await client.ping()
    assert info.value.status == 503
    assert "Service temporarily unavailable" in info.value.message and "try again" in info.value.hint


@pytest.fixture(scope="module")
def slow_server() -> Iterator[ServerHandle]:
    handle = serve_in_thread(create_app("demo"))
    yield handle
    handle.stop()


async def test_a_timeout_raises_a_clear_error_quickly(slow_server: ServerHandle) -> None:
    polaris = PolarisClient(target(slow_server.url, timeout=0.2),
                            retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
    async with loopback.AsyncClient(base_url=slow_server.url) as http:
        await http.post("/_faults", json={"latency_ms": 600})
        try:
            started = time.monotonic()
            with pytest.raises(BackendError) as info:
                await polaris.list_projects()
            assert time.monotonic() - started < 1.5
            assert "did not answer" in info.value.message and info.value.retryable
        finally:
            await http.delete("/_faults")
            await polaris.aclose()
