"""A preview's verdict: a change that cannot happen or would change nothing gets no Confirm, no approval request, and
an audited refusal; a preview that could not read the back end still offers Confirm; the dialog says whether it can
be undone from what the registry knows."""

from __future__ import annotations

import json
from typing import Any

from conftest import RUNS, FakeSlack, Replies, thing_op

from bot.errors import BackendError, NotFoundError, Reason
from bot.operations.base import Actor, Preview
from bot.operations.context import Services
from bot.slack import confirm
from bot.slack.runner import parse_or_usage
from bot.store.audit import AuditQuery
from bot.ui.ids import CONFIRM_BLOCK

ADMIN = Actor(user_id="UADMIN", channel_id="C1", surface="command")
OPERATOR = Actor(user_id="UOPS", channel_id="C1", surface="command")


def previewing(name: str, answer: Any, **kw: Any) -> Any:
    """A destructive stand-in whose preview returns `answer` (a Preview), raises it (an exception), or calls it."""

    async def preview(ctx: Any, params: Any) -> Preview:
        value = answer() if callable(answer) else answer
        if isinstance(value, Exception):
            raise value
        return value

    return thing_op(name, preview=preview, **kw)


async def prompt(services: Services, text: str, actor: Actor = ADMIN) -> tuple[dict[str, Any], str]:
    parsed = parse_or_usage(services, text)
    rendered = await confirm.confirmation_prompt(services, parsed, text, actor)
    flat = rendered.text + " " + " ".join(str(b) for b in rendered.blocks)
    return {"blocks": rendered.blocks, "text": rendered.text}, flat


def has_confirm(message: dict[str, Any]) -> bool:
    return any(b.get("block_id") == CONFIRM_BLOCK for b in message["blocks"])


def dialog(message: dict[str, Any]) -> str:
    [buttons] = [b for b in message["blocks"] if b.get("block_id") == CONFIRM_BLOCK]
    return buttons["elements"][0]["confirm"]["text"]["text"]


async def test_nothing_to_do_gets_no_confirm_and_an_audited_refusal(services: Services) -> None:
    services.registry.register(previewing("thing.halt", Preview(
        nothing_to_do="Project *x* is already stopped; there is nothing to stop.",
        hint="`/projects resume pol x` starts it again.")))
    message, text = await prompt(services, "thing halt pol x")
    assert not has_confirm(message)
    assert "Nothing to do: Project *x* is already stopped" in text and "/projects resume pol x" in text
    assert "nothing to confirm" in text and "audit #" in text
    [row] = services.audit.query(AuditQuery(operation="polaris.thing.halt"))
    assert (row["outcome"], row["target"], row["risk"]) == ("refused", "pol", "destructive")
    assert "nothing to do" in row["error"] and json.loads(row["params"]) == {"thing": "x"} and RUNS == []


async def test_blocked_gets_no_confirm_and_no_approval_for_an_operator(services: Services,
                                                                       slack: FakeSlack) -> None:
    services.registry.register(previewing("thing.jam", Preview(
        text="*x* holds 3 tables.", blocked="Deletion protection is on, so Polaris will refuse.",
        hint="Turn it off first: `/projects update pol x --no-deletion-protection`")))
    message, text = await prompt(services, "thing jam pol x", actor=OPERATOR)
    assert not has_confirm(message) and "admin other than you" not in text
    assert ":no_entry: `/projects thing jam pol x` cannot run: Deletion protection is on" in text
    assert "--no-deletion-protection" in text and "*x* holds 3 tables." in text
    assert not slack.named("chat_postMessage") and RUNS == []
    [row] = services.audit.query(AuditQuery(operation="polaris.thing.jam"))
    assert row["outcome"] == "refused" and row["user"] == "UOPS" and "blocked before confirmation" in row["error"]


async def test_a_thing_that_is_not_there_ends_as_a_read_command_does(services: Services) -> None:
    missing = NotFoundError("There is no project `nope` on `pol`.", resource="project", name="nope",
                            candidates=["clickstream", "nopex"])
    services.registry.register(previewing("thing.gone", lambda: missing))
    message, text = await prompt(services, "thing gone pol nope")
    assert not has_confirm(message) and "could not read" not in text
    assert "There is no project `nope` on `pol`." in text and "Did you mean `nopex`?" in text
    assert "/projects list pol" in text and "audit #" in text
    assert services.audit.query(AuditQuery(operation="polaris.thing.gone"))[0]["outcome"] == "refused"


async def test_an_unreadable_back_end_still_offers_confirm(services: Services) -> None:
    down = BackendError("Polaris did not answer.", reason=Reason.UNREACHABLE)
    services.registry.register(previewing("thing.halt", lambda: down))
    message, text = await prompt(services, "thing halt pol x")
    assert has_confirm(message) and "I could not read what this would affect: Polaris did not answer." in text
    assert not services.audit.query(AuditQuery(operation="polaris.thing.halt"))


async def test_a_verdict_that_changed_before_the_click_asks_no_approval(services: Services,
                                                                        slack: FakeSlack) -> None:
    answers = [Preview(text="*x* is running."), Preview(nothing_to_do="Project *x* is already stopped.")]
    services.registry.register(previewing("thing.halt", lambda: answers.pop(0)))
    message, _ = await prompt(services, "thing halt pol x", actor=OPERATOR)
    assert has_confirm(message)
    value = next(e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"])
    replies = Replies()
    await confirm.confirm_clicked(services, Actor(user_id="UOPS", channel_id="C1", surface="button"), value,
                                  respond=replies, client=slack, trigger_id="T", response_url="")
    assert "already stopped" in replies.texts[-1] and "second person" not in replies.texts[-1]
    assert not slack.named("chat_postMessage") and RUNS == []
    assert services.audit.query(AuditQuery(operation="polaris.thing.halt"))[0]["outcome"] == "refused"


async def test_the_dialog_says_cannot_be_undone_only_when_the_registry_says_so(services: Services) -> None:
    services.registry.register(previewing("thing.pause", Preview("*x* runs."), reversible_by="resume"))
    services.registry.register(previewing("thing.drop", Preview("*x* holds 3 tables.")))
    pause, _ = await prompt(services, "thing pause pol x")
    assert "cannot be undone" not in dialog(pause) and "can be undone with `/projects resume`" in dialog(pause)
    drop, _ = await prompt(services, "thing drop pol x")
    assert dialog(drop).endswith("and cannot be undone.")
    long, _ = await prompt(services, "thing drop pol " + "x" * 400)  # the dialog's 300 characters keep the warning
    assert dialog(long).endswith("and cannot be undone.") and len(dialog(long)) <= 300
    look = services.registry.get("thing.look", "polaris")
    assert look is not None and look.reversible_by is None  # not destructive: the dialog says neither
