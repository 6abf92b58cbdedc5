"""httpx for the servers the tests start on 127.0.0.1: the same API, one TLS context for all.

httpx builds a TLS context and loads the whole CA bundle for every client it makes, `httpx.get` included (about
50 ms on these machines); the tests make thousands of clients, every one for plain HTTP on the loopback, so they
share one context built once. Use `loopback.Client(...)`, `loopback.get(...)` as `httpx.Client`, `httpx.get`.
"""

from __future__ import annotations

from typing import Any

import httpx

TLS = httpx.create_ssl_context()


def Client(**kwargs: Any) -> httpx.Client:  # noqa: N802 (stands in for the class)
    return httpx.Client(**{"verify": TLS, **kwargs})


def AsyncClient(**kwargs: Any) -> httpx.AsyncClient:  # noqa: N802
    return httpx.AsyncClient(**{"verify": TLS, **kwargs})


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, **{"verify": TLS, **kwargs})


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, **{"verify": TLS, **kwargs})


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, **{"verify": TLS, **kwargs})


def put(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.put(url, **{"verify": TLS, **kwargs})


def patch(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.patch(url, **{"verify": TLS, **kwargs})


def delete(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.delete(url, **{"verify": TLS, **kwargs})
