"""The choke point: policy, audit before/after, typed errors, no secrets in the audit row."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from bot.errors import BackendError
from bot.operations.base import Actor, Operation, OpRequest, Rendered, Risk
from bot.operations.context import Services
from bot.operations.executor import execute
from bot.operations.registry import Registry


class Params(BaseModel):
    name: str
    password: str = ""


def make_op(run, risk: Risk = Risk.WRITE) -> Operation:
    return Operation(name="thing.do", summary="do", params=Params, risk=risk, run=run,
                     render=lambda v, c: Rendered(str(v)), kind="polaris")


@pytest.fixture
def services(make_services) -> Services:
    return make_services({"targets": {"pol": {"kind": "polaris", "url": "http://x"}},
                          "roles": {"admin": ["UADMIN"], "operator": ["UOPS"], "default": "viewer"}},
                         registry=Registry())


def request(op: Operation, user: str = "UOPS", **kw) -> OpRequest:
    return OpRequest(operation=op, actor=Actor(user_id=user, channel_id="C1"),
                     params=Params(name="p", password="hunter22"), target="pol", **kw)


async def test_success_writes_one_row_started_then_succeeded(services: Services) -> None:
    seen: list[str] = []

    async def run(ctx, params):
        seen.append(services.audit.get(1)["outcome"])  # row exists before the call
        return "done"

    result = await execute(services, request(make_op(run)))
    assert result.ok and result.value == "done" and seen == ["started"]
    row = services.audit.get(result.audit_id)
    assert row["outcome"] == "succeeded" and row["operation"] == "polaris.thing.do" and row["target"] == "pol"
    assert "hunter22" not in str(row) and services.audit.count() == 1


async def test_backend_error_is_typed_and_audited(services: Services) -> None:
    async def run(ctx, params):
        raise BackendError("Polaris said no.", "Do this instead.", request_id="req-9")

    result = await execute(services, request(make_op(run)))
    assert isinstance(result.error, BackendError)
    row = services.audit.get(result.audit_id)
    assert row["outcome"] == "failed" and row["request_id"] == "req-9" and "Polaris said no." in row["error"]


async def test_unexpected_exception_is_hidden_and_audited(services: Services) -> None:
    async def run(ctx, params):
        raise RuntimeError("Traceback secret internals")

    result = await execute(services, request(make_op(run)))
    assert "Traceback" not in result.error.message and f"#{result.audit_id}" in result.error.hint
    assert services.audit.get(result.audit_id)["outcome"] == "failed"


async def test_refused_by_role_never_runs(services: Services) -> None:
    called = []

    async def run(ctx, params):
        called.append(1)

    result = await execute(services, request(make_op(run), user="UVIEW"))
    assert called == [] and result.error.kind == "refused"
    assert "operator" in result.error.hint and "<@UOPS>" in result.error.hint
    assert services.audit.get(result.audit_id)["outcome"] == "refused"


async def test_destructive_needs_confirmation(services: Services) -> None:
    async def run(ctx, params):
        return "gone"

    op = make_op(run, Risk.DESTRUCTIVE)
    assert (await execute(services, request(op, user="UADMIN"))).error.kind == "refused"
    result = await execute(services, request(op, user="UADMIN", confirmed_by="UADMIN"))
    assert result.ok and services.audit.get(result.audit_id)["confirmed_by"] == "UADMIN"


async def test_timeout_ends_as_failed(services: Services) -> None:
    async def run(ctx, params):
        await asyncio.sleep(5)

    result = await execute(services, request(make_op(run)), timeout=0.05)
    assert "took longer" in result.error.message
    assert services.audit.get(result.audit_id)["outcome"] == "failed"


async def test_a_repeated_create_runs_once(services: Services) -> None:
    calls = []

    async def run(ctx, params):
        calls.append(params.name)
        return "created"

    op = Operation(name="project.create", summary="create", params=Params, risk=Risk.WRITE, run=run,
                   render=lambda v, c: Rendered(str(v)), kind="polaris", idempotent=True)
    first = await execute(services, request(op))
    again = await execute(services, request(op))
    assert first.ok and calls == ["p"]
    assert again.error.kind == "refused" and f"audit #{first.audit_id}" in again.error.message
    other = OpRequest(operation=op, actor=Actor(user_id="UOPS"), params=Params(name="q"), target="pol")
    assert (await execute(services, other)).ok and calls == ["p", "q"]
