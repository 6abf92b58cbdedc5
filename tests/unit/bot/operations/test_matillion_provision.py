"""Matillion operations through the choke point against the in-process emulator: provisioning step by step,
partial failure and resume, the command-line secret refusal, and project list / show / create / delete."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import loopback
import pytest
from pydantic import SecretStr, ValidationError
from rig import message_text
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.backends.matillion import MatillionClient
from bot.errors import UsageError
from bot.operations.base import Actor, OpRequest, OpResult, Rendered, Risk
from bot.operations.context import Services
from bot.operations.executor import execute
from bot.operations.matillion.provision import ProvisioningFailed, ProvisionParams
from bot.operations.parser import parse_command
from bot.redact import scrub
from bot.store.audit import AuditQuery
from sandbox.backends.matillion import create_app
from sandbox.slack.blockkit import validate

BASE = "http://dpc.test/matillion"
AGENT = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIE-provision-unit\n-----END PRIVATE KEY-----"
PAT = "ghp_provisionUnitToken0123456789"


@pytest.fixture
def emulator() -> httpx.ASGITransport:
    return httpx.ASGITransport(app=Starlette(routes=[Mount("/matillion", app=create_app("demo"))]))


@pytest.fixture
async def services(emulator: httpx.ASGITransport, make_services) -> AsyncIterator[Services]:
    config = {"targets": {"matillion": {"kind": "matillion", "url": BASE,
                                        "credentials": {"client_id": "${MID}", "client_secret": "${MSECRET}"},
                                        "options": {"token_url": f"{BASE}/oauth/dpc/token"}}},
              "roles": {"admin": ["U0ADMIN", "U0ADMIN2"], "operator": ["U0OPERATOR"], "viewer": ["U0VIEWER"],
                        "default": "viewer"}}
    services = make_services(config, environ={"MID": "demo-client", "MSECRET": "demo-secret"})
    services.clients.register("matillion", MatillionClient(services.config.targets["matillion"], transport=emulator))
    yield services
    await services.clients.aclose()


async def admin(emulator: httpx.ASGITransport, method: str, path: str, **kwargs: Any) -> dict:
    async with loopback.AsyncClient(transport=emulator, base_url=BASE) as http:
        return (await http.request(method, path, **kwargs)).json()


async def projects_named(emulator: httpx.ASGITransport, name: str) -> list[dict]:
    return [p for p in (await admin(emulator, "GET", "/_admin/state"))["projects"] if p["name"] == name]


async def provision(services: Services, user: str = "U0OPERATOR", **fields: Any) -> OpResult:
    op = services.registry.get("project.provision", "matillion")
    assert op is not None and op.risk is Risk.WRITE
    request = OpRequest(operation=op, actor=Actor(user_id=user, channel_id="C0OPS", surface="modal"),
                        params=ProvisionParams(**fields), target="matillion")
    return await execute(services, request)


def snowflake(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "warehouse": "snowflake", "environment": "dev", "agent": AGENT, "account": "acme-xy1",
            "username": "SVC", "private_key": SecretStr(KEY), "passphrase": SecretStr("unit-pass-phrase"),
            "repository": f"acme/{name}", "git_access_token": SecretStr(PAT), **extra}


def rendered_ok(result: OpResult) -> Rendered:
    assert result.error is None, result.error
    rendered = result.request.operation.render(result.value, None)  # type: ignore[arg-type]
    assert validate({"text": rendered.text, "blocks": rendered.blocks}, "message") == []
    return rendered


async def run_text(services: Services, text: str, user: str = "U0ADMIN") -> tuple[OpResult, str]:
    parsed = parse_command(text, services.registry, services.config)
    destructive = parsed.operation.risk is Risk.DESTRUCTIVE
    request = OpRequest(operation=parsed.operation, actor=Actor(user_id=user, channel_id="C0OPS"),
                        params=parsed.params, target=parsed.target.name if parsed.target else None,
                        confirmed_by=user if destructive else "", approved_by="U0ADMIN2" if destructive else "")
    result = await execute(services, request)
    if result.error is not None:
        return result, str(result.error)
    return result, message_text({"text": (r := rendered_ok(result)).text, "blocks": r.blocks})


# ---------------------------------------------------------------- provisioning
async def test_provision_runs_all_four_steps_and_records_them(
    services: Services, emulator: httpx.ASGITransport
) -> None:
    result = await provision(services, **snowflake("prov-full"))
    text = message_text({"text": (r := rendered_ok(result)).text, "blocks": r.blocks})
    assert "Provisioned Matillion project *prov-full*" in text and "acme/prov-full" in text
    [project] = await projects_named(emulator, "prov-full")
    assert [c["name"] for c in project["dataPlatformConnections"]] == ["snowflake-main"]
    assert project["environments"][0]["name"] == "dev"
    assert project["environments"][0]["defaultConnections"] == ["snowflake-main"]
    assert project["repository"]["accessToken"]["received"] is True
    record = services.store.provisioning.get(result.value.record.id)
    assert record is not None and record.status == "succeeded"
    assert list(record.steps) == ["project", "connection", "environment", "repository"]
    assert record.steps["project"]["project_id"] == project["id"]
    assert KEY not in str(record.plan) and PAT not in str(record.plan)
    [row] = services.audit.query(AuditQuery(operation="matillion.project.provision"))
    assert row["outcome"] == "succeeded" and row["surface"] == "modal"
    assert "MIIE" not in row["params"] and PAT not in row["params"]


async def test_redshift_without_repository_is_three_steps(services: Services, emulator: httpx.ASGITransport) -> None:
    result = await provision(services, name="prov-rs", warehouse="REDSHIFT", environment="prod", agent=AGENT,
                             endpoint="rs.example.com", username="etl", password=SecretStr("rs-unit-password"),
                             access_level="readonly")
    assert "Repository*\nnone" in message_text({"blocks": rendered_ok(result).blocks})
    [project] = await projects_named(emulator, "prov-rs")
    env = project["environments"][0]
    assert env["defaultUserAccessLevel"] == "readOnly" and project["repository"] is None
    assert env["connectionOverrides"]["redshift-main"]["connectionProperties"]["url"] == "rs.example.com"


async def test_failed_step_is_named_and_resume_finishes_without_a_second_project(
    services: Services, emulator: httpx.ASGITransport
) -> None:
    await admin(emulator, "POST", "/_admin/fail", json={"step": "environments", "status": 500})
    failed = await provision(services, **snowflake("prov-partial"))
    error = failed.error
    assert isinstance(error, ProvisioningFailed) and error.step == "environment"
    assert "stopped at step 3 of 4 (environment: create the environment)" in error.message
    assert "internal error (500)" in error.message
    assert "Done: project `prov-partial`" in error.hint and "connection `snowflake-main`" in error.hint
    assert error.record.id in error.hint
    record = services.store.provisioning.get(error.record.id)
    assert record is not None and (record.status, record.failed_step) == ("failed", "environment")
    assert list(record.steps) == ["project", "connection"]
    [row] = services.audit.query(AuditQuery(operation="matillion.project.provision"))
    assert row["outcome"] == "failed" and "environment" in row["error"]

    again = await provision(services, **snowflake("prov-partial"))  # starting over is refused
    assert isinstance(again.error, UsageError) and error.record.id in again.error.hint

    resumed = await provision(services, resume=error.record.id, private_key=SecretStr(KEY),
                              git_access_token=SecretStr(PAT))
    assert "resumed at *environment*" in message_text({"blocks": rendered_ok(resumed).blocks})
    [project] = await projects_named(emulator, "prov-partial")
    assert project["environments"][0]["name"] == "dev"
    assert project["repository"]["repositoryName"] == "acme/prov-partial"
    assert len((await admin(emulator, "GET", "/_admin/state"))["projects"]) == 3  # two demo projects + this one
    record = services.store.provisioning.get(error.record.id)
    assert record is not None and (record.status, record.attempts) == ("succeeded", 2)

    done = await provision(services, resume=error.record.id)  # nothing left: no secrets needed, nothing run
    assert "had already finished" in rendered_ok(done).text


async def test_resume_adopts_a_step_whose_answer_was_lost(services: Services, emulator: httpx.ASGITransport) -> None:
    await admin(emulator, "POST", "/_admin/fail", json={"step": "environments", "status": 500, "commit": True})
    failed = await provision(services, **snowflake("prov-lost"))
    assert isinstance(failed.error, ProvisioningFailed) and failed.error.step == "environment"
    resumed = await provision(services, resume=failed.error.record.id, private_key=SecretStr(KEY),
                              git_access_token=SecretStr(PAT))
    assert "found already done on Matillion: environment" in message_text({"blocks": rendered_ok(resumed).blocks})
    [project] = await projects_named(emulator, "prov-lost")
    assert len(project["environments"]) == 1


async def test_a_lost_answer_is_adopted_on_resume(services: Services, emulator: httpx.ASGITransport) -> None:
    # The environment is stored but its answer is a 504. A POST is not retried blindly (it may have been
    # applied), so the step is reported; resuming finds the environment already there and adopts it.
    await admin(emulator, "POST", "/_admin/fail", json={"step": "environments", "status": 504, "commit": True})
    failed = await provision(services, **snowflake("prov-retried"))
    assert isinstance(failed.error, ProvisioningFailed) and "environment" in failed.error.message
    resumed = await provision(services, resume=failed.error.record.id, private_key=SecretStr(KEY),
                              passphrase=SecretStr("unit-pass-phrase"), git_access_token=SecretStr(PAT))
    assert "found already done on Matillion: environment" in message_text({"blocks": rendered_ok(resumed).blocks})
    [project] = await projects_named(emulator, "prov-retried")
    assert len(project["environments"]) == 1


async def test_first_step_failure_creates_nothing_and_resume_creates_one_project(
    services: Services, emulator: httpx.ASGITransport
) -> None:
    await admin(emulator, "POST", "/_admin/fail", json={"step": "projects", "status": 500})
    failed = await provision(services, **snowflake("prov-first"))
    assert isinstance(failed.error, ProvisioningFailed)
    assert "step 1 of 4 (project" in failed.error.message and "Nothing was created." in failed.error.hint
    resumed = await provision(services, resume=failed.error.record.id, private_key=SecretStr(KEY),
                              git_access_token=SecretStr(PAT))
    rendered_ok(resumed)
    assert len(await projects_named(emulator, "prov-first")) == 1


async def test_missing_secrets_or_fields_stop_before_anything_is_created(
    services: Services, emulator: httpx.ASGITransport
) -> None:
    fields = snowflake("prov-nokey")
    del fields["private_key"]
    result = await provision(services, **fields)
    assert isinstance(result.error, UsageError)
    assert "Snowflake private key" in result.error.message and "/projects provision" in result.error.hint
    result = await provision(services, name="prov-half", warehouse="snowflake")
    assert isinstance(result.error, UsageError) and "`--environment`, `--agent`, `--username`" in result.error.message
    with pytest.raises(ValidationError, match="not an agent id") as refused:  # the params model's own rule
        ProvisionParams(**snowflake("prov-agent", agent="agent-7"))
    assert "agent-7" not in str(refused.value.errors()[0]["msg"])
    assert await projects_named(emulator, "prov-nokey") == [] and services.store.provisioning.recent("matillion") == []


async def test_resume_takes_only_secrets(services: Services) -> None:
    await provision(services, **snowflake("prov-plan", agent=AGENT))
    result = await provision(services, resume="ma-00000000", private_key=SecretStr(KEY))
    assert isinstance(result.error, UsageError) and "no provisioning `ma-00000000`" in result.error.message
    record = services.store.provisioning.recent("matillion")[0]
    result = await provision(services, resume=record.id, name="other", private_key=SecretStr(KEY))
    assert isinstance(result.error, UsageError) and "only secrets" in result.error.message


async def test_viewer_may_not_provision(services: Services) -> None:
    result = await provision(services, user="U0VIEWER", **snowflake("prov-viewer"))
    assert result.error is not None and result.error.kind == "refused"


# ---------------------------------------------------------------- the command line
@pytest.mark.parametrize("secret_arg", [
    "--password s3cret-on-cli", "--private-key=s3cret-on-cli", "password=s3cret-on-cli",
    "--git-access-token s3cret-on-cli", "--pat s3cret-on-cli",
])
def test_command_line_refuses_secrets(services: Services, secret_arg: str) -> None:
    text = f"provision matillion cli-dwh snowflake --environment dev {secret_arg}"
    with pytest.raises(UsageError) as caught:
        parse_command(text, services.registry, services.config)
    assert "Secrets cannot be typed on the command line" in caught.value.message
    assert "/projects provision" in caught.value.hint
    assert "s3cret-on-cli" not in str(caught.value) and "s3cret-on-cli" not in scrub(text)


async def test_command_line_without_secrets_asks_for_the_modal(
    services: Services, emulator: httpx.ASGITransport
) -> None:
    result, text = await run_text(services, f"provision matillion cli-ok snowflake --environment dev --agent {AGENT} "
                                            "--account acme --username svc --repository acme/cli-ok")
    assert "needs the Snowflake private key, GitHub personal access token" in text and "/projects provision" in text
    assert await projects_named(emulator, "cli-ok") == []
    _, text = await run_text(services, "provision status matillion")
    assert "No provisioning has run" in text


async def test_status_shows_each_step(services: Services, emulator: httpx.ASGITransport) -> None:
    await admin(emulator, "POST", "/_admin/fail", json={"step": "repositories", "status": 500})
    failed = await provision(services, **snowflake("prov-status"))
    record_id = failed.error.record.id  # type: ignore[union-attr]
    _, text = await run_text(services, f"provision status matillion {record_id}", user="U0VIEWER")
    assert "failed" in text and "environment `dev`" in text and ":x: repository:" in text
    _, text = await run_text(services, "provision status matillion", user="U0VIEWER")
    assert record_id in text and "failed at repository" in text


# ---------------------------------------------------------------- list / show / create / delete
async def test_list_show_create_delete(services: Services, emulator: httpx.ASGITransport) -> None:
    _, text = await run_text(services, "list matillion", user="U0VIEWER")
    assert "Matillion projects on matillion (2)" in text and "analytics-dwh" in text and "marketing-redshift" in text
    _, text = await run_text(services, "show matillion ANALYTICS-DWH", user="U0VIEWER")
    assert "snowflake-main" in text and "analytics-dev" in text and "acme/analytics-dwh" in text
    result, text = await run_text(services, "create matillion new-dwh Redshift --deployment-type full_saas",
                                  user="U0OPERATOR")
    assert "Created Matillion project *new-dwh*" in text
    [project] = await projects_named(emulator, "new-dwh")
    assert (project["warehouse"], project["agentDeploymentType"]) == ("REDSHIFT", "FULL_SAAS")
    with pytest.raises(UsageError, match="use snowflake or redshift"):
        parse_command("create matillion x bigquery", services.registry, services.config)
    op = services.registry.get("project.delete", "matillion")
    assert op is not None and op.risk is Risk.DESTRUCTIVE and op.preview is not None
    _, text = await run_text(services, "delete matillion new-dwh")
    assert "was deleted" in text and await projects_named(emulator, "new-dwh") == []
    _, text = await run_text(services, "show matillion new-dwh")
    assert "no Matillion project named `new-dwh`" in text


async def test_delete_preview_lists_what_goes(services: Services) -> None:
    parsed = parse_command("delete matillion analytics-dwh", services.registry, services.config)
    from bot.operations.context import OpContext

    ctx = OpContext(services=services, actor=Actor(user_id="U0ADMIN"), target=parsed.target)
    found = await parsed.operation.preview(ctx, parsed.params)  # type: ignore[misc]
    preview = found.text
    assert not found.stops
    assert "1 connection: `snowflake-main`" in preview and "`analytics-dev`" in preview
    assert "acme/analytics-dwh" in preview and "no undo" in preview
