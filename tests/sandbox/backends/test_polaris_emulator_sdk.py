"""Conformance: the official `polaris-sdk` reads and writes the emulator and gets parsed model objects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import loopback
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.backends.polaris import create_app, job_id, project_id
from sandbox.serving import serve_in_thread

# The SDK takes about half a second to import: the tests import it where they use it, so that only the
# pytest-xdist worker that runs this file pays for it, not every worker that collects the suite.
if TYPE_CHECKING:
    from polaris.sdk.client import ProjectClient, RegionalClient

CLICK = project_id("clickstream")
STEP = 0.05  # transition seconds


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = create_app("demo", transition_seconds=STEP, api_keys={"sdk-key"})
    handle = serve_in_thread(Starlette(routes=[Mount("/polaris", app=app)]))
    yield handle.url + "/polaris"
    handle.stop()


@pytest.fixture(autouse=True)
def fresh_seed(base_url: str) -> None:
    loopback.post(f"{base_url}/_admin/reset", json={"seed": "demo"}).raise_for_status()


@pytest.fixture
def regional(base_url: str) -> RegionalClient:
    from polaris.sdk.client import RegionalClient

    return RegionalClient.from_endpoint(base_url, "sdk-key", retry_total=0)


@pytest.fixture
def click(base_url: str) -> ProjectClient:
    from polaris.sdk.client import ProjectClient

    return ProjectClient.from_endpoint(CLICK, base_url, "sdk-key", retry_total=0)


def test_projects_list_get_and_errors(regional: RegionalClient, base_url: str) -> None:
    from polaris.sdk.client import RegionalClient
    from polaris.sdk.regional_api import models as rm

    projects = regional.projects.list()
    assert len(projects) == 6 and all(isinstance(p, rm.Project) for p in projects)
    click = regional.projects.get(CLICK)
    assert isinstance(click, rm.Project)
    assert click.metadata.name == "clickstream" and click.spec.region == "us-east-1"
    assert click.status.current_bytes / click.status.max_bytes > 0.9
    assert click.metadata.created_on_timestamp.year == 2024
    missing = regional.projects.get("no-such-project")
    assert isinstance(missing, rm.ErrorResponse) and missing.code == "NotFound"
    denied = RegionalClient.from_endpoint(base_url, "wrong-key", retry_total=0).projects.list()
    assert isinstance(denied, rm.ErrorResponse) and denied.code == "Unauthorized"


def test_projects_create_update_delete(regional: RegionalClient) -> None:
    from polaris.sdk.regional_api import models as rm

    body = rm.Project(
        metadata=rm.ObjectMeta(name="sdk-made"), spec=rm.ProjectSpec(plan="starter", region="eu-west-1")
    )
    created = regional.projects.create_project(body)
    assert isinstance(created, rm.Project) and created.status.state == "creating"
    uid = created.metadata.uid
    time.sleep(STEP * 2)
    assert regional.projects.get(uid).status.state == "running"
    # the SDK serializes its False defaults, so this update also sends both protection flags
    update = rm.Project(metadata=rm.ObjectMeta(name="sdk-made"), spec=rm.ProjectSpec(desired_state="paused"))
    updated = regional.projects.update(uid, update)
    assert isinstance(updated, rm.Project) and updated.status.state == "pausing"
    bad = regional.projects.update(
        uid, rm.Project(metadata=rm.ObjectMeta(name="x"), spec=rm.ProjectSpec(plan="zz"))
    )
    assert isinstance(bad, rm.ErrorResponse) and bad.target == "spec.plan"
    protected = regional.projects.delete(project_id("analytics-prod"))
    assert isinstance(protected, rm.ErrorResponse) and protected.code == "Conflict"
    assert regional.projects.delete(uid) is None
    time.sleep(STEP * 2)
    assert isinstance(regional.projects.get(uid), rm.ErrorResponse)


def test_tables(click: ProjectClient) -> None:
    from polaris.sdk.project_api import models as pm

    listed = click.tables.list_tables()
    assert isinstance(listed, pm.TableListResponse)
    assert {t.name for t in listed.values} == {"clicks", "clicks_hourly", "bot_traffic"}
    hourly = click.tables.describe_table("clicks_hourly")
    assert isinstance(hourly, pm.AggregateTablePayload)
    assert hourly.total_rows > 0 and hourly.segment_count == 140 and hourly.availability == "available"
    assert {type(c) for c in hourly.schema} == {
        pm.AggregateTableDimensionColumn,
        pm.AggregateTableMeasureColumn,
    }
    table = pm.DetailTablePayload(
        name="sdk_table", version=0, schema=[pm.DetailTableColumn(name="sku", data_type="string")]
    )
    created = click.tables.create_table(table)
    assert isinstance(created, pm.DetailTablePayload) and created.version == 0
    assert isinstance(click.tables.create_table(table), pm.ErrorResponse)  # 409
    updated = click.tables.update_table("sdk_table", pm.DetailTablePayload(name="sdk_table", version=0))
    assert isinstance(updated, pm.DetailTablePayload) and updated.version == 1
    stale = click.tables.update_table("sdk_table", pm.DetailTablePayload(name="sdk_table", version=0))
    assert isinstance(stale, pm.ErrorResponse) and stale.code == "Conflict"
    assert isinstance(click.tables.describe_table("nope"), pm.ErrorResponse)


def test_jobs_read(click: ProjectClient) -> None:
    from polaris.sdk.project_api import models as pm

    listed = click.jobs.list_jobs(execution_status=["running", "failed"], pagination_limit=10)
    assert isinstance(listed, pm.JobListResponse) and listed.more_results_available is False
    kinds = {type(j) for j in listed.values}
    assert kinds == {pm.StreamingJobSummaryResponse, pm.BatchJobSummaryResponse, pm.SqlJobSummaryResponse}
    errored = click.jobs.list_jobs(health_status=["error"]).values
    assert [j.id for j in errored] == [job_id("clickstream", "clickstream-backfill-2024-11")]
    job = click.jobs.describe_job(errored[0].id)
    assert isinstance(job, pm.BatchJobResponse) and isinstance(job.health, pm.JobErrorHealthV2)
    assert job.health.code == "could_not_connect_to_source" and isinstance(job.spec, pm.CreateBatchJobRequest)
    assert isinstance(job.target, pm.TableJobTargetV2) and job.target.table_name == "clicks"
    logs = click.jobs.describe_job_logs(job.id)
    assert isinstance(logs, pm.JobLogsResponse) and logs.logs[-1].health_status == "error"
    stream = job_id("clickstream", "clicks-stream")
    metrics = click.jobs.describe_job_metrics(stream)
    assert isinstance(metrics, pm.JobMetricsResponse) and metrics.totals.num_rows_processed > 0
    rollup = job_id("clickstream", "clicks-hourly-rollup")
    assert click.jobs.describe_job_overall_progress(rollup).overall_progress == pytest.approx(0.45)
    assert click.jobs.describe_job_status(stream).execution_status == "running"
    assert isinstance(click.jobs.describe_job("00000000-0000-0000-0000-000000000000"), pm.ErrorResponse)


def test_jobs_write(click: ProjectClient) -> None:
    from polaris.sdk.project_api import models as pm

    drop = click.jobs.create_job(
        pm.CreateDropTableJobRequest(target=pm.TableJobTargetV2(table_name="bot_traffic"))
    )
    assert isinstance(drop, pm.DropTableJobResponse) and drop.execution_status == "pending"
    batch = pm.CreateBatchJobRequest(
        source=pm.S3JobSourceV2(connection_name="clickstream-archive", input_schema=[], prefixes=["s3://x/"]),
        target=pm.TableJobTargetV2(table_name="clicks"),
    )
    created = click.jobs.create_job(batch)
    assert isinstance(created, pm.BatchJobResponse)
    sql = click.jobs.create_job(pm.CreateSqlJobRequest(query='INSERT INTO "clicks_hourly" SELECT 1'))
    assert isinstance(sql, pm.SqlJobResponse) and sql.target.table_name == "clicks_hourly"
    canceled = click.jobs.update_job(sql.id, pm.UpdateJobStatusRequest(desired_execution_status="canceled"))
    assert isinstance(canceled, pm.SqlJobResponse) and canceled.execution_status == "canceled"
    stream = job_id("clickstream", "clicks-stream")
    suspended = click.jobs.update_job_status(
        stream, pm.UpdateJobStatusRequest(desired_execution_status="suspended")
    )
    assert suspended.execution_status == "suspended"
    assert click.jobs.reset_job(stream) is None
    time.sleep(STEP * 2)
    assert click.jobs.describe_job(created.id).execution_status == "completed"
    assert click.jobs.describe_job(drop.id).execution_status == "completed"
    assert "bot_traffic" not in {t.name for t in click.tables.list_tables().values}
    bad = click.jobs.create_job(pm.CreateDropTableJobRequest(target=pm.TableJobTargetV2(table_name="ghost")))
    assert isinstance(bad, pm.ErrorResponse) and bad.code == "BadRequest"


def test_connections(click: ProjectClient) -> None:
    from polaris.sdk.project_api import models as pm

    listed = click.connections.list_connections()
    assert {type(c) for c in listed.values} == {pm.ConfluentConnectionResponse, pm.S3ConnectionResponse}
    kafka = pm.CreateKafkaConnectionRequest(
        name="sdk-kafka",
        bootstrap_servers="b1:9092",
        topic_name="orders",
        secrets=pm.SaslScramSecretsRequiredPayload(mechanism="SCRAM-SHA-512", username="u", password="p"),
    )
    created = click.connections.create_connection(kafka)
    assert isinstance(created, pm.KafkaConnectionResponse) and created.topic_name == "orders"
    assert created.secrets.type == "sasl_scram"
    assert isinstance(click.connections.create_connection(kafka), pm.ErrorResponse)  # 409
    got = click.connections.get_connection("sdk-kafka")
    assert isinstance(got, pm.KafkaConnectionResponse) and got.bootstrap_servers == "b1:9092"
    patched = click.connections.update_connection(
        "sdk-kafka", pm.UpdateKafkaConnectionRequest(topic_name="v2")
    )
    assert isinstance(patched, pm.KafkaConnectionResponse) and patched.topic_name == "v2"
    assert click.connections.test_connection("sdk-kafka").code is None  # 200 {}
    failed = click.connections.test_connection("clickstream-archive")
    assert failed.code == "BadRequest" and "Access denied" in failed.message
    assert isinstance(click.connections.describe_connections_meta(), pm.ConnectionsMetaResponse)
    click.connections.delete_connection("sdk-kafka")
    assert isinstance(click.connections.get_connection("sdk-kafka"), pm.ErrorResponse)
