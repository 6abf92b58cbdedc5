"""The confirmation workflow: only the requester confirms, once; the most destructive need the name typed."""

from __future__ import annotations

import json

from conftest import RUNS, FakeSlack, Replies

from bot.operations.base import Actor
from bot.operations.context import Services
from bot.slack import confirm
from bot.slack.runner import parse_or_usage
from bot.store.audit import AuditQuery
from bot.ui.ids import CANCEL_ACTION, CONFIRM_ACTION, TYPED_BLOCK

ADMIN = Actor(user_id="UADMIN", channel_id="C1", surface="button")


async def click(services: Services, slack: FakeSlack, text: str, actor: Actor = ADMIN, user: str = "UADMIN",
                key: str = "k1") -> Replies:
    replies = Replies()
    value = confirm.confirm_value(text, Actor(user_id=user))
    await confirm.confirm_clicked(services, actor, value, key, respond=replies, client=slack, trigger_id="T",
                                  response_url="")
    return replies


async def test_prompt_carries_confirm_and_cancel_for_the_requester(services: Services) -> None:
    parsed = parse_or_usage(services, "thing stop pol x")
    prompt = await confirm.confirmation_prompt(services, parsed, "thing stop pol x", ADMIN)
    buttons = [e for b in prompt.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [CONFIRM_ACTION, CANCEL_ACTION]
    assert json.loads(buttons[0]["value"]) == {"text": "thing stop pol x", "user": "UADMIN"}


async def test_only_the_requester_confirms(services: Services, slack: FakeSlack) -> None:
    replies = await click(services, slack, "thing stop pol x", actor=Actor(user_id="UADMIN2", channel_id="C1"))
    assert "Only <@UADMIN>" in replies.texts[0] and RUNS == []


async def test_a_broken_value_is_answered(services: Services, slack: FakeSlack) -> None:
    replies = Replies()
    for value in ('{"text": 123, "user": "UADMIN"}', "null", "[]", None, {"text": "x"}):
        await confirm.confirm_clicked(services, ADMIN, value, "k", respond=replies, client=slack, trigger_id="T",
                                      response_url="")
    assert len(replies.sent) == 5 and all("broken" in t for t in replies.texts) and RUNS == []


async def test_confirmed_runs_once_however_often_it_is_clicked(services: Services, slack: FakeSlack) -> None:
    first = await click(services, slack, "thing stop pol x")
    again = await click(services, slack, "thing stop pol x")
    assert RUNS == ["x"] and "Done x." in first.texts[-1] and "already confirmed" in again.texts[0]


async def test_typed_name_opens_a_modal_and_runs_only_when_it_matches(services: Services, slack: FakeSlack) -> None:
    await click(services, slack, "thing wipe pol omega")
    view = slack.named("views_open")[0]["view"]
    assert RUNS == []

    def submitted(typed: str) -> dict:
        return {**view, "id": "V9", "state": {"values": {TYPED_BLOCK: {"value": {"value": typed}}}}}

    wrong = confirm.typed_submitted(services, ADMIN, submitted("omgea"))
    assert wrong.ack["response_action"] == "errors" and wrong.then is None
    stranger = confirm.typed_submitted(services, Actor(user_id="UOPS"), submitted("omega"))
    assert "not yours" in str(stranger.ack)
    right = confirm.typed_submitted(services, ADMIN, submitted("omega"))
    assert right.ack == {} and right.then is not None
    await right.then()
    await confirm.typed_submitted(services, ADMIN, submitted("omega")).then()  # submitted twice: runs once
    assert RUNS == ["omega"]


async def test_cancel_is_audited_and_runs_nothing(services: Services, slack: FakeSlack) -> None:
    replies = Replies()
    value = confirm.confirm_value("thing stop pol x", ADMIN)
    await confirm.cancel_clicked(services, ADMIN, value, "k2", respond=replies)
    rows = services.audit.query(AuditQuery(operation="confirm.cancel"))
    assert RUNS == [] and "Cancelled by <@UADMIN>" in replies.texts[0]
    assert rows and rows[0]["outcome"] == "refused"
