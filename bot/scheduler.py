"""Digest schedules and the in-process scheduler that posts them, plus alerts between digests.

Schedules read naturally (`hourly`, `daily 09:00`, `weekdays 08:30`, `weekly mon 09:00`) or as five-field
cron, in a time zone. `DigestScheduler.run_due(now)` posts every digest that is due once (a missed run is
caught up once, never replayed per missed slot). The clock is injectable, so tests move time by calling
`run_due(moment)`.

Several replicas: exactly one leads the schedule. `run_forever` claims the lease `scheduler` in the database
(`Store.leases`, timed on the database's clock) and renews it every third of `digests.leader_lease_seconds`; only
the holder ticks. A follower asks again at the same pace, so a leader that dies is replaced within
`leader_lease_seconds` (plus one renewal period). A leader whose renewal fails steps down before its lease can
expire and cancels the run in progress. Each slot is still claimed atomically (`claim_run`), so a slot is posted
once even around a change of leader; a run cancelled before it posted (the app stopping, the lead lost) hands its
slot back (`release_run`) for the next leader. The one window left: a leader killed outright between claiming a
slot and posting it loses that one slot (posting twice would be worse).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError

from bot.digests import Digest, FanoutClients, build_digest, render_digest, size
from bot.errors import UsageError
from bot.metrics import metrics_of
from bot.pacing import ChannelPacer
from bot.store.audit import AuditEntry
from bot.store.digests import Subscription
from bot.store.errors import StoreError
from bot.store.leases import Lease
from bot.ui import blocks as bk
from bot.ui.charts import render_storage_chart
from bot.ui.mrkdwn import channel, code, md

log = logging.getLogger("projectops.scheduler")

Clock = Callable[[], datetime]
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron numbers 0..6 (7 is Sunday too)
SCHEDULE_HELP = "Schedules: `hourly`, `daily 09:00`, `weekdays 08:30`, `weekly mon 09:00`, or cron `30 8 * * 1-5`."
TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
SCHEDULE_WORDS = ("hourly", "daily", "weekdays", "weekly")
#: The lease whose holder runs the schedule (digests and alert checks) among every replica on one database.
LEADER_LEASE = "scheduler"


def holder_id() -> str:
    """Who holds the lead, as the lease row shows it: host, process and a random part (pids repeat in containers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- schedules

def _field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> frozenset[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        else:
            bounds = [names.index(b[:3]) if b[:3] in names else int(b) for b in base.split("-", 1)]
            start = bounds[0]
            end = bounds[1] if len(bounds) > 1 else (high if step_text else start)
        top = 7 if names else high
        if step < 1 or not low <= start <= end <= top:
            raise ValueError(part)
        values.update(v % 7 if names else v for v in range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    """A five-field cron expression read in the time zone `tz`; `text` is how it was typed."""

    text: str
    cron: str
    tz: str

    def fields(self) -> tuple[frozenset[int], ...]:
        minute, hour, dom, month, dow = self.cron.split()
        return (_field(minute, 0, 59), _field(hour, 0, 23), _field(dom, 1, 31), _field(month, 1, 12),
                _field(dow, 0, 6, DAYS))

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment`, in UTC."""
        minutes, hours, doms, months, dows = self.fields()
        parts = self.cron.split()
        dom_any, dow_any = parts[2] == "*", parts[4] == "*"
        zone = ZoneInfo(self.tz)
        local = moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        day = local.date()
        for _ in range(366 * 8):
            dow = (day.weekday() + 1) % 7
            if dom_any or dow_any:
                day_ok = (dom_any or day.day in doms) and (dow_any or dow in dows)
            else:  # cron: either day field matches when both are restricted
                day_ok = day.day in doms or dow in dows
            if day_ok and day.month in months:
                for hour in sorted(hours):
                    for minute in sorted(minutes):
                        candidate = datetime(day.year, day.month, day.day, hour, minute)
                        if candidate >= local:
                            return candidate.replace(tzinfo=zone).astimezone(UTC)
            day += timedelta(days=1)
        raise UsageError(f"The schedule `{self.text}` never fires.", SCHEDULE_HELP)

    def describe(self) -> str:
        return f"{self.text} ({self.tz})"


def check_tz(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"`{tz}` is not a time zone I know.", "Use an IANA name such as `Europe/Paris`.") from None
    return tz


def is_schedule_start(word: str) -> bool:
    """Whether `word` can begin a schedule (used to tell targets from the schedule)."""
    return word.lower() in SCHEDULE_WORDS or bool(re.fullmatch(r"[0-9*][0-9*,/\-]*", word))


def parse_schedule(words: list[str], tz: str) -> Schedule:
    """Read the schedule words in `tz`; raises UsageError saying what is wrong."""
    tz = check_tz(tz)
    low = [w.lower() for w in words]
    text = " ".join(low)

    def at(word: str) -> tuple[int, int]:
        match = TIME.match(word)
        if not match:
            raise UsageError(f"`{word}` is not a time of day (HH:MM, 24-hour).", SCHEDULE_HELP)
        return int(match.group(1)), int(match.group(2))

    if low == ["hourly"]:
        return Schedule(text, "0 * * * *", tz)
    if len(low) == 2 and low[0] in ("daily", "weekdays"):
        hour, minute = at(low[1])
        return Schedule(text, f"{minute} {hour} * * {'*' if low[0] == 'daily' else '1-5'}", tz)
    if len(low) == 3 and low[0] == "weekly":
        if low[1][:3] not in DAYS:
            raise UsageError(f"`{low[1]}` is not a day of the week.", SCHEDULE_HELP)
        hour, minute = at(low[2])
        return Schedule(text, f"{minute} {hour} * * {DAYS.index(low[1][:3])}", tz)
    if len(low) == 5:
        schedule = Schedule(text, text, tz)
        try:
            schedule.fields()
        except (ValueError, IndexError):
            raise UsageError(f"`{text}` is not a cron expression I can read.", SCHEDULE_HELP) from None
        return schedule
    raise UsageError(f"I cannot read the schedule `{text}`." if text else "The digest needs a schedule.",
                     SCHEDULE_HELP)


def schedule_of(sub: Subscription) -> Schedule:
    return parse_schedule(sub.schedule.split(), sub.tz)


# ---------------------------------------------------------------- posting

class ChannelPoster:
    """chat.postMessage and files_upload_v2 with at most one message per second per channel, 429s retried."""

    def __init__(self, slack: Any, pacer: ChannelPacer, retries: int = 3) -> None:
        self.slack = slack
        self.retries = retries
        self.pacer = pacer

    async def _call(self, where: str, method: str, **kwargs: Any) -> Any:
        for attempt in range(self.retries + 1):
            await self.pacer.turn(where)
            try:
                return await getattr(self.slack, method)(**kwargs)
            except SlackApiError as exc:
                if exc.response.status_code != 429 or attempt == self.retries:
                    raise
                retry_after = float(exc.response.headers.get("Retry-After", 1) or 1)
                await asyncio.sleep(min(retry_after, 30.0))
        raise AssertionError("unreachable")

    async def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> Any:
        return await self._call(channel, "chat_postMessage", channel=channel, text=bk.fallback(text), blocks=blocks)

    async def upload(self, channel: str, content: bytes, filename: str, title: str, alt: str) -> Any:
        return await self._call(channel, "files_upload_v2", channel=channel, file=content, filename=filename,
                                title=title, alt_txt=alt)


# ---------------------------------------------------------------- scheduler

class DigestScheduler:
    """Runs due digests and alert checks; `run_forever` is the background task of a running app."""

    def __init__(self, services: Any, *, clock: Clock = utcnow, tick_seconds: float | None = None,
                 alert_every: timedelta | None = None, lease_seconds: float | None = None) -> None:
        self.services = services
        self.clock = clock
        self.limits = services.config.digests
        self.tick_seconds = tick_seconds or self.limits.tick_seconds
        self.lease_seconds = lease_seconds or self.limits.leader_lease_seconds
        self.alert_every = alert_every or timedelta(minutes=self.limits.alert_check_minutes)
        self.store = services.store.digests
        self.poster = ChannelPoster(services.slack, services.pacer)
        self.clients = FanoutClients(services)
        self.holder = holder_id()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.lease: Lease | None = None  # the lead, while this scheduler holds it
        self._lead_until = 0.0  # monotonic: when this scheduler stops counting itself leader without a renewal
        self._last_alert_check: datetime | None = None
        self._store_down = False

    def threshold_of(self, sub: Subscription) -> float:
        """The storage share flagged in this subscription's digests."""
        return (sub.threshold or self.limits.flag_percent) / 100

    async def run_due(self, now: datetime | None = None) -> list[int]:
        """Post every digest due at `now` (once, even if several slots were missed); returns their ids."""
        now = now or self.clock()
        posted = []
        for sub in self.store.due(now):
            try:
                following = schedule_of(sub).next_after(now)
            except UsageError:
                log.warning("digest %s has an unreadable schedule %r; skipped", sub.id, sub.schedule)
                continue
            if not self.store.claim_run(sub, following, now, self.holder):
                continue  # another process holds this run
            if await self.run_audited(sub, now, following):
                posted.append(sub.id)
        return posted

    async def run_audited(self, sub: Subscription, now: datetime, following: datetime | None = None) -> bool:
        """A scheduled run: one audit row (on behalf of the subscriber), and a DM to them when it cannot post.

        Cancelled before it posted (the app stopping, the lead lost), the run hands its slot back when it was
        claimed for `following`, so the next leader posts it."""
        audit = self.services.audit
        entry = AuditEntry(user=sub.created_by, operation="digest.run", surface="schedule", channel=sub.channel,
                           params={"id": sub.id, "kind": sub.kind, "targets": sub.targets})
        row = await asyncio.to_thread(audit.start, entry)
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        progress: dict[str, bool] = {}
        try:
            await self.run_subscription(sub, now, progress=progress)
        except asyncio.CancelledError:  # the app is stopping: the row must not stay "started"
            handed_back = False
            try:
                if following is not None and not progress.get("posted"):
                    handed_back = self.store.release_run(sub, following, self.holder)
                why = "the app stopped during the run" + ("; the run was handed back" if handed_back else "")
                audit.finish(row, "failed", error=why, duration_ms=took())
            except Exception:  # the cancellation must go on whatever happens here
                log.exception("could not close the audit row of digest %s", sub.id)
            raise
        except Exception as exc:
            why = post_failure(exc)
            if not isinstance(exc, SlackApiError):
                log.exception("digest %s failed", sub.id)
            await asyncio.to_thread(audit.finish, row, "failed", error=why, duration_ms=took())
            metrics_of(self.services).scheduled_run("digest", "failed")
            if self.store.mark_failing(sub.id, True):  # once per run of failures, not every hour
                await self._tell_subscriber(sub, why)
            return False
        await asyncio.to_thread(audit.finish, row, "succeeded", duration_ms=took())
        metrics_of(self.services).scheduled_run("digest", "ok")
        self.store.mark_failing(sub.id, False)
        return True

    async def _tell_subscriber(self, sub: Subscription, why: str) -> None:
        if not sub.created_by:
            return
        text = md(":warning: Digest #{} ({} → {}) could not be posted: {} Fix that, or stop it with {}.", sub.id,
                  sub.kind, channel(sub.channel), why, code(f"/projects digest remove {sub.id}"))
        try:
            await self.poster.post(sub.created_by, text, [bk.section(text)])
        except Exception as exc:
            log.warning("could not tell %s that digest %s failed: %s", sub.created_by, sub.id, post_failure(exc))

    async def run_subscription(self, sub: Subscription, now: datetime | None = None, *,
                               progress: dict[str, bool] | None = None) -> Any:
        """Build the digest fresh, post it (and the storage chart), remember its figures. `progress["posted"]`
        turns True once the message is out."""
        now = now or self.clock()
        since, previous = self.store.figures(sub.id)
        digest = await build_digest(self.services, sub.kinds, sub.targets or None, since=since, previous=previous,
                                    now=now, clients=self.clients, threshold=self.threshold_of(sub),
                                    alert_at=self.limits.alert_percent / 100)
        rendered = render_digest(digest)
        response = await self.poster.post(sub.channel, rendered.text, rendered.blocks)
        if progress is not None:
            progress["posted"] = True
        if "storage" in digest.kinds and digest.storage:
            rows = [(f"{s.target}/{s.project}", s.current, s.max, s.previous) for s in digest.storage]
            png = await render_storage_chart(rows, "Polaris storage used per project", digest.threshold)
            total = size(sum(s.current for s in digest.storage))
            try:
                await self.poster.upload(sub.channel, png, "storage.png", "Storage used per project",
                                         f"Bar chart of storage used by {len(rows)} Polaris projects, {total} in all.")
            except SlackApiError as exc:
                log.warning("digest %s chart upload failed: %s", sub.id, exc.response.get("error"))
        self.store.save_figures(sub.id, now, digest.figures())
        for key, subject in digest.alert_conditions().items():  # already told in the digest
            self.store.raise_alert(f"{sub.channel}|{key}", sub.channel, subject, now)
        return response

    async def check_alerts(self, now: datetime | None = None) -> int:
        """Post one alert per new crossing and one note per recovery; returns the messages posted.

        One look at the back ends serves every subscription: it covers the union of their targets and kinds,
        and each subscription takes the conditions about its own."""
        now = now or self.clock()
        subs = self.store.subscriptions()
        if not subs:
            return 0
        kinds = set().union(*(sub.kinds for sub in subs))
        targets = None if any(not sub.targets for sub in subs) else sorted({t for s in subs for t in s.targets})
        digest = await build_digest(self.services, kinds, targets, now=now, clients=self.clients, tables=False,
                                    alert_at=self.limits.alert_percent / 100)
        conditions = digest.alert_conditions()
        posted, failed = 0, False
        for sub in subs:  # one subscription's channel failing does not hold up the others
            try:
                posted += await self._alert(sub, digest, {k: v for k, v in conditions.items() if _covers(sub, k)},
                                            now)
            except Exception as exc:
                failed = True
                log.warning("alerts for digest %s could not be posted: %s", sub.id, post_failure(exc))
        metrics_of(self.services).scheduled_run("alerts", "failed" if failed else "ok")
        return posted

    async def _alert(self, sub: Subscription, digest: Digest, current: dict[str, str], now: datetime) -> int:
        """Raise and clear `sub`'s alerts against `current`; the first look only learns what is already wrong.
        Alerts that could not be posted are withdrawn, so the next check posts them."""
        baseline = self.store.figures(sub.id)[0] is None
        raised = {f"{sub.channel}|{key}": subject for key, subject in current.items()
                  if self.store.raise_alert(f"{sub.channel}|{key}", sub.channel, subject, now)}
        recovered = []
        for row in self.store.active_alerts():
            channel, _, key = row["key"].partition("|")
            if channel != sub.channel or key in current or digest.unknown(key):
                continue
            if _covers(sub, key) and self.store.clear_alert(row["key"], now):
                recovered.append((row["key"], row["subject"]))
        if baseline:
            self.store.save_figures(sub.id, now, digest.figures())
            return 0
        posted = 0
        if raised:
            try:
                await self.poster.post(sub.channel, f"projectops alert: {len(raised)} new",
                                       _alert_blocks(list(raised.values()), True))
            except Exception:  # not told: withdraw them, so the next check raises and posts them again
                for key in raised:
                    self.store.clear_alert(key, now)
                raise
            posted += 1
        if recovered:
            try:
                await self.poster.post(sub.channel, f"projectops: {len(recovered)} recovered",
                                       _alert_blocks([subject for _, subject in recovered], False))
            except Exception as exc:  # not told: keep them active, so the next check tells the recovery
                for key, subject in recovered:
                    self.store.raise_alert(key, sub.channel, subject, now)
                log.warning("recoveries for digest %s could not be posted: %s", sub.id, post_failure(exc))
                return posted
            posted += 1
        return posted

    async def tick(self) -> None:
        now = self.clock()
        await self.run_due(now)
        if self._last_alert_check is None:
            self._last_alert_check = now
        elif now - self._last_alert_check >= self.alert_every:
            self._last_alert_check = now
            try:
                await self.check_alerts(now)
            except Exception:
                metrics_of(self.services).scheduled_run("alerts", "failed")
                raise

    async def run_now(self, sub: Subscription) -> Any:
        """`/projects digest now`: post `sub` at once, on this scheduler's own loop (where its clients live) when
        it runs on another thread; not gated by the lead (a person asked for it)."""
        async def post() -> Any:
            response = await self.run_subscription(sub, self.clock())
            self.store.mark_failing(sub.id, False)
            return response

        here = asyncio.get_running_loop()
        if self.loop is None or self.loop is here or not self.loop.is_running():
            return await post()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(post(), self.loop))

    # ------------------------------------------------------------ the lead among replicas

    @property
    def leading(self) -> bool:
        """Whether this scheduler holds the lead now (by its own clock, which lets it go before the lease ends)."""
        return self.lease is not None and time.monotonic() < self._lead_until

    async def claim_lead(self) -> bool:
        """Claim or renew the lead; True while this scheduler holds it. A database that cannot be reached keeps
        the lead only until the lease it already holds would run out."""
        asked = time.monotonic()
        try:
            lease = await asyncio.to_thread(self.services.store.leases.claim, LEADER_LEASE, self.holder,
                                            self.lease_seconds)
        except StoreError as exc:
            if not self._store_down:
                log.warning("cannot renew the scheduler lead (%s); %s", exc,
                            "stepping down when the lease runs out" if self.leading else "retrying")
            self._store_down = True
            return self.leading
        self._store_down = False
        if lease is None:
            if self.lease is not None:
                log.info("scheduler: %s no longer leads the schedule", self.holder)
            self.lease = None
            return False
        if self.lease is None or self.lease.token != lease.token:
            log.info("scheduler: %s leads the schedule (lease token %s)", self.holder, lease.token)
        self.lease = lease
        # counted from before the claim went out, less a margin: this replica stops before anyone may take over
        self._lead_until = asked + self.lease_seconds - min(1.0, self.lease_seconds / 5)
        return True

    async def release_lead(self) -> None:
        """Give the lead up at once (a clean stop), so another replica need not wait for the lease to expire."""
        if self.lease is None:
            return
        self.lease = None
        try:
            await asyncio.to_thread(self.services.store.leases.release, LEADER_LEASE, self.holder)
        except StoreError as exc:
            log.warning("could not release the scheduler lead (%s); it expires on its own", exc)

    async def _tick_logged(self) -> None:
        try:
            await self.tick()
        except Exception:
            log.exception("digest scheduler tick failed")

    async def run_forever(self) -> None:
        """Lead or follow: renew (or ask for) the lead every third of the lease; while leading, tick every
        `tick_seconds` (the first tick catches up missed digests once). Stopping (cancelled) cancels the run in
        progress, which hands back a slot it had not posted, and releases the lead."""
        self.loop = asyncio.get_running_loop()
        renew_every = self.lease_seconds / 3
        work: asyncio.Task | None = None
        next_renew = next_tick = 0.0
        try:
            while True:
                if time.monotonic() >= next_renew:
                    await self.claim_lead()
                    next_renew = time.monotonic() + renew_every
                busy = work is not None and not work.done()
                if not self.leading:
                    if busy and work is not None:
                        log.warning("scheduler: lead lost; stopping the run in progress")
                        work.cancel()
                elif not busy and time.monotonic() >= next_tick:
                    work = asyncio.create_task(self._tick_logged(), name="digest-tick")
                    next_tick = time.monotonic() + self.tick_seconds
                wake = min(next_renew, next_tick) if self.leading else next_renew
                await asyncio.sleep(max(0.01, wake - time.monotonic()))
        finally:
            if work is not None and not work.done():
                work.cancel()
                await asyncio.wait([work], timeout=10)
            await self.release_lead()
            await self.clients.aclose()


#: Slack errors on posting a digest -> what the subscriber can do about it.
POST_FAILURES = {
    "not_in_channel": "I am not in that channel any more. Invite me back with `/invite @projectops`.",
    "channel_not_found": "I cannot see that channel (deleted, or private without me in it).",
    "is_archived": "the channel is archived.",
}


def post_failure(exc: BaseException) -> str:
    """A sentence on why a run failed, for the audit row and the subscriber's DM (no stack traces)."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or "unknown_error")
        return POST_FAILURES.get(error, f"Slack refused the message ({error}).")
    return "building it failed unexpectedly; the app log has details."


def _target_of(key: str) -> str:
    """`job:<target>:…` / `storage:<target>:…` -> the target."""
    parts = key.split(":")
    return parts[1] if len(parts) > 1 else ""


def _covers(sub: Subscription, key: str) -> bool:
    """Whether an alert key is about this subscription's kinds and targets."""
    kind = key.split(":", 1)[0]
    in_kind = ("job-health" if kind == "job" else "storage") in sub.kinds
    return in_kind and (not sub.targets or _target_of(key) in sub.targets)


def _alert_blocks(subjects: list[str], raised: bool) -> list[dict[str, Any]]:

    head = ":rotating_light: *New since the last check:*" if raised else ":white_check_mark: *Recovered:*"
    lines = [head, *subjects[:40]]
    if len(subjects) > 40:
        lines.append(f"…and {len(subjects) - 40} more")
    return bk.fit_message(bk.line_sections(lines))

