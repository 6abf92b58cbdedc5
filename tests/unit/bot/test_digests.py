"""Digest building (fan-out, classification, down back ends) and rendering within Block Kit limits."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bot.backends.http import budget
from bot.backends.polaris.models import Job, Project, Table
from bot.digests import build_digest, classify, render_digest
from bot.errors import BackendError
from bot.settings import AppConfig, Target
from bot.ui.charts import storage_chart

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GB = 1_000_000_000


def project(name: str, used: float, cap: float = 100) -> Project:
    return Project.model_validate({
        "metadata": {"uid": f"uid-{name}", "name": name},
        "status": {"currentBytes": int(used * GB), "maxBytes": int(cap * GB), "deepStorageBytes": GB,
                   "state": "running"},
    })


def job(job_id: str, health: str = "ok", status: str = "completed", updated: datetime = NOW,
        kind: str = "batch", message: str = "") -> Job:
    return Job.model_validate({
        "id": job_id, "type": kind, "executionStatus": status, "health": {"status": health, "message": message},
        "target": {"type": "table", "tableName": "events"}, "lastUpdatedTimestamp": updated.isoformat(),
        "createdTimestamp": (updated - timedelta(hours=1)).isoformat(),
        "startedTimestamp": (updated - timedelta(hours=1)).isoformat(),
        "completedTimestamp": updated.isoformat() if status in ("completed", "failed") else None,
    })


class FakePolaris:
    def __init__(self, projects: list[Project], jobs: dict[str, list[Job]], delay: float = 0.0) -> None:
        self.projects, self.jobs, self.delay = projects, jobs, delay
        self.calls: list[str] = []

    async def list_projects(self) -> list[Project]:
        self.calls.append("projects")
        await asyncio.sleep(self.delay)
        return self.projects

    async def list_jobs(self, uid: str) -> list[Job]:
        self.calls.append(f"jobs:{uid}")
        await asyncio.sleep(self.delay)
        return self.jobs.get(uid, [])

    async def list_tables(self, uid: str) -> list[Table]:
        self.calls.append(f"tables:{uid}")
        await asyncio.sleep(self.delay)
        return [Table.model_validate({"name": f"t{i}", "totalDataSizeBytes": i * GB}) for i in range(5)]


class FakeCounts:
    def __init__(self, count: int = 0, error: Exception | None = None) -> None:
        self.count, self.error = count, error

    async def count_projects(self) -> int:
        if self.error:
            raise self.error
        return self.count


class Clients:
    def __init__(self, by_name: dict[str, Any]) -> None:
        self.by_name = by_name

    async def get(self, target: Target) -> Any:
        return self.by_name[target.name]


def services(*kinds: str) -> SimpleNamespace:
    targets = {k: Target(name=k, kind=k, url=f"http://{k}.example") for k in kinds}
    return SimpleNamespace(config=AppConfig(targets=targets))


def test_classify_picks_error_warn_failed_stuck_and_long_running() -> None:
    since = NOW - timedelta(hours=1)
    assert classify(job("a", health="error"), since, NOW) == "error"
    assert classify(job("b", health="warn"), since, NOW) == "warn"
    assert classify(job("c", status="failed", updated=NOW - timedelta(minutes=5)), since, NOW) == "failed"
    assert classify(job("d", status="failed", updated=NOW - timedelta(days=2)), since, NOW) is None
    assert classify(job("e", status="running", updated=NOW - timedelta(hours=7)), since, NOW) == "stuck"
    assert classify(job("f", status="running", updated=NOW - timedelta(hours=2)), since, NOW) == "long-running"
    assert classify(job("g", status="running", updated=NOW - timedelta(days=9), kind="streaming"), since, NOW) is None
    assert classify(job("h"), since, NOW) is None


async def test_digest_covers_jobs_storage_counts_and_a_down_back_end() -> None:
    polaris = FakePolaris(
        [project("clickstream", 92), project("quiet", 10)],
        {"uid-clickstream": [job("j1", health="error", message="Access denied"), job("j2")]},
    )
    clients = Clients({"polaris": polaris, "phoenix": FakeCounts(3),
                       "terraform": FakeCounts(error=BackendError("HCP Terraform answered 503.", backend="tf"))})
    previous = {"storage": {"polaris/uid-clickstream": 90 * GB}}
    digest = await build_digest(services("polaris", "phoenix", "terraform"), {"job-health", "storage"},
                                previous=previous, now=NOW, clients=clients)
    assert [(j.project, j.job_id, j.reason) for j in digest.jobs] == [("clickstream", "j1", "error")]
    assert [s.project for s in digest.storage] == ["clickstream", "quiet"]
    assert digest.storage[0].tables[0] == ("t4", 4 * GB) and digest.storage[0].previous == 90 * GB
    assert digest.counts == [("phoenix", "phoenix", 3)]
    assert digest.down == ["`terraform` (terraform): HCP Terraform answered 503."]
    assert set(digest.alert_conditions()) == {"job:polaris:clickstream:j1", "storage:polaris:uid-clickstream"}

    text = str(render_digest(digest).blocks)
    assert "Over 80%" in text and "change +2.0 GB" in text and "change new" in text
    assert "Not reachable" in text and "Phoenix `phoenix`: 3 projects" in text
    assert "job logs polaris clickstream j1" in text and "job show polaris clickstream j1" in text
    assert "Cancel" not in text  # j1 has completed: nothing to cancel


def test_a_running_job_can_be_cancelled_from_its_menu() -> None:
    from bot.digests import JobLine

    line = JobLine("polaris", "click stream", "j9", "batch", "events", "ok", "running", NOW, "stuck", active=True)
    options = {o["text"]["text"]: o["value"] for o in line.menu()["options"]}
    assert options == {"Logs": "job logs polaris 'click stream' j9", "Details": "job show polaris 'click stream' j9",
                       "Cancel…": "job cancel polaris 'click stream' j9"}
    assert line.menu()["action_id"] == "projectops_row"


def test_a_long_project_name_is_replaced_by_its_uid_within_slacks_150_characters() -> None:
    from bot.digests import JobLine

    uid, job_id = "b9f67f2e-ba84-535c-9752-fd66f5da9dff", "0190d6f2-5f7e-7a5e-9d0e-1c2b3a4d5e6f"
    line = JobLine("polaris", "p" * 128, job_id, "batch", "events", "error", "failed", NOW, "error",
                   project_uid=uid)
    values = [o["value"] for o in line.menu()["options"]]
    assert values == [f"job logs polaris {uid} {job_id}", f"job show polaris {uid} {job_id}"]
    assert all(len(v) <= 150 for v in values)


async def test_all_healthy_is_one_line() -> None:
    clients = Clients({"polaris": FakePolaris([project("a", 1)], {"uid-a": [job("ok")]})})
    digest = await build_digest(services("polaris"), {"job-health"}, now=NOW, clients=clients)
    blocks = render_digest(digest).blocks
    assert "All healthy: 1 projects checked" in str(blocks) and "Storage digest" not in str(blocks)


async def test_fan_out_is_concurrent_and_tables_only_for_shown_projects() -> None:
    projects = [project(f"p{i:03d}", i % 100) for i in range(200)]
    jobs = {p.uid: [job(f"{p.name}-bad", health="error"), job(f"{p.name}-w", health="warn")] for p in projects}
    polaris = FakePolaris(projects, jobs, delay=0.05)
    started = time.perf_counter()
    digest = await build_digest(services("polaris"), {"job-health", "storage"}, now=NOW,
                                clients=Clients({"polaris": polaris}))
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5  # two 50 ms steps, not 400
    assert sum(c.startswith("tables:") for c in polaris.calls) == 10
    rendered = render_digest(digest)
    assert len(rendered.blocks) <= 50 and "and 370 more jobs" in str(rendered.blocks)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in rendered.blocks)


@pytest.mark.parametrize("rows", [1, 40])
def test_storage_chart_is_a_png(rows: int) -> None:
    png = storage_chart([(f"p{i}", i * GB, 100 * GB, (i - 1) * GB if i else None) for i in range(rows)])
    assert png.startswith(b"\x89PNG") and len(png) > 1000


async def test_a_digest_no_back_end_answered_says_so() -> None:
    """Not "0 jobs need attention": nothing was read, and the digest says why, in words."""

    class Broken:
        async def list_projects(self) -> list[Project]:
            raise ValueError("Expecting ',' delimiter: line 1 column 80")  # not an OpError: still no class name

    clients = Clients({"polaris": Broken(), "phoenix": FakeCounts(error=BackendError("Phoenix answered 500."))})
    digest = await build_digest(services("polaris", "phoenix"), {"job-health", "storage"}, now=NOW, clients=clients)
    assert digest.blind and digest.targets == 2
    rendered = render_digest(digest)
    text = rendered.text + str(rendered.blocks)
    assert rendered.text == "projectops job health and storage digest: no back end answered, so there is nothing to " \
                            "report"
    assert "None of the 2 back ends answered" in text and "Phoenix answered 500." in text
    assert "its answer could not be read" in text and "ValueError" not in text and "need attention" not in text


async def test_a_slow_back_end_is_a_line_within_its_share_of_the_bound() -> None:
    polaris = FakePolaris([project("clickstream", 50)], {}, delay=5)
    config = AppConfig(targets={"polaris": Target(name="polaris", kind="polaris", url="http://p.example"),
                                "phoenix": Target(name="phoenix", kind="phoenix", url="http://x.example")},
                       backends={"timeout_seconds": 0.5})
    started = time.monotonic()
    with budget(0.5):  # inside `digest now`: the command's bound
        digest = await build_digest(SimpleNamespace(config=config), {"storage"}, now=NOW,
                                    clients=Clients({"polaris": polaris, "phoenix": FakeCounts(4)}))
    assert time.monotonic() - started < 1.5 and not digest.blind
    assert digest.down == ["`polaris` (polaris): no answer in time"] and digest.counts == [("phoenix", "phoenix", 4)]
    assert "(1 target not reachable)" in render_digest(digest).text
