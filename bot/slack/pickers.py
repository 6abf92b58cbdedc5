"""Options for the form's external selects: targets and projects, loaded live and filtered as the user types."""

from __future__ import annotations

import json
from typing import Any

from rapidfuzz import fuzz, process

from bot import modals
from bot.operations.base import Actor
from bot.operations.context import Services
from bot.slack.runner import read_value

MAX_OPTIONS = 100  # Slack's limit for an external select
PROJECT_LIST_TIMEOUT = 2.5  # options must answer within Slack's 3 s


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
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    values = (view.get("state") or {}).get("values") or {}
    for actions in values.values() if isinstance(values, dict) else ():
        for state in (actions or {}).values() if isinstance(actions, dict) else ():
            chosen = (state or {}).get("selected_option") or {}
            value = chosen.get("value") if isinstance(chosen, dict) else None
            if not isinstance(value, str):
                continue
            if state.get("action_id", "") == modals.PICK_TARGET_ACTION or value.startswith("t:"):
                return value.removeprefix("t:") or None
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None
    target = meta.get("target") if isinstance(meta, dict) else None
    return target if isinstance(target, str) else None


def target_options(services: Services, typed: Any) -> list[dict[str, Any]]:
    kinds = {t.name: t.kind for t in services.config.targets.values()}
    names = filter_names(list(kinds), typed if isinstance(typed, str) else "")
    return [modals.option(f"t:{n}", f"{n} ({kinds[n]})") for n in names]


async def project_options(services: Services, actor: Actor, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Project names on the picked target, read through the choke point with the READ list operation."""
    target_name = picked_target(body)
    target = services.config.target(target_name) if target_name else None
    if target is None:
        return []
    listing = await read_value(services, actor, "project.list", target.kind, target.name,
                               timeout=PROJECT_LIST_TIMEOUT)
    names = [p.name for p in getattr(listing, "projects", None) or [] if getattr(p, "name", None)]
    typed = body.get("value")
    return [modals.option(n) for n in filter_names(names, typed if isinstance(typed, str) else "")]
