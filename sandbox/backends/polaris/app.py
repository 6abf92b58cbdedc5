"""The ASGI app: routes, Polaris error bodies, API-key auth and fault injection."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from ..faults import FaultMiddleware, relative_path
from . import admin, connections, jobs, projects, tables
from . import seed as seeds
from .errors import ApiError, error_body, error_dict, handle_api_error, handle_http_exception
from .store import Config, Store


def create_app(
    seed: str = "demo",
    *,
    transition_seconds: float = 2.0,
    api_keys: Iterable[str] | None = None,
    clock: Callable[[], float] | None = None,
) -> FaultMiddleware:
    """The Polaris emulator. Mount it anywhere (routes are relative); `.app.state.store` holds the state.

    `api_keys`: accept only these keys (default: any non-empty key). `clock`: epoch-seconds source (tests).
    """
    store = Store(
        Config(transition_seconds=transition_seconds, api_keys=frozenset(api_keys) if api_keys else None),
        clock or time.time,
    )
    seeds.load(store, seed)
    app = Starlette(
        routes=[*projects.routes, *tables.routes, *jobs.routes, *connections.routes, *admin.routes],
        exception_handlers={ApiError: handle_api_error, HTTPException: handle_http_exception},
    )
    app.state.store = store
    app.state.seed = seed
    app.state.default_transition_seconds = transition_seconds  # what `/_admin/reset` restores
    return FaultMiddleware(ApiKeyAuth(app, store), error_body=error_body)


class ApiKeyAuth:
    """Checks `Authorization: Basic base64(key:)`, `Basic <key>` or `Bearer <token>` outside `/_...`."""

    def __init__(self, app, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or relative_path(scope).startswith("/_"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        header = headers.get(b"authorization", b"").decode("latin-1")
        problem = check_authorization(header, self.store.config.api_keys)
        if problem is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps(error_dict(401, problem)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Basic realm="Imply Polaris"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def check_authorization(header: str, keys: frozenset[str] | None) -> str | None:
    """None when the header carries an acceptable key or token, else why not."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if not header.strip():
        return "Authentication required: send Authorization: Basic with your API key."
    if not token or scheme.lower() not in ("basic", "bearer"):
        return "The Authorization header must be 'Basic <API key>' or 'Bearer <token>'."
    candidates = {token}
    if scheme.lower() == "basic":
        decoded = _b64decode(token)
        if decoded is not None and ":" in decoded:
            name, _, password = decoded.partition(":")
            candidates.add(name or password)
    candidates.discard("")
    if keys is None or candidates & keys:
        return None
    return "The API key or token is not valid."


def _b64decode(token: str) -> str | None:
    padded = token.translate(str.maketrans("-_", "+/")) + "=" * (-len(token) % 4)
    try:
        return base64.b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
