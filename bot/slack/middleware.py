"""Bolt middleware: what every request needs before its listener runs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncBoltRequest
from slack_bolt.request.async_internals import build_async_context

from bot import logs
from bot.metrics import Metrics, request_arrived
from bot.operations.context import Services
from bot.slack import payloads
from bot.slack.actor import actor_from_body
from bot.slack.inflight import handling

Next = Callable[[], Awaitable[BoltResponse]]
Middleware = Callable[[AsyncBoltRequest, BoltResponse, Next], Awaitable[Any]]

log = logging.getLogger("projectops.slack")

#: How long a delivered event id is remembered (Slack retries within minutes).
EVENT_MEMORY_SECONDS = 3600


#: payload `type` -> the surface label of the ack metrics (a slash command has no `type`: "command")
SURFACES = {"event_callback": "event", "block_actions": "block_actions", "view_submission": "view_submission",
            "view_closed": "view_closed", "block_suggestion": "block_suggestion", "shortcut": "shortcut",
            "message_action": "message_action"}


def surface_of(body: dict[str, Any]) -> str:
    """command, event, block_actions, view_submission, block_suggestion, … or other."""
    return "command" if "command" in body else SURFACES.get(str(body.get("type")), "other")


def slack_request_id_of(body: dict[str, Any]) -> str:
    """The id Slack gave this request, for the logs: the event's `event_id`, else the `trigger_id`."""
    return str(body.get("event_id") or body.get("trigger_id") or "")


class TimedAck(AsyncAck):
    """Bolt's ack(), counting the first call: the surface, its status, the time since the request arrived."""

    def __init__(self, metrics: Metrics, surface: str, arrived: float) -> None:
        super().__init__()
        self.metrics, self.surface, self.arrived = metrics, surface, arrived

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        first = self.response is None
        response = await super().__call__(*args, **kwargs)
        if first:
            self.metrics.ack(self.surface, response.status, time.perf_counter() - self.arrived)
        return response


def observe_request(services: Services) -> Middleware:
    """Time the ack (`TimedAck`) and name the Slack request in the log context (`bot.logs.slack_request_id`).

    Bolt runs its global middleware one after another (next() only says "go on"), so the listeners and their
    tasks start after this returns, in this request's context: they see the log context set here."""

    async def middleware(req: AsyncBoltRequest, resp: BoltResponse, next: Next) -> Any:
        body = req.body if isinstance(req.body, dict) else {}
        arrived = request_arrived.get() or time.perf_counter()
        logs.slack_request_id.set(slack_request_id_of(body))
        handling()  # the listener's tasks are Slack work in flight: a stopping app lets them finish
        req.context["ack"] = TimedAck(services.metrics, surface_of(body), arrived)
        return await next()

    return middleware


def _misread_form(req: AsyncBoltRequest) -> dict[str, str] | None:
    """The fields of a form body Bolt read as empty: it takes any body containing "payload" (a slash command's
    text `show phoenix payload-svc`, a channel named #payloads) for an interactivity payload and finds none."""
    raw = req.raw_body or ""
    if req.body or not raw or raw.startswith("{") or req.content_type == "application/json":
        return None
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    return fields if fields and "payload" not in fields else None


async def parse_payload(req: AsyncBoltRequest, resp: BoltResponse, next: Next) -> Any:
    """`context["payload"]`: the payload parsed once (`bot.slack.payloads`) for every listener. A shape Slack never
    sends is answered 400 here (the HTTP edge refuses it before Bolt; Socket Mode has no edge)."""
    fields = _misread_form(req)
    if fields is not None:
        req.body = fields
        build_async_context(req.context, fields)
        for made_from_the_empty_body in ("respond", "say"):
            req.context.pop(made_from_the_empty_body, None)
    try:
        req.context["payload"] = payloads.parse(req.body if isinstance(req.body, dict) else {})
    except ValidationError as exc:
        log.info("refused a payload Slack does not send: %s", payloads.problem(req.body) or exc.title)
        return BoltResponse(status=400, body="not a payload Slack sends")
    return await next()


async def attach_actor(req: AsyncBoltRequest, resp: BoltResponse, next: Next) -> Any:
    """`context["actor"]`: who asked and from where, built once from the payload for every listener."""
    body = req.body if isinstance(req.body, dict) else {}
    req.context["actor"] = actor_from_body(body)
    return await next()


def run_each_event_once(services: Services) -> Middleware:
    """Slack redelivers an event it thinks timed out (X-Slack-Retry-Num): handle each event id once."""

    async def middleware(req: AsyncBoltRequest, resp: BoltResponse, next: Next) -> Any:
        body = req.body if isinstance(req.body, dict) else {}
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id and not await asyncio.to_thread(
                services.store.deliveries.first, f"event:{event_id}", EVENT_MEMORY_SECONDS):
            await req.context.ack()  # an ack all the same (timed when observe_request runs first)
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        return await next()

    return middleware


def middleware_for(services: Services) -> list[Middleware]:
    """In order: parse the payload (refusing a malformed one), time the ack and name the request, drop redelivered
    events, then attach the actor."""
    return [parse_payload, observe_request(services), run_each_event_once(services), attach_actor]
