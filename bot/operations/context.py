"""Everything an operation may use while it runs."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.errors import UsageError
from bot.metrics import Metrics
from bot.operations.backlog import AuditBacklog
from bot.pacing import ChannelPacer

if TYPE_CHECKING:
    from bot.backends.base import BackendClient, ClientPool
    from bot.operations.base import Actor
    from bot.operations.registry import Registry
    from bot.policy import Policy
    from bot.settings import AppConfig, Target
    from bot.store import ApprovalStore, AuditLog, Store


@dataclass
class Services:
    """Long-lived parts shared by every request."""

    config: AppConfig
    store: Store  # everything kept in the database (bot/store)
    registry: Registry
    policy: Policy
    clients: ClientPool
    slack: Any = None  # AsyncWebClient, when running inside the Slack app
    scheduler: Any = None  # DigestScheduler, once the app runs its background duties
    pacer: ChannelPacer = field(default_factory=ChannelPacer)  # every chat.postMessage takes its turn here
    metrics: Metrics = field(default_factory=Metrics)  # this app's own registry, scraped at GET /metrics
    audit_backlog: AuditBacklog = field(default_factory=AuditBacklog)  # outcomes kept while the database is away

    @property
    def audit(self) -> AuditLog:
        return self.store.audit

    @property
    def approvals(self) -> ApprovalStore:
        return self.store.approvals


@dataclass
class OpContext:
    services: Services
    actor: Actor
    target: Target | None = None
    #: Optional live-progress hook: `progress(text)` (sync or async); operations call it via `report_progress`.
    progress: Any = None

    @property
    def config(self) -> AppConfig:
        return self.services.config

    async def client(self) -> BackendClient:
        if self.target is None:
            raise UsageError("This command needs a target.", "Name one: `/projects targets` lists them.")
        return await self.services.clients.get(self.target)


async def report_progress(ctx: OpContext, text: str) -> None:
    """Hand a progress line to whoever listens (live Slack message updates hook in as `ctx.progress`)."""
    hook = getattr(ctx, "progress", None)
    if hook is None:
        return
    result = hook(text)
    if inspect.isawaitable(result):
        await result
