"""The approval state machine: request, approve (another admin, once), reject, expire."""

from __future__ import annotations

import asyncio

from conftest import RUNS, FakeSlack, Replies

from bot.operations.base import Actor
from bot.operations.context import Services
from bot.slack import approvals, confirm
from bot.slack.replies import Responder
from bot.slack.runner import parse_or_usage
from bot.store.approvals import DONE, EXPIRED, PENDING, REJECTED
from bot.store.audit import AuditQuery

OPERATOR = Actor(user_id="UOPS", channel_id="C1", surface="button")
ADMIN = Actor(user_id="UADMIN", channel_id="C1", surface="button")
ADMIN2 = Actor(user_id="UADMIN2", channel_id="C1", surface="button")


async def requested(services: Services, slack: FakeSlack, text: str = "thing delete pol x",
                    requester: Actor = OPERATOR) -> str:
    """Confirm `text` as `requester`: policy sends it for approval; returns the approval id."""
    replies = Replies()
    await confirm.proceed(services, parse_or_usage(services, text), text, requester, Responder(replies))
    assert "needs a second person" in replies.texts[-1]
    posted = slack.named("chat_postMessage")[-1]
    buttons = [e for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return buttons[0]["value"]


async def test_request_posts_buttons_and_is_audited(services: Services, slack: FakeSlack) -> None:
    approval_id = await requested(services, slack)
    assert services.approvals.get(approval_id).status == PENDING and RUNS == []
    assert services.audit.query(AuditQuery(operation="approval.request"))


async def test_nobody_approves_their_own_and_viewers_never(services: Services, slack: FakeSlack) -> None:
    approval_id = await requested(services, slack, requester=ADMIN)
    for actor in (ADMIN, Actor(user_id="UVIEW"), OPERATOR):
        replies = Replies()
        await approvals.approve(services, actor, approval_id, replies)
        assert replies.sent and RUNS == []
    refused = services.audit.query(AuditQuery(operation="approval.decide"))
    assert len(refused) == 3 and {r["outcome"] for r in refused} == {"refused"}


async def test_concurrent_approvals_run_once(services: Services, slack: FakeSlack) -> None:
    approval_id = await requested(services, slack)
    await asyncio.gather(*(approvals.approve(services, who, approval_id, Replies()) for who in (ADMIN, ADMIN2) * 5))
    assert RUNS == ["x"] and services.approvals.get(approval_id).status == DONE
    thread = [c for c in slack.named("chat_postMessage") if c.get("thread_ts")]
    assert len(thread) == 1 and "Done x." in thread[0]["text"]


async def test_reject_runs_nothing_and_later_clicks_are_told(services: Services, slack: FakeSlack) -> None:
    approval_id = await requested(services, slack)
    await approvals.reject(services, ADMIN, approval_id, Replies())
    late = Replies()
    await approvals.approve(services, ADMIN2, approval_id, late)
    assert RUNS == [] and services.approvals.get(approval_id).status == REJECTED
    assert "already decided by <@UADMIN>" in late.texts[0]
    rows = services.audit.query(AuditQuery(operation="polaris.thing.delete"))
    assert rows and rows[0]["outcome"] == "refused" and "rejected by UADMIN" in rows[0]["error"]


async def test_unknown_or_malformed_ids_are_answered(services: Services) -> None:
    for value in ("nope", None, {"id": 1}, ["x"]):
        replies = Replies()
        await approvals.approve(services, ADMIN, value, replies)
        assert "no record" in replies.texts[0]


async def test_expired_requests_are_marked_and_never_run(services: Services, slack: FakeSlack) -> None:
    services.config.approvals.expire_minutes = 0
    approval_id = await requested(services, slack)
    await asyncio.sleep(0.01)
    assert await approvals.expire_due(services) == 1
    assert services.approvals.get(approval_id).status == EXPIRED
    assert "Expired" in slack.named("chat_update")[-1]["text"]
    replies = Replies()
    await approvals.approve(services, ADMIN, approval_id, replies)
    assert RUNS == [] and "expired" in replies.texts[0]
