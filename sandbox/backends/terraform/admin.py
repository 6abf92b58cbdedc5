"""Control endpoints under `/_admin` (no auth, never faulted or rate limited)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import seeds
from .context import Emulator, emulator


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _summary(emu: Emulator) -> dict[str, Any]:
    return {
        "seed": emu.seed,
        "organizations": sorted(emu.store.organizations),
        "projects": len(emu.store.projects),
        "workspaces": len(emu.store.workspaces),
        "rate_limit_per_second": emu.limiter.per_second,
    }


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def reset(request: Request) -> JSONResponse:
    """`POST /_admin/reset {"seed": "demo"|"empty"}`: fresh data; also clears rate limits and faults."""
    emu = emulator(request)
    try:
        name = (await _body(request)).get("seed", emu.seed)
        emu.reset(str(name))
    except ValueError as exc:
        return _bad(str(exc))
    return JSONResponse(_summary(emu))


async def config(request: Request) -> JSONResponse:
    """`GET|POST /_admin/config {"rate_limit_per_second": 30}` (0 turns the limit off)."""
    emu = emulator(request)
    if request.method == "POST":
        try:
            body = await _body(request)
            if "rate_limit_per_second" in body:
                emu.limiter.per_second = int(body["rate_limit_per_second"])
                emu.limiter.reset()
        except (TypeError, ValueError) as exc:
            return _bad(str(exc))
    return JSONResponse(_summary(emu))


async def bulk(request: Request) -> JSONResponse:
    """`POST /_admin/bulk {"projects": 1000, "workspaces_per_project": 2, "organization": "acme"}`."""
    emu = emulator(request)
    try:
        body = await _body(request)
        projects = int(body.get("projects", 0))
        per_project = int(body.get("workspaces_per_project", 0))
        organization = str(body.get("organization", seeds.DEMO_ORG))
        if projects < 0 or per_project < 0:
            raise ValueError("counts must not be negative")
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    counts = seeds.bulk(emu.store, organization, projects, per_project)
    return JSONResponse({"organization": organization, **counts})
