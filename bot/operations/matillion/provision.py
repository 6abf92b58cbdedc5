"""Guided Matillion project provisioning: project -> connection -> environment -> repository, resumable.

Each finished step is recorded (`bot.store.provisioning`, no secrets); a failure names the step and why,
and `resume` continues from there with the recorded plan, so a second project is never created.
Secrets (private key, passphrase, password, GitHub PAT) are typed only into the Provision modal:
the command-line form refuses them before anything is parsed further.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, SecretStr, field_validator

from bot.backends.matillion import (
    ACCESS_LEVELS,
    DEPLOYMENT_TYPES,
    WAREHOUSES,
    MatillionClient,
    canonical,
    is_uuid,
    redshift_override,
    snowflake_override,
)
from bot.errors import BackendError, ConflictError, NotFoundError, OpError, UsageError
from bot.operations.base import Operation, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.matillion.common import KIND, MatillionParams, client_of, report_progress, target_name
from bot.operations.matillion.projects import create_hint
from bot.operations.parser import args_to_fields
from bot.operations.registry import register
from bot.operations.rules import rule_error, slack_safe_name
from bot.redact import is_secret_key, register_secret, scrub
from bot.store.provisioning import Provisioning, ProvisioningStore
from bot.ui import blocks as bk
from bot.ui.mrkdwn import Mrkdwn, bold, code, md, user

log = logging.getLogger("projectops.matillion")

STEPS = ("project", "connection", "environment", "repository")
STEP_TEXT = {
    "project": "create the project",
    "connection": "add the data-platform connection",
    "environment": "create the environment",
    "repository": "associate the repository",
}
SECRET_FIELDS = ("private_key", "passphrase", "password", "git_access_token")
SECRET_WORDS = {
    "private_key": "Snowflake private key", "passphrase": "private key passphrase",
    "password": "Redshift password", "git_access_token": "GitHub personal access token",
}
MODAL_HINT = "Type `/projects provision` to open the provisioning form: secrets go only into its fields."
#: Provisioning ids running in this process (a double click must not run one twice).
_RUNNING: set[str] = set()


# ---------------------------------------------------------------- input rules (the one copy)
# The command line and the Provision modal (which asks for these fields a step at a time) refuse through the
# validators of ProvisionParams, with these words; none of them repeats the value back.
TEXT_MAX = 255
UUID_LENGTH = 36
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
AGENT_RULE = "That is not an agent id: agent ids are UUIDs, like 7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d."
REPOSITORY_RULE = "Use owner/repo for the GitHub repository, e.g. acme/analytics."
PORT_RULE = "The port is a number from 1 to 65535."


class ProvisionParams(MatillionParams):
    """Everything the Provision modal asks for; on `resume` only the secrets are given again."""

    name: str | None = Field(default=None, max_length=TEXT_MAX, description="project name")
    warehouse: str | None = Field(default=None, description="snowflake or redshift")
    description: str = Field(default="", max_length=1000)
    deployment_type: str = Field(default="HYBRID", description="hybrid or full_saas")
    connection: str | None = Field(default=None, max_length=TEXT_MAX, description="connection name")
    environment: str | None = Field(default=None, max_length=TEXT_MAX, description="environment name")
    environment_description: str = Field(default="", max_length=1000)
    agent: str | None = Field(default=None, max_length=UUID_LENGTH, description="default agent id (uuid)")
    access_level: str = Field(default="default", description="default, admin, runner, readOnly or noAccess")
    account: str | None = Field(default=None, max_length=TEXT_MAX, description="Snowflake account identifier")
    endpoint: str | None = Field(default=None, max_length=TEXT_MAX, description="Redshift endpoint host")
    port: int = Field(default=5439, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=TEXT_MAX)
    default_role: str = Field(default="", max_length=TEXT_MAX)
    default_warehouse: str = Field(default="", max_length=TEXT_MAX)
    default_database: str = Field(default="", max_length=TEXT_MAX)
    default_schema: str = Field(default="", max_length=TEXT_MAX)
    repository: str | None = Field(default=None, max_length=TEXT_MAX, description="GitHub repository, owner/name")
    private_key: SecretStr | None = None
    passphrase: SecretStr | None = None
    password: SecretStr | None = None
    git_access_token: SecretStr | None = None
    resume: str | None = Field(default=None, description="provisioning id to continue")

    _names = field_validator("name", "connection", "environment", mode="before")(slack_safe_name)

    @field_validator("agent", mode="before")
    @classmethod
    def _agent(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() and not is_uuid(value):
            raise rule_error(AGENT_RULE)
        return value

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value and not REPOSITORY.fullmatch(value):
            raise rule_error(REPOSITORY_RULE)
        return value

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> Any:
        text = str(value).strip()
        if isinstance(value, bool) or not text.isdigit() or not 0 < int(text) < 65536:
            raise rule_error(PORT_RULE)
        return int(text)


# ---------------------------------------------------------------- the plan (no secrets)
def plan_from(params: ProvisionParams) -> dict[str, Any]:
    """The validated, secret-free plan; every problem is reported before anything is created."""
    missing = [f"`--{f.replace('_', '-')}`" for f in ("name", "warehouse", "environment", "agent", "username")
               if not getattr(params, f)]
    warehouse = canonical(params.warehouse, WAREHOUSES, "supported warehouse") if params.warehouse else ""
    where = {"SNOWFLAKE": "account", "REDSHIFT": "endpoint"}.get(warehouse)
    if where and not getattr(params, where):
        missing.append(f"`--{where}`")
    if missing:
        raise UsageError("To provision a Matillion project I also need " + ", ".join(missing) + ".",
                         "The Provision modal asks for all of it.")
    deployment = canonical(params.deployment_type, DEPLOYMENT_TYPES, "deployment type")
    if params.repository and deployment == "FULL_SAAS":
        raise UsageError("Matillion's API cannot associate a repository with a Full SaaS project.",
                         "Leave the repository out, or use a Hybrid deployment.")
    return {
        "name": params.name, "warehouse": warehouse, "description": params.description,
        "deployment_type": deployment, "connection": params.connection or f"{warehouse.lower()}-main",
        "environment": params.environment, "environment_description": params.environment_description,
        "agent": (params.agent or "").lower(),
        "access_level": canonical(params.access_level, ACCESS_LEVELS, "default access level"),
        "account": params.account or "", "endpoint": params.endpoint or "", "port": params.port,
        "username": params.username, "default_role": params.default_role,
        "default_warehouse": params.default_warehouse, "default_database": params.default_database,
        "default_schema": params.default_schema, "repository": params.repository or "",
    }


def plan_steps(plan: dict[str, Any]) -> list[str]:
    return [s for s in STEPS if s != "repository" or plan.get("repository")]


def missing_secrets(plan: dict[str, Any], record: Provisioning | None, params: ProvisionParams) -> list[str]:
    needed = []
    if record is None or not record.done("environment"):
        needed.append("private_key" if plan["warehouse"] == "SNOWFLAKE" else "password")
    if plan.get("repository") and (record is None or not record.done("repository")):
        needed.append("git_access_token")
    return [f for f in needed if not _secret(params, f)]


def check_secrets(plan: dict[str, Any], record: Provisioning | None, params: ProvisionParams) -> None:
    lacking = missing_secrets(plan, record, params)
    if lacking:
        words = ", ".join(SECRET_WORDS[f] for f in lacking)
        raise UsageError(f"Provisioning `{plan['name']}` needs the {words}; nothing was started.", MODAL_HINT)


def _secret(params: ProvisionParams, name: str) -> SecretStr | None:
    value = getattr(params, name)
    return value if value is not None and value.get_secret_value() else None


# ---------------------------------------------------------------- steps
@dataclass
class StepContext:
    client: MatillionClient
    plan: dict[str, Any]
    record: Provisioning
    params: ProvisionParams
    resuming: bool

    @property
    def project_id(self) -> str:
        return self.record.steps["project"]["project_id"]


async def _quietly(call: Awaitable[Any]) -> Any:
    """A look-up made only to reconcile a resumed run; when it fails, the step just runs."""
    try:
        return await call
    except OpError as exc:
        log.debug("reconcile look-up failed: %s", exc.message)
        return None


async def existing_project(s: StepContext) -> dict[str, Any] | None:
    """The plan's project if it was made after this provisioning began (so by it, answer lost)."""
    found = await _quietly(s.client.find_project(s.plan["name"]))
    if found is not None and found.created_at and found.created_at >= s.record.created_at:
        return {"project_id": found.id, "adopted": True}
    return None


async def existing_connection(s: StepContext) -> dict[str, Any] | None:
    for c in await _quietly(s.client.list_connections(s.project_id)) or []:
        if c.name.casefold() == s.plan["connection"].casefold():
            return {"name": c.name, "adopted": True}
    return None


async def existing_environment(s: StepContext) -> dict[str, Any] | None:
    for e in await _quietly(s.client.list_environments(s.project_id)) or []:
        if e.name.casefold() == s.plan["environment"].casefold():
            return {"name": e.name, "adopted": True}
    return None


async def existing_repository(s: StepContext) -> dict[str, Any] | None:
    for r in await _quietly(s.client.list_repositories(s.project_id)) or []:
        if r.repository_name.casefold() == s.plan["repository"].casefold():
            return {"name": r.repository_name, "adopted": True}
    return None


async def create_project(s: StepContext) -> dict[str, Any]:
    plan = s.plan
    project_id = await s.client.create_project(plan["name"], plan["warehouse"], plan["deployment_type"],
                                               plan["description"])
    return {"project_id": project_id}


async def create_connection(s: StepContext) -> dict[str, Any]:
    created = await s.client.create_connection(s.project_id, s.plan["connection"], s.plan["warehouse"])
    return {"name": created.name, "id": created.id}


async def create_environment(s: StepContext) -> dict[str, Any]:
    plan = s.plan
    if plan["warehouse"] == "SNOWFLAKE":
        override = snowflake_override(
            plan["connection"], account=plan["account"], username=plan["username"],
            private_key=_secret(s.params, "private_key"),  # type: ignore[arg-type]
            passphrase=_secret(s.params, "passphrase"), role=plan["default_role"],
            warehouse=plan["default_warehouse"], database=plan["default_database"], schema=plan["default_schema"],
        )
    else:
        override = redshift_override(
            plan["connection"], endpoint=plan["endpoint"], username=plan["username"], port=plan["port"],
            password=_secret(s.params, "password"),  # type: ignore[arg-type]
            database=plan["default_database"], schema=plan["default_schema"],
        )
    created = await s.client.create_environment(
        s.project_id, name=plan["environment"], default_agent_id=plan["agent"], warehouse=plan["warehouse"],
        override=override, access_level=plan["access_level"], description=plan["environment_description"],
    )
    return {"name": created.name}


async def create_repository(s: StepContext) -> dict[str, Any]:
    token = _secret(s.params, "git_access_token")
    created = await s.client.associate_repository(s.project_id, s.plan["repository"], token)  # type: ignore[arg-type]
    return {"name": created.repository_name or s.plan["repository"]}


Step = Callable[[StepContext], Awaitable[dict[str, Any] | None]]
#: step -> (find what an earlier attempt already made, make it)
STEP_RUNNERS: dict[str, tuple[Step, Step]] = {
    "project": (existing_project, create_project),
    "connection": (existing_connection, create_connection),
    "environment": (existing_environment, create_environment),
    "repository": (existing_repository, create_repository),
}


async def run_step(s: StepContext, step: str) -> dict[str, Any]:
    """Make the step's thing; on a resumed run, or when a create conflicts (a retried request whose first
    answer was lost), adopt what this provisioning already made instead of making it twice."""
    find, make = STEP_RUNNERS[step]
    if s.resuming and (found := await find(s)) is not None:
        return found
    try:
        return await make(s)  # type: ignore[return-value]
    except ConflictError:
        if (found := await find(s)) is not None:
            return found
        raise


# ---------------------------------------------------------------- the operation
class ProvisioningFailed(BackendError):
    """One step failed: says which, why, what was done, and how to resume."""

    def __init__(self, record: Provisioning, step: str, cause: OpError, steps: list[str], target: str) -> None:
        number = steps.index(step) + 1
        done = [describe_step(record, s) for s in steps if record.done(s)]
        message = (f"Provisioning of `{record.plan.get('name')}` stopped at step {number} of {len(steps)} "
                   f"({step}: {STEP_TEXT[step]}): {scrub(cause.message)}")
        hint = " ".join(part for part in (
            ("Done: " + "; ".join(done) + ".") if done else "Nothing was created.",
            scrub(cause.hint),
            f"Then resume provisioning `{record.id}` with its Resume button (re-enter the secrets); "
            f"`/projects provision status {target} {record.id}` shows where it stands.",
        ) if part)
        super().__init__(message, hint, backend=getattr(cause, "backend", "") or "Matillion",
                         status=getattr(cause, "status", None), code=getattr(cause, "code", ""),
                         request_id=getattr(cause, "request_id", ""), retryable=getattr(cause, "retryable", False))
        self.record, self.step = record, step


def describe_step(record: Provisioning, step: str) -> str:
    info = record.steps.get(step) or {}
    if step == "project":
        return f"project `{record.plan.get('name')}` (`{info.get('project_id', '?')}`)"
    return f"{step} `{info.get('name', '?')}`"


@dataclass
class ProvisionOutcome:
    target: str
    record: Provisioning
    steps: list[str]
    ran: list[str] = field(default_factory=list)
    resumed: bool = False


def register_secrets(params: ProvisionParams) -> None:
    for name in SECRET_FIELDS:
        register_secret(getattr(params, name))


async def _open_record(ctx: OpContext, store: ProvisioningStore, client: MatillionClient,
                       params: ProvisionParams) -> tuple[Provisioning, dict[str, Any], bool]:
    target = target_name(ctx)
    if params.resume:
        record = await asyncio.to_thread(store.get, params.resume.strip())
        if record is None or record.target != target or record.kind != KIND:
            raise UsageError(f"There is no provisioning `{params.resume}` on `{target}`.",
                             f"`/projects provision status {target}` lists recent ones.")
        extra = params.model_fields_set - {"resume", *SECRET_FIELDS}
        if extra:
            raise UsageError(f"Resuming `{record.id}` uses the plan recorded with it; only secrets can be given again.",
                             "To change the plan, start a new provisioning with another project name.")
        return record, record.plan, True
    plan = plan_from(params)
    check_secrets(plan, None, params)
    earlier = await asyncio.to_thread(store.unfinished, target, plan["name"])
    if earlier is not None and earlier.done("project"):
        try:
            await client.get_project(earlier.steps["project"]["project_id"])
        except NotFoundError:
            earlier = None  # its project is gone: starting again is safe
        if earlier is not None:
            raise UsageError(
                f"Provisioning `{earlier.id}` of `{plan['name']}` did not finish "
                f"(it stopped at {earlier.failed_step or 'an unknown step'}).",
                f"Resume `{earlier.id}` with its Resume button instead: starting again would create a "
                "second project.",
            )
    record = await asyncio.to_thread(store.create, KIND, target, ctx.actor.user_id, plan)
    return record, plan, False


async def run_provision(ctx: OpContext, params: ProvisionParams) -> ProvisionOutcome:
    register_secrets(params)
    client = await client_of(ctx)
    store = ctx.services.store.provisioning
    record, plan, resumed = await _open_record(ctx, store, client, params)
    steps = plan_steps(plan)
    outcome = ProvisionOutcome(target_name(ctx), record, steps, resumed=resumed)
    if record.status == "succeeded":
        return outcome
    check_secrets(plan, record, params)
    if record.id in _RUNNING:
        raise UsageError(f"Provisioning `{record.id}` is already running.", "Wait for its answer.")
    _RUNNING.add(record.id)
    try:
        if resumed:
            await asyncio.to_thread(store.resume, record)
        await _run_steps(ctx, store, StepContext(client, plan, record, params, resumed), outcome)
    finally:
        _RUNNING.discard(record.id)
    return outcome


async def _run_steps(ctx: OpContext, store: ProvisioningStore, s: StepContext, outcome: ProvisionOutcome) -> None:
    record, steps = s.record, outcome.steps
    for number, step in enumerate(steps, start=1):
        if record.done(step):
            continue
        await report_progress(ctx, f"Step {number} of {len(steps)}: {STEP_TEXT[step]}…")
        try:
            details = await run_step(s, step)
        except OpError as exc:
            await asyncio.to_thread(store.step_failed, record, step, scrub(exc.message))
            if step == "project" and isinstance(exc, BackendError):
                create_hint(ctx, s.plan["name"], exc)
            raise ProvisioningFailed(record, step, exc, steps, outcome.target) from None
        except asyncio.CancelledError:
            store.step_failed(record, step, "stopped: it took too long")
            raise
        except Exception:
            log.exception("provisioning step %s failed unexpectedly", step)
            await asyncio.to_thread(store.step_failed, record, step, "an unexpected error (details in the app log)")
            raise
        await asyncio.to_thread(store.step_done, record, step, details)
        outcome.ran.append(step)
    await asyncio.to_thread(store.finish, record)


def render_provision(o: ProvisionOutcome, ctx: OpContext) -> Rendered:
    rec, plan = o.record, o.record.plan
    if not o.ran and o.resumed:
        text = f":information_source: Provisioning `{rec.id}` of *{plan['name']}* had already finished."
    else:
        text = f":white_check_mark: Provisioned Matillion project *{plan['name']}* on `{o.target}`."
    project_id = (rec.steps.get("project") or {}).get("project_id", "?")
    repo = (rec.steps.get("repository") or {}).get("name")
    blocks: list[dict[str, Any]] = [
        bk.section(text),
        bk.section(fields=[
            f"*Project*\n{plan['name']}\n`{project_id}`",
            f"*Warehouse*\n{plan['warehouse']} · {plan['deployment_type']}",
            f"*Connection*\n`{plan['connection']}`",
            f"*Environment*\n`{plan['environment']}` ({plan['access_level']})",
            "*Repository*\n" + (f"`{repo}`" if repo else "none"),
        ]),
    ]
    notes = [f"provisioning `{rec.id}`"]
    if o.resumed and o.ran:
        notes.append(f"resumed at *{o.ran[0]}*")
    adopted = [s for s in o.ran if (rec.steps.get(s) or {}).get("adopted")]
    if adopted:
        notes.append("found already done on Matillion: " + ", ".join(adopted))
    blocks.append(bk.context(" · ".join(notes)))
    blocks.append(bk.context("Only Super Admins see the project until its users are invited."))
    return Rendered(text=text, blocks=blocks)


def parse_provision_args(args: list[str]) -> dict[str, Any]:
    """The command-line form: everything but secrets, which are refused before anything else."""
    refused: list[str] = []
    for i, arg in enumerate(args):
        key, eq, inline = arg.lstrip("-").partition("=")
        if not (arg.startswith("--") or eq):
            continue
        key = key.replace("-", "_").lower()
        if key in SECRET_FIELDS or key in ("pat", "key", "private", "git_token") or is_secret_key(key):
            value = inline if eq else (args[i + 1] if i + 1 < len(args) else "")
            register_secret(value)  # so even the record of this bad input cannot hold it
            refused.append(f"`--{key.replace('_', '-')}`")
    if refused:
        raise UsageError(
            f"Secrets cannot be typed on the command line ({', '.join(refused)}): Slack keeps commands in history.",
            MODAL_HINT + " Nothing was sent to Matillion.",
        )
    return args_to_fields(PROVISION, args)


PROVISION = register(Operation(
    name="project.provision", summary="set up a whole Matillion project: connection, environment, repository",
    form="provision", live=True,
    params=ProvisionParams, risk=Risk.WRITE, run=run_provision, render=render_provision, kind=KIND,
    verb="provision", parse_args=parse_provision_args, positional=("name", "warehouse"),
    usage_text="/projects provision <target> <name> <snowflake|redshift> --environment <env> --agent <uuid> "
               "--username <user> (--account <sf-account> | --endpoint <host>) [--repository owner/repo] "
               "— secrets only in the Provision modal",
    examples=("/projects provision status matillion",),
))


# ---------------------------------------------------------------- status
class StatusParams(MatillionParams):
    id: str | None = Field(default=None, description="provisioning id")


@dataclass
class StatusResult:
    target: str
    records: list[Provisioning]
    single: bool


async def run_status(ctx: OpContext, params: StatusParams) -> StatusResult:
    store = ctx.services.store.provisioning
    target = target_name(ctx)
    if params.id:
        record = await asyncio.to_thread(store.get, params.id)
        if record is None or record.target != target:
            raise UsageError(f"There is no provisioning `{params.id}` on `{target}`.",
                             f"`/projects provision status {target}` lists recent ones.")
        return StatusResult(target, [record], True)
    return StatusResult(target, await asyncio.to_thread(store.recent, target, 10), False)


STATUS_MARK = {"succeeded": ":white_check_mark:", "failed": ":x:", "running": ":hourglass_flowing_sand:"}


def render_status(result: StatusResult, ctx: OpContext) -> Rendered:
    if not result.records:
        text = f"No provisioning has run on `{result.target}` yet."
        return Rendered(text=text, blocks=[bk.section(text)])
    if result.single:
        rec = result.records[0]
        lines: list[str] = [md("{} *Provisioning {}* of {} — {} (attempt {}, by {})", STATUS_MARK.get(rec.status, ""),
                    code(rec.id), bold(rec.plan.get("name")), rec.status, rec.attempts, user(rec.requested_by))]
        for step in plan_steps(rec.plan):
            if rec.done(step):
                lines.append(f":white_check_mark: {describe_step(rec, step)}")
            elif step == rec.failed_step:
                lines.append(f":x: {step}: {bk.clip(rec.error, 500)}")
            else:
                lines.append(f":white_circle: {step}: not done")
        return Rendered(text=f"Provisioning {rec.id}: {rec.status}", blocks=[bk.section(Mrkdwn("\n").join(lines))])
    lines = []
    for rec in result.records:
        where = f" at {rec.failed_step}" if rec.status == "failed" else ""
        lines.append(f"{STATUS_MARK.get(rec.status, '')} `{rec.id}` *{rec.plan.get('name')}* — {rec.status}{where} · "
                     f"{rec.updated_at[:16].replace('T', ' ')}Z")
    count = len(result.records)
    return Rendered(text=f"{count} provisioning{'s' if count != 1 else ''} on {result.target}", blocks=[
        bk.header(f"Provisioning on {result.target}"), bk.section("\n".join(lines)),
        bk.context(f"`/projects provision status {result.target} <id>` shows the steps of one."),
    ])


register(Operation(
    name="provision.status", summary="where Matillion provisionings stand, step by step", params=StatusParams,
    risk=Risk.READ, run=run_status, render=render_status, kind=KIND, positional=("id",),
    examples=("/projects provision status matillion", "/projects provision status matillion ma-1a2b3c4d"),
))
