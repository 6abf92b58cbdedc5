"""Matillion DPC end to end: signed `/projects` requests against the running app and the emulator, audit rows,
the command-line secret refusal, and provisioning with known secrets that must surface nowhere."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

import loopback
import pytest
from pydantic import SecretStr
from rig import Bot, message_text

from bot.backends.base import ClientPool
from bot.operations.base import Actor, OpRequest
from bot.operations.executor import execute
from bot.operations.matillion.provision import ProvisioningFailed, ProvisionParams
from bot.slack.replies import render_result, response_payload
from bot.store import AuditQuery

AGENT = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"
PRIVATE_KEY = "MIIEe2eKnownPrivateKeyMaterial7Q"  # no PEM armour: only registration can hide it
PASSPHRASE = "e2e-passphrase-91f3ab"
PAT = "e2e-pat-5c2a77d0e1"
CLIENT_SECRET = "demo-secret"  # the demo target's Matillion client secret
SECRETS = (PRIVATE_KEY, PASSPHRASE, PAT, CLIENT_SECRET)


def audit_rows(bot: Bot, operation: str, wait: float = 3.0) -> list[dict]:
    deadline = time.monotonic() + wait
    while True:
        rows = [r for r in bot.audit.query(AuditQuery(operation=operation, limit=50)) if r["outcome"] != "started"]
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def emulator_projects(backends: str, name: str) -> list[dict]:
    state = loopback.get(f"{backends}/matillion/_admin/state", timeout=5).json()
    return [p for p in state["projects"] if p["name"] == name]


def test_list_show_create_through_slack(bot: Bot, backends: str) -> None:
    text = message_text(bot.run("list matillion", user="U0VIEWER"))
    assert "Matillion projects on matillion (2)" in text and "analytics-dwh" in text

    text = message_text(bot.run("show matillion analytics-dwh", user="U0VIEWER"))
    assert "snowflake-main" in text and "analytics-dev" in text and "acme/analytics-dwh" in text

    text = message_text(bot.run('create matillion e2e-dwh snowflake --description "made in e2e"', user="U0OPERATOR"))
    assert "Created Matillion project *e2e-dwh*" in text
    [project] = emulator_projects(backends, "e2e-dwh")
    assert (project["warehouse"], project["description"]) == ("SNOWFLAKE", "made in e2e")

    refused = message_text(bot.run("create matillion e2e-nope redshift", user="U0VIEWER"))
    assert "needs the *operator* role" in refused and emulator_projects(backends, "e2e-nope") == []

    outcomes = {op: [(r["user"], r["outcome"], r["surface"]) for r in audit_rows(bot, f"matillion.project.{op}")]
                for op in ("list", "show", "create")}
    assert outcomes["list"] == [("U0VIEWER", "succeeded", "command")]
    assert outcomes["show"] == [("U0VIEWER", "succeeded", "command")]
    assert sorted(outcomes["create"]) == [("U0OPERATOR", "succeeded", "command"), ("U0VIEWER", "refused", "command")]
    params = json.loads(audit_rows(bot, "matillion.project.create")[-1]["params"])
    assert params["name"] in ("e2e-dwh", "e2e-nope") and params["warehouse"] in ("SNOWFLAKE", "REDSHIFT")


def test_secrets_typed_on_the_command_line_are_refused(
    bot: Bot, tmp_path: Path, backends: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    typed = "e2e-cli-secret-4242"
    ack, _ = bot.command(f"provision matillion e2e-cli snowflake --environment dev --password {typed}",
                         user="U0OPERATOR")
    assert ack.status_code == 200
    text = message_text(ack.json())
    assert "Secrets cannot be typed on the command line" in text and "/projects provision" in text
    assert typed not in text
    [row] = audit_rows(bot, "parse")
    assert row["outcome"] == "failed" and typed not in row["params"] and "***" in row["params"]
    assert emulator_projects(backends, "e2e-cli") == []
    for path in tmp_path.glob("projectops.db*"):
        assert typed.encode() not in path.read_bytes(), path.name
    assert caplog.records and typed not in caplog.text


async def test_provisioning_secrets_surface_nowhere(
    bot: Bot, backends: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    services = dataclasses.replace(bot.project.services, clients=ClientPool())  # clients on this test's loop
    op = services.registry.get("project.provision", "matillion")
    assert op is not None
    actor = Actor(user_id="U0OPERATOR", channel_id="C0OPS", surface="modal")

    async def run(params: ProvisionParams):
        result = await execute(services, OpRequest(operation=op, actor=actor, params=params, target="matillion"))
        payload = response_payload(render_result(services, result), "in_channel")
        await services.slack.chat_postMessage(channel="C0OPS", text=payload["text"], blocks=payload["blocks"])
        return result

    loopback.post(f"{backends}/matillion/_admin/fail", json={"step": "environments", "status": 500}, timeout=5)
    failed = await run(ProvisionParams(
        name="e2e-secret-dwh", warehouse="SNOWFLAKE", environment="dev", agent=AGENT, account="acme-e2e",
        username="SVC_E2E", private_key=SecretStr(PRIVATE_KEY), passphrase=SecretStr(PASSPHRASE),
        repository="acme/e2e-secret-dwh", git_access_token=SecretStr(PAT)))
    assert isinstance(failed.error, ProvisioningFailed) and failed.error.step == "environment"
    assert "stopped at step 3 of 4 (environment" in failed.error.message and "internal error" in failed.error.message

    resumed = await run(ProvisionParams(resume=failed.error.record.id, private_key=SecretStr(PRIVATE_KEY),
                                        passphrase=SecretStr(PASSPHRASE), git_access_token=SecretStr(PAT)))
    assert resumed.ok, resumed.error
    await services.clients.aclose()
    [project] = emulator_projects(backends, "e2e-secret-dwh")
    assert project["environments"][0]["name"] == "dev" and project["repository"]["accessToken"]["received"]

    status = message_text(bot.run(f"provision status matillion {failed.error.record.id}", user="U0VIEWER"))
    assert "succeeded" in status and "repository `acme/e2e-secret-dwh`" in status
    posted = [message_text(m) for m in bot.slack.messages("C0OPS")]
    assert any("step 3 of 4" in m for m in posted) and any("Provisioned Matillion project" in m for m in posted)

    rows = audit_rows(bot, "matillion.project.provision")
    assert [r["outcome"] for r in rows] == ["succeeded", "failed"]
    files = {path.name: path.read_bytes() for path in tmp_path.glob("projectops.db*")}
    calls = json.dumps([dataclasses.asdict(c) for c in bot.slack.calls], default=str)
    assert "/environments" in caplog.text, "the back-end calls were not logged: the scan would prove nothing"
    for secret in SECRETS:
        for name, content in files.items():
            assert secret.encode() not in content, f"{secret!r} in {name}"
        assert secret not in caplog.text, f"{secret!r} in the log"
        assert secret not in calls, f"{secret!r} in a Slack call"
