"""Build the Bolt AsyncApp, the shared services, and the HTTP (Starlette) front for HTTP mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.assistant.model import ModelResolver
from bot.backends.base import ClientPool
from bot.metrics import CONTENT_TYPE, Metrics, request_arrived
from bot.operations.context import Services
from bot.operations.loader import load_operations
from bot.operations.registry import Registry
from bot.pacing import ChannelPacer
from bot.policy import Policy
from bot.redact import register_secret
from bot.scheduler import start_scheduler
from bot.settings import AppConfig, Env
from bot.slack.approvals import sweep_forever
from bot.slack.assistant import Assistant
from bot.slack.edge import malformed
from bot.slack.middleware import middleware_for
from bot.store import Store, StoreError
from handlers import register_listeners

log = logging.getLogger("projectops")

#: /readyz answers 503 when the database has not answered `SELECT 1` within this.
READINESS_TIMEOUT_SECONDS = 3.0


class StartupError(Exception):
    """A problem that stops start-up; its text is the one line printed before exit 2."""


@dataclass
class ProjectOps:
    bolt: AsyncApp
    services: Services


def slack_client(env: Env) -> AsyncWebClient:
    if env.slack_bot_token is None:
        raise StartupError("SLACK_BOT_TOKEN is not set: give the bot token (xoxb-…) of your Slack app.")
    kwargs = {}
    if env.slack_api_url:
        kwargs["base_url"] = env.slack_api_url.rstrip("/") + "/"
    return AsyncWebClient(
        token=env.slack_bot_token.get_secret_value(),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
        **kwargs,
    )


def open_store(env: Env) -> Store:
    """PostgreSQL when PROJECTOPS_DATABASE_URL is set (no SQLite file is made), else SQLite at PROJECTOPS_DB."""
    url = env.projectops_database_url.get_secret_value() if env.projectops_database_url else None
    if url:
        register_secret(urlsplit(url).password)  # never in a message, a log line or the audit log
    try:
        return Store.connect(database_url=url, sqlite_path=env.projectops_db)
    except StoreError as exc:
        raise StartupError(f"cannot open the database: {exc}") from exc


def build(env: Env, config: AppConfig, *, store: Store | None = None,
          registry: Registry | None = None) -> ProjectOps:
    """Everything the Slack app needs, wired together (no network calls here)."""
    if env.slack_signing_secret is None:
        raise StartupError("SLACK_SIGNING_SECRET is not set: copy it from your Slack app's Basic Information.")
    for secret in (env.slack_bot_token, env.slack_signing_secret, env.slack_app_token, env.projectops_database_url):
        register_secret(secret)
    for target in config.targets.values():
        for value in target.credentials.values():
            register_secret(value)
    client = slack_client(env)

    async def usergroup_members(group_id: str) -> list[str]:
        response = await client.usergroups_users_list(usergroup=group_id)
        return list(response.get("users") or [])

    store = store or open_store(env)
    metrics = Metrics()  # this app's own registry (GET /metrics); never prometheus_client's global one
    metrics.pending_approvals_from(store.approvals.count_pending)
    services = Services(
        config=config,
        store=store,
        registry=registry if registry is not None else load_operations(),
        policy=Policy(config, resolve_group=usergroup_members),
        clients=ClientPool(metrics),
        slack=client,
        pacer=ChannelPacer(slots=store.pacing),  # shared by every process using this database
        metrics=metrics,
    )
    bolt = AsyncApp(
        name="projectops",  # spares Bolt an inspect.stack() to guess it
        client=client,
        signing_secret=env.slack_signing_secret.get_secret_value(),
        raise_error_for_unhandled_request=False,
    )
    for middleware in middleware_for(services):
        bolt.use(middleware)
    register_listeners(bolt, services, Assistant(services, model=ModelResolver.from_env(env)))
    return ProjectOps(bolt=bolt, services=services)


def start_background(project: ProjectOps) -> list[asyncio.Task]:
    """Long-running duties of a running app (expiring approvals, scheduled digests and alerts)."""
    return [asyncio.create_task(sweep_forever(project.services), name="approval-expiry"),
            start_scheduler(project.services)]


async def stop_background(project: ProjectOps, tasks: list[asyncio.Task]) -> None:
    """Stop the background duties, let them finish their cleanup, and close the back-end clients."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=10)  # a duty stuck in its cleanup must not hold the app up for ever
    await project.services.clients.aclose()


def http_app(project: ProjectOps) -> Starlette:
    """`POST /slack/events` for commands, interactivity and events; `GET /healthz` (alive), `GET /readyz` (ready),
    `GET /metrics` (Prometheus text)."""
    handler = AsyncSlackRequestHandler(project.bolt)

    async def slack_events(request: Request) -> Response:
        request_arrived.set(time.perf_counter())  # the ack is timed from here (bot.slack.middleware)
        refused = malformed(await request.body(), request.headers)
        if refused is not None:
            return PlainTextResponse(refused[1], status_code=refused[0])
        return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        """Liveness: 200 while the process serves, whatever the database does (that is /readyz's answer)."""
        services = project.services
        return JSONResponse({"ok": True, "db": services.store.kind, "targets": len(services.config.targets),
                             "operations": len(services.registry.all())})

    async def readyz(request: Request) -> Response:
        """Readiness: 200 when the database answers, 503 (with the reason) while it cannot be reached."""
        store = project.services.store
        try:
            await asyncio.wait_for(asyncio.to_thread(store.ping), READINESS_TIMEOUT_SECONDS)
        except (StoreError, TimeoutError) as exc:
            why = str(exc) or f"the database did not answer within {READINESS_TIMEOUT_SECONDS:.0f} s"
            return JSONResponse({"ready": False, "db": "error", "database": store.kind, "error": why},
                                status_code=503)
        return JSONResponse({"ready": True, "db": "ok", "database": store.kind})

    async def metrics(request: Request) -> Response:
        """Prometheus text exposition of this app's registry (rendered off the loop: it counts pending approvals)."""
        body = await asyncio.to_thread(project.services.metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        background = start_background(project)
        yield
        await stop_background(project, background)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
