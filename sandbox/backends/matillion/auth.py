"""OAuth client-credentials tokens and the per-token burst rate limit of the Matillion DPC emulator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

AUDIENCE = "https://api.matillion.com"
ISSUER = "https://id.core.matillion.com/"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Tokens:
    """Issues JWT-shaped bearer tokens (HS256 with a per-emulator key) and remembers their expiry."""

    key: bytes = field(default_factory=lambda: os.urandom(32))
    expiry: dict[str, float] = field(default_factory=dict)  # token -> epoch seconds

    def issue(self, client_id: str, audience: str, ttl_seconds: int) -> str:
        now = int(time.time())
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        claims = {
            "iss": ISSUER,
            "sub": f"{client_id}@clients",
            "aud": audience,
            "iat": now,
            "exp": now + ttl_seconds,
            "gty": "client-credentials",
            "jti": str(uuid.uuid4()),
        }
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64url(hmac.new(self.key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        token = f"{header}.{payload}.{signature}"
        self.expiry[token] = time.time() + ttl_seconds
        return token

    def problem(self, token: str | None) -> str | None:
        """Why `token` is not accepted (a detail for the 401), or None when it is valid."""
        if not token:
            return "Full authentication is required to access this resource: missing bearer token."
        expires = self.expiry.get(token)
        if expires is None:
            return "The access token is invalid."
        if time.time() >= expires:
            return "The access token has expired."
        return None

    def expire_all(self) -> int:
        for token in self.expiry:
            self.expiry[token] = 0.0
        return len(self.expiry)


@dataclass
class RateLimiter:
    """Sliding one-second window per key: at most `per_second` requests (0 = unlimited)."""

    per_second: int
    hits: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str) -> int | None:
        """Record a request; None when allowed, else the seconds to wait (for Retry-After)."""
        if self.per_second <= 0:
            return None
        now = time.monotonic()
        window = self.hits.setdefault(key, deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.per_second:
            return max(1, math.ceil(1.0 - (now - window[0])))
        window.append(now)
        return None
