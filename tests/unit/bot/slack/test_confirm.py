"""The confirmation workflow: buttons carry only an opaque id; only the requester confirms, once, and only while
they may still run it; the most destructive need the name typed; where to reply is never taken from a payload."""

from __future__ import annotations

from conftest import RUNS, FakeSlack, Replies

from bot.operations.base import Actor
from bot.operations.context import Services
from bot.slack import confirm
from bot.slack.runner import parse_or_usage
from bot.store.audit import AuditQuery
from bot.ui.ids import CANCEL_ACTION, CONFIRM_ACTION, TYPED_BLOCK

ADMIN = Actor(user_id="UADMIN", channel_id="C1", surface="button")


async def prompt_value(services: Services, text: str, requester: Actor = ADMIN) -> str:
    parsed = parse_or_usage(services, text)
    prompt = await confirm.confirmation_prompt(services, parsed, text, requester)
    return next(e["value"] for b in prompt.blocks if b["type"] == "actions" for e in b["elements"])


async def click(services: Services, slack: FakeSlack, value: str, actor: Actor = ADMIN,
                response_url: str = "") -> Replies:
    replies = Replies()
    await confirm.confirm_clicked(services, actor, value, respond=replies, client=slack, trigger_id="T",
                                  response_url=response_url)
    return replies


async def test_buttons_carry_only_an_opaque_id(services: Services) -> None:
    parsed = parse_or_usage(services, "thing stop pol x")
    prompt = await confirm.confirmation_prompt(services, parsed, "thing stop pol x", ADMIN)
    buttons = [e for b in prompt.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == [CONFIRM_ACTION, CANCEL_ACTION]
    value = buttons[0]["value"]
    assert "UADMIN" not in value and "thing" not in value and buttons[1]["value"] == value
    stored = services.store.confirmations.get(value)
    assert stored is not None and (stored.command, stored.requester) == ("thing stop pol x", "UADMIN")


async def test_only_the_requester_confirms(services: Services, slack: FakeSlack) -> None:
    value = await prompt_value(services, "thing stop pol x")
    replies = await click(services, slack, value, actor=Actor(user_id="UADMIN2", channel_id="C1"))
    assert "Only <@UADMIN>" in replies.texts[0] and RUNS == []


async def test_values_that_are_not_ours_are_answered(services: Services, slack: FakeSlack) -> None:
    replies = Replies()
    for value in ('{"text": "thing stop pol x", "user": "UADMIN"}', "null", "[]", None, {"text": "x"}, "x" * 500):
        await confirm.confirm_clicked(services, ADMIN, value, respond=replies, client=slack, trigger_id="T",
                                      response_url="")
    assert len(replies.sent) == 6 and all("run the command again" in t for t in replies.texts) and RUNS == []


async def test_confirmed_runs_once_however_often_it_is_clicked(services: Services, slack: FakeSlack) -> None:
    value = await prompt_value(services, "thing stop pol x")
    first = await click(services, slack, value)
    again = await click(services, slack, value)
    assert RUNS == ["x"] and "Done x." in first.texts[-1] and "already confirmed" in again.texts[0]


async def test_the_role_is_checked_at_the_click(services: Services, slack: FakeSlack) -> None:
    viewer = Actor(user_id="UVIEW", channel_id="C1", surface="button")
    value = await prompt_value(services, "thing stop pol x", requester=viewer)
    replies = await click(services, slack, value, actor=viewer)
    assert RUNS == [] and "may not run" in replies.texts[0]
    assert services.audit.query(AuditQuery(operation="confirm.refused"))
    assert not slack.named("chat_postMessage")  # no approval request posted for a viewer


async def test_typed_name_opens_a_modal_and_runs_once_whatever_view_submits_it(services: Services,
                                                                              slack: FakeSlack) -> None:
    value = await prompt_value(services, "thing wipe pol omega")
    await click(services, slack, value, response_url="https://evil.example/hook")
    view = slack.named("views_open")[0]["view"]
    assert RUNS == [] and "evil" not in view["private_metadata"] and "omega" not in view["private_metadata"]
    assert services.store.confirmations.get(value).response_url == ""  # not a Slack host: never stored

    def submitted(typed: str, view_id: str = "V9") -> dict:
        return {**view, "id": view_id, "state": {"values": {TYPED_BLOCK: {"value": {"value": typed}}}}}

    wrong = await confirm.typed_submitted(services, ADMIN, submitted("omgea"))
    assert wrong.ack["response_action"] == "errors" and wrong.then is None
    stranger = await confirm.typed_submitted(services, Actor(user_id="UOPS"), submitted("omega"))
    assert "not yours" in str(stranger.ack)
    right = await confirm.typed_submitted(services, ADMIN, submitted("omega"))
    assert right.ack == {} and right.then is not None
    await right.then()
    again = await confirm.typed_submitted(services, ADMIN, submitted("omega", view_id="V10"))  # another view id
    if again.then is not None:
        await again.then()
    assert RUNS == ["omega"]


async def test_cancel_is_audited_and_spends_the_confirmation(services: Services, slack: FakeSlack) -> None:
    value = await prompt_value(services, "thing stop pol x")
    replies = Replies()
    await confirm.cancel_clicked(services, ADMIN, value, respond=replies)
    rows = services.audit.query(AuditQuery(operation="confirm.cancel"))
    assert RUNS == [] and "Cancelled by <@UADMIN>" in replies.texts[0]
    assert rows and rows[0]["outcome"] == "refused"
    late = await click(services, slack, value)
    assert RUNS == [] and "already confirmed or cancelled" in late.texts[0]
