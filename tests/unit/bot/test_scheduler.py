"""Schedules, the digest scheduler with an injected clock, leases, alerts and the Slack poster."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from test_digests import Clients, FakePolaris, job, project

from bot.errors import BackendError, UsageError
from bot.pacing import ChannelPacer
from bot.scheduler import ChannelPoster, DigestScheduler, parse_schedule
from bot.settings import AppConfig, DigestsConfig, Target
from bot.store import AuditQuery, Store

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(("words", "tz", "after", "expected"), [
    ("hourly", "UTC", T0, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
    ("daily 09:00", "Europe/Paris", T0, datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
    ("daily 09:00", "Europe/Paris", T0 - timedelta(hours=1), T0),
    ("weekdays 08:30", "UTC", datetime(2026, 11, 21, 12, 0, tzinfo=UTC), datetime(2026, 11, 23, 8, 30, tzinfo=UTC)),
    ("weekly mon 09:00", "America/New_York", T0, datetime(2026, 11, 23, 14, 0, tzinfo=UTC)),
    ("weekly friday 17:45", "UTC", T0, datetime(2026, 11, 27, 17, 45, tzinfo=UTC)),
    ("*/15 * * * *", "UTC", T0, datetime(2026, 11, 23, 8, 15, tzinfo=UTC)),
    ("0 6 1 * *", "UTC", T0, datetime(2026, 12, 1, 6, 0, tzinfo=UTC)),
    ("30 1 * * *", "Europe/London", datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
])
def test_next_run(words: str, tz: str, after: datetime, expected: datetime) -> None:
    assert parse_schedule(words.split(), tz).next_after(after) == expected


@pytest.mark.parametrize(("words", "tz", "says"), [
    ("daily 9am", "UTC", "not a time of day"),
    ("weekly funday 09:00", "UTC", "not a day of the week"),
    ("61 * * * *", "UTC", "not a cron expression"),
    ("fortnightly", "UTC", "cannot read the schedule"),
    ("hourly", "Mars/Olympus", "not a time zone"),
])
def test_bad_schedules_say_why(words: str, tz: str, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        parse_schedule(words.split(), tz)


class FakeSlack:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []
        self.failures: list[int] = []

    async def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:  # noqa: N802 (Slack's name)
        if self.failures:
            status = self.failures.pop(0)
            response = SimpleNamespace(status_code=status, headers={"Retry-After": "0"}, get=lambda k: "ratelimited")
            raise SlackApiError("ratelimited", response)
        self.posts.append(kwargs)
        return {"ok": True}

    async def files_upload_v2(self, **kwargs: Any) -> dict[str, Any]:
        self.uploads.append(kwargs)
        return {"ok": True}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_scheduler(db: Path, polaris: FakePolaris, clock: Clock) -> tuple[DigestScheduler, FakeSlack]:
    slack = FakeSlack()
    config = AppConfig(targets={"polaris": Target(name="polaris", kind="polaris", url="http://p.example")})
    store = Store.open(db)
    services = SimpleNamespace(config=config, store=store, audit=store.audit, slack=slack,
                               pacer=ChannelPacer(per_second=1000))
    scheduler = DigestScheduler(services, clock=clock)
    scheduler.clients = Clients({"polaris": polaris})
    return scheduler, slack


def subscribe(scheduler: DigestScheduler, kind: str, schedule: str, now: datetime) -> int:
    parsed = parse_schedule(schedule.split(), "UTC")
    return scheduler.store.add(kind, "C0OPS", parsed.text, "UTC", [], "U0OPERATOR", parsed.next_after(now), now).id


async def test_missed_runs_catch_up_once_not_a_flood(tmp_path: Path) -> None:
    clock = Clock(T0)
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 50)], {}), clock)
    sub_id = subscribe(scheduler, "storage", "hourly", T0)
    assert await scheduler.run_due() == []
    clock.now = T0 + timedelta(hours=5, minutes=30)  # the app was down for five slots
    assert await scheduler.run_due() == [sub_id]
    assert await scheduler.run_due() == []
    assert len(slack.posts) == 1 and len(slack.uploads) == 1
    assert scheduler.store.get(sub_id).next_run == "2026-11-23T14:00:00+00:00"
    clock.now = T0 + timedelta(hours=6)
    assert await scheduler.run_due() == [sub_id]
    assert "change ±0" in str(slack.posts[-1]["blocks"])  # compared with the figures of the last digest


async def test_two_processes_post_a_run_once(tmp_path: Path) -> None:
    clock = Clock(T0)
    polaris = FakePolaris([project("a", 50)], {})
    first, slack_a = make_scheduler(tmp_path / "db.sqlite", polaris, clock)
    second, slack_b = make_scheduler(tmp_path / "db.sqlite", polaris, clock)
    subscribe(first, "storage", "daily 09:00", T0)
    clock.now = T0 + timedelta(hours=1)
    posted = [await first.run_due(), await second.run_due()]
    assert sorted(map(len, posted)) == [0, 1] and len(slack_a.posts) + len(slack_b.posts) == 1


async def test_alert_once_per_crossing_and_a_note_when_it_recovers(tmp_path: Path) -> None:
    clock = Clock(T0)
    jobs = {"uid-a": [job("j1")]}
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 50)], jobs), clock)
    subscribe(scheduler, "all", "daily 09:00", T0)
    assert await scheduler.check_alerts() == 0  # the first look is a baseline
    jobs["uid-a"] = [job("j1", health="error", message="boom")]
    assert await scheduler.check_alerts() == 1
    assert await scheduler.check_alerts() == 0
    assert "j1" in str(slack.posts[-1]["blocks"]) and "boom" in str(slack.posts[-1]["blocks"])
    jobs["uid-a"] = [job("j1")]
    assert await scheduler.check_alerts() == 1 and "Recovered" in str(slack.posts[-1]["blocks"])
    jobs["uid-a"] = [job("j1", health="error")]
    assert await scheduler.check_alerts() == 1 and len(slack.posts) == 3


async def test_poster_spaces_posts_per_channel_and_retries_429() -> None:
    slack = FakeSlack()
    poster = ChannelPoster(slack, ChannelPacer(per_second=10))
    started = time.monotonic()
    for _ in range(3):
        await poster.post("C1", "hi", [])
    await poster.post("C2", "hi", [])
    assert time.monotonic() - started >= 0.2 and len(slack.posts) == 4
    slack.failures = [429, 429]
    await poster.post("C1", "after a 429", [])
    assert slack.posts[-1]["text"] == "after a 429"
    slack.failures = [500]
    with pytest.raises(SlackApiError):
        await poster.post("C1", "broken", [])


async def test_one_look_serves_every_subscription_and_each_keeps_to_its_kinds(tmp_path: Path) -> None:
    clock = Clock(T0)
    jobs = {"uid-a": [job("j1")]}
    polaris = FakePolaris([project("a", 50)], jobs)
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", polaris, clock)
    store = scheduler.store
    parsed = parse_schedule(["daily", "09:00"], "UTC")
    store.add("job-health", "C0JOBS", parsed.text, "UTC", [], "U0OPERATOR", parsed.next_after(T0), T0)
    store.add("storage", "C0STORE", parsed.text, "UTC", [], "U0OPERATOR", parsed.next_after(T0), T0)
    store.add("storage", "C0OTHER", parsed.text, "UTC", ["elsewhere"], "U0OPERATOR", parsed.next_after(T0), T0)
    assert await scheduler.check_alerts() == 0  # baselines
    polaris.calls.clear()
    jobs["uid-a"] = [job("j1", health="error")]
    polaris.projects = [project("a", 95)]
    assert await scheduler.check_alerts() == 2
    assert polaris.calls.count("projects") == 1 and polaris.calls.count("jobs:uid-a") == 1  # one look for all
    by_channel = {p["channel"]: str(p["blocks"]) for p in slack.posts}
    assert set(by_channel) == {"C0JOBS", "C0STORE"}  # C0OTHER covers another target only
    assert "j1" in by_channel["C0JOBS"] and "95%" not in by_channel["C0JOBS"]
    assert "95%" in by_channel["C0STORE"] and "j1" not in by_channel["C0STORE"]


async def test_thresholds_come_from_the_subscription_then_the_config(tmp_path: Path) -> None:
    clock = Clock(T0)
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 85)], {}), clock)
    scheduler.limits = DigestsConfig(flag_percent=90, alert_percent=84)
    parsed = parse_schedule(["hourly"], "UTC")
    default = scheduler.store.add("storage", "C0A", parsed.text, "UTC", [], "U0", parsed.next_after(T0), T0)
    own = scheduler.store.add("storage", "C0B", parsed.text, "UTC", [], "U0", parsed.next_after(T0), T0, threshold=80)
    clock.now = T0 + timedelta(hours=1)
    assert sorted(await scheduler.run_due()) == [default.id, own.id]
    posted = {p["channel"]: str(p["blocks"]) for p in slack.posts}
    assert "Over 90%" not in posted["C0A"] and "Over 80% of their storage" in posted["C0B"]
    assert scheduler.store.active_alerts()[0]["key"] == "C0A|storage:polaris:uid-a"  # 85% >= the 84% alert line


async def test_a_run_that_cannot_post_is_audited_and_the_subscriber_told(tmp_path: Path) -> None:
    clock = Clock(T0)
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 50)], {}), clock)
    sub_id = subscribe(scheduler, "storage", "hourly", T0)
    refusing = slack.chat_postMessage

    async def not_in_channel(**kwargs: Any) -> dict[str, Any]:
        if kwargs["channel"] == "C0OPS":
            raise SlackApiError("not_in_channel", SimpleNamespace(status_code=200, get=lambda k: "not_in_channel"))
        return await refusing(**kwargs)

    slack.chat_postMessage = not_in_channel
    clock.now = T0 + timedelta(hours=1)
    assert await scheduler.run_due() == []
    [dm] = slack.posts
    assert dm["channel"] == "U0OPERATOR" and "could not be posted" in dm["text"] and "/invite @projectops" in dm["text"]
    [row] = scheduler.services.audit.query(AuditQuery(operation="digest.run"))
    assert row["outcome"] == "failed" and "not in that channel" in row["error"] and row["user"] == "U0OPERATOR"

    clock.now = T0 + timedelta(hours=2)
    assert await scheduler.run_due() == [] and len(slack.posts) == 1  # told once, not every hour

    slack.chat_postMessage = refusing
    clock.now = T0 + timedelta(hours=3)
    assert await scheduler.run_due() == [sub_id]
    assert scheduler.services.audit.query(AuditQuery(operation="digest.run"))[0]["outcome"] == "succeeded"
    slack.chat_postMessage = not_in_channel
    clock.now = T0 + timedelta(hours=4)
    assert await scheduler.run_due() == [] and len(slack.posts) == 3  # failing again after a success: told again


async def test_an_alert_that_cannot_be_posted_is_posted_at_the_next_check(tmp_path: Path) -> None:
    clock = Clock(T0)
    jobs = {"uid-a": [job("j1")]}
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 50)], jobs), clock)
    subscribe(scheduler, "job-health", "daily 09:00", T0)
    assert await scheduler.check_alerts() == 0
    jobs["uid-a"] = [job("j1", health="error")]
    slack.failures = [500, 500, 500, 500]  # Slack keeps failing through the poster's retries
    assert await scheduler.check_alerts() == 0 and not slack.posts
    slack.failures = []
    assert await scheduler.check_alerts() == 1 and "j1" in str(slack.posts[-1]["blocks"])


async def test_a_target_gone_from_the_config_does_not_stop_the_others(tmp_path: Path) -> None:
    clock = Clock(T0)
    jobs = {"uid-a": [job("j1")]}
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 50)], jobs), clock)
    parsed = parse_schedule(["hourly"], "UTC")
    scheduler.store.add("job-health", "C0OLD", parsed.text, "UTC", ["retired"], "U0", parsed.next_after(T0), T0)
    scheduler.store.add("job-health", "C0NEW", parsed.text, "UTC", ["polaris"], "U0", parsed.next_after(T0), T0)
    assert await scheduler.check_alerts() == 0
    jobs["uid-a"] = [job("j1", health="error")]
    assert await scheduler.check_alerts() == 1 and slack.posts[-1]["channel"] == "C0NEW"
    clock.now = T0 + timedelta(hours=1)
    await scheduler.run_due()
    old = next(p for p in slack.posts if p["channel"] == "C0OLD")
    assert "`retired`: no longer in the projectops config" in str(old["blocks"])


async def test_an_alert_does_not_recover_while_its_project_cannot_be_read(tmp_path: Path) -> None:
    clock = Clock(T0)
    jobs = {"uid-a": [job("j1")]}
    polaris = FakePolaris([project("a", 50)], jobs)
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", polaris, clock)
    subscribe(scheduler, "all", "daily 09:00", T0)
    await scheduler.check_alerts()
    jobs["uid-a"] = [job("j1", health="error")]
    assert await scheduler.check_alerts() == 1

    async def unreadable(uid: str) -> list:
        raise BackendError("Polaris answered 503.")

    polaris.list_jobs = unreadable
    assert await scheduler.check_alerts() == 0  # unknown is not recovered
    del polaris.list_jobs
    jobs["uid-a"] = [job("j1")]
    assert await scheduler.check_alerts() == 1 and "Recovered" in str(slack.posts[-1]["blocks"])


async def test_a_recovery_that_cannot_be_posted_is_told_at_the_next_check(tmp_path: Path) -> None:
    clock = Clock(T0)
    jobs = {"uid-a": [job("j1")]}
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 50)], jobs), clock)
    subscribe(scheduler, "job-health", "daily 09:00", T0)
    await scheduler.check_alerts()
    jobs["uid-a"] = [job("j1", health="error")]
    assert await scheduler.check_alerts() == 1
    jobs["uid-a"] = [job("j1")]
    slack.failures = [500]
    assert await scheduler.check_alerts() == 0
    assert await scheduler.check_alerts() == 1 and "Recovered" in str(slack.posts[-1]["blocks"])


async def test_a_run_cancelled_by_shutdown_leaves_no_started_row(tmp_path: Path) -> None:
    clock = Clock(T0)
    polaris = FakePolaris([project("a", 50)], {}, delay=5)
    scheduler, _ = make_scheduler(tmp_path / "db.sqlite", polaris, clock)
    subscribe(scheduler, "storage", "hourly", T0)
    clock.now = T0 + timedelta(hours=1)
    running = asyncio.create_task(scheduler.run_due())
    await asyncio.sleep(0.2)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    [row] = scheduler.services.audit.query(AuditQuery(operation="digest.run"))
    assert row["outcome"] == "failed" and "stopped" in row["error"]


def test_alert_keys_with_colons_in_project_names() -> None:
    from bot.digests import Digest

    digest = Digest(kinds={"job-health"}, at=T0, since=T0, unread={("polaris", "team:alpha")})
    assert digest.unknown("job:polaris:team:alpha:j1")
    assert not digest.unknown("job:polaris:team:beta:j1")
    assert Digest(kinds=set(), at=T0, since=T0, unreachable={"polaris"}).unknown("storage:polaris:uid-a")


async def test_digest_runs_and_alert_checks_are_counted(tmp_path: Path) -> None:
    from bot.metrics import Metrics

    clock = Clock(T0)
    jobs = {"uid-a": [job("j1")]}
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 50)], jobs), clock)
    scheduler.services.metrics = metrics = Metrics()
    subscribe(scheduler, "all", "hourly", T0)
    clock.now = T0 + timedelta(hours=1)
    assert len(await scheduler.run_due()) == 1
    jobs["uid-a"] = [job("j1", health="error")]
    slack.failures = [500, 500, 500, 500]  # the alert cannot be posted
    await scheduler.check_alerts()

    def count(kind: str, outcome: str) -> float:
        labels = {"kind": kind, "outcome": outcome}
        return metrics.registry.get_sample_value("projectops_scheduled_runs_total", labels) or 0

    assert (count("digest", "ok"), count("digest", "failed")) == (1, 0)
    assert (count("alerts", "ok"), count("alerts", "failed")) == (0, 1)
