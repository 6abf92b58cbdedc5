"""Conformance: our client and the official `polaris-sdk` agree about the same emulated Polaris.

- A stop sent through our client leaves deletionProtection and stopProtection as they were (the SDK's own
  update would reset them: msrest serialises their `False` defaults into the merge-patch).
- What our client creates (project, table, jobs), the SDK reads back and parses into its own models.

The tests import the SDK where they use it (about half a second to import), so that only the pytest-xdist worker
that runs this file pays for it, not every worker that collects the suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import loopback
import pytest

from bot.backends.http import RetryPolicy
from bot.backends.polaris import PolarisClient
from bot.settings import Target
from sandbox.backends.polaris import create_app, project_id
from sandbox.serving import ServerHandle, serve_in_thread

KEY = "conformance-key"
IOT = project_id("iot-telemetry")


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[ServerHandle, Any]]:
    app = create_app("demo", transition_seconds=0.1, api_keys=[KEY])
    handle = serve_in_thread(app)
    yield handle, app
    handle.stop()


@pytest.fixture
def server(emulator: tuple[ServerHandle, Any]) -> Iterator[ServerHandle]:
    handle, _ = emulator
    with loopback.Client(base_url=handle.url) as http:
        http.post("/_admin/reset", json={"seed": "demo"}).raise_for_status()
        http.delete("/_faults")
    yield handle


@pytest.fixture
def store(emulator: tuple[ServerHandle, Any], server: ServerHandle) -> Any:
    app = emulator[1]
    while not hasattr(getattr(app, "state", None), "store"):
        app = app.app
    return app.state.store


@pytest.fixture
async def client(server: ServerHandle) -> AsyncIterator[PolarisClient]:
    target = Target(name="polaris", kind="polaris", url=server.url, credentials={"api_key": KEY},
                    options={"poll_seconds": 0.05, "follow_seconds": 5})
    polaris = PolarisClient(target, retry=RetryPolicy(attempts=2, base_delay=0.01))
    yield polaris
    await polaris.aclose()


async def test_a_stop_through_our_client_keeps_both_protection_flags(client: PolarisClient, store: Any) -> None:
    project = store.projects[IOT]
    assert (project.deletion_protection, project.stop_protection) == (True, False)
    await client.update_project(IOT, desired_state="stopped")
    await client.wait_for_state(IOT, until={"stopped"})
    project = store.projects[IOT]
    assert project.state == "stopped"
    assert (project.deletion_protection, project.stop_protection) == (True, False)
    read_back = await client.get_project(IOT)
    assert read_back.spec.deletion_protection is True and read_back.spec.stop_protection is False


async def test_the_same_stop_through_the_sdk_drops_deletion_protection(server: ServerHandle, store: Any) -> None:
    """Why we do not use the SDK for updates: the emulator must tell the two apart."""
    from polaris.sdk.client import RegionalClient
    from polaris.sdk.regional_api import models as regional_models

    sdk = RegionalClient.from_endpoint(server.url, KEY)
    body = regional_models.Project(metadata=regional_models.ObjectMeta(name="iot-telemetry"),
                                   spec=regional_models.ProjectSpec(desired_state="stopped"))
    await asyncio.to_thread(sdk.projects.update, IOT, body)
    assert store.projects[IOT].deletion_protection is False


async def test_the_sdk_reads_what_our_client_created(client: PolarisClient, server: ServerHandle) -> None:
    from polaris.sdk.client import ProjectClient, RegionalClient

    created = await client.create_project("conformance", "starter", "us-west-2", deletion_protection=True)
    running = await client.wait_for_state(created.uid, until={"running"})
    assert running.state == "running"
    await client.create_table(created.uid, "events", "detail",
                              [{"name": "__time", "dataType": "timestamp"}, {"name": "kind", "dataType": "string"}])
    await client.create_table(created.uid, "events_daily", "aggregate",
                              [{"type": "dimension", "name": "kind", "dataType": "string"},
                               {"type": "measure", "name": "events", "dataType": "long"}], time_resolution="day")
    await client.create_connection(created.uid, {"name": "drop-zone", "type": "s3", "bucket": "acme-drop"})
    batch = await client.create_batch_job(created.uid, "events", "drop-zone", ["s3://acme-drop/2025/"])
    sql = await client.create_sql_job(created.uid, 'INSERT INTO "events" SELECT * FROM TABLE(EXTERN(...))')
    await asyncio.sleep(0.15)  # let the jobs finish

    def read_with_sdk() -> dict[str, Any]:
        regional = RegionalClient.from_endpoint(server.url, KEY)
        project = ProjectClient.from_endpoint(created.uid, server.url, KEY)
        return {
            "projects": regional.projects.list(),
            "project": regional.projects.get(created.uid),
            "tables": project.tables.list_tables(),
            "table": project.tables.describe_table("events"),
            "aggregate": project.tables.describe_table("events_daily"),
            "jobs": project.jobs.list_jobs(),
            "batch": project.jobs.describe_job(batch.id),
            "sql": project.jobs.describe_job(sql.id),
            "connections": project.connections.list_connections(),
        }

    seen = await asyncio.to_thread(read_with_sdk)
    names = {p.metadata.name for p in seen["projects"]}
    assert "conformance" in names and len(names) == 7
    project = seen["project"]
    assert project.metadata.uid == created.uid and project.status.state == "running"
    assert project.spec.region == "us-west-2" and project.spec.deletion_protection is True
    assert {t.name for t in seen["tables"].values} == {"events", "events_daily"}
    assert type(seen["table"]).__name__ == "DetailTablePayload" and seen["table"].total_rows == 125_000 * 2
    assert type(seen["aggregate"]).__name__ == "AggregateTablePayload"
    assert {j.id for j in seen["jobs"].values} == {batch.id, sql.id}
    assert {type(j).__name__ for j in seen["jobs"].values} == {"BatchJobSummaryResponse", "SqlJobSummaryResponse"}
    assert seen["batch"].execution_status == "completed" and seen["batch"].health.status == "ok"
    assert type(seen["sql"]).__name__ == "SqlJobResponse" and seen["sql"].query.startswith("INSERT INTO")
    assert [c.name for c in seen["connections"].values] == ["drop-zone"]


async def test_the_sdk_and_our_client_agree_on_seeded_jobs(client: PolarisClient, server: ServerHandle) -> None:
    from polaris.sdk.client import ProjectClient

    clickstream = project_id("clickstream")
    ours = {j.id: j for j in await client.list_jobs(clickstream)}

    def sdk_jobs() -> Any:
        return ProjectClient.from_endpoint(clickstream, server.url, KEY).jobs.list_jobs(health_status=["error"])

    theirs = (await asyncio.to_thread(sdk_jobs)).values
    assert len(theirs) == 1 and theirs[0].id in ours
    assert theirs[0].health.status == ours[theirs[0].id].health.status == "error"
    assert theirs[0].execution_status == ours[theirs[0].id].execution_status == "failed"
