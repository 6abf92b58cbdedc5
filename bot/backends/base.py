"""The small protocol every back-end client follows, and the pool that builds one per target."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from bot.backends.http import instrument
from bot.backends.matillion import MatillionClient
from bot.backends.phoenix import PhoenixClient
from bot.backends.polaris import PolarisClient
from bot.backends.terraform import TerraformClient
from bot.errors import BackendError
from bot.metrics import Metrics
from bot.settings import Target


@runtime_checkable
class BackendClient(Protocol):
    target: Target

    async def ping(self) -> str:
        """Cheap authenticated call proving the target answers; returns a short description."""
        ...

    async def aclose(self) -> None: ...


class ClientPool:
    """One client per configured target, created on first use and closed together."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self._clients: dict[str, BackendClient] = {}
        self._lock = asyncio.Lock()
        #: where the clients built here count their requests (by target name); None counts nothing
        self.metrics = metrics

    def register(self, target_name: str, client: BackendClient) -> None:
        self._clients[target_name] = client

    async def get(self, target: Target) -> BackendClient:
        client = self._clients.get(target.name)
        if client is not None:
            return client
        async with self._lock:
            if target.name not in self._clients:
                self._clients[target.name] = client = build_client(target)
                instrument(client, target.name, self.metrics)
            return self._clients[target.name]

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)


#: kind -> the class of its client; the class takes the Target.
CLIENT_CLASSES: dict[str, Callable[[Target], BackendClient]] = {
    "polaris": PolarisClient,
    "phoenix": PhoenixClient,
    "terraform": TerraformClient,
    "matillion": MatillionClient,
}


def build_client(target: Target) -> BackendClient:
    client_class = CLIENT_CLASSES.get(target.kind)
    if client_class is None:
        raise BackendError(f"projectops has no client for back ends of kind {target.kind}.")
    return client_class(target)
