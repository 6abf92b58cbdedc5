"""Soak: thousands of mixed Slack requests against the running app, with back-end faults sprinkled in.

    .venv/bin/python -m bench.soak [--requests 10000] [--concurrency 20] [--seed 1] [--no-faults] [--keep]

(`--requests 1000` takes about 35 s, the full 10,000 about 4 min on 2 cores; `--keep` keeps the database and log.)

projectops runs as its own process (`projectops run --http`, as in production) on a fresh SQLite file; the
back-end emulators run in a second process; the Slack emulator runs here, so the follow-up clicks read their
button values from the answers it recorded (Confirm / Cancel carry opaque ids). The mix, by requests sent:

    slash commands   help, whoami, targets, list, show polaris clickstream, list phoenix, audit last 5
    bad input        unknown commands, missing arguments, unknown targets (answered in the ack)
    mentions, DMs    plain words for the assistant ("how many phoenix projects are there", "show clickstream")
    Share            `show` / `list`, then Share in channel on the answer
    Next page        `list phoenix` (31 projects), then Next
    Confirm, Cancel  `delete <target> <project>`, Confirm (opens the typed-name form), then Cancel

Every flow runs in a channel of its own, so each audit row can be matched to the requests that wrote it (and
the one-message-a-second pacing of a channel never holds a flow up). Meanwhile one back end at a time answers
429 with Retry-After, 500 or 503, or slowly, for one to three seconds, then is set right (`/_faults`).

Reported: time to ack (p50 / p99 / max, measured here: what Slack would see; beside it the app's own arrival-to-ack
histogram from /metrics), non-2xx answers, whether every answer reached Slack, the app's RSS, open file descriptors
(those on the SQLite files, SQLite connections, sockets and where they lead) and threads at start / 10 % / middle /
end, and the audit rows found in the app's database (read-only) against those the requests sent should have
written: one per command, bad input, Next and Cancel, none for Share, a destructive prompt or Confirm (which opens
the typed-name form), and per mention / DM its `assistant.message` row plus one per read it resolved to. The
assistant's own name-reading rows (surface `assistant`) are left out. 20 requests in flight keep the app busy:
the acks then measure its queue as much as its code (`--concurrency 2` shows the unloaded figure).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import yaml

from sandbox.backends.server import KINDS, create_emulators_app, demo_config
from sandbox.serving import free_port
from sandbox.slack import SignedRequest, SlackEmulator, SlackRequestBuilder
from sandbox.slack.identity import BOT_USER_ID

SECRET = "soak-signing-secret"
BOT_TOKEN = "xoxb-soak"
#: How long a flow waits for the app's answer before it counts it as missing (backends.timeout_seconds is 20 s).
ANSWER_TIMEOUT = 30.0
SLOW_ACK_MS = 3000.0

READS = ["help", "whoami", "targets", "list", "show polaris clickstream", "list phoenix", "audit last 5"]
BAD = ["frobnicate", "show polaris", "list nowhere", "delete", "show polaris clickstream --bogus 3",
       "audit last many", "table show polaris", "\u202e\u0000 \U0001f4a5"]
WORDS = ["how many phoenix projects are there", "show clickstream", "how full is clickstream",
         "lsit projcts", "are all back ends up?", "which terraform workspaces are there in platform-core"]
SHAREABLE = ["show polaris clickstream", "list phoenix", "list polaris", "show terraform platform-core"]
DESTRUCTIVE = ["delete polaris clickstream", "delete terraform sandbox-playground", "delete phoenix rag-eval"]
#: Rows written per read / bad-input command (one each, through the choke point or `record_event`).
ROWS_PER_COMMAND = 1

#: Flow weights: of the requests sent, about 35 % are read commands, 8 % bad input, 12 % mentions, 12 % DMs, 11 % in
#: Share flows (the command and the click), 10 % in Next-page flows and 11 % in delete / Confirm / Cancel flows.
FLOWS = {"read": 34, "bad": 8, "mention": 12, "dm": 12, "share": 6, "next": 5, "destructive": 3.7}
FAULTS = [
    ("429 + Retry-After", {"status": 429, "retry_after": 1, "count": -1}),
    ("500", {"status": 500, "count": -1}),
    ("503", {"status": 503, "count": -1}),
    ("latency 600 ms", {"latency_ms": 600}),
]


# -- the processes ---------------------------------------------------------------------------------------------

def serve_backends(port: int) -> None:
    import uvicorn

    uvicorn.run(create_emulators_app("demo"), host="127.0.0.1", port=port, log_level="warning")


def wait_until_up(url: str, process: Any = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the app exited with {process.returncode} before it answered") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def cli() -> list[str]:
    """`projectops` as installed next to this interpreter (else the same CLI through -c)."""
    script = Path(sys.executable).with_name("projectops")
    if not script.exists() and (found := shutil.which("projectops")):
        script = Path(found)
    return [str(script)] if script.exists() else [sys.executable, "-c", "from bot.cli import main; main()"]


def app_command(port: int) -> list[str]:
    return [*cli(), "run", "--http", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]


class SoakSlack(SlackEmulator):
    """The Slack emulator, counting calls instead of keeping them (10,000 requests' payloads would be this
    process's own leak) and indexing what the flows wait for."""

    def reset(self) -> None:
        super().reset()
        self.counts: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.posted: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.opened: set[str] = set()

    def _record(self, method: str, params: dict[str, Any], headers: dict[str, str], error: str | None,
                path: str) -> None:
        self.counts[method] += 1
        if error:
            self.failures[f"{method} {error}"] += 1
        elif method == "chat.postMessage":
            self.posted[str(params.get("channel"))].append(params)
        if method == "views.open":
            self.opened.add(str(params.get("trigger_id")))

    def forget(self, channels: list[str], rids: list[str], triggers: list[str]) -> None:
        """Drop what a finished flow left here."""
        with self._lock:
            for channel in channels:
                self._messages.pop(channel, None)
                self.posted.pop(channel, None)
            for rid in rids:
                self._response_urls.pop(rid, None)
            for trigger in triggers:
                self._triggers.pop(trigger, None)
                self.opened.discard(trigger)
            self.ephemerals.clear()
            self.views.clear()
            self.view_users.clear()


# -- measuring the app process ---------------------------------------------------------------------------------

@dataclass
class Sample:
    label: str
    sent: int
    rss_kb: int
    fds: int
    db_fds: int  # on the database file and its -wal / -shm
    connections: int  # on the database file itself: one per open SQLite connection
    sockets: int
    threads: int
    peers: Counter[str] = field(default_factory=Counter)


#: Names of the local ports the app's sockets lead to (set once the servers are up), for `Sample.peers`.
PORTS: dict[int, str] = {}
TCP_STATES = {"01": "established", "06": "time-wait", "08": "close-wait", "0A": "listening"}


def tcp_sockets(pid: int) -> dict[str, tuple[int, int, str]]:
    """inode -> (local port, remote port, state) of the TCP sockets in the app's network namespace."""
    found = {}
    for name in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]:
                parts = line.split()
                local, remote, state, inode = parts[1], parts[2], parts[3], parts[9]
                found[inode] = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16),
                                TCP_STATES.get(state, state))
    return found


def sample(pid: int, label: str, sent: int, db_path: Path) -> Sample:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    fds = db = connections = 0
    inodes = []
    prefix = str(db_path.resolve())
    for fd in os.scandir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(fd.path)
        except OSError:
            continue
        fds += 1
        db += target.startswith(prefix)
        connections += target == prefix
        if target.startswith("socket:["):
            inodes.append(target[8:-1])
    threads = len(os.listdir(f"/proc/{pid}/task"))
    peers: Counter[str] = Counter()
    if label in ("start", "end"):  # where each socket leads (a leak shows which pool it is in)
        table = tcp_sockets(pid)
        for inode in inodes:
            local, remote, state = table.get(inode, (0, 0, "not tcp"))
            where = "listening" if state == "listening" else PORTS.get(remote) or (
                f"from {PORTS[local]}" if local in PORTS else "other")
            peers[f"{where} ({state})" if state not in ("established", "listening") else where] += 1
    return Sample(label, sent, rss, fds, db, connections, len(inodes), threads, peers)


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU a process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the load --------------------------------------------------------------------------------------------------

@dataclass
class Expect:
    """What one flow's channel should hold in the audit log."""

    rows: int = 0  # commands, bad input, Next, Cancel
    messages: int = 0  # mentions / DMs: one assistant.message row each, plus a row per read it resolved to


@dataclass
class Load:
    url: str
    slack: SoakSlack
    builder: SlackRequestBuilder
    http: httpx.AsyncClient
    total: int
    concurrency: int
    rng: random.Random
    users: list[str]
    left: int = 0
    sent: int = 0
    acks: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    transport: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)
    answer_ms: list[float] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    expect: dict[str, Expect] = field(default_factory=dict)
    flows: Counter[str] = field(default_factory=Counter)
    progress: Callable[[int], None] = lambda sent: None

    def __post_init__(self) -> None:
        self.left = self.total
        self.gate = asyncio.Semaphore(self.concurrency)
        self._channels = count(1)
        self.rids: dict[str, list[str]] = defaultdict(list)
        self.triggers: dict[str, list[str]] = defaultdict(list)

    def channel(self, prefix: str = "C") -> str:
        channel = f"{prefix}0SOAK{next(self._channels):06d}"
        self.expect[channel] = Expect()
        return channel

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True

    async def send(self, kind: str, build: Callable[[], tuple[SignedRequest, Any]]) -> tuple[httpx.Response | None,
                                                                                                 Any]:
        """Build (inside the gate, so timestamps and trigger_ids are fresh) and POST one signed request."""
        async with self.gate:
            signed, extra = build()
            started = time.perf_counter()
            try:
                response = await self.http.post(self.url, content=signed.body, headers=signed.headers)
            except httpx.HTTPError as exc:
                self.transport[f"{kind}: {type(exc).__name__}"] += 1
                response = None
            else:
                self.acks[kind].append((time.perf_counter() - started) * 1000)
                self.statuses[f"{kind} {response.status_code}"] += 1
        self.sent += 1
        self.progress(self.sent)
        return response, extra

    async def until(self, kind: str, check: Callable[[], Any], timeout: float = ANSWER_TIMEOUT) -> Any:
        """Wait for the app's answer (`check` returns it); counted as answered or missing under `kind`."""
        started = time.monotonic()
        while (found := check()) is None or found is False:
            if time.monotonic() - started > timeout:
                self.unanswered[kind] += 1
                return None
            await asyncio.sleep(0.05)
        self.answered[kind] += 1
        self.answer_ms.append((time.monotonic() - started) * 1000)
        return found

    def final_post(self, rid: str) -> Callable[[], dict[str, Any] | None]:
        """The latest response_url post that is not a "still waiting" line."""
        def check() -> dict[str, Any] | None:
            posts = [p for p in self.slack.response_posts(rid)
                     if not str(p.get("text") or "").startswith(":hourglass")]
            return posts[-1] if posts else None
        return check

    # -- the flows ---------------------------------------------------------------------------------------------

    async def command(self, channel: str, user: str, text: str, kind: str = "command",
                      rows: int = ROWS_PER_COMMAND) -> dict[str, Any] | None:
        """A slash command; its answer (the ack's own for bad input, else the response_url's final post)."""
        if not self.take():
            return None

        def build() -> tuple[SignedRequest, str]:
            signed = self.builder.slash_command(text, user_id=user, channel_id=channel)
            return signed, self.builder.last_response_url_id or ""

        response, rid = await self.send(kind, build)
        self.expect[channel].rows += rows
        self.rids[channel].append(rid)
        if response is None or response.status_code != 200:
            return None
        if response.content:  # answered in the ack (bad input)
            self.answered[kind] += 1
            return response.json()
        return await self.until(kind, self.final_post(rid))

    async def click(self, channel: str, user: str, message: dict[str, Any], action_id: str,
                    kind: str) -> tuple[httpx.Response | None, str, str] | None:
        if not self.take():
            return None

        def build() -> tuple[SignedRequest, tuple[str, str]]:
            signed = self.builder.block_actions([{"action_id": action_id}], user_id=user, channel_id=channel,
                                                message=message)
            return signed, (self.builder.last_response_url_id or "", self.builder.last_trigger_id or "")

        response, (rid, trigger) = await self.send(kind, build)
        self.rids[channel].append(rid)
        self.triggers[channel].append(trigger)
        return response, rid, trigger

    async def flow_read(self, channel: str) -> None:
        await self.command(channel, self.rng.choice(self.users), self.rng.choice(READS))

    async def flow_bad(self, channel: str) -> None:
        await self.command(channel, self.rng.choice(self.users), self.rng.choice(BAD), kind="bad input")

    async def flow_mention(self, channel: str) -> None:
        if not self.take():
            return
        user, words = self.rng.choice(self.users), self.rng.choice(WORDS)
        text = f"<@{BOT_USER_ID}> {words}"

        def build() -> tuple[SignedRequest, None]:
            message = self.slack.add_user_message(channel, user, text)
            event = {"type": "app_mention", "user": user, "text": text, "ts": message["ts"], "channel": channel,
                     "team": self.builder.team_id}
            return self.builder.event_callback(event), None

        response, _ = await self.send("mention", build)
        self.expect[channel].messages += 1
        if response is not None and response.status_code == 200:
            await self.until("mention", lambda: self.slack.posted.get(channel))

    async def flow_dm(self, channel: str) -> None:
        if not self.take():
            return
        user, words = self.rng.choice(self.users), self.rng.choice(WORDS)
        response, _ = await self.send("DM", lambda: (self.builder.dm_message(words, user_id=user,
                                                                             channel_id=channel), None))
        self.expect[channel].messages += 1
        if response is not None and response.status_code == 200:
            await self.until("DM", lambda: self.slack.posted.get(channel))

    async def flow_share(self, channel: str) -> None:
        user = self.rng.choice(self.users)
        answer = await self.command(channel, user, self.rng.choice(SHAREABLE))
        if answer is None:
            return
        if not has_action(answer, "projectops_share"):
            self.skipped["Share: the answer had no Share button (a back-end error)"] += 1
            return
        clicked = await self.click(channel, user, as_message(answer), "projectops_share", "Share")
        if clicked and clicked[0] is not None and clicked[0].status_code == 200:
            await self.until("Share", lambda: self.slack.posted.get(channel))

    async def flow_next(self, channel: str) -> None:
        user = self.rng.choice(self.users)
        answer = await self.command(channel, user, "list phoenix")
        if answer is None:
            return
        if not has_action(answer, "projectops_rerun_next"):
            self.skipped["Next: the answer had no Next button (a back-end error)"] += 1
            return
        clicked = await self.click(channel, user, as_message(answer), "projectops_rerun_next", "Next")
        if clicked is None:
            return
        self.expect[channel].rows += 1
        if clicked[0] is not None and clicked[0].status_code == 200:
            await self.until("Next", self.final_post(clicked[1]))

    async def flow_destructive(self, channel: str) -> None:
        user = self.rng.choice(["U0ADMIN", "U0OPERATOR"])
        prompt = await self.command(channel, user, self.rng.choice(DESTRUCTIVE), rows=0)  # a prompt: no row yet
        if prompt is None:
            return
        if not has_action(prompt, "projectops_confirm"):  # refused through the choke point: one row
            self.expect[channel].rows += 1
            self.skipped["Confirm: the answer had no Confirm button (refused)"] += 1
            return
        message = as_message(prompt)
        clicked = await self.click(channel, user, message, "projectops_confirm", "Confirm")
        if clicked is None:
            return
        if clicked[0] is not None and clicked[0].status_code == 200:
            trigger = clicked[2]
            await self.until("Confirm (typed-name form)", lambda: trigger in self.slack.opened)
        clicked = await self.click(channel, user, message, "projectops_cancel", "Cancel")
        if clicked is None:
            return
        self.expect[channel].rows += 1  # confirm.cancel
        if clicked[0] is not None and clicked[0].status_code == 200:
            rid = clicked[1]
            await self.until("Cancel", lambda: any("Cancelled" in str(p.get("text")) for p in
                                                   self.slack.response_posts(rid)))

    async def run(self) -> None:
        flows: dict[str, Callable[[str], Awaitable[None]]] = {
            "read": self.flow_read, "bad": self.flow_bad, "mention": self.flow_mention, "dm": self.flow_dm,
            "share": self.flow_share, "next": self.flow_next, "destructive": self.flow_destructive,
        }
        names, weights = list(FLOWS), list(FLOWS.values())
        active = asyncio.Semaphore(self.concurrency * 3)  # flows waiting for an answer hold no request slot

        async def one(name: str) -> None:
            channel = self.channel("D" if name == "dm" else "C")  # each flow in a channel of its own
            try:
                await flows[name](channel)
            finally:
                active.release()
                self.slack.forget([channel], self.rids.pop(channel, []), self.triggers.pop(channel, []))

        tasks: set[asyncio.Task[None]] = set()
        while self.left > 0:
            await active.acquire()
            if self.left <= 0:
                active.release()
                break
            name = self.rng.choices(names, weights)[0]
            self.flows[name] += 1
            task = asyncio.create_task(one(name))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            await asyncio.sleep(0)  # let it take its first ticket before the next flow is chosen
        await asyncio.gather(*tasks)


def has_action(payload: dict[str, Any], action_id: str) -> bool:
    return any(element.get("action_id") == action_id for block in payload.get("blocks") or []
               for element in block.get("elements") or [] if isinstance(element, dict))


def as_message(answer: dict[str, Any]) -> dict[str, Any]:
    """The posted answer as the message a click carries (one ts kept across clicks on it)."""
    return {"text": answer.get("text") or "", "blocks": answer.get("blocks") or [], "ts": f"{time.time():.6f}"}


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds` unless `stop` is set first; True when it was."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def sprinkle_faults(base: str, rng: random.Random, stop: asyncio.Event,
                          log: list[tuple[str, str, float]]) -> None:
    """One back end at a time: a fault for 1-3 s, then set right, then 1.5-3.5 s of calm."""
    async with httpx.AsyncClient(timeout=5) as http:
        while not await pause(stop, rng.uniform(1.5, 3.5)):
            kind = rng.choice(KINDS)
            name, spec = rng.choice(FAULTS)
            started = time.monotonic()
            (await http.post(f"{base}/{kind}/_faults", json=spec)).raise_for_status()
            await pause(stop, rng.uniform(1.0, 3.0))
            (await http.delete(f"{base}/{kind}/_faults")).raise_for_status()
            log.append((kind, name, time.monotonic() - started))


# -- the audit log ---------------------------------------------------------------------------------------------

def read_only(db_path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    connection.row_factory = sqlite3.Row
    return connection


def settle(db_path: Path, timeout: float = 60.0) -> tuple[float, int]:
    """Wait until the app's work is done: no `started` audit row and the row count still for 2 s."""
    started = time.monotonic()
    last, still_since = -1, time.monotonic()
    while time.monotonic() - started < timeout:
        with read_only(db_path) as db:
            rows = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
            running = db.execute("SELECT COUNT(*) FROM audit WHERE outcome = 'started'").fetchone()[0]
        if rows != last:
            last, still_since = rows, time.monotonic()
        elif running == 0 and time.monotonic() - still_since >= 2.0:
            break
        time.sleep(0.25)
    with read_only(db_path) as db:
        running = db.execute("SELECT COUNT(*) FROM audit WHERE outcome = 'started'").fetchone()[0]
    return time.monotonic() - started, running


@dataclass
class AuditCheck:
    expected: int = 0
    found: int = 0
    lost: int = 0
    extra: int = 0
    lost_where: list[str] = field(default_factory=list)
    extra_where: list[str] = field(default_factory=list)
    assistant_rows: int = 0
    other_rows: int = 0
    started: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    tables: dict[str, int] = field(default_factory=dict)


def check_audit(db_path: Path, expect: dict[str, Expect]) -> AuditCheck:
    check = AuditCheck()
    by_channel: dict[str, list[sqlite3.Row]] = defaultdict(list)
    with read_only(db_path) as db:
        for row in db.execute("SELECT id, channel, surface, operation, outcome, params FROM audit"):
            if row["surface"] == "assistant":
                check.assistant_rows += 1
                continue
            check.outcomes[row["outcome"]] += 1
            check.started += row["outcome"] == "started"
            if row["channel"] in expect:
                by_channel[row["channel"]].append(row)
            else:
                check.other_rows += 1
        for table in ("confirmations", "seen_deliveries", "channel_pacing", "create_claims"):
            with contextlib.suppress(sqlite3.Error):  # a table this version does not have
                check.tables[table] = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    for channel, want in expect.items():
        rows = by_channel.get(channel, [])
        expected = want.rows + want.messages
        for row in rows:
            if row["operation"] == "assistant.message":
                requests = json.loads(row["params"] or "{}").get("requests") or []
                expected += sum(1 for r in requests if r.get("risk") == "read")  # changes wait for a button
        check.expected += expected
        check.found += len(rows)
        if len(rows) < expected:
            check.lost += expected - len(rows)
            check.lost_where.append(f"{channel}: {len(rows)} of {expected} ({[r['operation'] for r in rows]})")
        elif len(rows) > expected:
            check.extra += len(rows) - expected
            check.extra_where.append(f"{channel}: {len(rows)} for {expected} ({[r['operation'] for r in rows]})")
    return check


def verify_chain(env: dict[str, str]) -> str:
    done = subprocess.run([*cli(), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return f"exit {done.returncode}: {lines[-1] if lines else ''}"


@dataclass
class Scraped:
    """What the app's own /metrics say: its arrival-to-ack histogram and its back-end requests."""

    ack_buckets: dict[float, float] = field(default_factory=lambda: defaultdict(float))
    backend: Counter[str] = field(default_factory=Counter)
    retries: float = 0.0

    def ack_quantile(self, q: float) -> float:
        """The upper bound of the bucket holding the q-th quantile (seconds; q=1: the slowest ack's bucket)."""
        total = self.ack_buckets.get(float("inf"), 0.0)
        return next((le for le, n in sorted(self.ack_buckets.items()) if total and n >= q * total), float("nan"))

    def acks_over(self, seconds: float) -> int:
        return int(self.ack_buckets.get(float("inf"), 0.0) - self.ack_buckets.get(seconds, 0.0))


def scrape(url: str) -> Scraped:
    from prometheus_client.parser import text_string_to_metric_families

    scraped = Scraped()
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=10).text):
        for s in family.samples:
            if s.name == "projectops_ack_duration_seconds_bucket":
                scraped.ack_buckets[float(s.labels["le"])] += s.value
            elif s.name == "projectops_backend_requests_total":
                scraped.backend[s.labels["status"]] += int(s.value)
            elif s.name == "projectops_backend_retries_total":
                scraped.retries += s.value
    return scraped


# -- the report ------------------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


GROUPS = {"slash commands": ("command", "bad input"), "events (mention, DM)": ("mention", "DM"),
          "button clicks": ("Share", "Next", "Confirm", "Cancel")}


def report(args: argparse.Namespace, load: Load, samples: list[Sample], peak: Sample, audit: AuditCheck,
           faults: list[tuple[str, str, float]], wall: float, cpu: dict[str, float], settled: tuple[float, int],
           chain: str,
           scraped: Scraped, app_log: str, exit_code: int | None) -> None:
    everything = [ms for values in load.acks.values() for ms in values]
    non_2xx = {k: n for k, n in load.statuses.items() if not k.rsplit(" ", 1)[1].startswith("2")}
    print(f"\nsoak: {load.sent} requests ({args.concurrency} in flight at most) in {wall:.1f} s "
          f"= {load.sent / wall:.0f}/s; faults {'off' if args.no_faults else 'on'}, seed {args.seed}")
    mix = Counter({k: len(v) for k, v in load.acks.items()})
    print("mix: " + ", ".join(f"{k} {n}" for k, n in mix.most_common()))
    print(f"CPU during the load ({os.cpu_count()} cores): "
          + ", ".join(f"{name} {sec:.0f} s ({sec / wall:.0%} of a core)" for name, sec in cpu.items()))

    print(f"\n{'acks, ms (sent -> ack, at the sender)':<38} {'n':>6} {'p50':>7} {'p99':>7} {'max':>7} {'>3 s':>5}")
    rows = [("all", everything)] + [(name, [ms for k in kinds for ms in load.acks.get(k, [])])
                                    for name, kinds in GROUPS.items()]
    for name, values in rows:
        slow = sum(ms > SLOW_ACK_MS for ms in values)
        print(f"  {name:<36} {len(values):>6} {pct(values, 50):>7.1f} {pct(values, 99):>7.1f} "
              f"{max(values, default=float('nan')):>7.1f} {slow:>5}")
    bounds = [f"<={scraped.ack_quantile(q) * 1000:.0f}" for q in (0.5, 0.99, 1.0)]
    print(f"  {'in the app (arrival -> ack, /metrics)':<36} {int(scraped.ack_buckets.get(float('inf'), 0)):>6} "
          f"{bounds[0]:>7} {bounds[1]:>7} {bounds[2]:>7} {scraped.acks_over(SLOW_ACK_MS / 1000):>5}")

    errors = sum(non_2xx.values()) + sum(load.transport.values())
    print(f"\nHTTP errors (non-2xx, or no answer at all): {errors}"
          + (f"  {dict(non_2xx)} {dict(load.transport)}" if errors else ""))
    missing = sum(load.unanswered.values())
    print(f"answers seen in Slack: {sum(load.answered.values())}, missing after {ANSWER_TIMEOUT:.0f} s: {missing}"
          + (f" {dict(load.unanswered)}" if missing else "")
          + f"; ack -> answer p50 {pct(load.answer_ms, 50):.0f} ms, p99 {pct(load.answer_ms, 99):.0f} ms")
    if load.skipped:
        print("clicks not made: " + "; ".join(f"{k}: {n}" for k, n in load.skipped.items()))
    by_kind = Counter(name for _, name, _ in faults)
    print(f"faults: {len(faults)} windows, {sum(d for *_, d in faults):.0f} s of {wall:.0f} s ("
          + ", ".join(f"{name} x{n}" for name, n in by_kind.items()) + "); the app's back-end requests by status: "
          + ", ".join(f"{k} {n}" for k, n in scraped.backend.most_common()) + f"; retries {scraped.retries:.0f}")
    refused = dict(load.slack.failures)
    calls = ", ".join(f"{k} {n}" for k, n in load.slack.counts.most_common())
    print(f"Slack API calls: {sum(load.slack.counts.values())} ({calls}); refused {sum(refused.values())}"
          + (f" {refused}" if refused else "") + f"; Block Kit rejections {len(load.slack.rejections)}")

    print(f"\n{'app process':<14} {'requests':>8} {'RSS MB':>8} {'fds':>5} {'SQLite fds':>11} {'SQLite conns':>13} "
          f"{'sockets':>8} {'threads':>8}")
    for s in [*samples, peak]:
        print(f"  {s.label:<12} {s.sent:>8} {s.rss_kb / 1024:>8.1f} {s.fds:>5} {s.db_fds:>11} {s.connections:>13} "
              f"{s.sockets:>8} {s.threads:>8}")
    for s in (samples[0], samples[-1]):
        print(f"  sockets at {s.label}: " + ", ".join(f"{k} {n}" for k, n in s.peers.most_common()))

    print(f"\naudit rows (surface 'assistant' left out): {audit.found} in the soak's channels, {audit.expected} "
          f"expected: lost {audit.lost}, unexpected {audit.extra}; left 'started' {audit.started}; "
          f"outcomes {dict(audit.outcomes)}")
    print(f"  + {audit.assistant_rows} rows of the assistant reading names, {audit.other_rows} elsewhere; "
          f"settled {settled[0]:.1f} s after the last request; hash chain: {chain}")
    print("  tables: " + ", ".join(f"{k} {n}" for k, n in audit.tables.items()))
    for line in audit.lost_where[:10]:
        print(f"  LOST {line}")
    for line in audit.extra_where[:10]:
        print(f"  EXTRA {line}")
    problems = [line for line in app_log.splitlines() if "ERROR" in line or "Traceback" in line]
    stopped = "SIGTERM (uvicorn re-raises it after shutting down)" if exit_code == -signal.SIGTERM else exit_code
    print(f"app log: {len(app_log.splitlines())} lines, {len(problems)} ERROR / Traceback; exit: {stopped}")
    for line in problems[:8]:
        print(f"  {line[:200]}")

    start, warm, middle, end = samples[0], samples[1], samples[-2], samples[-1]
    growth = (end.rss_kb - middle.rss_kb) / 1024
    per_k = growth / max(1, (end.sent - middle.sent) / 1000)
    # pools fill during the first half; over the second the process should hold still
    flat = per_k < 1.0 and end.fds <= middle.fds + 10 and end.threads <= middle.threads + 2
    slow = sum(ms > SLOW_ACK_MS for ms in everything)
    mb = [f"{x.rss_kb / 1024:.0f}" for x in (start, warm, middle, end)]
    print(
        f"\nverdict: {load.sent} requests, {errors} HTTP errors, {slow} acks over 3 s (p99 "
        f"{pct(everything, 99):.0f} ms, max {max(everything, default=0):.0f} ms at the sender). RSS "
        f"{' -> '.join(mb)} MB (start, 10 %, middle, end: {growth:+.1f} MB over the second half, {per_k:+.2f} MB "
        f"per 1,000 requests): {'flat' if flat else 'NOT flat'}; file descriptors {warm.fds} -> {middle.fds} -> "
        f"{end.fds} ({end.db_fds} on the SQLite files), threads {warm.threads} -> {middle.threads} -> "
        f"{end.threads}. Audit: {audit.found} of {audit.expected} expected rows, {audit.lost} lost, "
        f"{audit.extra} unexpected, {audit.started} left open"
        + (f"; {missing} answers never came." if missing else "; every answer came.")
    )


# -- main ------------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-faults", action="store_true", help="no back-end faults")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (database, app log)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    backend_port = free_port()
    backends = multiprocessing.get_context("spawn").Process(target=serve_backends, args=(backend_port,),
                                                            daemon=True)
    backends.start()
    base = f"http://127.0.0.1:{backend_port}"
    app: subprocess.Popen[bytes] | None = None
    slack_server = None
    try:
        slack = SoakSlack()
        slack_server = slack.serve()
        users = ["U0ADMIN", "U0OPERATOR", "U0VIEWER"] + [f"U0SOAK{i:02d}" for i in range(12)]
        for user in users[3:]:
            slack.add_user(user, f"soak.{user[-2:]}")

        config_path, db_path, log_path = workdir / "config.yml", workdir / "projectops.db", workdir / "app.log"
        config_path.write_text(yaml.safe_dump(demo_config(base, list(KINDS))))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "PROJECTOPS_")) or k == "PROJECTOPS_LOG_FORMAT"}
        env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
                   PROJECTOPS_CONFIG=str(config_path), PROJECTOPS_DB=str(db_path))
        port = free_port()
        log_file = log_path.open("wb")
        app = subprocess.Popen(app_command(port), env=env, stdout=log_file, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz")  # the back ends start meanwhile
        httpx.post(f"{base}/phoenix/_admin/bulk", json={"projects": 25, "prefix": "soak"}).raise_for_status()
        wait_until_up(f"{url}/readyz", app)
        PORTS.update({backend_port: "back ends", slack_server.port: "Slack", port: "the sender"})
        print(f"projectops pid {app.pid} on {url}, back ends on {base}, Slack on {slack.base_url}; work dir {workdir}")

        builder = SlackRequestBuilder(SECRET).attach(slack)
        samples = [sample(app.pid, "start", 0, db_path)]
        peak = samples[0]
        marks = {max(1, args.requests // 10): "10 %", max(1, args.requests // 2): "middle"}

        cpu: dict[str, float] = {}

        async def soak() -> tuple[Load, list[tuple[str, str, float]], float]:
            nonlocal peak
            faults: list[tuple[str, str, float]] = []
            stop = asyncio.Event()
            cpu.clear()
            limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
            async with httpx.AsyncClient(timeout=15, limits=limits) as http:
                load = Load(f"{url}/slack/events", slack, builder, http, args.requests, args.concurrency, rng, users)

                def progress(sent: int) -> None:
                    if sent in marks:
                        samples.append(sample(app.pid, marks[sent], sent, db_path))
                    if sent % 1000 == 0:
                        now = sample(app.pid, "", sent, db_path)
                        print(f"  {sent} sent, {time.monotonic() - started:.0f} s: RSS {now.rss_kb / 1024:.1f} MB, "
                              f"{now.fds} fds, {now.threads} threads", flush=True)

                async def watch() -> None:
                    nonlocal peak
                    while not stop.is_set():
                        now = sample(app.pid, "peak", load.sent, db_path)
                        if now.rss_kb > peak.rss_kb:
                            peak = now
                        await asyncio.sleep(0.5)

                load.progress = progress
                started = time.monotonic()
                processes = {"the app": app.pid, "this process (sender, Slack)": "self", "back ends": backends.pid}
                cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
                background = [asyncio.create_task(watch())]
                if not args.no_faults:
                    calls = sprinkle_faults(base, random.Random(args.seed + 1), stop, faults)
                    background.append(asyncio.create_task(calls))
                await load.run()
                wall = time.monotonic() - started
                cpu.update({name: cpu_seconds(pid) - cpu_before[name] for name, pid in processes.items()})
                stop.set()
                await asyncio.gather(*background)
            return load, faults, wall

        load, faults, wall = asyncio.run(soak())
        settled = settle(db_path)
        scraped = scrape(url)
        end = sample(app.pid, "end", load.sent, db_path)
        samples.append(end)
        peak = max(peak, end, key=lambda s: s.rss_kb)
        peak = Sample("peak", peak.sent, peak.rss_kb, peak.fds, peak.db_fds, peak.connections, peak.sockets,
                      peak.threads)
        audit = check_audit(db_path, load.expect)
        app.send_signal(signal.SIGTERM)
        try:
            exit_code: int | None = app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
            exit_code = app.wait()
        log_file.close()
        chain = verify_chain(env)
        report(args, load, samples, peak, audit, faults, wall, cpu, settled, chain, scraped,
               log_path.read_text(errors="replace"), exit_code)
    finally:
        if app is not None and app.poll() is None:
            app.kill()
            app.wait()
        if slack_server is not None:
            slack_server.stop()
        backends.terminate()
        backends.join(5)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
