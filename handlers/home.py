"""App Home: a per-user page with the user's role, the targets and their own recent actions."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks as bk
from bot.audit import AuditQuery
from bot.operations.context import Services

log = logging.getLogger("projectops.home")


async def home_view(services: Services, user_id: str) -> dict[str, Any]:
    role = await services.policy.role_of(user_id)
    rows = await asyncio.to_thread(services.audit.query, AuditQuery(user=user_id, limit=10))
    targets = services.config.targets.values()
    blocks: list[dict[str, Any]] = [
        bk.header("projectops"),
        bk.section(f"You are *{role}*. Type `/projects help` in any channel for what you can do."),
        bk.divider(),
        bk.section("*Targets*\n" + ("\n".join(f"• *{t.name}* · {t.kind}" for t in targets)
                                    or "No targets configured yet.")),
        bk.divider(),
    ]
    if rows:
        lines = [f"• {r['at'][:16].replace('T', ' ')}Z `{r['operation']}`"
                 + (f" on `{r['target']}`" if r["target"] else "") + f" — {r['outcome']}" for r in rows]
        blocks.append(bk.section("*Your recent actions*\n" + "\n".join(lines)))
    else:
        blocks.append(bk.section("*Your recent actions*\nNothing yet."))
    return {"type": "home", "blocks": blocks[: bk.MAX_VIEW_BLOCKS]}


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event.get("user", "")
        await client.views_publish(user_id=user_id, view=await home_view(services, user_id))
