"""The small protocol every back-end client follows, and the pool that builds one per target."""

from __future__ import annotations

import asyncio
import importlib
from typing import Protocol, runtime_checkable

from bot.errors import BackendError
from bot.settings import Target

#: kind -> "module:Class" of its client; the class takes the Target.
CLIENT_CLASSES: dict[str, str] = {
    "polaris": "bot.backends.polaris:PolarisClient",
    "phoenix": "bot.backends.phoenix:PhoenixClient",
    "terraform": "bot.backends.terraform:TerraformClient",
    "matillion": "bot.backends.matillion:MatillionClient",
}


@runtime_checkable
class BackendClient(Protocol):
    target: Target

    async def ping(self) -> str:
        """Cheap authenticated call proving the target answers; returns a short description."""
        ...

    async def aclose(self) -> None: ...


class ClientPool:
    """One client per configured target, created on first use and closed together."""

    def __init__(self) -> None:
        self._clients: dict[str, BackendClient] = {}
        self._lock = asyncio.Lock()

    def register(self, target_name: str, client: BackendClient) -> None:
        self._clients[target_name] = client

    async def get(self, target: Target) -> BackendClient:
        client = self._clients.get(target.name)
        if client is not None:
            return client
        async with self._lock:
            if target.name not in self._clients:
                self._clients[target.name] = build_client(target)
            return self._clients[target.name]

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)


def build_client(target: Target) -> BackendClient:
    spec = CLIENT_CLASSES.get(target.kind)
    if spec is None:
        raise BackendError(f"projectops has no client for back ends of kind {target.kind}.")
    module_name, class_name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        raise BackendError(
            f"Support for {target.kind} is not installed in this build of projectops.",
            "Ask an admin to upgrade projectops.",
            backend=target.kind,
        ) from None
    return getattr(module, class_name)(target)
