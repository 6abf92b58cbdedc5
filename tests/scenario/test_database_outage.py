"""The database goes away: one clear sentence in Slack wherever the request came from, nothing half-done, and no
audit outcome lost once it is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import loopback
import pytest
from rig import Bot, message_text
from stand_ins import RUNS, registered, stand_in

from bot.errors import DATABASE_DOWN
from bot.operations.registry import Registry
from bot.store import AuditQuery, StoreUnavailable

WIPE = stand_in("thing.obliterate", "Obliterated", "holds 7 tables.")


def down(*args: Any, **kwargs: Any) -> Any:
    raise StoreUnavailable("cannot reach PostgreSQL at db:5432 (connection refused)")


@pytest.fixture
def obliterate(registry: Registry) -> Iterator[None]:
    with registered(registry, WIPE):
        yield


def test_a_command_is_refused_before_it_runs_with_a_clear_sentence(bot: Bot, monkeypatch) -> None:
    monkeypatch.setattr(bot.audit, "start", down)
    answer = bot.run("list phoenix")
    assert DATABASE_DOWN in message_text(answer) and "connection refused" not in message_text(answer)
    assert bot.slack.calls_to("chat.postMessage") == []


def test_a_click_on_an_approval_while_the_database_is_away_says_so(make_bot, demo_config_dict, obliterate,
                                                                  monkeypatch) -> None:
    config = {**demo_config_dict, "approvals": {"required_for": ["thing.obliterate"]}}
    with make_bot(config) as bot:
        answer = bot.confirm("thing obliterate alpha", user="U0OPERATOR")
        assert "second person" in message_text(answer)
        message = [m for m in bot.slack.messages("C0OPS") if any(
            b.get("block_id", "").startswith("approval_") for b in m.get("blocks", []))][-1]
        monkeypatch.setattr(bot.store.approvals, "get", down)
        ack, rid = bot.click(message, "projectops_approve", user="U0ADMIN")
        assert ack.status_code == 200
        assert DATABASE_DOWN in message_text(bot.answer(rid))
        assert RUNS == []
        monkeypatch.undo()  # back: the request is still pending and can be decided
        ack, _ = bot.click(message, "projectops_approve", user="U0ADMIN")
        bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == message["ts"])
        assert RUNS == ["alpha"]


def test_a_mention_while_the_database_is_away_is_answered_in_its_thread_and_not_redelivered(
        bot: Bot, monkeypatch) -> None:
    monkeypatch.setattr(bot.store.deliveries, "first", down)
    event = {"type": "app_mention", "user": "U0ADMIN", "text": "<@U0BOT> whoami", "channel": "C0OPS",
             "ts": "1700000000.000500", "event_ts": "1700000000.000500"}
    response = bot.post(bot.requests.event_callback(event))
    assert response.status_code == 200 and response.headers.get("x-slack-no-retry") == "1"
    reply = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"])
    assert DATABASE_DOWN in message_text(reply.params)


def test_an_outcome_the_database_missed_is_written_once_it_is_back(bot: Bot, monkeypatch) -> None:
    from bot.operations import backlog

    monkeypatch.setattr(backlog, "RETRY_SECONDS", 0.2)
    real_finish = bot.audit.finish
    away = {"on": True}

    def finish(*args: Any, **kwargs: Any) -> None:
        if away["on"]:
            down()
        real_finish(*args, **kwargs)

    monkeypatch.setattr(bot.audit, "finish", finish)
    answer = bot.run("list phoenix")  # the row started, the list ran, then the database went away
    assert "rag-eval" in message_text(answer)
    [row] = bot.audit.query(AuditQuery(operation="phoenix.project.list"))
    assert row["outcome"] == "started" and len(bot.project.services.audit_backlog) == 1
    away["on"] = False
    deadline = time.monotonic() + 5
    while bot.audit.query(AuditQuery(operation="phoenix.project.list"))[0]["outcome"] == "started":
        assert time.monotonic() < deadline, "the kept outcome was not written"
        time.sleep(0.05)
    assert bot.audit.query(AuditQuery(operation="phoenix.project.list"))[0]["outcome"] == "succeeded"
    assert bot.audit.verify().ok and len(bot.project.services.audit_backlog) == 0


# -- a real outage: PostgreSQL behind a TCP proxy that is cut and restored --------------------------------------

@pytest.fixture
def cut_off_bot(slack, demo_config_dict: dict, tmp_path, registry: Registry, pg_url: str) -> Iterator[tuple]:
    from rig import running_inproc_bot
    from unit.bot.store.store_helpers import Proxy  # tests/unit/bot/store: a proxy that can be cut

    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    proxy = Proxy(port)
    try:
        with running_inproc_bot(slack, demo_config_dict, tmp_path, registry,
                                projectops_database_url=pg_url.replace(f":{port}/", f":{proxy.port}/")) as bot:
            yield bot, proxy
    finally:
        proxy.close()


def test_postgresql_cut_off_refuses_before_anything_runs_and_works_again_once_back(cut_off_bot, backend_calls,
                                                                                   tmp_path) -> None:
    bot, proxy = cut_off_bot
    assert bot.store.kind == "postgresql" and "rag-eval" in message_text(bot.run("list phoenix"))
    proxy.cut()
    backend_calls.clear()
    _, rid = bot.command("list phoenix")
    deadline = time.monotonic() + 30  # the pool gives up on the cut connection within seconds
    while not any(DATABASE_DOWN in message_text(post) for post in bot.slack.response_posts(rid)):
        assert time.monotonic() < deadline, bot.slack.response_posts(rid)
        time.sleep(0.05)
    assert backend_calls.calls("GET", "/phoenix/") == []
    proxy.restore()
    deadline = time.monotonic() + 20
    while "rag-eval" not in message_text(bot.run("list phoenix")):
        assert time.monotonic() < deadline, "projectops did not recover once the database was back"
    assert bot.audit.verify().ok
    assert not list(tmp_path.rglob("*.db"))  # PostgreSQL: no SQLite file


def test_an_outcome_lost_to_a_cut_mid_operation_is_written_once_postgresql_is_back(cut_off_bot, backends,
                                                                                   monkeypatch) -> None:

    from bot.operations import backlog

    bot, proxy = cut_off_bot
    monkeypatch.setattr(backlog, "RETRY_SECONDS", 0.3)
    loopback.post(f"{backends}/phoenix/_faults", json={"latency_ms": 1500}).raise_for_status()
    ack, rid = bot.command("list phoenix")
    assert ack.status_code == 200
    time.sleep(0.7)  # the row has started, the list waits on Phoenix
    proxy.cut()
    deadline = time.monotonic() + 30  # the work is done and answered, database or not
    while not any("rag-eval" in message_text(post) for post in bot.slack.response_posts(rid)):
        assert time.monotonic() < deadline, bot.slack.response_posts(rid)
        time.sleep(0.05)
    assert len(bot.project.services.audit_backlog) == 1
    proxy.restore()
    deadline = time.monotonic() + 20
    while len(bot.project.services.audit_backlog):
        assert time.monotonic() < deadline, "the kept outcome was not written once the database was back"
        time.sleep(0.1)
    rows = None
    while rows is None:  # the pool may still be replacing its cut connections
        try:
            rows = bot.audit.query(AuditQuery(operation="phoenix.project.list"))
        except StoreUnavailable:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert [r["outcome"] for r in rows] == ["succeeded"] and bot.audit.verify().ok
