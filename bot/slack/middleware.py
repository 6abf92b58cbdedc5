"""Bolt middleware: what every request needs before its listener runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncBoltRequest

from bot.operations.context import Services
from bot.slack.actor import actor_from_body

Next = Callable[[], Awaitable[BoltResponse]]
Middleware = Callable[[AsyncBoltRequest, BoltResponse, Next], Awaitable[Any]]

#: How long a delivered event id is remembered (Slack retries within minutes).
EVENT_MEMORY_SECONDS = 3600


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
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        return await next()

    return middleware


def middleware_for(services: Services) -> list[Middleware]:
    """In order: drop redelivered events, then attach the actor."""
    return [run_each_event_once(services), attach_actor]
