"""Bearer-token authentication, permissions and the 30-requests-per-second rate limit."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..faults import relative_path
from .jsonapi import CONTENT_TYPE, error_object

NO_PERMISSION_PREFIX = "noperm-"
PRINCIPAL_KEY = "tfe.principal"


@dataclass(frozen=True)
class Principal:
    """Who is calling and what the organization lets them do with projects."""

    token: str
    read_projects: bool = True
    manage_projects: bool = True
    manage_workspaces: bool = True


def principal_for(token: str, tokens: dict[str, dict[str, Any]] | None) -> Principal | None:
    """Resolve a bearer token. `None` means 401.

    With `tokens` given, only those tokens are valid; each may carry
    `{"org-permissions": {"read-projects": bool, "manage-projects": bool, "manage-workspaces": bool}}`
    (missing flags are true). Without it, any non-empty token is valid and tokens starting with
    `noperm-` are valid but may see nothing (HCP Terraform answers 404 to a valid token without access).
    """
    if not token:
        return None
    if tokens is not None:
        if token not in tokens:
            return None
        perms = (tokens[token] or {}).get("org-permissions") or {}
        read = bool(perms.get("read-projects", True))
        manage = bool(perms.get("manage-projects", True))
        return Principal(token, read or manage, manage, bool(perms.get("manage-workspaces", manage)))
    if token.startswith(NO_PERMISSION_PREFIX):
        return Principal(token, False, False, False)
    return Principal(token)


class RateLimiter:
    """Sliding one-second window per token; rejected requests do not count."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def check(self, key: str) -> float | None:
        """Record a request; return seconds to wait instead when over the limit."""
        if self.per_second <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= 1.0:
                hits.popleft()
            if len(hits) >= self.per_second:
                return max(0.0, 1.0 - (now - hits[0]))
            hits.append(now)
        return None


def _bearer(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").strip().partition(" ")
            return credentials.strip() if scheme.lower() == "bearer" else ""
    return ""


class AccessMiddleware:
    """ASGI middleware for `/api/...`: 401 without a valid token, 429 over the rate limit."""

    def __init__(self, app, tokens: dict[str, dict[str, Any]] | None, limiter: RateLimiter) -> None:
        self.app = app
        self.tokens = tokens
        self.limiter = limiter

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not relative_path(scope).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        principal = principal_for(_bearer(scope), self.tokens)
        if principal is None:
            detail = "A valid API token is required: send `Authorization: Bearer <token>`."
            await _send(send, 401, {"errors": [error_object(401, "unauthorized", detail)]}, {})
            return
        wait = self.limiter.check(principal.token)
        if wait is not None:
            # The real 429 body carries `status` as a number, unlike every other error.
            body = {
                "errors": [
                    {"detail": "You have exceeded the API's rate limit.", "status": 429, "title": "Too many requests"}
                ]
            }
            headers = {
                "retry-after": str(max(1, math.ceil(wait))),
                "x-ratelimit-limit": str(self.limiter.per_second),
                "x-ratelimit-reset": f"{wait:.3f}",
            }
            await _send(send, 429, body, headers)
            return
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)


async def _send(send, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
    body = json.dumps(payload).encode()
    raw = [(b"content-type", CONTENT_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
