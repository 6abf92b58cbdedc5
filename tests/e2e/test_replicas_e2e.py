"""Two `projectops run --http` processes on one PostgreSQL, driven like Slack behind a load balancer that alternates
requests between them: a decision, an event and a scheduled digest happen once, whichever replica gets them and
whichever one dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import loopback
import pytest
import yaml
from rig import Bot, WireLog, message_text

from bot.scheduler import LEADER_LEASE
from bot.store import AuditQuery, Store
from sandbox.serving import free_port
from sandbox.slack import SlackEmulator, SlackRequestBuilder

pytestmark = pytest.mark.slow  # each test starts two app processes (about 30 s for the file)

SECRET = "replicas-signing-secret"
LEASE_SECONDS = 3.0  # the lead's lease in these tests: a dead leader is replaced within this plus a third of it
TICK_SECONDS = 0.5


@dataclass
class Replica:
    process: subprocess.Popen
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """Dies at once, as a lost node would: no cleanup, the lease is left to expire."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_replica(slack: SlackEmulator, config_path: Path, pg_url: str, workdir: Path, name: str) -> Replica:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROJECTOPS_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-replicas", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
               PROJECTOPS_CONFIG=str(config_path), PROJECTOPS_DATABASE_URL=pg_url,
               PROJECTOPS_DB=str(workdir / "sqlite" / "projectops.db"))
    log = workdir / f"{name}.log"
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--http", "--port", str(port),
                                "--host", "127.0.0.1"], env=env, cwd=workdir / "cwd",
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    return Replica(process, f"http://127.0.0.1:{port}", log)


def wait_ready(replica: Replica, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if loopback.get(f"{replica.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert replica.process.poll() is None, f"replica exited:\n{replica.output()}"
        assert time.monotonic() < deadline, f"replica not ready:\n{replica.output()}"
        time.sleep(0.1)


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@dataclass
class Pair:
    replicas: list[Replica]
    bots: list[Bot]  # one rig per replica (its URL), sharing the request builder
    store: Store  # the test's own view of the shared database
    slack: SlackEmulator
    builder: SlackRequestBuilder

    def leader(self) -> Replica:
        lease = wait_until(lambda: self.store.leases.current(LEADER_LEASE), 30, "a scheduler leader")
        return next(r for r in self.replicas if f":{r.pid}:" in lease.holder)


@pytest.fixture
def replicas(slack: SlackEmulator, demo_config_dict: dict, pg_url: str, tmp_path: Path) -> Iterator[Callable]:
    """`with replicas(lease_seconds=…) as pair:` two replicas on `pg_url`, each ready (its /readyz says so)."""

    @contextmanager
    def start(lease_seconds: float = LEASE_SECONDS) -> Iterator[Pair]:
        config = {**demo_config_dict, "digests": {"tick_seconds": TICK_SECONDS, "leader_lease_seconds": lease_seconds}}
        config_path = tmp_path / "config.yml"
        config_path.write_text(yaml.safe_dump(config))
        (tmp_path / "cwd").mkdir(exist_ok=True)
        started = [start_replica(slack, config_path, pg_url, tmp_path, name) for name in ("a", "b")]
        store = Store.open(pg_url)
        builder = SlackRequestBuilder(SECRET, response_url_base=slack.response_url_base).attach(slack)
        try:
            for replica in started:
                wait_ready(replica)
            bots = [Bot(url=r.url, project=None, slack=slack, requests=builder) for r in started]  # type: ignore
            yield Pair(started, bots, store, slack, builder)
        finally:
            for replica in started:
                if replica.process.poll() is None:
                    replica.process.terminate()
            for replica in started:
                try:
                    replica.process.wait(30)
                except subprocess.TimeoutExpired:
                    replica.kill()
            store.close()
            # PROJECTOPS_DATABASE_URL set: no SQLite file anywhere (not at PROJECTOPS_DB, not in the working dir)
            assert not [p for p in tmp_path.rglob("*.db*")], list(tmp_path.rglob("*.db*"))

    return start


def approval_message(slack: SlackEmulator) -> dict:
    """The newest approval request in C0OPS (as edited since)."""
    return [m for m in slack.messages("C0OPS")
            if any(b.get("block_id", "").startswith("approval_") for b in m.get("blocks", []))][-1]


def ask_for_delete(bot: Bot, project: str) -> dict:
    answer = bot.confirm(f"delete phoenix {project}", user="U0OPERATOR")
    assert "second person" in message_text(answer), answer
    return approval_message(bot.slack)


def thread_replies(slack: SlackEmulator, ts: str) -> list[Any]:
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]


def test_fifty_approve_clicks_across_two_replicas_run_once_and_an_event_is_answered_once(
        replicas, backend_calls: WireLog) -> None:
    with replicas() as pair:
        a, b = pair.bots
        message = ask_for_delete(a, "rag-eval")
        clicks = [pair.builder.block_actions([{"action_id": "projectops_approve"}], user_id="U0ADMIN",
                                             channel_id="C0OPS", message=message) for _ in range(50)]
        with ThreadPoolExecutor(50) as pool:
            acks = list(pool.map(lambda n: pair.bots[n % 2].post(clicks[n]), range(50)))
        assert [r.status_code for r in acks] == [200] * 50

        wait_until(lambda: thread_replies(pair.slack, message["ts"]), 30, "the approved delete's result")
        decided = [c for c in clicks if "response_url" in c.payload]
        wait_until(lambda: sum("already decided" in message_text(p) for c in decided
                               for p in pair.slack.response_posts(c.payload["response_url"].rsplit("/", 1)[1]))
                   >= 49, 30, "49 'already decided' answers")
        time.sleep(1)  # nothing straggles in later
        assert backend_calls.calls("DELETE", "/phoenix/") and len(backend_calls.calls("DELETE", "/phoenix/")) == 1
        assert len(thread_replies(pair.slack, message["ts"])) == 1
        rows = pair.store.audit.query(AuditQuery(operation="phoenix.project.delete"))
        assert [(r["outcome"], r["approved_by"]) for r in rows] == [("succeeded", "U0ADMIN")]

        # one event, delivered to both (a retry, two Socket Mode connections): answered once
        ts = f"{time.time():.6f}"
        event = pair.builder.event_callback({"type": "app_mention", "user": "U0ADMIN", "text": "<@U0BOT> whoami",
                                             "channel": "C0OPS", "ts": ts})
        with ThreadPoolExecutor(2) as pool:
            assert [r.status_code for r in pool.map(lambda bot: bot.post(event), pair.bots)] == [200, 200]
        wait_until(lambda: thread_replies(pair.slack, ts), 20, "the answer to the mention")
        time.sleep(1.5)
        assert len(thread_replies(pair.slack, ts)) == 1
        assert pair.store.audit.verify().ok


def test_killing_the_leader_hands_the_schedule_to_the_other_and_the_digest_posts_once(replicas) -> None:
    with replicas() as pair:
        leader = pair.leader()
        survivor = next(r for r in pair.replicas if r is not leader)
        now = datetime.now(UTC)
        sub = pair.store.digests.add("storage", "C0DIGEST", "daily 09:00", "UTC", ["polaris"], "U0OPERATOR",
                                     now + timedelta(seconds=2), now)
        leader.kill()
        killed = time.monotonic()
        wait_until(lambda: pair.slack.messages("C0DIGEST"), 30, "the digest")
        took = time.monotonic() - killed
        # the lease runs out (3 s), the survivor claims it at its next renewal (1 s), ticks and builds the digest
        assert took < LEASE_SECONDS + LEASE_SECONDS / 3 + 6, took
        assert f":{survivor.pid}:" in pair.store.leases.current(LEADER_LEASE).holder
        time.sleep(2 * TICK_SECONDS + 1)
        [digest] = pair.slack.messages("C0DIGEST")  # once: the slot moved on when the survivor claimed it
        assert "Storage digest" in message_text(digest)

        def finished_runs() -> list[dict] | None:  # the outcome is written just after the post
            rows = pair.store.audit.query(AuditQuery(operation="digest.run"))
            return rows if rows and all(r["outcome"] != "started" for r in rows) else None

        runs = wait_until(finished_runs, 15, "the digest run's outcome")
        assert [r["outcome"] for r in runs] == ["succeeded"]
        assert pair.store.digests.get(sub.id).next_run > sub.next_run


def test_a_request_outlives_the_replica_it_was_made_on(replicas, backend_calls: WireLog) -> None:
    with replicas() as pair:
        a, b = pair.bots
        message = ask_for_delete(a, "rag-eval")
        pair.replicas[0].kill()  # the replica that posted the request is gone; the request lives in the database
        ack, _ = b.click(message, "projectops_approve", user="U0ADMIN")
        assert ack.status_code == 200
        [reply] = wait_until(lambda: thread_replies(pair.slack, message["ts"]), 30, "the result")
        assert "rag-eval" in message_text(reply.params)
        assert len(backend_calls.calls("DELETE", "/phoenix/")) == 1


def test_sigterm_finishes_the_work_in_flight_and_hands_the_lead_over_at_once(
        replicas, backends: str, backend_calls: WireLog) -> None:
    with replicas(lease_seconds=30) as pair:
        leader = pair.leader()
        other = pair.replicas[1 - pair.replicas.index(leader)]
        bot = pair.bots[pair.replicas.index(leader)]
        message = ask_for_delete(bot, "rag-eval")
        loopback.post(f"{backends}/phoenix/_faults", json={"latency_ms": 1500}).raise_for_status()
        ack, _ = bot.click(message, "projectops_approve", user="U0ADMIN")
        assert ack.status_code == 200
        leader.process.send_signal(signal.SIGTERM)  # while the approved delete waits on Phoenix
        stopped = time.monotonic()
        leader.process.wait(30)
        # the delete finished and was answered before the process ended, not cut off halfway
        [reply] = thread_replies(pair.slack, message["ts"])
        assert "rag-eval" in message_text(reply.params), reply.params
        assert len(backend_calls.calls("DELETE", "/phoenix/")) == 1
        rows = pair.store.audit.query(AuditQuery(operation="phoenix.project.delete"))
        assert [r["outcome"] for r in rows] == ["succeeded"]
        # the lead was released, not left to expire: the other replica holds it long before 30 s
        wait_until(lambda: f":{other.pid}:" in getattr(pair.store.leases.current(LEADER_LEASE), "holder", ""),
                   15, "the other replica to take the lead")
        assert time.monotonic() - stopped < 20
