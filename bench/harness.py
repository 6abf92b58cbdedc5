"""What the benchmarks share: apps in processes of their own (as deployed), the emulators, and the load generator.

A benchmark process holds only the load generator; the Slack emulator (`SlackProcess`) and the back-end emulators
(`projectops emulate`) run in processes of their own, and every projectops replica, like the bare Bolt app it is
compared with, runs as `projectops run --http` in its own process. Nothing an emulator does takes the measured app's
interpreter lock, nor the load generator's, whose clock times the acks.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from sandbox.serving import free_port, serve_in_thread
from sandbox.slack import SlackEmulator, SlackRequestBuilder

SECRET = "bench-signing-secret"
ROOT = Path(__file__).resolve().parent.parent
KINDS = ("matillion", "phoenix", "polaris", "terraform")


def bare_bolt_app(api_url: str) -> Starlette:
    """The floor: a Bolt app that only acks `/projects`."""
    app = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url), signing_secret=SECRET)

    @app.command("/projects")
    async def only_ack(ack) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def events(request):
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"]),
                             Route("/healthz", lambda request: PlainTextResponse("ok"), methods=["GET"])])


def serve_bare(port: int, api_url: str) -> None:
    """`bare_bolt_app` served as projectops is: uvicorn, one process (`python -m bench.harness PORT API_URL`)."""
    import uvicorn

    uvicorn.run(bare_bolt_app(api_url), host="127.0.0.1", port=port, log_level="warning")


class SlackProcess:
    """The Slack emulator in a process of its own (`python -m bench.harness slack`); what the benchmarks ask it."""

    def __init__(self, process: subprocess.Popen, api_url: str, response_url_base: str, control: str) -> None:
        self.process, self.api_url, self.response_url_base, self.control = process, api_url, response_url_base, control
        self.http = httpx.Client(base_url=control, timeout=30)

    def answered(self, rids: list[str]) -> int:
        """How many of these response_urls have had an answer."""
        return int(self.http.post("/answered", json=rids).json()["answered"])

    def messages(self, channel: str) -> int:
        return int(self.http.get(f"/messages/{channel}").json()["messages"])


@contextmanager
def slack_emulator() -> Iterator[SlackProcess]:
    env = clean_env(PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    process = subprocess.Popen([sys.executable, "-m", "bench.harness", "slack"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        urls = json.loads(process.stdout.readline())
        slack = SlackProcess(process, urls["api_url"], urls["response_url_base"], urls["control"])
        yield slack
        slack.http.close()
    finally:
        process.terminate()
        process.wait(30)


def serve_slack() -> None:
    """The Slack emulator, and a small control app that says what reached it; prints their URLs as one JSON line."""
    slack = SlackEmulator()
    slack.serve()
    slack.strict = False

    async def answered(request: Request) -> JSONResponse:
        rids = await request.json()
        return JSONResponse({"answered": sum(1 for rid in rids if slack.response_posts(rid))})

    async def messages(request: Request) -> JSONResponse:
        return JSONResponse({"messages": len(slack.messages(request.path_params["channel"]))})

    control = serve_in_thread(Starlette(routes=[Route("/answered", answered, methods=["POST"]),
                                                Route("/messages/{channel}", messages, methods=["GET"])]))
    print(json.dumps({"api_url": slack.api_url, "response_url_base": slack.response_url_base,
                      "control": control.url}), flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})


class LocalSlack:
    """`SlackProcess`'s questions, asked of an emulator in this process (bench.ack --in-process)."""

    def __init__(self, slack: SlackEmulator) -> None:
        self.slack, self.api_url, self.response_url_base = slack, slack.api_url, slack.response_url_base

    def answered(self, rids: list[str]) -> int:
        return sum(1 for rid in rids if self.slack.response_posts(rid))

    def messages(self, channel: str) -> int:
        return len(self.slack.messages(channel))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


# ---------------------------------------------------------------- processes

def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROJECTOPS_"))}
    env.update(extra)
    return env


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up (exit {process.poll()})")
        time.sleep(0.1)


@contextmanager
def running(args: list[str], env: dict[str, str], ready_url: str, cwd: Path) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(ready_url, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def emulators(workdir: Path, latency_ms: int) -> Iterator[tuple[str, Path]]:
    """The four back-end emulators in their own process, each answer delayed by `latency_ms`; and their config."""
    port = free_port()
    config = workdir / "config.yml"
    with running([sys.executable, "-m", "bot.cli", "emulate", "--port", str(port), "--config-out", str(config)],
                 clean_env(), f"http://127.0.0.1:{port}/phoenix/_faults", workdir):
        url = f"http://127.0.0.1:{port}"
        for kind in KINDS:
            httpx.post(f"{url}/{kind}/_faults", json={"latency_ms": latency_ms}).raise_for_status()
        yield url, config


class Urls(list[str]):
    """Base URLs of running apps, and their process ids (`cpu_seconds`)."""

    pids: list[int]


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system, every thread) the processes have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def replicas(count: int, slack: Any, config: Path, workdir: Path, *, database_url: str = "",
             sqlite: Path | None = None) -> Iterator[list[str]]:
    """`count` × `projectops run --http`, on PostgreSQL (`database_url`) or SQLite (`sqlite`); their base URLs."""
    env = clean_env(SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.api_url,
                    PROJECTOPS_CONFIG=str(config))
    if database_url:
        env["PROJECTOPS_DATABASE_URL"] = database_url
    if sqlite is not None:
        env["PROJECTOPS_DB"] = str(sqlite)
    ports = [free_port() for _ in range(count)]
    urls = Urls(f"http://127.0.0.1:{port}" for port in ports)
    with ExitStack() as stack:
        urls.pids = [stack.enter_context(running(
            [sys.executable, "-m", "bot.cli", "run", "--http", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"], env, f"{url}/readyz", workdir)).pid
            for port, url in zip(ports, urls, strict=True)]
        yield urls


@contextmanager
def bare_bolt(slack: Any, workdir: Path) -> Iterator[list[str]]:
    port = free_port()
    env = clean_env(PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    urls = Urls([f"http://127.0.0.1:{port}"])
    with running([sys.executable, "-m", "bench.harness", str(port), slack.api_url], env,
                 f"http://127.0.0.1:{port}/healthz", workdir) as process:
        urls.pids = [process.pid]
        yield urls


# ---------------------------------------------------------------- load

@dataclass
class Figures:
    per_second: float  # commands answered (or acked, for an app that only acks) per second of wall time
    p50: float
    p99: float
    answered: int
    sent: int
    cpu_ms: float | None = None  # CPU the app's processes spent per command (when their pids are known)


async def fire(urls: list[str], builder: SlackRequestBuilder, text: str, total: int,
               concurrency: int) -> tuple[list[float], list[str], float]:
    """`total` signed `/projects <text>`, `concurrency` at a time, alternating between `urls` as a load balancer
    would; the ack times (ms), the response_url ids, and when the first was sent."""
    timings: list[float] = []
    rids: list[str] = []
    gate = asyncio.Semaphore(concurrency)
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def one(n: int) -> None:
            signed = builder.slash_command(text, user_id="U0ADMIN")
            rids.append(builder.last_response_url_id or "")
            async with gate:
                began = time.perf_counter()
                response = await http.post(urls[n % len(urls)] + "/slack/events", content=signed.body,
                                           headers=signed.headers)
                timings.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(one(n) for n in range(total)))
    return timings, rids, started


def measure(urls: list[str], slack: Any, text: str, total: int, concurrency: int,
            answers: bool = True, warm_up: bool = True) -> Figures:
    """Ack times of `total` commands; with `answers`, also wait for every answer at its response_url."""
    builder = SlackRequestBuilder(SECRET, response_url_base=slack.response_url_base)
    if warm_up:
        asyncio.run(fire(urls, builder, text, max(10, concurrency), concurrency))
        time.sleep(0.5)
    pids = getattr(urls, "pids", None)
    cpu_before = cpu_seconds(pids) if pids else 0.0
    timings, rids, started = asyncio.run(fire(urls, builder, text, total, concurrency))
    done = time.perf_counter()
    answered = total
    if answers:
        deadline = time.monotonic() + 120
        while True:
            answered = slack.answered(rids)
            if answered == total or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        done = time.perf_counter()
    cpu_ms = (cpu_seconds(pids) - cpu_before) * 1000 / total if pids else None
    return Figures(answered / (done - started), statistics.median(timings), percentile(timings, 99), answered,
                   total, cpu_ms)


if __name__ == "__main__":
    if sys.argv[1] == "slack":
        serve_slack()
    else:
        serve_bare(int(sys.argv[1]), sys.argv[2])
