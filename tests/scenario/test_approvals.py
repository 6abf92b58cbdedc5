"""Two-person approval by button, end to end through signed Slack requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from rig import Bot, message_text
from stand_ins import RUNS, registered, stand_in

from bot.operations.base import Operation
from bot.operations.registry import Registry
from bot.store import AuditQuery
from scenario.helpers import wait_until

WIPE = stand_in("thing.obliterate", "Obliterated", "holds 7 tables.")
ADMINS = ["U0ADMIN", "U0ADMIN2"]


@pytest.fixture
def config(demo_config_dict: dict) -> dict:
    config = dict(demo_config_dict)
    config["roles"] = {**config["roles"], "admin": ADMINS}
    config["approvals"] = {"required_for": ["thing.obliterate"], "channel": "C0APPROVALS"}
    return config


@pytest.fixture
def obliterate(registry: Registry) -> Iterator[Operation]:
    with registered(registry, WIPE) as op:
        yield op


def request(bot: Bot, user: str, thing: str) -> dict:
    """Ask, confirm, and return the approval message posted in the approvals channel."""
    answer = bot.confirm(f"thing obliterate {thing}", user=user)
    assert "needs a second person" in message_text(answer) and RUNS == []
    bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("channel") == "C0APPROVALS")
    return approval_message(bot)


def approval_message(bot: Bot) -> dict:
    """The latest top-level message in the approvals channel, as edited since."""
    return [m for m in bot.slack.messages("C0APPROVALS") if not m.get("thread_ts") or m["thread_ts"] == m["ts"]][-1]


def test_operator_request_waits_for_an_admin_and_runs_once_approved(make_bot, config, obliterate) -> None:
    with make_bot(config) as bot:
        message = request(bot, "U0OPERATOR", "alpha")
        assert "<@U0OPERATOR>" in message_text(message) and "7 tables" in message_text(message)
        _, rid = bot.click(message, "projectops_approve", user="U0OPERATOR", channel="C0APPROVALS")
        assert "cannot approve your own request" in message_text(bot.answer(rid))
        ack, rid = bot.click(message, "projectops_approve", user="U0ADMIN", channel="C0APPROVALS")
        assert ack.status_code == 200
        bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == message["ts"])
        deadline = time.monotonic() + 5
        while "done" not in message_text(approval_message(bot)) and time.monotonic() < deadline:
            time.sleep(0.05)
        final = approval_message(bot)
        assert "Approved by <@U0ADMIN>" in message_text(final) and "done" in message_text(final)
        assert not any(b["type"] == "actions" for b in final["blocks"])
        assert RUNS == ["alpha"]
        row = bot.audit.query(AuditQuery(operation="thing.obliterate"))[0]
        assert (row["user"], row["approved_by"], row["confirmed_by"], row["outcome"]) == (
            "U0OPERATOR", "U0ADMIN", "U0OPERATOR", "succeeded")


def test_own_approval_is_refused_even_for_an_admin(make_bot, config, obliterate) -> None:
    with make_bot(config) as bot:
        message = request(bot, "U0ADMIN", "beta")
        _, rid = bot.click(message, "projectops_approve", user="U0ADMIN", channel="C0APPROVALS")
        assert "cannot approve your own request" in message_text(bot.answer(rid))
        assert RUNS == []
        assert bot.audit.query(AuditQuery(operation="approval.decide"))[0]["outcome"] == "refused"


def test_viewer_cannot_request_and_operator_cannot_approve(make_bot, config, obliterate) -> None:
    with make_bot(config) as bot:
        assert "needs the *operator* role" in message_text(bot.run("thing obliterate x", user="U0VIEWER"))
        message = request(bot, "U0ADMIN", "gamma")
        _, rid = bot.click(message, "projectops_approve", user="U0OPERATOR", channel="C0APPROVALS")
        assert "Only an admin" in message_text(bot.answer(rid)) and RUNS == []


def test_reject_runs_nothing(make_bot, config, obliterate) -> None:
    with make_bot(config) as bot:
        message = request(bot, "U0OPERATOR", "delta")
        bot.click(message, "projectops_reject", user="U0ADMIN", channel="C0APPROVALS")
        deadline = time.monotonic() + 5
        while "Rejected" not in message_text(approval_message(bot)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "Rejected by <@U0ADMIN>" in message_text(approval_message(bot))
        _, rid = bot.click(message, "projectops_approve", user="U0ADMIN2", channel="C0APPROVALS")
        assert "already decided" in message_text(bot.answer(rid))
        assert RUNS == []


def test_the_requester_is_told_of_a_rejection(make_bot, config, obliterate) -> None:
    with make_bot(config) as bot:
        message = request(bot, "U0OPERATOR", "theta")
        bot.click(message, "projectops_reject", user="U0ADMIN", channel="C0APPROVALS")
        reply = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == message["ts"])
        told = message_text(reply.params)
        assert "<@U0OPERATOR>, <@U0ADMIN> rejected `/projects thing obliterate theta`; nothing was run." in told
        assert reply.params["channel"] == "C0APPROVALS"
        # asked from another channel: told there too, privately
        privately = wait_until(lambda: [e for e in bot.slack.ephemerals if e["user"] == "U0OPERATOR" and
                                        "rejected `/projects thing obliterate theta`" in message_text(e["message"])])
        assert privately[0]["channel"] == "C0OPS"
        assert RUNS == []
        [row] = bot.audit.query(AuditQuery(operation="thing.obliterate"))
        assert (row["user"], row["outcome"], row["error"]) == ("U0OPERATOR", "refused", "rejected by U0ADMIN")


def test_a_withdrawal_is_said_in_the_thread(make_bot, config, obliterate) -> None:
    with make_bot(config) as bot:
        message = request(bot, "U0OPERATOR", "iota")
        bot.click(message, "projectops_reject", user="U0OPERATOR", channel="C0APPROVALS")
        reply = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == message["ts"])
        said = message_text(reply.params)
        assert "<@U0OPERATOR> withdrew `/projects thing obliterate iota`; nothing was run." in said
        assert RUNS == []


def test_expired_request_cannot_run(make_bot, config, obliterate) -> None:
    config["approvals"]["expire_minutes"] = 0.01  # 0.6 s
    with make_bot(config) as bot:
        message = request(bot, "U0OPERATOR", "epsilon")
        time.sleep(0.8)
        _, rid = bot.click(message, "projectops_approve", user="U0ADMIN", channel="C0APPROVALS")
        assert "expired" in message_text(bot.answer(rid))
        assert "Expired" in message_text(approval_message(bot))
        told = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == message["ts"])
        assert ("<@U0OPERATOR>, no admin decided on `/projects thing obliterate epsilon` in time; it expired"
                in message_text(told.params))
        assert wait_until(lambda: [e for e in bot.slack.ephemerals if e["user"] == "U0OPERATOR"
                                   and "it expired" in message_text(e["message"])])  # and privately where asked
        assert RUNS == []


def test_fifty_concurrent_approvals_run_once(make_bot, config, obliterate) -> None:
    with make_bot(config) as bot:
        message = request(bot, "U0OPERATOR", "zeta")
        clicks = [bot.requests.block_actions([{"action_id": "projectops_approve"}], user_id=ADMINS[i % 2],
                                             channel_id="C0APPROVALS", message=message) for i in range(50)]
        with ThreadPoolExecutor(max_workers=25) as pool:
            statuses = list(pool.map(lambda signed: bot.post(signed).status_code, clicks))
        assert statuses == [200] * 50
        bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == message["ts"])
        time.sleep(0.5)
        assert RUNS == ["zeta"]
        rows = bot.audit.query(AuditQuery(operation="thing.obliterate"))
        assert [r["outcome"] for r in rows] == ["succeeded"]


def test_approval_survives_a_restart(make_bot, config, obliterate) -> None:
    with make_bot(config) as bot:
        message = request(bot, "U0OPERATOR", "eta")
    with make_bot(config) as restarted:
        restarted.click(message, "projectops_approve", user="U0ADMIN", channel="C0APPROVALS")
        restarted.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == message["ts"])
        assert RUNS == ["eta"]
