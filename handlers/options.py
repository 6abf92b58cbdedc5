"""External selects: target and project pickers load their options live, filtered as the user types."""

from __future__ import annotations

import json
from typing import Any

from rapidfuzz import fuzz, process
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import modals
from bot.operations.base import Actor, OpRequest
from bot.operations.context import Services
from bot.operations.executor import execute

MAX_OPTIONS = 100  # Slack's limit for an external select


def filter_names(names: list[str], typed: str, limit: int = MAX_OPTIONS) -> list[str]:
    """Names containing what was typed first, then the closest fuzzy matches; all (sorted) when nothing is typed."""
    typed = typed.strip()
    if not typed:
        return sorted(names, key=str.casefold)[:limit]
    lowered = typed.casefold()
    contains = sorted((n for n in names if lowered in n.casefold()), key=str.casefold)
    rest = [n for n in names if n not in contains]
    fuzzy = [name for name, score, _ in process.extract(typed, rest, scorer=fuzz.WRatio, limit=limit)
             if score >= 70]
    return (contains + fuzzy)[:limit]


def picked_target(body: dict[str, Any]) -> str | None:
    """The target chosen in the same modal (its picker's state), else the one in private_metadata."""
    view = body.get("view") or {}
    for actions in ((view.get("state") or {}).get("values") or {}).values():
        for state in (actions or {}).values():
            chosen = (state or {}).get("selected_option") or {}
            if state.get("action_id", "") == modals.PICK_TARGET_ACTION or chosen.get("value", "").startswith("t:"):
                return chosen.get("value", "").removeprefix("t:") or None
    try:
        return json.loads(view.get("private_metadata") or "{}").get("target")
    except ValueError:
        return None


async def project_names(services: Services, actor: Actor, target_name: str) -> list[str]:
    """Project names on a target, read through the choke point with the READ list operation."""
    target = services.config.target(target_name)
    op = services.registry.get("project.list", target.kind) if target else None
    if op is None:
        return []
    result = await execute(services, OpRequest(operation=op, actor=actor, params=op.params.model_validate({}),
                                               target=target_name), timeout=2.5)
    projects = getattr(result.value, "projects", None) or []
    return [p.name for p in projects if getattr(p, "name", None)]


def register(app: AsyncApp, services: Services) -> None:
    def actor_of(body: dict[str, Any]) -> Actor:
        user = body.get("user") or {}
        return Actor(user_id=user.get("id", ""), team_id=(body.get("team") or {}).get("id", ""),
                     channel_id=(body.get("channel") or {}).get("id", ""), surface="modal")

    @app.options(modals.PICK_TARGET_ACTION)
    async def target_options(ack: AsyncAck, body: dict[str, Any]) -> None:
        kinds = {t.name: t.kind for t in services.config.targets.values()}
        names = filter_names(list(kinds), body.get("value", ""))
        await ack(options=[modals.option(f"t:{n}", f"{n} ({kinds[n]})") for n in names])

    @app.options(modals.PICK_PROJECT_ACTION)
    async def project_options(ack: AsyncAck, body: dict[str, Any]) -> None:
        target = picked_target(body)
        if not target:
            await ack(options=[])
            return
        names = filter_names(await project_names(services, actor_of(body), target), body.get("value", ""))
        await ack(options=[modals.option(n) for n in names])
