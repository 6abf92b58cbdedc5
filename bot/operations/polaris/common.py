"""What the Polaris operations share: params bases, the client, resolving a project by name or id."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, cast

from pydantic import BaseModel, ConfigDict, Field

from bot.backends.polaris.models import Project

if TYPE_CHECKING:
    from bot.backends.polaris import PolarisClient
    from bot.operations.context import OpContext

KIND = "polaris"


class PolarisParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectParams(PolarisParams):
    project: str = Field(min_length=1, description="project name or id")


async def client_of(ctx: OpContext) -> PolarisClient:
    return cast("PolarisClient", await ctx.client())


async def project_of(ctx: OpContext, ref: str) -> tuple[PolarisClient, Project]:
    """The client and the project named (or with the uid) `ref`; NotFoundError suggests close names."""
    client = await client_of(ctx)
    return client, await client.resolve_project(ref)


def target_name(ctx: OpContext) -> str:
    return ctx.target.name if ctx.target else KIND


async def report_progress(ctx: OpContext, text: str) -> None:
    """Hand a progress line to whoever listens (live Slack message updates hook in as `ctx.progress`)."""
    hook = getattr(ctx, "progress", None)
    if hook is None:
        return
    result = hook(text)
    if inspect.isawaitable(result):
        await result
