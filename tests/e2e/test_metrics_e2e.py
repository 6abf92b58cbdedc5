"""GET /metrics on the real HTTP server: commands, a click and an event go through uvicorn, Bolt and the back-end
emulators, then one scrape must parse as Prometheus text and show the counters moved."""

from __future__ import annotations

import loopback
from prometheus_client.parser import text_string_to_metric_families
from rig import Bot, message_text


def scrape(bot: Bot) -> dict[tuple[str, frozenset], float]:
    response = loopback.get(f"{bot.url}/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def total(metrics: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    """The sum over the samples of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in metrics.items() if n == name and set(labels.items()) <= ls)


def test_metrics_move_with_commands_clicks_and_events(bot: Bot) -> None:
    before = scrape(bot)
    assert total(before, "projectops_operations_total") == 0 and ("projectops_approvals_pending", frozenset()) in before

    ack, rid = bot.command("list phoenix", user="U0VIEWER")
    assert ack.status_code == 200
    answer = bot.answer(rid)
    assert "rag-eval" in message_text(answer)
    ack, rid = bot.command("list polaris", user="U0VIEWER")
    assert ack.status_code == 200 and bot.answer(rid)
    assert bot.click(answer, "projectops_share", user="U0VIEWER")[0].status_code == 200
    bot.slack.wait_for_sync("chat.postMessage", lambda c: "Shared by" in message_text(c.params))
    event = {"type": "app_mention", "user": "U0ADMIN", "text": "<@U0BOT> whoami", "channel": "C0OPS",
             "ts": "1700000000.000200", "event_ts": "1700000000.000200"}
    assert bot.post(bot.requests.event_callback(event)).status_code == 200
    bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"])

    after = scrape(bot)
    assert total(after, "projectops_operations_total", operation="phoenix.project.list", target="phoenix",
                 outcome="succeeded") == 1
    assert total(after, "projectops_operations_total", target="polaris", outcome="succeeded") >= 1
    assert total(after, "projectops_operation_duration_seconds_count", operation="phoenix.project.list") == 1
    assert total(after, "projectops_acks_total", surface="command", status="200") == 2
    assert total(after, "projectops_acks_total", surface="block_actions", status="200") == 1
    assert total(after, "projectops_acks_total", surface="event", status="200") == 1
    assert total(after, "projectops_ack_duration_seconds_count", surface="command") == 2
    assert 0 < total(after, "projectops_ack_duration_seconds_sum", surface="command") < 6  # two acks, each < 3 s
    assert total(after, "projectops_backend_requests_total", target="phoenix", status="200") >= 1
    assert total(after, "projectops_backend_requests_total", target="polaris", status="200") >= 1
    assert total(after, "projectops_backend_request_duration_seconds_count", target="phoenix") >= 1
    assert after[("projectops_approvals_pending", frozenset())] == 0


def test_approvals_pending_and_decided(bot: Bot) -> None:
    asked = bot.confirm("delete phoenix rag-eval", user="U0OPERATOR")  # an operator: a second person must approve
    waiting = scrape(bot)
    assert waiting[("projectops_approvals_pending", frozenset())] == 1
    assert total(waiting, "projectops_acks_total", surface="block_actions") >= 1

    result = bot.approve(asked, approver="U0ADMIN")
    assert "Deleted Phoenix project" in message_text(result)
    decided = scrape(bot)
    assert decided[("projectops_approvals_pending", frozenset())] == 0
    assert total(decided, "projectops_approvals_decided_total", outcome="approved") == 1
    assert total(decided, "projectops_operations_total", operation="phoenix.project.delete", target="phoenix",
                 outcome="succeeded") == 1
    assert total(decided, "projectops_backend_requests_total", target="phoenix") >= 2  # the reads and the DELETE
