"""One leader for the schedule among replicas: the lease, who ticks, handing over, and runs handed back."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_digests import FakePolaris, project
from test_scheduler import Clock, make_scheduler, subscribe

from bot.scheduler import LEADER_LEASE, DigestScheduler, holder_id
from bot.store import AuditQuery

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def pair(tmp_path: Path, polaris: FakePolaris, clock: Clock, lease: float = 1.0):
    first, slack_a = make_scheduler(tmp_path / "db.sqlite", polaris, clock)
    second, slack_b = make_scheduler(tmp_path / "db.sqlite", polaris, clock)
    for scheduler in (first, second):
        scheduler.lease_seconds, scheduler.tick_seconds = lease, 0.05
    return (first, slack_a), (second, slack_b)


def test_holder_ids_name_host_and_process_and_differ() -> None:
    one, two = holder_id(), holder_id()
    assert one != two and one.split(":")[1] == two.split(":")[1]  # same process, random part differs


async def test_one_leads_until_it_lets_go(tmp_path: Path) -> None:
    (first, _), (second, _) = pair(tmp_path, FakePolaris([], {}), Clock(T0))
    assert await first.claim_lead() and first.leading
    assert not await second.claim_lead() and not second.leading
    assert await first.claim_lead()  # renewed
    await first.release_lead()
    assert not first.leading and await second.claim_lead()
    assert second.services.store.leases.current(LEADER_LEASE).holder == second.holder


async def test_only_the_leader_posts_and_a_stopped_leader_hands_over_at_once(tmp_path: Path) -> None:
    clock = Clock(T0)
    (first, slack_a), (second, slack_b) = pair(tmp_path, FakePolaris([project("a", 50)], {}), clock, lease=3)
    sub_id = subscribe(first, "storage", "hourly", T0)
    clock.now = T0 + timedelta(hours=1)  # due
    leader = asyncio.create_task(first.run_forever())
    await asyncio.sleep(0.3)
    follower = asyncio.create_task(second.run_forever())
    await asyncio.sleep(0.3)
    assert (len(slack_a.posts), len(slack_b.posts)) == (1, 0) and first.leading and not second.leading

    leader.cancel()  # a clean stop releases the lead: nobody holds it, no wait for the lease to run out
    await asyncio.gather(leader, return_exceptions=True)
    assert first.services.store.leases.current(LEADER_LEASE) is None
    clock.now = T0 + timedelta(hours=2)
    loop = asyncio.get_running_loop()
    stopped = loop.time()
    while not slack_b.posts and loop.time() - stopped < 5:
        await asyncio.sleep(0.02)
    took = loop.time() - stopped
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    assert (len(slack_a.posts), len(slack_b.posts)) == (1, 1)
    assert took < 1.8  # its next ask (every second), not the 3 s lease
    assert second.store.get(sub_id).next_run == "2026-11-23T11:00:00+00:00"


async def test_a_leader_that_cannot_renew_steps_down_and_stops_its_run(tmp_path: Path, monkeypatch) -> None:
    (first, _), _ = pair(tmp_path, FakePolaris([], {}), Clock(T0), lease=0.6)
    started, stopped = asyncio.Event(), asyncio.Event()

    async def slow_tick() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            stopped.set()
            raise

    monkeypatch.setattr(first, "tick", slow_tick)
    task = asyncio.create_task(first.run_forever())
    await asyncio.wait_for(started.wait(), 2)
    monkeypatch.setattr(first.services.store.leases, "claim", lambda *a: None)  # someone else holds it now
    await asyncio.wait_for(stopped.wait(), 2)  # the run in progress is stopped as soon as the lead is lost
    assert not first.leading
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_run_stopped_before_it_posted_is_handed_back_for_the_next_leader(tmp_path: Path) -> None:
    clock = Clock(T0)
    slow = FakePolaris([project("a", 50)], {}, delay=5)
    first, slack_a = make_scheduler(tmp_path / "db.sqlite", slow, clock)
    sub_id = subscribe(first, "storage", "daily 09:00", T0)
    slot = first.store.get(sub_id).next_run
    clock.now = T0 + timedelta(hours=2)
    running = asyncio.create_task(first.run_due())
    await asyncio.sleep(0.2)  # claimed, building
    assert first.store.get(sub_id).next_run != slot
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert first.store.get(sub_id).next_run == slot and slack_a.posts == []
    [row] = first.services.store.audit.query(AuditQuery(operation="digest.run"))
    assert row["outcome"] == "failed" and "handed back" in row["error"]

    second, slack_b = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 50)], {}), clock)
    assert await second.run_due() == [sub_id] and len(slack_b.posts) == 1


async def test_digest_now_runs_on_the_schedulers_own_loop(tmp_path: Path, monkeypatch) -> None:
    clock = Clock(T0)
    scheduler, slack = make_scheduler(tmp_path / "db.sqlite", FakePolaris([project("a", 50)], {}), clock)
    sub = scheduler.store.get(subscribe(scheduler, "storage", "daily 09:00", T0))
    seen: list[asyncio.AbstractEventLoop] = []
    real = DigestScheduler.run_subscription

    async def run_subscription(self, *args, **kwargs):
        seen.append(asyncio.get_running_loop())
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(DigestScheduler, "run_subscription", run_subscription)
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()
    try:
        scheduler.loop = other
        await scheduler.run_now(sub)
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join(5)
    assert seen == [other] and len(slack.posts) == 1
