"""The Polaris emulator over HTTP: every route, its error statuses, the state machine, admin and faults."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import loopback
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.backends.polaris import create_app, job_id, project_id
from sandbox.serving import serve_in_thread

T = 2.0  # transition seconds used with the fake clock
MERGE = {"Content-Type": "application/merge-patch+json"}
CLICK = project_id("clickstream")
PROD = project_id("analytics-prod")
MARKETING = project_id("marketing-sandbox")
FINANCE = project_id("finance-archive")
ERROR_JOB = job_id("clickstream", "clickstream-backfill-2024-11")
STREAM_JOB = job_id("clickstream", "clicks-stream")


class Clock:
    """A hand-driven clock so state-machine tests don't sleep."""

    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _client(app, **kw) -> httpx.AsyncClient:
    kw.setdefault("auth", ("test-key", ""))
    return loopback.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://polaris", **kw)


@pytest.fixture
async def api(clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(create_app("demo", transition_seconds=T, clock=clock)) as client:
        yield client


def scoped(pid: str, path: str = "") -> str:
    return f"/v1/projects/{pid}{path}"


def assert_error(response: httpx.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"code", "message"}
    for word in words:
        assert word.lower() in body["message"].lower(), body
    return body


# ----- auth


async def test_auth_forms_and_401(clock: Clock) -> None:
    app = create_app("demo", clock=clock)
    async with _client(app, auth=None) as c:
        assert_error(await c.get("/v1/projects"), 401, "authorization")
        b64 = base64.b64encode(b"any-key:").decode()
        assert (await c.get("/v1/projects", headers={"Authorization": f"Basic {b64}"})).status_code == 200
        assert (await c.get("/v1/projects", headers={"Authorization": "Basic raw-key"})).status_code == 200
        assert (await c.get("/v1/projects", headers={"Authorization": "Bearer tok"})).status_code == 200
        assert (await c.get("/v1/projects", headers={"Authorization": "Token x"})).status_code == 401
        assert (await c.get("/_admin/state")).status_code == 200  # control endpoints need no key


async def test_auth_with_configured_keys(clock: Clock) -> None:
    app = create_app("demo", api_keys={"good-key"}, clock=clock)
    async with _client(app, auth=None) as c:
        url = "/v1/projects"
        good = base64.urlsafe_b64encode(b"good-key:").decode()
        assert (await c.get(url, headers={"Authorization": f"Basic {good}"})).status_code == 200
        assert (await c.get(url, headers={"Authorization": "Basic good-key"})).status_code == 200
        assert (await c.get(url, headers={"Authorization": "Bearer good-key"})).status_code == 200
        bad = base64.b64encode(b"bad-key:").decode()
        body = assert_error(await c.get(url, headers={"Authorization": f"Basic {bad}"}), 401, "not valid")
        assert body["code"] == "Unauthorized"


# ----- projects


async def test_list_and_get_projects(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/projects")
    assert response.status_code == 200
    projects = response.json()
    assert isinstance(projects, list)
    names = {p["metadata"]["name"]: p for p in projects}
    assert set(names) == {
        "analytics-prod",
        "clickstream",
        "iot-telemetry",
        "marketing-sandbox",
        "support-insights",
        "finance-archive",
    }
    click = names["clickstream"]
    assert set(click) == {"metadata", "spec", "status"}
    assert set(click["spec"]) == {"plan", "desiredState", "deletionProtection", "stopProtection", "region"}
    assert set(click["status"]) == {"maxBytes", "currentBytes", "deepStorageBytes", "state", "version"}
    assert click["status"]["currentBytes"] / click["status"]["maxBytes"] > 0.9
    assert names["marketing-sandbox"]["status"]["state"] == "paused"
    assert names["finance-archive"]["status"]["state"] == "stopped"
    assert names["finance-archive"]["status"]["currentBytes"] == 0
    assert names["analytics-prod"]["spec"]["deletionProtection"] is True
    assert len({p["spec"]["region"] for p in projects}) == 3
    one = await api.get(scoped(CLICK))
    assert one.status_code == 200 and one.json() == click
    assert_error(await api.get(scoped("no-such-project")), 404, "not found")


async def test_demo_seed_is_deterministic(clock: Clock) -> None:
    bodies = []
    for _ in range(2):
        async with _client(create_app("demo", clock=clock)) as c:
            bodies.append(
                ((await c.get("/v1/projects")).json(), (await c.get(scoped(CLICK, "/jobs"))).json())
            )
    assert bodies[0] == bodies[1]


async def test_create_project_and_it_becomes_running(api: httpx.AsyncClient, clock: Clock) -> None:
    body = {"metadata": {"name": "new one"}, "spec": {"plan": "starter", "region": "eu-west-1"}}
    response = await api.post("/v1/projects", json=body)
    assert response.status_code == 202
    created = response.json()
    assert created["status"]["state"] == "creating"
    assert created["spec"] == {
        "plan": "starter",
        "desiredState": "running",
        "deletionProtection": False,
        "stopProtection": False,
        "region": "eu-west-1",
    }
    assert created["status"]["maxBytes"] == 25_000_000_000
    uid = created["metadata"]["uid"]
    clock.advance(T / 2)
    assert (await api.get(scoped(uid))).json()["status"]["state"] == "creating"
    clock.advance(T / 2)
    assert (await api.get(scoped(uid))).json()["status"]["state"] == "running"


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"spec": {"plan": "starter"}}, "metadata"),
        ({"metadata": {"name": ""}, "spec": {"plan": "starter"}}, "metadata.name"),
        ({"metadata": {"name": "x" * 129}, "spec": {"plan": "starter"}}, "metadata.name"),
        ({"metadata": {"name": "x"}, "spec": {}}, "spec.plan"),
        ({"metadata": {"name": "x"}, "spec": {"plan": "huge"}}, "spec.plan"),
        ({"metadata": {"name": "x"}, "spec": {"plan": "starter", "region": "mars-1"}}, "spec.region"),
        (
            {"metadata": {"name": "x"}, "spec": {"plan": "starter", "desiredState": "asleep"}},
            "spec.desiredState",
        ),
        (
            {"metadata": {"name": "x"}, "spec": {"plan": "starter", "stopProtection": "yes"}},
            "spec.stopProtection",
        ),
    ],
)
async def test_create_project_validation(api: httpx.AsyncClient, body: dict, target: str) -> None:
    error = assert_error(await api.post("/v1/projects", json=body), 400)
    assert error["target"] == target
    assert target.split(".")[-1] in error["message"]


async def test_create_project_needs_json(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/projects", content=b"name=x", headers={"Content-Type": "text/plain"})
    assert_error(response, 400, "application/json")
    response = await api.post("/v1/projects", content=b"{nope", headers={"Content-Type": "application/json"})
    assert_error(response, 400, "not valid json")


async def test_project_limit_per_region(clock: Clock) -> None:
    async with _client(create_app("empty", clock=clock)) as c:
        for i in range(25):
            body = {"metadata": {"name": f"p{i}"}, "spec": {"plan": "starter", "region": "ap-south-1"}}
            assert (await c.post("/v1/projects", json=body)).status_code == 202
        body = {"metadata": {"name": "one too many"}, "spec": {"plan": "starter", "region": "ap-south-1"}}
        error = assert_error(await c.post("/v1/projects", json=body), 400, "25 projects", "ap-south-1")
        assert error["target"] == "spec.region"
        body["spec"]["region"] = "eu-west-1"
        assert (await c.post("/v1/projects", json=body)).status_code == 202


async def test_merge_patch_changes_only_given_fields(api: httpx.AsyncClient, clock: Clock) -> None:
    response = await api.patch(scoped(CLICK), json={"spec": {"deletionProtection": True}}, headers=MERGE)
    assert response.status_code == 202
    assert response.json()["spec"]["deletionProtection"] is True
    response = await api.patch(scoped(CLICK), json={"spec": {"desiredState": "paused"}}, headers=MERGE)
    assert response.status_code == 202
    project = response.json()
    assert project["spec"]["desiredState"] == "paused"
    assert project["spec"]["deletionProtection"] is True  # untouched by a patch that didn't mention it
    assert project["spec"]["stopProtection"] is False
    assert project["spec"]["plan"] == "a.01"
    assert project["metadata"]["name"] == "clickstream"
    assert project["status"]["state"] == "pausing"


async def test_patch_requires_merge_patch_content_type(api: httpx.AsyncClient) -> None:
    response = await api.patch(scoped(CLICK), json={"spec": {"desiredState": "paused"}})
    assert_error(response, 400, "application/merge-patch+json")


async def test_patch_validation(api: httpx.AsyncClient) -> None:
    error = assert_error(
        await api.patch(scoped(CLICK), json={"spec": {"desiredState": "sleeping"}}, headers=MERGE), 400
    )
    assert error["target"] == "spec.desiredState"
    error = assert_error(
        await api.patch(scoped(CLICK), json={"spec": {"region": "eu-west-1"}}, headers=MERGE), 400
    )
    assert error["target"] == "spec.region"
    assert_error(await api.patch(scoped("nope"), json={"spec": {}}, headers=MERGE), 404)


async def test_stop_protection_refuses_pause_and_stop(api: httpx.AsyncClient) -> None:
    for state in ("paused", "stopped"):
        response = await api.patch(scoped(PROD), json={"spec": {"desiredState": state}}, headers=MERGE)
        assert_error(response, 400, "stop protection")
    project = (await api.get(scoped(PROD))).json()
    assert project["status"]["state"] == "running"
    assert project["spec"]["stopProtection"] is True and project["spec"]["deletionProtection"] is True
    # turning protection off in the same patch allows it
    patch = {"spec": {"stopProtection": False, "desiredState": "paused"}}
    response = await api.patch(scoped(PROD), json=patch, headers=MERGE)
    assert response.status_code == 202 and response.json()["status"]["state"] == "pausing"


async def test_state_machine(api: httpx.AsyncClient, clock: Clock) -> None:
    async def state() -> str:
        return (await api.get(scoped(CLICK))).json()["status"]["state"]

    async def patch(desired: str) -> None:
        response = await api.patch(scoped(CLICK), json={"spec": {"desiredState": desired}}, headers=MERGE)
        assert response.status_code == 202, response.text

    await patch("paused")
    assert await state() == "pausing"
    clock.advance(T)
    assert await state() == "paused"
    await patch("running")
    assert await state() == "resuming"
    clock.advance(T)
    assert await state() == "running"
    await patch("stopped")
    assert await state() == "stopping"
    clock.advance(T)
    project = (await api.get(scoped(CLICK))).json()
    assert project["status"]["state"] == "stopped" and project["status"]["currentBytes"] == 0
    assert_error(
        await api.patch(scoped(CLICK), json={"spec": {"desiredState": "paused"}}, headers=MERGE),
        400,
        "stopped",
    )
    await patch("running")
    assert await state() == "resuming"
    clock.advance(T)
    project = (await api.get(scoped(CLICK))).json()
    assert project["status"]["state"] == "running" and project["status"]["currentBytes"] > 0


async def test_plan_change_updates_then_runs(api: httpx.AsyncClient, clock: Clock) -> None:
    response = await api.patch(scoped(CLICK), json={"spec": {"plan": "a.02"}}, headers=MERGE)
    assert response.status_code == 202
    assert response.json()["status"]["state"] == "updating"
    assert response.json()["status"]["maxBytes"] == 200_000_000_000
    clock.advance(T)
    assert (await api.get(scoped(CLICK))).json()["status"]["state"] == "running"


async def test_delete_project(api: httpx.AsyncClient, clock: Clock) -> None:
    assert_error(await api.delete(scoped(PROD)), 409, "deletion protection")
    assert (await api.get(scoped(PROD))).json()["status"]["state"] == "running"
    response = await api.delete(scoped(CLICK))
    assert response.status_code == 202
    assert (await api.get(scoped(CLICK))).json()["status"]["state"] == "deleting"
    clock.advance(T)
    assert_error(await api.get(scoped(CLICK)), 404)
    assert_error(await api.get(scoped(CLICK, "/tables")), 404)
    assert CLICK not in {p["metadata"]["uid"] for p in (await api.get("/v1/projects")).json()}
    assert_error(await api.delete(scoped(CLICK)), 404)


async def test_cannot_delete_last_project(clock: Clock) -> None:
    async with _client(create_app("empty", clock=clock)) as c:
        assert (await c.get("/v1/projects")).json() == []
        body = {"metadata": {"name": "only"}, "spec": {"plan": "starter"}}
        uid = (await c.post("/v1/projects", json=body)).json()["metadata"]["uid"]
        assert_error(await c.delete(scoped(uid)), 409, "last project")


async def test_transition_time_is_configurable(api: httpx.AsyncClient, clock: Clock) -> None:
    response = await api.post("/_admin/config", json={"transition_seconds": 0.2})
    assert response.json() == {"transition_seconds": 0.2}
    await api.patch(scoped(CLICK), json={"spec": {"desiredState": "paused"}}, headers=MERGE)
    clock.advance(0.2)
    assert (await api.get(scoped(CLICK))).json()["status"]["state"] == "paused"
    assert (await api.get("/_admin/config")).json() == {"transition_seconds": 0.2}
    assert_error(await api.post("/_admin/config", json={"transition_seconds": -1}), 400)
    await api.post("/_admin/reset", json={"seed": "demo"})
    assert (await api.get("/_admin/config")).json() == {"transition_seconds": T}  # the app's own default again


# ----- tables


async def test_list_and_get_tables(api: httpx.AsyncClient) -> None:
    tables = (await api.get(scoped(CLICK, "/tables"))).json()["values"]
    assert {t["name"] for t in tables} == {"clicks", "clicks_hourly", "bot_traffic"}
    for table in tables:
        for key in (
            "id",
            "type",
            "version",
            "availability",
            "totalDataSizeBytes",
            "segmentCount",
            "totalRows",
        ):
            assert key in table
    detail = (await api.get(scoped(CLICK, "/tables/clicks_hourly"))).json()
    assert detail["type"] == "aggregate" and detail["timeResolution"] == "hour"
    assert {c["type"] for c in detail["schema"]} == {"dimension", "measure"}
    for key in ("segmentTotalBytes", "segmentCompactedBytes", "precachedDataSizeBytes", "queryableSchema"):
        assert key in detail
    assert detail["availability"] == "available"
    paused = (await api.get(scoped(MARKETING, "/tables/campaigns"))).json()
    assert paused["availability"] == "unavailable"
    assert_error(await api.get(scoped(CLICK, "/tables/nope")), 404, "nope")
    filtered = await api.get(
        scoped(CLICK, "/tables"), params={"partitioningGranularity": "day", "segmentCount": 60}
    )
    assert [t["name"] for t in filtered.json()["values"]] == ["bot_traffic"]
    assert_error(
        await api.get(scoped(CLICK, "/tables"), params={"partitioningGranularity": "fortnight"}), 400
    )


async def test_create_tables(api: httpx.AsyncClient) -> None:
    detail = {
        "name": "orders",
        "type": "detail",
        "schema": [{"name": "__time", "dataType": "timestamp"}, {"name": "sku", "dataType": "string"}],
        "clusteringColumns": ["sku"],
    }
    response = await api.post(scoped(CLICK, "/tables"), json=detail)
    assert response.status_code == 201
    assert response.headers["location"].endswith(f"/v1/projects/{CLICK}/tables/orders")
    table = response.json()
    assert table["version"] == 0 and table["totalRows"] == 0 and table["partitioningGranularity"] == "day"
    aggregate = {
        "name": "orders_daily",
        "type": "aggregate",
        "timeResolution": "day",
        "schema": [
            {"type": "dimension", "name": "sku", "dataType": "string"},
            {"type": "measure", "name": "count", "dataType": "long"},
        ],
    }
    response = await api.post(scoped(CLICK, "/tables"), json=aggregate)
    assert response.status_code == 201 and response.json()["timeResolution"] == "day"
    assert_error(await api.post(scoped(CLICK, "/tables"), json=detail), 409, "already exists")
    assert "orders" in {t["name"] for t in (await api.get(scoped(CLICK, "/tables"))).json()["values"]}


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"type": "detail"}, "name"),
        ({"name": "t", "type": "table"}, "type"),
        ({"name": "t", "type": "detail", "version": 4}, "version"),
        ({"name": "t", "type": "detail", "partitioningGranularity": "week"}, "partitioningGranularity"),
        (
            {"name": "t", "type": "detail", "schema": [{"name": "a", "dataType": "blob"}]},
            "schema[0].dataType",
        ),
        (
            {"name": "t", "type": "detail", "schema": [{"name": "__time", "dataType": "string"}]},
            "schema[0].dataType",
        ),
        ({"name": "t", "type": "aggregate", "schema": [{"name": "a", "dataType": "long"}]}, "schema[0].type"),
        (
            {
                "name": "t",
                "type": "detail",
                "clusteringColumns": ["x"],
                "schema": [{"name": "a", "dataType": "long"}],
            },
            "clusteringColumns",
        ),
        ({"name": "a/b", "type": "detail"}, "name"),
        ({"name": "x" * 256, "type": "detail"}, "name"),
    ],
)
async def test_create_table_validation(api: httpx.AsyncClient, body: dict, target: str) -> None:
    assert assert_error(await api.post(scoped(CLICK, "/tables"), json=body), 400)["target"] == target


async def test_table_endpoints_check_content_type(api: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "text/plain"}
    assert_error(
        await api.post(scoped(CLICK, "/tables"), content=b"{}", headers=headers), 415, "application/json"
    )
    assert_error(await api.put(scoped(CLICK, "/tables/clicks"), content=b"{}", headers=headers), 415)


async def test_update_table_with_version(api: httpx.AsyncClient) -> None:
    url = scoped(CLICK, "/tables/clicks")
    table = (await api.get(url)).json()
    version = table["version"]
    update = {"name": "clicks", "type": "detail", "version": version, "description": "All clicks"}
    response = await api.put(url, json=update)
    assert response.status_code == 200
    assert response.json()["version"] == version + 1 and response.json()["description"] == "All clicks"
    assert response.json()["totalRows"] == table["totalRows"]
    stale = assert_error(await api.put(url, json=update), 409, f"version {version + 1}")
    assert stale["code"] == "Conflict"
    assert_error(await api.put(url, json={"name": "clicks", "type": "detail"}), 400, "version")
    assert_error(await api.put(url, json={**update, "version": version + 1, "name": "other"}), 400, "name")
    assert_error(
        await api.put(url, json={**update, "version": version + 1, "type": "aggregate"}), 400, "type"
    )
    # a non-empty table can gain columns but not lose them
    schema = table["schema"] + [{"name": "browser", "dataType": "string"}]
    response = await api.put(url, json={**update, "version": version + 1, "schema": schema})
    assert response.status_code == 200 and response.json()["version"] == version + 2
    error = assert_error(
        await api.put(url, json={**update, "version": version + 2, "schema": schema[:2]}), 400
    )
    assert "empty" in error["message"]
    assert_error(await api.put(scoped(CLICK, "/tables/nope"), json=update), 404)


# ----- jobs


async def test_list_jobs_shape_and_paging(api: httpx.AsyncClient) -> None:
    response = await api.get(scoped(CLICK, "/jobs"))
    assert response.status_code == 200
    page = response.json()
    assert set(page) == {"values", "moreResultsAvailable"} and page["moreResultsAvailable"] is False
    jobs = page["values"]
    assert len(jobs) == 4
    for job in jobs:
        for key in (
            "id",
            "type",
            "target",
            "executionStatus",
            "desiredExecutionStatus",
            "health",
            "createdBy",
        ):
            assert key in job
        assert job["target"]["type"] == "table" and job["target"]["tableName"]
    stamps = [j["lastUpdatedTimestamp"] for j in jobs]
    assert stamps == sorted(stamps, reverse=True)
    first = (await api.get(scoped(CLICK, "/jobs"), params={"paginationLimit": 3})).json()
    assert len(first["values"]) == 3 and first["moreResultsAvailable"] is True
    rest = (
        await api.get(scoped(CLICK, "/jobs"), params={"paginationLimit": 3, "paginationOffset": 3})
    ).json()
    assert len(rest["values"]) == 1 and rest["moreResultsAvailable"] is False
    assert [j["id"] for j in first["values"] + rest["values"]] == [j["id"] for j in jobs]
    asc = await api.get(
        scoped(CLICK, "/jobs"), params={"sortColumn": "created_date_time", "sortOrder": "ASC"}
    )
    created = [j["createdTimestamp"] for j in asc.json()["values"]]
    assert created == sorted(created)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("executionStatus", "running")], {"clicks-stream", "clicks-hourly-rollup"}),
        ([("executionStatus[]", "running")], {"clicks-stream", "clicks-hourly-rollup"}),
        (
            [("executionStatus", "failed"), ("executionStatus", "completed")],
            {"clickstream-backfill-2024-11", "bot-traffic-purge-jan"},
        ),
        (
            [("healthStatus", "warn"), ("healthStatus", "error")],
            {"clicks-stream", "clickstream-backfill-2024-11"},
        ),
        ([("healthStatus", "error")], {"clickstream-backfill-2024-11"}),
        ([("type", "streaming"), ("healthStatus", "warn")], {"clicks-stream"}),
        ([("type", "batch"), ("healthStatus", "warn")], set()),
        ([("type[]", "sql"), ("type[]", "delete_data")], {"clicks-hourly-rollup", "bot-traffic-purge-jan"}),
        ([("targetTableName", "clicks")], {"clicks-stream", "clickstream-backfill-2024-11"}),
        ([("searchString", "ARCHIVE")], {"clickstream-backfill-2024-11"}),
        ([("connectionName", "clickstream-confluent")], {"clicks-stream"}),
    ],
)
async def test_job_filters(api: httpx.AsyncClient, params: list, expected: set[str]) -> None:
    response = await api.get(scoped(CLICK, "/jobs"), params=params)
    assert response.status_code == 200, response.text
    ids = {j["id"] for j in response.json()["values"]}
    assert ids == {job_id("clickstream", label) for label in expected}


@pytest.mark.parametrize(
    "params",
    [
        {"paginationLimit": 0},
        {"paginationLimit": 1001},
        {"paginationLimit": "ten"},
        {"paginationOffset": -1},
        {"executionStatus": "sleeping"},
        {"healthStatus": "warning"},
        {"type": "magic"},
        {"sortColumn": "name"},
        {"sortOrder": "sideways"},
    ],
)
async def test_job_list_validation(api: httpx.AsyncClient, params: dict) -> None:
    error = assert_error(await api.get(scoped(CLICK, "/jobs"), params=params), 400)
    assert error["target"] == next(iter(params))


async def test_job_details_logs_metrics(api: httpx.AsyncClient) -> None:
    job = (await api.get(scoped(CLICK, f"/jobs/{ERROR_JOB}"))).json()
    assert job["executionStatus"] == "failed" and job["health"]["status"] == "error"
    assert (
        job["health"]["code"] == "could_not_connect_to_source" and "Access Denied" in job["health"]["message"]
    )
    assert job["source"]["connectionName"] == "clickstream-archive" and job["spec"]["type"] == "batch"
    for key in (
        "createdTimestamp",
        "lastUpdatedTimestamp",
        "startedTimestamp",
        "completedTimestamp",
        "lastModifiedBy",
    ):
        assert key in job
    logs = (await api.get(scoped(CLICK, f"/jobs/{ERROR_JOB}/logs"))).json()["logs"]
    assert logs and all({"timestamp", "healthStatus", "message"} <= set(e) for e in logs)
    assert logs[-1]["healthStatus"] == "error"
    totals = (await api.get(scoped(CLICK, f"/jobs/{STREAM_JOB}/metrics"))).json()["totals"]
    assert totals["numRowsProcessed"] > 0 and "numRowsSkippedByError" in totals
    progress = await api.get(scoped(CLICK, f"/jobs/{job_id('clickstream', 'clicks-hourly-rollup')}/progress"))
    assert progress.json() == {"overallProgress": 0.45}
    assert_error(await api.get(scoped(CLICK, f"/jobs/{STREAM_JOB}/progress")), 400, "streaming")
    assert (await api.get(scoped(CLICK, f"/jobs/{STREAM_JOB}/status"))).json() == {
        "executionStatus": "running"
    }
    for suffix in ("", "/logs", "/metrics", "/progress", "/status"):
        assert_error(await api.get(scoped(CLICK, f"/jobs/00000000-0000-0000-0000-000000000000{suffix}")), 404)


async def test_batch_job_runs_and_loads_rows(api: httpx.AsyncClient, clock: Clock) -> None:
    before = (await api.get(scoped(CLICK, "/tables/bot_traffic"))).json()
    project_before = (await api.get(scoped(CLICK))).json()["status"]["currentBytes"]
    body = {
        "type": "batch",
        "source": {"type": "s3", "connectionName": "clickstream-archive", "prefixes": ["s3://x/"]},
        "target": {"type": "table", "tableName": "bot_traffic"},
        "mappings": [{"columnName": "__time", "expression": 'TIME_PARSE("ts")'}],
    }
    response = await api.post(scoped(CLICK, "/jobs"), json=body)
    assert response.status_code == 201
    job = response.json()
    assert job["executionStatus"] == "pending" and job["desiredExecutionStatus"] == "running"
    assert response.headers["location"].endswith(f"/jobs/{job['id']}")
    url = scoped(CLICK, f"/jobs/{job['id']}")
    clock.advance(T * 0.75)
    assert (await api.get(url)).json()["executionStatus"] == "running"
    assert 0 < (await api.get(url + "/progress")).json()["overallProgress"] < 1
    clock.advance(T)
    done = (await api.get(url)).json()
    assert done["executionStatus"] == "completed" and "completedTimestamp" in done
    after = (await api.get(scoped(CLICK, "/tables/bot_traffic"))).json()
    assert after["totalRows"] > before["totalRows"]
    assert (await api.get(scoped(CLICK))).json()["status"]["currentBytes"] > project_before
    assert (await api.get(url + "/metrics")).json()["totals"]["numRowsPersisted"] > 0
    assert [e["code"] for e in (await api.get(url + "/logs")).json()["logs"]] == [
        "job_created",
        "job_running",
        "job_completed",
    ]


async def test_sql_job_parses_its_target(api: httpx.AsyncClient, clock: Clock) -> None:
    body = {"type": "sql", "query": 'INSERT INTO "clicks_hourly" SELECT * FROM "clicks" PARTITIONED BY DAY'}
    job = (await api.post(scoped(CLICK, "/jobs"), json=body)).json()
    assert job["target"] == {"type": "table", "tableName": "clicks_hourly"} and job["query"] == body["query"]
    assert_error(
        await api.post(scoped(CLICK, "/jobs"), json={"type": "sql", "query": "SELECT 1"}), 400, "INSERT"
    )
    body = {
        "type": "sql",
        "query": "REPLACE INTO brand_new OVERWRITE ALL SELECT 1",
        "createTableIfNotExists": True,
    }
    assert (await api.post(scoped(CLICK, "/jobs"), json=body)).status_code == 201
    assert (await api.get(scoped(CLICK, "/tables/brand_new"))).status_code == 200


async def test_delete_data_and_drop_table_jobs(api: httpx.AsyncClient, clock: Clock) -> None:
    target = {"type": "table", "tableName": "bot_traffic"}
    job = (await api.post(scoped(CLICK, "/jobs"), json={"type": "delete_data", "target": target})).json()
    clock.advance(T)
    assert (await api.get(scoped(CLICK, f"/jobs/{job['id']}"))).json()["executionStatus"] == "completed"
    table = (await api.get(scoped(CLICK, "/tables/bot_traffic"))).json()
    assert table["totalRows"] == 0 and table["totalDataSizeBytes"] == 0 and table["segmentCount"] == 0
    drop = (await api.post(scoped(CLICK, "/jobs"), json={"type": "drop_table", "target": target})).json()
    assert (await api.get(scoped(CLICK, "/tables/bot_traffic"))).json()["availability"] == "deleting"
    assert_error(
        await api.post(scoped(CLICK, "/jobs"), json={"type": "drop_table", "target": target}),
        400,
        "being dropped",
    )
    clock.advance(T)
    assert (await api.get(scoped(CLICK, f"/jobs/{drop['id']}"))).json()["executionStatus"] == "completed"
    assert_error(await api.get(scoped(CLICK, "/tables/bot_traffic")), 404)
    # a table fed by a running streaming job can't be dropped
    target = {"type": "table", "tableName": "clicks"}
    assert_error(
        await api.post(scoped(CLICK, "/jobs"), json={"type": "drop_table", "target": target}), 400, "stream"
    )


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"type": "batch", "target": {"type": "table", "tableName": "clicks"}}, ["source"]),
        ({"type": "magic"}, ["type"]),
        (
            {"type": "drop_table", "target": {"type": "table", "tableName": "ghost"}},
            ["ghost", "does not exist"],
        ),
        (
            {
                "type": "batch",
                "source": {"type": "connection", "connectionName": "ghost"},
                "target": {"type": "table", "tableName": "clicks"},
            },
            ["ghost"],
        ),
        (
            {
                "type": "batch",
                "source": {"type": "uploaded", "fileList": ["a.json"]},
                "target": {"type": "table", "tableName": "ghost"},
            },
            ["createTableIfNotExists"],
        ),
        (
            {
                "type": "streaming",
                "source": {"type": "connection", "connectionName": "clickstream-archive"},
                "target": {"type": "table", "tableName": "clicks"},
            },
            ["streaming jobs need"],
        ),
        ({"type": "restore_data", "target": {"type": "table", "tableName": "clicks"}}, ["interval"]),
    ],
)
async def test_create_job_validation(api: httpx.AsyncClient, body: dict, words: list[str]) -> None:
    assert_error(await api.post(scoped(CLICK, "/jobs"), json=body), 400, *words)


async def test_create_job_content_type_and_paused_project(api: httpx.AsyncClient) -> None:
    assert_error(
        await api.post(scoped(CLICK, "/jobs"), content=b"{}", headers={"Content-Type": "text/csv"}),
        415,
        "json",
    )
    body = {"type": "delete_data", "target": {"type": "table", "tableName": "campaigns"}}
    assert_error(await api.post(scoped(MARKETING, "/jobs"), json=body), 400, "paused")


async def test_cancel_suspend_and_resume(api: httpx.AsyncClient) -> None:
    running = job_id("clickstream", "clicks-hourly-rollup")
    response = await api.put(scoped(CLICK, f"/jobs/{running}"), json={"desiredExecutionStatus": "canceled"})
    assert response.status_code == 200
    job = response.json()
    assert job["executionStatus"] == "canceled" and job["desiredExecutionStatus"] == "canceled"
    assert "completedTimestamp" in job
    assert_error(
        await api.put(scoped(CLICK, f"/jobs/{running}"), json={"desiredExecutionStatus": "canceled"}),
        400,
        "already",
    )
    assert_error(
        await api.put(scoped(CLICK, f"/jobs/{running}"), json={"desiredExecutionStatus": "paused"}), 400
    )
    purge = job_id("clickstream", "bot-traffic-purge-jan")
    assert_error(
        await api.put(scoped(CLICK, f"/jobs/{purge}"), json={"desiredExecutionStatus": "canceled"}),
        400,
        "deletion",
    )
    status_url = scoped(CLICK, f"/jobs/{STREAM_JOB}/status")
    response = await api.post(status_url, json={"desiredExecutionStatus": "suspended"})
    assert response.json() == {"executionStatus": "suspended"}
    response = await api.post(status_url, json={"desiredExecutionStatus": "running"})
    assert response.json() == {"executionStatus": "running"}
    assert_error(await api.post(status_url, content=b"{}", headers={"Content-Type": "text/plain"}), 415)
    assert_error(
        await api.put(
            scoped(CLICK, f"/jobs/{STREAM_JOB}"), content=b"{}", headers={"Content-Type": "text/plain"}
        ),
        415,
    )
    assert_error(await api.put(scoped(CLICK, "/jobs/nope"), json={"desiredExecutionStatus": "canceled"}), 404)


async def test_reset_streaming_job(api: httpx.AsyncClient) -> None:
    response = await api.post(scoped(CLICK, f"/jobs/{STREAM_JOB}/reset"))
    assert response.status_code == 200
    logs = (await api.get(scoped(CLICK, f"/jobs/{STREAM_JOB}/logs"))).json()["logs"]
    assert logs[-1]["code"] == "offset_reset"
    assert_error(await api.post(scoped(CLICK, f"/jobs/{ERROR_JOB}/reset")), 400, "streaming")
    assert_error(await api.post(scoped(CLICK, "/jobs/nope/reset")), 404)


async def test_new_streaming_job_keeps_running(api: httpx.AsyncClient, clock: Clock) -> None:
    body = {
        "type": "streaming",
        "source": {"type": "connection", "connectionName": "clickstream-confluent"},
        "target": {"type": "table", "tableName": "fresh_stream"},
        "createTableIfNotExists": True,
        "readFromPoint": "earliest",
    }
    job = (await api.post(scoped(CLICK, "/jobs"), json=body)).json()
    clock.advance(T * 10)
    assert (await api.get(scoped(CLICK, f"/jobs/{job['id']}"))).json()["executionStatus"] == "running"


# ----- connections


async def test_connections(api: httpx.AsyncClient) -> None:
    values = (await api.get(scoped(CLICK, "/connections"))).json()["values"]
    assert {c["name"] for c in values} == {"clickstream-confluent", "clickstream-archive"}
    body = {
        "name": "orders.kafka_v2",
        "type": "kafka",
        "bootstrapServers": "b1:9092",
        "topicName": "orders",
        "secrets": {
            "type": "sasl_scram",
            "mechanism": "SCRAM-SHA-512",
            "username": "u",
            "password": "hunter2",
        },
    }
    response = await api.post(scoped(CLICK, "/connections"), json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secrets"] == {"type": "sasl_scram"} and "hunter2" not in response.text
    for key in ("submittedByUser", "submittedOnTimestamp", "modifiedByUser", "modifiedOnTimestamp"):
        assert key in created
    assert response.headers["location"].endswith("/connections/orders.kafka_v2")
    assert_error(await api.post(scoped(CLICK, "/connections"), json=body), 409, "already exists")
    url = scoped(CLICK, "/connections/orders.kafka_v2")
    assert (await api.get(url)).json()["topicName"] == "orders"
    patched = await api.patch(url, json={"type": "kafka", "topicName": "orders-v2", "description": "Orders"})
    assert patched.status_code == 200
    assert patched.json()["topicName"] == "orders-v2" and patched.json()["bootstrapServers"] == "b1:9092"
    assert_error(await api.patch(url, json={"type": "s3"}), 400, "type")
    assert (await api.post(url + "/test")).status_code == 200
    assert (await api.delete(url)).status_code == 200
    assert_error(await api.get(url), 404)
    assert_error(await api.delete(url), 404)
    assert_error(await api.patch(url, json={"type": "kafka"}), 404)
    assert_error(await api.post(url + "/test"), 404)


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"name": "has space", "type": "s3", "bucket": "b"}, "name"),
        ({"name": "x" * 65, "type": "s3", "bucket": "b"}, "name"),
        ({"name": "ok", "type": "ftp"}, "type"),
        ({"name": "ok", "type": "s3"}, "bucket"),
        ({"name": "ok", "type": "kafka", "bootstrapServers": "b:1", "topicName": "t"}, "secrets"),
        (
            {
                "name": "ok",
                "type": "confluent",
                "bootstrapServers": "b:1",
                "topicName": "t",
                "secrets": {"type": "x"},
            },
            "secrets.type",
        ),
    ],
)
async def test_connection_validation(api: httpx.AsyncClient, body: dict, target: str) -> None:
    assert assert_error(await api.post(scoped(CLICK, "/connections"), json=body), 400)["target"] == target


async def test_connection_test_failure_in_use_and_meta(api: httpx.AsyncClient) -> None:
    assert_error(await api.post(scoped(CLICK, "/connections/clickstream-archive/test")), 400, "access denied")
    assert_error(await api.delete(scoped(CLICK, "/connections/clickstream-confluent")), 400, "active job")
    response = await api.post(
        scoped(CLICK, "/connections"), content=b"{}", headers={"Content-Type": "application/xml"}
    )
    assert_error(response, 415)
    meta = (await api.get(scoped(CLICK, "/connectionsMeta"))).json()
    assert set(meta) == {"externalId", "implyArn"}


# ----- admin


async def test_admin_reset_and_state(api: httpx.AsyncClient) -> None:
    assert (await api.post("/_admin/reset", json={"seed": "empty"})).json()["projects"] == 0
    assert (await api.get("/v1/projects")).json() == []
    assert (await api.post("/_admin/reset", json={"seed": "demo"})).json() == {"seed": "demo", "projects": 6}
    state = (await api.get("/_admin/state")).json()
    assert state["seed"] == "demo" and len(state["projects"]) == 6
    assert_error(await api.post("/_admin/reset", json={"seed": "huge"}), 400)


async def test_admin_flips_job_and_storage(api: httpx.AsyncClient) -> None:
    url = f"/_admin/projects/{CLICK}/jobs/{STREAM_JOB}"
    response = await api.patch(
        url, json={"executionStatus": "failed", "health": "error", "message": "Broker gone"}
    )
    assert response.status_code == 200
    job = (await api.get(scoped(CLICK, f"/jobs/{STREAM_JOB}"))).json()
    assert job["executionStatus"] == "failed" and job["health"]["status"] == "error"
    assert job["health"]["message"] == "Broker gone"
    errors = (await api.get(scoped(CLICK, "/jobs"), params={"healthStatus": "error"})).json()["values"]
    assert STREAM_JOB in {j["id"] for j in errors}
    response = await api.patch("/_admin/projects/support-insights", json={"currentBytes": 24_000_000_000})
    assert response.json()["status"]["currentBytes"] == 24_000_000_000
    assert_error(await api.patch("/_admin/projects/nope", json={}), 404)
    assert_error(await api.patch(f"/_admin/projects/{CLICK}/jobs/{STREAM_JOB}", json={"health": "bad"}), 400)
    response = await api.patch(
        f"/_admin/projects/{CLICK}/connections/clickstream-archive", json={"testError": None}
    )
    assert response.status_code == 200
    assert (await api.post(scoped(CLICK, "/connections/clickstream-archive/test"))).status_code == 200


async def test_admin_bulk_ignores_region_limit(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/_admin/bulk", json={"projects": 300, "tables_per_project": 2, "jobs_per_project": 4}
    )
    assert response.json()["added"] == 300
    projects = (await api.get("/v1/projects")).json()
    assert len(projects) == 306
    bulk = next(p for p in projects if p["metadata"]["name"].startswith("bulk-"))
    assert len((await api.get(scoped(bulk["metadata"]["uid"], "/tables"))).json()["values"]) == 2
    assert len((await api.get(scoped(bulk["metadata"]["uid"], "/jobs"))).json()["values"]) == 4


async def test_unknown_route_and_method(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/v2/jobs"), 404)
    assert_error(await api.put("/v1/projects"), 405)


# ----- mounted under a prefix, real HTTP, faults


@pytest.fixture(scope="module")
def mounted():
    root = Starlette(routes=[Mount("/polaris", app=create_app("demo", transition_seconds=0.05))])
    handle = serve_in_thread(root)
    yield handle.url + "/polaris"
    handle.stop()


async def test_mounted_and_faults(mounted: str) -> None:
    async with loopback.AsyncClient(base_url=mounted, auth=("k", "")) as c:
        assert (await c.get("/v1/projects")).status_code == 200
        created = await c.post(scoped(CLICK, "/tables"), json={"name": "mounted_t", "type": "detail"})
        assert created.headers["location"] == f"/polaris/v1/projects/{CLICK}/tables/mounted_t"
        await c.post("/_faults", json={"status": 429, "count": 2, "retry_after": 1})
        for _ in range(2):
            limited = await c.get("/v1/projects")
            assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
            assert limited.json()["code"] == "TooManyRequests"
        assert (await c.get("/v1/projects")).status_code == 200
        await c.post("/_faults", json={"status": 503, "count": 1, "path": f"/v1/projects/{CLICK}/jobs"})
        assert (await c.get(scoped(CLICK, "/tables"))).status_code == 200
        unavailable = await c.get(scoped(CLICK, "/jobs"))
        assert unavailable.status_code == 503 and unavailable.json()["code"] == "ServiceUnavailable"
        await c.post("/_faults", json={"status": 503, "count": -1})
        assert (await c.get("/v1/projects")).status_code == 503
        assert (await c.get("/_admin/state")).status_code == 200  # control paths are never faulted
        assert (await c.delete("/_faults")).json() == {"latency_ms": 0.0, "faults": []}
        assert (await c.get("/v1/projects")).status_code == 200
        await c.post("/_admin/reset", json={"seed": "demo"})


async def test_admin_pins_job_status_with_table_effects(api: httpx.AsyncClient) -> None:
    target = {"type": "table", "tableName": "bot_traffic"}
    drop = (await api.post(scoped(CLICK, "/jobs"), json={"type": "drop_table", "target": target})).json()
    response = await api.patch(
        f"/_admin/projects/clickstream/jobs/{drop['id']}", json={"executionStatus": "failed"}
    )
    assert response.json()["executionStatus"] == "failed"
    assert (await api.get(scoped(CLICK, "/tables/bot_traffic"))).json()["availability"] == "available"
    body = {"type": "delete_data", "target": target}
    purge = (await api.post(scoped(CLICK, "/jobs"), json=body)).json()
    await api.patch(f"/_admin/projects/clickstream/jobs/{purge['id']}", json={"executionStatus": "completed"})
    assert (await api.get(scoped(CLICK, "/tables/bot_traffic"))).json()["totalRows"] == 0
