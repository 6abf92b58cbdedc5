"""All back-end emulators under one port: /polaris, /phoenix, /terraform, /matillion.

`demo_config(url)` is the projectops config (plain YAML data) naming one target per emulated
back end plus the demo roles. Credentials stay `${ENV_VAR}` references, with the emulators'
demo values as defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from sandbox.backends import matillion, phoenix, polaris, terraform

#: kind -> the factory of its emulator (an ASGI app), called with the seed name.
EMULATORS: dict[str, Callable[..., Any]] = {
    "polaris": polaris.create_app,
    "phoenix": phoenix.create_app,
    "terraform": terraform.create_app,
    "matillion": matillion.create_app,
}
KINDS = tuple(EMULATORS)

DEMO_CREDENTIALS: dict[str, dict[str, str]] = {
    "polaris": {"api_key": "${POLARIS_API_KEY:-demo-polaris-key}"},
    "phoenix": {},
    "terraform": {"token": "${TFE_TOKEN:-demo-terraform-token}"},
    "matillion": {
        "client_id": "${MATILLION_CLIENT_ID:-demo-client}",
        "client_secret": "${MATILLION_CLIENT_SECRET:-demo-secret}",
    },
}


def emulator_apps(seed: str = "demo") -> dict[str, Any]:
    """One emulator per back-end kind, each seeded with `seed`."""
    return {kind: create_app(seed=seed) for kind, create_app in EMULATORS.items()}


def create_emulators_app(seed: str = "demo") -> Starlette:
    apps = emulator_apps(seed)

    async def index(request: Request) -> JSONResponse:
        return JSONResponse({"emulators": sorted(apps), "seed": seed})

    routes: list[Any] = [Route("/", index), Route("/healthz", index)]
    routes += [Mount(f"/{kind}", app=app) for kind, app in apps.items()]
    return Starlette(routes=routes)


def demo_config(base_url: str, kinds: list[str] | None = None) -> dict[str, Any]:
    base_url = base_url.rstrip("/")
    targets: dict[str, Any] = {}
    for kind in kinds or list(KINDS):
        target: dict[str, Any] = {"kind": kind, "url": f"{base_url}/{kind}"}
        if DEMO_CREDENTIALS[kind]:
            target["credentials"] = dict(DEMO_CREDENTIALS[kind])
        if kind == "terraform":
            target["options"] = {"organization": "acme"}
        if kind == "matillion":
            target["options"] = {"token_url": f"{base_url}/matillion/oauth/dpc/token"}
        targets[kind] = target
    return {
        "targets": targets,
        "roles": {"admin": ["U0ADMIN"], "operator": ["U0OPERATOR"], "viewer": ["U0VIEWER"], "default": "viewer"},
    }
