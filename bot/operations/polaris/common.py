"""What the Polaris operations share: params bases, the client, resolving a project by name or id."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pydantic import BaseModel, ConfigDict, Field

from bot.backends.polaris.models import Project
from bot.operations.context import report_progress as report_progress  # shared; imported from here

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
