"""The choke point: policy, audit before/after, typed errors, no secrets in the audit row."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from pydantic import BaseModel

from bot.errors import BackendError, OutcomeUnknown
from bot.operations.base import Actor, Operation, OpRequest, Rendered, Risk, Verified
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


# ---------------------------------------------------------------- changes whose answer did not come

def lost(what: str = "did not confirm within 10 s") -> OutcomeUnknown:
    return OutcomeUnknown(BackendError("Polaris did not answer within 10 s.", backend="Polaris"), what=what,
                          method="DELETE", path="/v1/projects/p")


def verify_finding(happened: bool, calls: list[str]):
    async def verify(ctx, params, error):
        calls.append(error.what)
        fact = "is gone" if happened else "is still there"
        return Verified(happened, f"Polaris {error.what}, {'but' if happened else 'and'} `{params.name}` {fact}.")

    return verify


async def test_a_change_that_happened_despite_a_lost_answer_succeeds_with_a_note(services: Services) -> None:
    async def run(ctx, params):
        raise lost()

    calls: list[str] = []
    op = dataclasses.replace(make_op(run), verify=verify_finding(True, calls))
    result = await execute(services, request(op))
    assert result.ok and result.value is None and calls == ["did not confirm within 10 s"]
    assert result.note == "Polaris did not confirm within 10 s, but `p` is gone."
    row = services.audit.get(result.audit_id)
    assert row["outcome"] == "succeeded" and row["error"] == result.note


async def test_a_change_that_did_not_happen_fails_saying_so(services: Services) -> None:
    async def run(ctx, params):
        raise lost("answered HTTP 500")

    op = dataclasses.replace(make_op(run), verify=verify_finding(False, []))
    result = await execute(services, request(op))
    assert result.error.message == "Polaris answered HTTP 500, and `p` is still there."
    assert "Nothing was changed" in result.error.hint
    assert services.audit.get(result.audit_id)["outcome"] == "failed"


async def test_without_a_way_to_check_the_reply_says_it_cannot_tell(services: Services) -> None:
    async def run(ctx, params):
        raise lost()

    result = await execute(services, request(make_op(run)))
    assert result.error.message == "Polaris did not confirm within 10 s, so I cannot tell whether the thing do " \
                                   "happened."
    assert "`/projects show pol p`" in result.error.hint
    assert services.audit.get(result.audit_id)["outcome"] == "failed"


async def test_a_check_that_fails_too_leaves_the_outcome_open(services: Services) -> None:
    async def run(ctx, params):
        raise lost()

    async def verify(ctx, params, error):
        raise BackendError("Polaris answered HTTP 503.")

    result = await execute(services, request(dataclasses.replace(make_op(run), verify=verify)))
    assert "reading it again failed too (Polaris answered HTTP 503)" in result.error.message
    assert "cannot tell" in result.error.message


async def test_a_read_whose_answer_was_lost_fails_with_the_cause(services: Services) -> None:
    async def run(ctx, params):
        raise lost()

    result = await execute(services, request(make_op(run, Risk.READ)))
    assert result.error.message == "Polaris did not answer within 10 s."


async def test_a_change_stopped_before_it_sent_anything_says_so(services: Services) -> None:
    async def run(ctx, params):
        await asyncio.sleep(5)

    result = await execute(services, request(make_op(run)), timeout=0.2)
    assert result.error.message == "`thing do` took longer than 0.2 s and was stopped before it changed anything."


async def test_an_answer_of_an_unknown_shape_names_the_back_end(services: Services) -> None:
    class Thing(BaseModel):
        id: str

    async def run(ctx, params):
        return Thing.model_validate({"uid": 1})

    result = await execute(services, request(make_op(run)))
    assert result.error.message == "Polaris on `pol` answered with data projectops cannot read."
    assert "ValidationError" not in str(result.error)
