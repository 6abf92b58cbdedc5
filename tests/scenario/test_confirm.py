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


# ---------------------------------------------------------------- the preview's verdict, against the emulators
def has_confirm(message: dict) -> bool:
    return any(b.get("block_id") == "projectops_confirmation" for b in message.get("blocks", []))


def dialog(message: dict) -> str:
    [actions] = [b for b in message["blocks"] if b.get("block_id") == "projectops_confirmation"]
    return actions["elements"][0]["confirm"]["text"]["text"]


def approval_requests(bot: Bot) -> list[dict]:
    return [m for channel in ("C0OPS", "C0APPROVALS") for m in bot.slack.messages(channel)
            if any(b.get("block_id", "").startswith("approval_") for b in m.get("blocks", []))]


def refused_rows(bot: Bot, operation: str) -> list[dict]:
    return [r for r in bot.audit.query(AuditQuery(operation=operation)) if r["outcome"] == "refused"]


def test_stopping_a_stopped_project_offers_no_confirm(bot: Bot) -> None:
    for user in ("U0ADMIN", "U0OPERATOR"):  # an operator's would otherwise go to an admin for approval
        answer = bot.run("stop polaris finance-archive", user=user)
        text = message_text(answer)
        assert not has_confirm(answer), answer
        assert "Nothing to do: Project *finance-archive* is already stopped" in text
        assert "`/projects resume polaris finance-archive`" in text and "audit #" in text
    assert approval_requests(bot) == []
    rows = refused_rows(bot, "polaris.project.stop")
    assert [(r["user"], r["target"], r["risk"]) for r in rows] == [("U0OPERATOR", "polaris", "destructive"),
                                                                   ("U0ADMIN", "polaris", "destructive")]
    assert all("already stopped" in r["error"] for r in rows)
    assert not [r for r in bot.audit.query(AuditQuery(operation="polaris.project.stop")) if r["outcome"] != "refused"]


def test_a_sql_job_reset_is_refused_before_any_button(bot: Bot) -> None:
    answer = bot.run("job reset polaris clickstream 26dce515", user="U0OPERATOR")
    text = message_text(answer)
    assert not has_confirm(answer) and approval_requests(bot) == []
    assert "is a sql job; only streaming jobs have an offset to reset" in text and "Resets streaming" not in text
    assert "`/projects job list polaris clickstream --type streaming`" in text
    assert refused_rows(bot, "polaris.job.reset")
    streaming = bot.run("job reset polaris clickstream 83f88814")  # a streaming job is still asked about
    assert has_confirm(streaming) and "Resets streaming job `83f88814" in message_text(streaming)


def test_what_cannot_happen_is_said_up_front(bot: Bot) -> None:
    protected = bot.run("delete polaris analytics-prod", user="U0OPERATOR")
    assert not has_confirm(protected) and approval_requests(bot) == []
    assert "Deletion protection is on" in message_text(protected) and "--no-deletion-protection" in message_text(
        protected)
    finished = bot.run("job cancel polaris clickstream 0b376ddb")
    assert not has_confirm(finished) and "is already failed; there is nothing to cancel" in message_text(finished)
    default = bot.run("delete phoenix default")
    assert not has_confirm(default) and "never deletes its `default` project" in message_text(default)


def test_a_missing_project_ends_as_the_read_commands_do(bot: Bot) -> None:
    read = message_text(bot.run("show polaris clikstream"))
    assert "There is no project `clikstream` on `polaris`." in read and "Did you mean `clickstream`?" in read
    for text in ("pause polaris clikstream", "table drop polaris clikstream clicks"):
        answer = bot.run(text)
        said = message_text(answer)
        assert not has_confirm(answer) and "could not read" not in said, said
        assert "There is no project `clikstream` on `polaris`." in said and "Did you mean `clickstream`?" in said
    missing_table = bot.run("table drop polaris clickstream clikcs")
    assert not has_confirm(missing_table) and "`/projects table list polaris clickstream`" in message_text(
        missing_table)


def test_the_dialog_says_cannot_be_undone_only_when_it_cannot(bot: Bot) -> None:
    pause = bot.run("pause polaris clickstream")
    assert has_confirm(pause) and "cannot be undone" not in dialog(pause)
    assert "can be undone with `/projects resume`" in dialog(pause)
    delete = bot.run("delete polaris marketing-sandbox")
    assert has_confirm(delete) and dialog(delete).endswith("and cannot be undone.")
    stop = message_text(bot.run("stop polaris clickstream"))
    assert stop.count("64 GB in deep storage") == 1, stop
