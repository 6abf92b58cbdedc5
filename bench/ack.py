"""Time-to-ack of `/projects` while every back end takes 2 s to answer, next to a bare Bolt app.

    .venv/bin/python -m bench.ack [--requests 200] [--concurrency 20] [--latency-ms 2000] [--rounds 3]
                                  [--with-digest] [--in-process]

Both apps run in HTTP mode on 127.0.0.1 behind uvicorn, each in a process of its own as deployed (the back-end
emulators in another, the load generator and the Slack emulator here: bench/harness.py), and receive the same
signed slash commands. projectops answers `/projects targets`, which pings every emulated back end (each slowed
to `--latency-ms`); the bare app only acks. Rounds alternate the two apps; the figures are the medians of the
rounds' p50 and p99, and what matters is the ratio of the two apps.

`--with-digest` keeps projectops' scheduler busy while its commands are measured: a full digest of every target
(job health and storage, with its chart) again and again (`/projects digest now 1`, asked anew as soon as the last
one is posted) and an alert check every second (`digests.alert_check_minutes: 0.02`).

`--in-process` is the earlier arrangement: both apps, the emulators and the load generator as threads of this one
process, where they share one interpreter lock (the ratio then also counts the emulators' and the load
generator's CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.harness import (
    SECRET,
    Figures,
    LocalSlack,
    bare_bolt,
    bare_bolt_app,
    emulators,
    measure,
    percentile,
    replicas,
    slack_emulator,
)
from sandbox.slack import SlackEmulator, SlackRequestBuilder

__all__ = ["SECRET", "bare_bolt_app", "percentile"]  # bench.scale and older scripts import them from here

DIGEST_CHANNEL = "C0DIGEST"


def keep_digesting(url: str, slack: Any, stop: threading.Event) -> dict[str, int]:
    """Ask `/projects digest now 1` again each time the last one is answered, until `stop`; counts what ran."""
    builder = SlackRequestBuilder(SECRET, response_url_base=slack.response_url_base)
    done = {"digests": 0}

    def loop() -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                signed = builder.slash_command("digest now 1", user_id="U0ADMIN")
                rid = builder.last_response_url_id or ""
                http.post(url + "/slack/events", content=signed.body, headers=signed.headers)
                while not slack.answered([rid]) and not stop.is_set():
                    time.sleep(0.05)
                done["digests"] += 1

    threading.Thread(target=loop, name="digests", daemon=True).start()
    return done


def in_processes(args: argparse.Namespace) -> tuple[dict[str, list[Figures]], dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-ack-"))
    results: dict[str, list[Figures]] = {"bare Bolt": [], "projectops": []}
    extra: dict[str, Any] = {}
    with slack_emulator() as slack, emulators(workdir, args.latency_ms) as (_, config):
        if args.with_digest:
            data = yaml.safe_load(config.read_text())
            data["digests"] = {"alert_check_minutes": 0.02, **({"tick_seconds": args.tick} if args.tick else {})}
            config.write_text(yaml.safe_dump(data))
        with bare_bolt(slack, workdir) as bare, replicas(1, slack, config, workdir,
                                                        sqlite=workdir / "bench.db") as ours:
            stop = threading.Event()
            if args.with_digest:
                builder = SlackRequestBuilder(SECRET, response_url_base=slack.response_url_base)
                signed = builder.slash_command(f"digest add all <#{DIGEST_CHANNEL}|digests> daily 09:00")
                httpx.post(ours[0] + "/slack/events", content=signed.body, headers=signed.headers)
                deadline = time.monotonic() + 30
                while not slack.answered([builder.last_response_url_id or ""]):
                    assert time.monotonic() < deadline, "the digest subscription was not answered"
                    time.sleep(0.05)
                extra = keep_digesting(ours[0], slack, stop)
                time.sleep(2)  # a digest and an alert check are under way
            load = (args.requests, args.concurrency)
            for _ in range(args.rounds):
                results["bare Bolt"].append(measure(bare, slack, "help", *load, answers=False))
                results["projectops"].append(measure(ours, slack, "targets", *load))  # and its answers
            stop.set()
            extra["posted"] = slack.messages(DIGEST_CHANNEL)
            time.sleep(args.latency_ms / 1000 + 1)  # let the commands' work finish before stopping
    return results, extra


def in_one_process(args: argparse.Namespace) -> tuple[dict[str, list[Figures]], dict[str, Any]]:
    from bot.app import build, http_app
    from bot.settings import Env, load_config
    from sandbox.backends.server import create_emulators_app, demo_config, emulator_apps
    from sandbox.serving import serve_in_thread

    slack = SlackEmulator()
    slack_server = slack.serve()
    slack.strict = False
    backends = serve_in_thread(create_emulators_app("demo"))
    kinds = sorted(emulator_apps("empty"))
    for kind in kinds:
        httpx.post(f"{backends.url}/{kind}/_faults", json={"latency_ms": args.latency_ms})
    workdir = Path(tempfile.mkdtemp(prefix="bench-ack-"))
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(demo_config(backends.url, kinds)))
    env = Env(slack_bot_token="xoxb-bench", slack_signing_secret=SECRET, slack_api_url=slack.api_url,
              projectops_config=config_path, projectops_db=workdir / "bench.db")
    project = build(env, load_config(config_path, environ={}))
    ours = serve_in_thread(http_app(project))
    bare = serve_in_thread(bare_bolt_app(slack.api_url))
    stop = threading.Event()
    extra: dict[str, Any] = {}
    if args.with_digest:  # on the scheduler's own loop, as the app runs it
        scheduler = project.services.scheduler
        now = datetime.now(UTC)
        sub = project.services.store.digests.add("all", DIGEST_CHANNEL, "daily 09:00", "UTC", [], "U0ADMIN",
                                                 now + timedelta(days=1), now)
        extra["digests"] = 0

        async def keep() -> None:
            while not stop.is_set():
                await scheduler.run_subscription(sub)
                await scheduler.check_alerts()
                extra["digests"] += 1

        running = asyncio.run_coroutine_threadsafe(keep(), scheduler.loop)
        time.sleep(1)
    results: dict[str, list[Figures]] = {"bare Bolt": [], "projectops": []}
    load = (args.requests, args.concurrency)
    local = LocalSlack(slack)
    for _ in range(args.rounds):
        results["bare Bolt"].append(measure([bare.url], local, "help", *load, answers=False))
        results["projectops"].append(measure([ours.url], local, "targets", *load, answers=False))
    stop.set()
    if args.with_digest:
        running.cancel()
        extra["posted"] = len(slack.messages(DIGEST_CHANNEL))
    time.sleep(args.latency_ms / 1000 + 1)  # let the background work finish before shutting down
    for server in (ours, bare, backends, slack_server):
        server.stop()
    return results, extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--with-digest", action="store_true",
                        help="keep a digest of every target and an alert check running meanwhile")
    parser.add_argument("--tick", type=float, default=1.0,
                        help="with --with-digest: how often the scheduler wakes, s (0: the app's default)")
    parser.add_argument("--in-process", action="store_true",
                        help="both apps, the emulators and the load generator in this one process")
    args = parser.parse_args()

    results, extra = (in_one_process if args.in_process else in_processes)(args)
    where = "as threads of one process" if args.in_process else "each app in its own process"
    print(f"time to ack, {args.requests} signed /projects commands, {args.concurrency} at a time, back ends "
          f"answering after {args.latency_ms} ms, {where}; median of {args.rounds} alternating rounds"
          + (f"; a digest of every target and an alert check running meanwhile ({extra.get('posted', 0)} digests "
             "posted)" if args.with_digest else ""))
    for name, rounds in results.items():
        p50 = statistics.median(f.p50 for f in rounds)
        p99 = statistics.median(f.p99 for f in rounds)
        cpu = [f.cpu_ms for f in rounds if f.cpu_ms is not None]
        spent = f"   CPU {statistics.median(cpu):5.1f} ms/command" if cpu else ""
        print(f"  {name:<11} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms{spent}   (p99 of each round: "
              + ", ".join(f"{f.p99:.0f}" for f in rounds) + " ms)")
    pairs = list(zip(results["bare Bolt"], results["projectops"], strict=True))
    r50 = [ours.p50 / bare.p50 for bare, ours in pairs]
    r99 = [ours.p99 / bare.p99 for bare, ours in pairs]
    print(f"  ratio       p50 {statistics.median(r50):7.2f}x     p99 {statistics.median(r99):7.2f}x   (median of the "
          "rounds' ratios; p99 of each round: " + ", ".join(f"{r:.2f}" for r in r99) + ")")


if __name__ == "__main__":
    main()
