"""Time-to-ack of `/projects` while every back end takes 2 s to answer, next to a bare Bolt app.

    .venv/bin/python -m bench.ack [--requests 200] [--concurrency 20] [--latency-ms 2000]

Both apps run in HTTP mode on 127.0.0.1 behind uvicorn and receive the same signed slash commands.
projectops answers `/projects targets`, which pings every emulated back end (each slowed to
`--latency-ms`); the bare app only acks. The figure that matters is the ratio of the two.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.routing import Route

from bot.app import build, http_app
from bot.settings import Env, load_config
from sandbox.backends.server import create_emulators_app, demo_config, emulator_apps
from sandbox.serving import serve_in_thread
from sandbox.slack import SlackEmulator, SlackRequestBuilder

SECRET = "bench-signing-secret"


def bare_bolt_app(api_url: str) -> Starlette:
    app = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url), signing_secret=SECRET)

    @app.command("/projects")
    async def only_ack(ack) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(app)

    async def events(request):
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


async def fire(url: str, builder: SlackRequestBuilder, text: str, total: int, concurrency: int) -> list[float]:
    timings: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30) as http:

        async def one() -> None:
            signed = builder.slash_command(text, user_id="U0ADMIN")
            async with gate:
                started = time.perf_counter()
                response = await http.post(url, content=signed.body, headers=signed.headers)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(one() for _ in range(total)))
    return timings


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=2000)
    args = parser.parse_args()

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
    builder = SlackRequestBuilder(SECRET, response_url_base=slack.response_url_base)

    results = {}
    for name, url, text in (("bare Bolt", bare.url, "help"), ("projectops", ours.url, "targets")):
        asyncio.run(fire(url + "/slack/events", builder, text, 10, 5))  # warm up
        timings = asyncio.run(fire(url + "/slack/events", builder, text, args.requests, args.concurrency))
        results[name] = (statistics.median(timings), percentile(timings, 99))
    print(f"time to ack, {args.requests} signed /projects commands, {args.concurrency} at a time, "
          f"back ends answering after {args.latency_ms} ms")
    for name, (p50, p99) in results.items():
        print(f"  {name:<11} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    (b50, b99), (o50, o99) = results["bare Bolt"], results["projectops"]
    print(f"  ratio       p50 {o50 / b50:7.2f}x     p99 {o99 / b99:7.2f}x")
    time.sleep(args.latency_ms / 1000 + 1)  # let the background work finish before shutting down
    for server in (ours, bare, backends, slack_server):
        server.stop()


if __name__ == "__main__":
    main()
