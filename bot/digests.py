"""Job-health and storage digests, built fresh from the back ends and rendered for Slack.

Every target, project and page is fetched concurrently (bounded by the config's `digests.fanout`), so a digest
takes about as long as its longest chain of requests (list the projects, then each project's jobs and tables
together) plus the CPU its requests cost. A back end that fails becomes a line in the digest.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bot.backends.http import budget, instrument, remaining_seconds
from bot.backends.transport import PooledTransport
from bot.errors import OpError
from bot.settings import ALERT_PERCENT, FLAG_PERCENT
from bot.ui import blocks as bk
from bot.ui.blocks import Rendered
from bot.ui.paging import OPTION_VALUE_MAX, overflow_menu

T = TypeVar("T")
log = logging.getLogger("projectops.digests")

THRESHOLD = FLAG_PERCENT / 100  # storage share flagged at the top of a digest (config: digests.flag_percent)
ALERT_FRACTION = ALERT_PERCENT / 100  # storage share that raises an alert (config: digests.alert_percent)
LONG_RUNNING = timedelta(hours=2)
STUCK = timedelta(hours=6)  # an active job with no update for this long
FIRST_WINDOW = timedelta(days=1)  # "failed since the last digest" on the first digest
TABLE_PROJECTS = 10  # projects whose largest tables are listed
STORAGE_ROWS = 15
JOB_SECTIONS = 30
KIND_LABEL = {"phoenix": "Phoenix", "terraform": "Terraform"}
GB = 1_000_000_000
#: How long one target may take in a scheduled digest or alert check (a command has its own bound).
SCHEDULED_TARGET_SECONDS = 120.0


@dataclass
class JobLine:
    target: str
    project: str
    job_id: str
    type: str
    table: str
    health: str
    status: str
    updated: datetime | None
    reason: str  # error | warn | failed | stuck | long-running
    message: str = ""
    project_uid: str = ""
    active: bool = False  # still pending, running, idle or suspended: it can be cancelled

    def command(self, verb: str) -> str:
        """The `/projects` text for `job <verb>` on this job: by project name, or by uid when the name would
        not fit in a menu option's 150 characters."""
        text = f"job {verb} {self.target} {shlex.quote(self.project)} {self.job_id}"
        if len(text) > OPTION_VALUE_MAX and self.project_uid:
            text = f"job {verb} {self.target} {self.project_uid} {self.job_id}"
        return text

    def menu(self) -> dict[str, Any] | None:
        """Logs and details for every job; Cancel… (confirmed like any cancel) for one still active."""
        verbs = [("Logs", "logs"), ("Details", "show")] + ([("Cancel…", "cancel")] if self.active else [])
        return overflow_menu([(label, self.command(verb)) for label, verb in verbs])


@dataclass
class StorageLine:
    target: str
    project: str
    uid: str
    current: int
    max: int | None
    deep: int
    previous: int | None = None
    tables: list[tuple[str, int]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.target}/{self.uid}"

    @property
    def fraction(self) -> float | None:
        return self.current / self.max if self.max else None


@dataclass
class Digest:
    kinds: set[str]
    at: datetime
    since: datetime
    jobs: list[JobLine] = field(default_factory=list)
    projects_checked: int = 0
    storage: list[StorageLine] = field(default_factory=list)
    counts: list[tuple[str, str, int]] = field(default_factory=list)  # (target, kind, projects)
    down: list[str] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)  # targets that did not answer at all
    unread: set[tuple[str, str]] = field(default_factory=set)  # (target, project) whose jobs could not be read
    threshold: float = THRESHOLD  # storage share flagged at the top
    targets: int = 0  # how many targets this digest set out to read
    alert_at: float = ALERT_FRACTION  # storage share that is an alert condition

    @property
    def blind(self) -> bool:
        """Whether no target answered at all: the digest has no figures, and must not read as "all is well"."""
        return self.targets > 0 and len(self.unreachable) >= self.targets

    def unknown(self, key: str) -> bool:
        """Whether this digest could not see the subject of an alert key (so it cannot have recovered)."""
        kind, _, rest = key.partition(":")
        target, _, subject = rest.partition(":")  # target names have no ':'; project names may
        project = subject.rpartition(":")[0] if kind == "job" else None  # job:<target>:<project>:<job id>
        return target in self.unreachable or (project is not None and (target, project) in self.unread)

    def figures(self) -> dict[str, Any]:
        """What the next digest compares against."""
        return {"storage": {s.key: s.current for s in self.storage}}

    def alert_conditions(self) -> dict[str, str]:
        """Alert key -> what it is about: jobs in `error`, projects at or over `alert_at` of their storage."""
        found = {}
        for job in self.jobs:
            if job.health == "error":
                found[f"job:{job.target}:{job.project}:{job.job_id}"] = (
                    f":red_circle: Job `{job.job_id}` ({job.type} → `{job.table or '?'}`) in "
                    f"*{job.target} / {job.project}* is in `error` health"
                    + (f": {bk.clip(job.message, 300)}" if job.message else ".")
                )
        for line in self.storage:
            if line.fraction is not None and line.fraction >= self.alert_at:
                found[f"storage:{line.target}:{line.uid}"] = (
                    f":large_orange_circle: *{line.target} / {line.project}* uses {line.fraction:.0%} of its "
                    f"storage ({size(line.current)} of {size(line.max)})."
                )
        return found


class FanoutClients:
    """Back-end clients for digests: Polaris gets its own client with `digests.fanout` connections, since a digest
    reads every project's jobs at once; the other back ends use the app's shared clients."""

    def __init__(self, services: Any, width: int | None = None) -> None:
        self.services = services
        self.width = width or services.config.digests.fanout
        self._own: dict[str, Any] = {}

    async def get(self, target: Any) -> Any:
        if target.kind != "polaris":
            return await self.services.clients.get(target)
        if target.name not in self._own:
            from bot.backends.polaris import PolarisClient

            self._own[target.name] = PolarisClient(target, transport=PooledTransport(self.width, target.url))
            instrument(self._own[target.name], target.name, getattr(self.services, "metrics", None))
        return self._own[target.name]

    async def aclose(self) -> None:
        for client in self._own.values():
            await client.aclose()
        self._own.clear()


def size(value: int | None) -> str:
    if value is None:
        return "?"
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value} B"


def _why(exc: BaseException) -> str:
    """Why a back end is missing from a digest, in words (never an exception's class name)."""
    if isinstance(exc, OpError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    log.warning("a digest could not read a back end: %r", exc)
    return "its answer could not be read (details in the app log)"


def classify(job: Any, since: datetime, now: datetime) -> str | None:
    """Why a Polaris job belongs in the digest, or None."""
    health = job.health.status
    if health == "error":
        return "error"
    if health == "warn":
        return "warn"
    updated = job.last_updated_timestamp or job.created_timestamp
    if job.execution_status == "failed":
        done = job.completed_timestamp or updated
        return "failed" if done is None or done >= since else None
    if job.active and job.type != "streaming":  # streaming jobs run for ever by design
        if updated is not None and now - updated >= STUCK:
            return "stuck"
        started = job.started_timestamp or job.created_timestamp
        if started is not None and now - started >= LONG_RUNNING:
            return "long-running"
    return None


async def build_digest(
    services: Any,
    kinds: set[str],
    targets: list[str] | None = None,
    *,
    since: datetime | None = None,
    previous: dict[str, Any] | None = None,
    now: datetime | None = None,
    clients: FanoutClients | None = None,
    tables: bool = True,
    threshold: float = THRESHOLD,
    alert_at: float = ALERT_FRACTION,
) -> Digest:
    """A digest of `kinds` ({"job-health", "storage"}) over `targets` (all suitable ones when empty); storage at
    `threshold` or more is flagged, at `alert_at` or more it is an alert condition."""
    now = now or datetime.now(UTC)
    digest = Digest(kinds=set(kinds), at=now, since=since or now - FIRST_WINDOW, threshold=threshold,
                    alert_at=alert_at)
    prior = (previous or {}).get("storage", {})
    clients = clients or FanoutClients(services)
    gate = asyncio.Semaphore(services.config.digests.fanout)

    async def call(make: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await make()

    config = services.config
    for name in targets or ():
        if name not in config.targets:  # a subscription outlived its target
            digest.down.append(f"`{name}`: no longer in the projectops config")
            digest.unreachable.add(name)
    wanted = [config.targets[n] for n in targets if n in config.targets] if targets else list(config.targets.values())
    wanted = [t for t in wanted if t.kind == "polaris" or ("storage" in kinds and t.kind in KIND_LABEL)]

    async def polaris(target: Any) -> None:
        client = await clients.get(target)
        projects = await call(client.list_projects)
        if "storage" in kinds:
            for p in projects:
                st = p.status
                digest.storage.append(StorageLine(target.name, p.name, p.uid, st.current_bytes or 0, st.max_bytes,
                                                  st.deep_storage_bytes or 0, prior.get(f"{target.name}/{p.uid}")))
        shortlist = {s.uid for s in _ranked(s for s in digest.storage if s.target == target.name)[:TABLE_PROJECTS]}

        lines = {s.uid: s for s in digest.storage if s.target == target.name}
        want_jobs = "job-health" in kinds

        async def attempt(p: Any, make: Callable[[], Awaitable[T]]) -> T | None:
            try:
                return await call(make)
            except Exception as exc:  # this project's line says so; the rest of the digest goes on
                digest.down.append(f"`{target.name}` / {p.name}: {_why(exc)}")
                digest.unread.add((target.name, p.name))
                return None

        async def one(p: Any) -> None:
            client = await clients.get(target)
            want_tables = tables and p.uid in shortlist
            read_jobs = attempt(p, lambda: client.list_jobs(p.uid)) if want_jobs else _nothing()
            if want_tables:  # the few largest projects: their tables too, at the same time
                jobs, found = await asyncio.gather(read_jobs, attempt(p, lambda: client.list_tables(p.uid)))
            else:
                jobs, found = await read_jobs, None
            for job in jobs or ():
                reason = classify(job, digest.since, now)
                if reason:
                    digest.jobs.append(JobLine(
                        target.name, p.name, job.id, job.type, job.table, job.health.status,
                        job.execution_status, job.last_updated_timestamp, reason, job.health.message or "",
                        p.uid, job.active,
                    ))
            if found is not None and p.uid in lines:
                ranked = sorted(((t.name, t.total_data_size_bytes or 0) for t in found), key=lambda t: -t[1])
                lines[p.uid].tables = ranked[:3]

        await asyncio.gather(*(one(p) for p in projects))
        digest.projects_checked += len(projects)

    async def count(target: Any) -> None:
        client = await clients.get(target)
        digest.counts.append((target.name, target.kind, await call(client.count_projects)))

    # each target's share of the time: inside a command (`digest now`) its share of what is left, so the digest is
    # posted within the command's bound; on a schedule, nobody waits on it, so big organizations get time
    left = remaining_seconds()
    limit = SCHEDULED_TARGET_SECONDS if left is None else max(0.5, min(config.backends.per_target_seconds,
                                                                        left * 0.8))

    async def guarded(target: Any) -> None:
        try:
            with budget(limit):
                await asyncio.wait_for(polaris(target) if target.kind == "polaris" else count(target), limit + 0.25)
        except Exception as exc:  # one back end down is a line, not a missing digest
            digest.down.append(f"`{target.name}` ({target.kind}): {_why(exc)}")
            digest.unreachable.add(target.name)

    digest.targets = len(wanted) + len(digest.unreachable)
    await asyncio.gather(*(guarded(t) for t in wanted))
    digest.counts.sort()
    digest.storage = _ranked(digest.storage)
    order = {"error": 0, "failed": 1, "stuck": 2, "warn": 3, "long-running": 4}
    digest.jobs.sort(key=lambda j: (order[j.reason], j.target, j.project, j.job_id))
    return digest


async def _nothing() -> None:
    return None


def _ranked(lines: Any) -> list[StorageLine]:
    return sorted(lines, key=lambda s: (-(s.fraction or 0), -s.current, s.project))


# ---------------------------------------------------------------- rendering

MARK = {"error": ":red_circle:", "failed": ":x:", "stuck": ":hourglass:", "warn": ":warning:",
        "long-running": ":snail:"}


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment else "never"


def render_jobs(digest: Digest) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [bk.header("Job health digest")]
    if not digest.jobs and not digest.projects_checked:
        blocks.append(bk.section("No Polaris project was checked, so there is no job health to report."))
        return blocks
    if not digest.jobs:
        blocks.append(bk.section(f":white_check_mark: All healthy: {digest.projects_checked} projects checked, "
                                 "no job in error or warn, none failed or stuck."))
        return blocks
    tally: dict[str, int] = {}
    for job in digest.jobs:
        tally[job.reason] = tally.get(job.reason, 0) + 1
    projects = len({(j.target, j.project) for j in digest.jobs})
    summary = " · ".join(f"{MARK[r]} {n} {r}" for r, n in tally.items())
    blocks.append(bk.section(f"{summary} in {projects} of {digest.projects_checked} projects "
                             f"(failures since {_when(digest.since)})."))
    for job in digest.jobs[:JOB_SECTIONS]:
        text = (f"{MARK[job.reason]} *{job.target} / {job.project}* · `{job.job_id}` {job.type} → "
                f"`{job.table or '?'}` · {job.reason} ({job.status}, health {job.health}) · "
                f"updated {_when(job.updated)}")
        if job.message:
            text += f"\n{bk.clip(job.message, 500)}"
        blocks.append(bk.section(text, accessory=job.menu()))
    if len(digest.jobs) > JOB_SECTIONS:
        blocks.append(bk.context(f"…and {len(digest.jobs) - JOB_SECTIONS} more jobs; "
                                 "`/projects job list <target> <project> --health error` narrows it down."))
    return blocks


def _pct(line: StorageLine) -> str:
    return f"{line.fraction:.0%}" if line.fraction is not None else "?"


def _change(line: StorageLine) -> str:
    if line.previous is None:
        return "new"
    delta = line.current - line.previous
    return "±0" if delta == 0 else ("+" if delta > 0 else "-") + size(abs(delta))


def render_storage(digest: Digest) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [bk.header("Storage digest")]
    over = [s for s in digest.storage if s.fraction is not None and s.fraction >= digest.threshold]
    if over:
        lines = [f":large_orange_circle: *{s.target} / {s.project}* {_pct(s)} ({size(s.current)} of {size(s.max)})"
                 for s in over[:20]]
        if len(over) > 20:
            lines.append(f"…and {len(over) - 20} more over {digest.threshold:.0%}")
        blocks.append(bk.section(f"*Over {digest.threshold:.0%} of their storage*\n" + "\n".join(lines)))
    lines = []
    for s in digest.storage[:STORAGE_ROWS]:
        line = (f"*{s.target} / {s.project}*: {size(s.current)} / {size(s.max)} ({_pct(s)}) · "
                f"deep {size(s.deep)} · change {_change(s)}")
        if s.tables:
            line += "\n    largest: " + ", ".join(f"`{n}` {size(b)}" for n, b in s.tables)
        lines.append(line)
    if lines:
        blocks.extend(bk.line_sections(lines))
    if len(digest.storage) > STORAGE_ROWS:
        total = sum(s.current for s in digest.storage)
        blocks.append(bk.context(f"{len(digest.storage) - STORAGE_ROWS} more Polaris projects; "
                                 f"{len(digest.storage)} in all use {size(total)}."))
    if digest.counts:
        blocks.append(bk.section(" · ".join(f"{KIND_LABEL.get(k, k)} `{t}`: {n} projects"
                                            for t, k, n in digest.counts)))
    return blocks


def render_digest(digest: Digest) -> Rendered:
    names = " and ".join(sorted(k.replace("-", " ") for k in digest.kinds))
    footer = bk.context(f"Built {_when(digest.at)} · `/projects digest list` shows the subscriptions.")
    if digest.blind:  # nothing was read: say so, never "0 jobs need attention"
        which = "The back end did not answer" if digest.targets == 1 else \
            f"None of the {digest.targets} back ends answered"
        shown = [bk.section(f":x: *{which}, so this {names} digest has no figures.*"),
                 *bk.line_sections(digest.down[:20]), footer]
        text = f"projectops {names} digest: no back end answered, so there is nothing to report"
        return Rendered(text=text, blocks=_fit(shown))
    blocks: list[dict[str, Any]] = []
    if digest.down:
        blocks += bk.line_sections([":warning: *Not reachable, so missing from this digest:*", *digest.down[:20]])
    if "storage" in digest.kinds:
        blocks += render_storage(digest)
    if "job-health" in digest.kinds:
        blocks += render_jobs(digest)
    blocks.append(footer)
    jobs = f", {len(digest.jobs)} jobs need attention" if "job-health" in digest.kinds else ""
    missing = f" ({len(digest.unreachable)} target{'s' if len(digest.unreachable) != 1 else ''} not reachable)" \
        if digest.unreachable else ""
    return Rendered(text=f"projectops {names} digest{jobs}{missing}", blocks=_fit(blocks))


def _fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the last (context) block and the "not reachable" lines when trimming to 50 blocks."""
    if len(blocks) <= bk.MAX_MESSAGE_BLOCKS:
        return blocks
    return [*bk.fit_message(blocks[:-1])[: bk.MAX_MESSAGE_BLOCKS - 1], blocks[-1]]
