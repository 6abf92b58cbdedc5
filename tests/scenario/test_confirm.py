"""Destructive operations ask first: impact, Confirm by the requester only, once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from rig import Bot, message_text
from stand_ins import RUNS, registered, stand_in

from bot.operations.base import Operation
from bot.operations.registry import Registry
from bot.store import AuditQuery

WIPE = stand_in("thing.wipe", "Wiped", "holds 12 GB in 3 tables; all of it goes.")


@pytest.fixture
def wipe(registry: Registry) -> Iterator[Operation]:
    with registered(registry, WIPE) as op:
        yield op


def test_confirm_shows_impact_then_runs_once(bot: Bot, wipe: Operation) -> None:
    prompt = bot.run("thing wipe alpha")
    assert "12 GB in 3 tables" in message_text(prompt) and RUNS == []
    ack, rid = bot.click(prompt, "projectops_confirm")
    assert ack.status_code == 200
    assert "Wiped alpha." in message_text(bot.final_answer(rid))
    again, _ = bot.click(prompt, "projectops_confirm")  # a double click / retry on the same message
    assert again.status_code == 200
    time.sleep(0.3)
    assert RUNS == ["alpha"]
    rows = bot.audit.query(AuditQuery(operation="thing.wipe"))
    assert [(r["outcome"], r["confirmed_by"], r["surface"]) for r in rows] == [("succeeded", "U0ADMIN", "button")]


def test_only_the_requester_can_confirm(bot: Bot, wipe: Operation) -> None:
    prompt = bot.run("thing wipe beta")
    _, rid = bot.click(prompt, "projectops_confirm", user="U0OPERATOR")
    assert "Only <@U0ADMIN>" in message_text(bot.answer(rid))
    assert RUNS == []


def test_cancel_runs_nothing_and_is_audited(bot: Bot, wipe: Operation) -> None:
    prompt = bot.run("thing wipe gamma")
    _, rid = bot.click(prompt, "projectops_cancel")
    assert "Cancelled" in message_text(bot.answer(rid))
    assert RUNS == []
    assert bot.audit.query(AuditQuery(operation="confirm.cancel"))[0]["outcome"] == "refused"


def test_viewer_is_refused_without_a_prompt(bot: Bot, wipe: Operation) -> None:
    answer = bot.run("thing wipe delta", user="U0VIEWER")
    text = message_text(answer)
    assert "needs the *operator* role" in text and "<@U0OPERATOR>" in text
    assert bot.audit.query(AuditQuery(operation="thing.wipe"))[0]["outcome"] == "refused"


DELETE = stand_in("project.delete", "Deleted", verb="thing delete", typed_confirmation=True)


@pytest.fixture
def delete_op(make_bot, demo_config_dict, registry: Registry) -> Iterator[Bot]:
    config = {**demo_config_dict, "approvals": {"required_for": []}}
    with registered(registry, DELETE), make_bot(config) as running:
        yield running


def test_most_destructive_needs_the_name_typed(delete_op: Bot) -> None:
    bot = delete_op
    prompt = bot.run("thing delete omega")
    _, rid = bot.click(prompt, "projectops_confirm")
    bot.slack.wait_for_sync("views.open")
    wrong = bot.type_confirmation(typed="omgea")
    assert wrong.json()["response_action"] == "errors" and "Type omega exactly" in str(wrong.json()["errors"])
    assert RUNS == []
    bot.type_confirmation()
    assert "Deleted omega." in message_text(bot.final_answer(rid))
    assert RUNS == ["omega"]
