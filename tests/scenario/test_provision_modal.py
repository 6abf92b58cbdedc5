"""The guided Matillion provisioning modal end to end: signed `/projects provision`, four steps, field errors,
the Resume button of a failed run, and known secrets that must surface nowhere."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import loopback
import pytest
from rig import Bot, message_text

from bot import modals
from bot import provision_modal as pm
from sandbox.slack.blockkit import validate

AGENT = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"
PRIVATE_KEY = "MIIEmodalKnownPrivateKeyMaterial9Z"
PASSPHRASE = "modal-passphrase-77c1de"
PAT = "modal-pat-0b9e44f1a2"
SECRETS = (PRIVATE_KEY, PASSPHRASE, PAT)


def wait_until(check, timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def select(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text",
                                                                                  "text": value}}}


def open_step1(bot: Bot, text: str = "provision", user: str = "U0OPERATOR") -> dict[str, Any]:
    opened = len(bot.slack.calls_to("views.open"))
    ack, _ = bot.command(text, user=user)
    assert ack.status_code == 200 and ack.text == ""
    wait_until(lambda: len(bot.slack.calls_to("views.open")) > opened)
    return [v for v in bot.slack.views.values() if v.get("callback_id") == pm.CALLBACK][-1]


def submit(bot: Bot, view: dict[str, Any], values: dict[str, Any], user: str = "U0OPERATOR") -> dict[str, Any]:
    state = {block: {modals.VALUE: select(v) if block in SELECTS else v} for block, v in values.items()}
    response = bot.post(bot.requests.view_submission(view, user_id=user, values=state))
    assert response.status_code == 200, response.text
    answer = response.json() if response.text else {}
    if "view" in answer:
        assert validate(answer["view"], "modal") == [], answer["view"]
    return answer


SELECTS = {"warehouse", "deployment_type", "access_level", pm.TARGET_BLOCK}


def emulator_projects(backends: str, name: str) -> list[dict]:
    state = loopback.get(f"{backends}/matillion/_admin/state", timeout=5).json()
    return [p for p in state["projects"] if p["name"] == name]


def ephemeral_text(bot: Bot, needle: str) -> str:
    def find():
        texts = [message_text(e["message"]) for e in bot.slack.ephemerals]
        return next((t for t in texts if needle in t), None)
    return wait_until(find)


def through_step3(bot: Bot, name: str, agent: str = AGENT) -> dict[str, Any]:
    step1 = open_step1(bot, "provision matillion")
    assert "Step 1 of 4" in json.dumps(step1) and not any(b.get("block_id") == pm.TARGET_BLOCK
                                                          for b in step1["blocks"])
    answer = submit(bot, step1, {"name": name, "warehouse": "snowflake", "deployment_type": "hybrid",
                                 "description": "made in the modal"})
    assert answer["response_action"] == "push"
    step2 = answer["view"]
    blocks = {b.get("block_id") for b in step2["blocks"]}
    assert {"account", "username"} <= blocks and not blocks & set(pm.SECRET_FIELDS)
    answer = submit(bot, step2, {"account": "acme-modal", "username": "SVC_MODAL"})
    assert answer["response_action"] == "push"
    step3 = answer["view"]
    meta = json.loads(step3["private_metadata"])
    assert meta["values"]["account"] == "acme-modal" and meta["target"] == "matillion"
    return submit(bot, step3, {"environment": "dev", "agent": agent, "access_level": "default"})


def test_snowflake_flow_provisions_and_secrets_surface_nowhere(
    bot: Bot, backends: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = through_step3(bot, "modal-dwh", agent="not-a-uuid")
    assert bad["response_action"] == "errors" and "UUID" in bad["errors"]["agent"]

    answer = through_step3(bot, "modal-dwh")
    assert answer["response_action"] == "update"
    step4 = answer["view"]
    assert {"private_key", "passphrase", "repository", "git_access_token"} <= {b.get("block_id")
                                                                              for b in step4["blocks"]}
    errors = submit(bot, step4, {"private_key": PRIVATE_KEY, "repository": "not a repo"})
    assert errors["response_action"] == "errors" and "owner/repo" in errors["errors"]["repository"]
    assert all(s not in json.dumps(errors) for s in SECRETS)
    errors = submit(bot, step4, {"private_key": PRIVATE_KEY, "repository": "acme/modal-dwh"})
    assert "token" in errors["errors"]["git_access_token"]

    done = submit(bot, step4, {"private_key": PRIVATE_KEY, "passphrase": PASSPHRASE,
                               "repository": "acme/modal-dwh", "git_access_token": PAT})
    assert done == {"response_action": "clear"}
    text = ephemeral_text(bot, "modal-dwh")
    assert "Provisioned Matillion project *modal-dwh*" in text
    [project] = emulator_projects(backends, "modal-dwh")
    assert project["description"] == "made in the modal"
    assert [c["name"] for c in project["dataPlatformConnections"]] == ["snowflake-main"]
    assert project["environments"][0]["name"] == "dev"
    assert project["repository"]["accessToken"]["received"]
    updates = [c.params.get("text", "") for c in bot.slack.calls_to("chat.update")]
    assert any("Step 3 of 4" in t for t in updates), updates  # the channel watched it step by step

    files = {path.name: path.read_bytes() for path in tmp_path.glob("projectops.db*")}
    calls = json.dumps([dataclasses.asdict(c) for c in bot.slack.calls], default=str)
    assert files and "/environments" in caplog.text
    for secret in SECRETS:
        for name, content in files.items():
            assert secret.encode() not in content, f"{secret!r} in {name}"
        assert secret not in caplog.text, f"{secret!r} in the log"
        assert secret not in calls, f"{secret!r} in a Slack call"


def test_step_errors_and_target_picker(bot: Bot) -> None:
    step1 = open_step1(bot)  # one Matillion target in the demo config: it is picked for the user
    assert json.loads(step1["private_metadata"])["target"] == "matillion"
    answer = submit(bot, step1, {"warehouse": "redshift", "deployment_type": "full_saas"})
    assert answer["response_action"] == "errors" and "required" in answer["errors"]["name"]
    step2 = submit(bot, step1, {"name": "rs-dwh", "warehouse": "redshift", "deployment_type": "full_saas"})["view"]
    answer = submit(bot, step2, {"endpoint": "rs.example.com", "username": "u", "port": "99999"})
    assert "port" in answer["errors"]
    step3 = submit(bot, step2, {"endpoint": "rs.example.com", "username": "u"})["view"]
    step4 = submit(bot, step3, {"environment": "dev", "agent": AGENT, "access_level": "admin"})["view"]
    blocks = {b.get("block_id") for b in step4["blocks"]}
    assert "password" in blocks and "repository" not in blocks  # Full SaaS: no repository
    assert submit(bot, step4, {})["errors"]["password"] == "Redshift password is required."

    viewer = open_step1(bot, user="U0VIEWER")
    assert "may not provision" in json.dumps(viewer) and not viewer.get("submit")


def test_failed_provisioning_offers_resume(bot: Bot, backends: str) -> None:
    loopback.post(f"{backends}/matillion/_admin/fail", json={"step": "environments", "status": 500}, timeout=5)
    step4 = through_step3(bot, "modal-resume")["view"]
    assert submit(bot, step4, {"private_key": PRIVATE_KEY}) == {"response_action": "clear"}
    text = ephemeral_text(bot, "stopped at step 3 of 3")
    assert PRIVATE_KEY not in text
    message = next(e["message"] for e in bot.slack.ephemerals if "stopped at step 3" in message_text(e["message"]))
    opened = len(bot.slack.calls_to("views.open"))
    assert bot.click(message, pm.RESUME_ACTION, user="U0OPERATOR") is not None
    wait_until(lambda: len(bot.slack.calls_to("views.open")) > opened)
    resume = [v for v in bot.slack.views.values() if v.get("callback_id") == pm.RESUME_CALLBACK][-1]
    assert {b.get("block_id") for b in resume["blocks"]} >= {"private_key", "passphrase"}
    assert submit(bot, resume, {"private_key": PRIVATE_KEY}) == {"response_action": "clear"}
    ephemeral_text(bot, "Provisioned Matillion project *modal-resume*")
    [project] = emulator_projects(backends, "modal-resume")
    assert project["environments"][0]["name"] == "dev"
