"""Build the Bolt AsyncApp, the shared services, and the HTTP (Starlette) front for HTTP mode."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
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
from bot.scheduler import DigestScheduler
from bot.settings import AppConfig, Env
from bot.slack.approvals import sweep_forever
from bot.slack.assistant import Assistant
from bot.slack.broken import error_handler
from bot.slack.edge import malformed
from bot.slack.inflight import InFlight
from bot.slack.middleware import middleware_for
from bot.slack.sessions import SESSIONS, PooledWebClient, pooled_respond
from bot.store import Store, StoreError
from handlers import register_listeners

log = logging.getLogger("projectops")

#: /readyz answers 503 when the database has not answered `SELECT 1` within this.
READINESS_TIMEOUT_SECONDS = 3.0


class StartupError(Exception):
    """A problem that stops start-up; its text is the one line printed before exit 2."""


#: How long a stopping app waits for Slack work in flight (an approved delete, an answer being written) before it
#: cuts it off. Kubernetes gives a pod 30 s between SIGTERM and SIGKILL by default; the rest of the stop fits in.
SHUTDOWN_GRACE_SECONDS = 20.0


@dataclass
class ProjectOps:
    bolt: AsyncApp
    services: Services
    env: Env | None = None
    inflight: InFlight = field(default_factory=InFlight)


def slack_client(env: Env) -> AsyncWebClient:
    if env.slack_bot_token is None:
        raise StartupError("SLACK_BOT_TOKEN is not set: give the bot token (xoxb-…) of your Slack app.")
    kwargs = {}
    if env.slack_api_url:
        kwargs["base_url"] = env.slack_api_url.rstrip("/") + "/"
    return PooledWebClient(  # connections to Slack kept open per event loop (bot/slack/sessions.py)
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
    bolt.use(pooled_respond)  # respond() reuses connections to Slack (bot/slack/sessions.py)
    register_listeners(bolt, services, Assistant(services, model=ModelResolver.from_env(env)))
    # What a listener lets through: an unreachable database gets one clear sentence (bot/slack/outage.py), a Slack
    # API refusal a warning and a plain reply, anything else its traceback in the log and "something went wrong"
    # in Slack; never Bolt's 500 (bot/slack/broken.py).
    bolt.error(error_handler(services))
    return ProjectOps(bolt=bolt, services=services, env=env)


class Background:
    """The background duties (scheduled digests and alerts, expiring approvals) on a thread and event loop of
    their own, with their own back-end clients and Slack client: building a digest (hundreds of back-end reads,
    renders, a chart) never holds up the serving loop, which only acks and answers Slack."""

    def __init__(self, project: ProjectOps) -> None:
        serving = project.services
        slack = slack_client(project.env) if project.env is not None and project.env.slack_bot_token else serving.slack
        # the same database, config, pacer and metrics; clients of its own (they belong to the loop that made them)
        self.services = dataclasses.replace(serving, clients=ClientPool(serving.metrics), slack=slack)
        self.scheduler = DigestScheduler(self.services)
        serving.scheduler = self.services.scheduler = self.scheduler
        self.loop = asyncio.new_event_loop()
        self.scheduler.loop = self.loop
        self.tasks: list[asyncio.Task] = []
        self.thread = threading.Thread(target=self._run, name="projectops-background", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        self.loop.close()

    def start(self) -> Background:
        self.thread.start()

        async def begin() -> None:
            SESSIONS.open()
            self.tasks = [asyncio.create_task(sweep_forever(self.services), name="approval-expiry"),
                          asyncio.create_task(self.scheduler.run_forever(), name="digest-scheduler")]

        asyncio.run_coroutine_threadsafe(begin(), self.loop).result(10)
        return self

    async def stop(self) -> None:
        """Cancel the duties (the scheduler hands back an unposted run and releases the lead), close its clients,
        end the thread. Bounded: a duty stuck in its cleanup does not hold the app up for ever."""
        async def end() -> None:
            for task in self.tasks:
                task.cancel()
            if self.tasks:
                await asyncio.wait(self.tasks, timeout=10)
            await self.services.clients.aclose()
            await SESSIONS.aclose()

        if self.loop.is_running():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.wrap_future(asyncio.run_coroutine_threadsafe(end(), self.loop)), 15)
            self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self.thread.join, 5)


def settle_heap() -> None:
    """Collect once and freeze what survives, once the app is built and before it serves.

    The built app holds some 140,000 long-lived objects (models, registry, SDKs); a full collection walks them all
    (about 140 ms on 2 cores), and one landing while requests queue is an ack p99 twice a bare Bolt app's. Frozen,
    they are left out of every collection (`gc.freeze`); garbage made while serving is collected as usual.
    Called by the serving process only (`projectops run`), never per app: tests build many apps in one process."""
    gc.collect()
    gc.freeze()


def start_background(project: ProjectOps) -> Background:
    """Long-running duties of a running app (expiring approvals, scheduled digests and alerts), on their own thread;
    called on the serving loop, whose Slack work in flight is tracked from here on (`stop_background` drains it)."""
    project.inflight.install(asyncio.get_running_loop())
    SESSIONS.open()  # the serving loop keeps its connections to Slack
    return Background(project).start()


async def stop_background(project: ProjectOps, background: Background,
                          grace_seconds: float = SHUTDOWN_GRACE_SECONDS) -> None:
    """A clean stop, once no new request comes in: give up the scheduler's lead first (another replica takes the
    schedule at once), let Slack work in flight finish within `grace_seconds`, write audit outcomes kept while the
    database was away, and close the back-end clients."""
    await background.stop()
    await project.inflight.drain(grace_seconds)
    await project.services.audit_backlog.close()
    await project.services.clients.aclose()
    await SESSIONS.aclose()


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
