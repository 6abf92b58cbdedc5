"""The playground in a real browser (Debian's chromium, headless, driven by Playwright): the demo journey.

List, show and create projects, request a delete as the operator (confirm dialog, typed-name modal),
switch to the admin, approve, and read the result in the thread and the audit log. Then the agent view's
Messages tab: opening it sends app_home_opened (tab messages), suggested prompts show as chips that send a
DM, a thread shows its status line until the app posts in it, and feedback buttons send block_actions.
Then the assistant itself, as the operator in the Messages tab: plain words ask a question, pick a suggested
prompt (and a clarifying question's candidate), ask for a change, confirm it, and mark an answer misunderstood.
Screenshots go to the test's tmp_path.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.demo import Demo, start_demo
from bot.store.audit import AuditQuery

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is missing: pip install -e '.[dev]'")
playwright_api.expect.set_options(timeout=15_000)
if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does this)", allow_module_level=True)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    running = start_demo(tmp_path / "demo")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def page(demo: Demo, tmp_path: Path):
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(demo.url + "?user=U0ADMIN")
        yield page
        page.screenshot(path=str(tmp_path / "final.png"), full_page=True)
        browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"


def send(page, text: str) -> None:
    page.get_by_test_id("composer").fill(text)
    page.get_by_test_id("composer").press("Enter")


def switch_user(page, user: str) -> None:
    page.get_by_test_id("user-switcher").select_option(user)
    page.wait_for_function(f"document.body.dataset.user === '{user}'")


def create_project(page, target: str, name: str, screenshot: Callable[[str], None]) -> None:
    """Through the create modal (`/projects create`), or with the slash form when there is no modal."""
    send(page, "/projects create")
    modal = page.get_by_test_id("modal")
    try:
        modal.wait_for(timeout=4_000)
    except playwright_api.TimeoutError:
        send(page, f"/projects create {target} {name}")
        return
    modal.locator("select").first.select_option(target)
    name_input = modal.locator("input[type=text]").first
    name_input.wait_for()
    name_input.fill(name)
    screenshot("create-modal")
    page.get_by_test_id("modal-submit").click()
    playwright_api.expect(modal).to_have_count(0)


def test_playground_journey(demo: Demo, page, tmp_path: Path) -> None:
    shot = iter(range(1, 100))

    def screenshot(name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{next(shot):02d}-{name}.png"), full_page=True)

    timeline = page.get_by_test_id("timeline")
    send(page, "/projects list polaris")
    playwright_api.expect(timeline).to_contain_text("Polaris projects on polaris")
    playwright_api.expect(timeline).to_contain_text("clickstream")
    screenshot("list")

    send(page, "/projects show polaris clickstream")
    playwright_api.expect(timeline.locator(".msg.ephemeral").last).to_contain_text("clickstream")
    screenshot("show")

    create_project(page, "terraform", "pg-demo-project", screenshot)
    playwright_api.expect(timeline.locator(".msg.ephemeral").last).to_contain_text("Created")
    playwright_api.expect(timeline.locator(".msg.ephemeral").last).to_contain_text("pg-demo-project")
    screenshot("created")

    switch_user(page, "U0OPERATOR")
    playwright_api.expect(timeline).not_to_contain_text("Polaris projects on polaris")  # ephemerals were the admin's
    send(page, "/projects delete terraform sandbox-playground")
    prompt = timeline.locator(".msg.ephemeral", has_text="sandbox-playground").last
    prompt.get_by_test_id("button-projectops_confirm").click()
    dialog = page.get_by_test_id("confirm-dialog")
    playwright_api.expect(dialog).to_contain_text("cannot be undone")
    screenshot("confirm-dialog")
    page.get_by_test_id("confirm-ok").click()

    modal = page.get_by_test_id("modal")
    try:  # the typed-name modal, when the operation asks for one
        modal.wait_for(timeout=5_000)
    except playwright_api.TimeoutError:
        pass
    else:
        modal.locator("input").fill("not-the-name")
        page.get_by_test_id("modal-submit").click()
        playwright_api.expect(modal.locator(".bk-error")).to_contain_text("does not match")
        screenshot("typed-name-error")
        label = modal.locator(".bk-input label").first.inner_text()
        expected = re.sub(r"^Type (.*) to confirm.*$", r"\1", label.strip())
        modal.locator("input").fill(expected)
        page.get_by_test_id("modal-submit").click()
        playwright_api.expect(modal).to_have_count(0)
    playwright_api.expect(timeline).to_contain_text("second person")
    screenshot("awaiting-approval")

    switch_user(page, "U0ADMIN")
    request = timeline.locator(".msg.message", has=page.get_by_test_id("button-projectops_approve")).last
    request.get_by_test_id("button-projectops_approve").click()
    if page.get_by_test_id("confirm-dialog").count():
        page.get_by_test_id("confirm-ok").click()
    thread = timeline.get_by_test_id("thread").last
    playwright_api.expect(thread).to_contain_text("sandbox-playground", timeout=30_000)
    screenshot("approved")

    send(page, "/projects audit last 5")
    audit = timeline.locator(".msg.ephemeral").last
    playwright_api.expect(audit).to_contain_text("terraform.project.delete")
    playwright_api.expect(audit).to_contain_text("approved by @admin")
    screenshot("audit")
    demo.slack.assert_no_rejections()
    assert sorted(p.name for p in tmp_path.glob("*.png"))


def sent(demo: Demo, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
    """The first request the playground sent to the app that matches `predicate`, waiting for it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [p for p in list(demo.slack.playground.sent) if predicate(p)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"the playground sent no such request; sent: {demo.slack.playground.sent[-5:]}")
        time.sleep(0.05)


def event_of(payload: dict[str, Any]) -> dict[str, Any]:
    return payload.get("event") or {}


FEEDBACK = {
    "type": "context_actions",
    "block_id": "pg_feedback",
    "elements": [{
        "type": "feedback_buttons",
        "action_id": "pg_feedback_buttons",
        "positive_button": {"text": {"type": "plain_text", "text": "Good"}, "value": "pg-good"},
        "negative_button": {"text": {"type": "plain_text", "text": "Bad"}, "value": "pg-bad"},
    }],
}


def test_messages_tab_agent_surfaces(demo: Demo, page, tmp_path: Path) -> None:
    """What the emulator shows of Slack's agent view; the bot's answers to the words are not asserted here."""
    slack = demo.slack
    api = WebClient(token="xoxb-playground", base_url=slack.api_url)
    page.get_by_test_id("nav-dm").click()
    opened = sent(demo, lambda p: event_of(p).get("type") == "app_home_opened" and event_of(p).get("tab") == "messages")
    assert (event_of(opened)["user"], event_of(opened)["channel"]) == ("U0ADMIN", "D0ADMIN")
    with contextlib.suppress(TimeoutError):  # the app may set its own prompts as the tab opens: let it first
        slack.wait_for_sync("assistant.threads.setSuggestedPrompts", timeout=5)
    prompts = [{"title": "Say hello", "message": "hello from a chip"}, {"title": "Storage", "message": "disk?"}]
    api.assistant_threads_setSuggestedPrompts(channel_id="D0ADMIN", prompts=prompts, title="Try one")
    bar = page.get_by_test_id("suggested-prompts")
    playwright_api.expect(bar.get_by_test_id("suggested-prompt")).to_have_text(["Say hello", "Storage"])
    playwright_api.expect(bar).to_contain_text("Try one")
    page.screenshot(path=str(tmp_path / "messages-tab-prompts.png"), full_page=True)

    bar.get_by_test_id("suggested-prompt").first.click()
    dm = sent(demo, lambda p: event_of(p).get("text") == "hello from a chip")
    event = event_of(dm)
    assert (event["type"], event["channel_type"], event["channel"], event["user"]) == ("message", "im", "D0ADMIN",
                                                                                    "U0ADMIN")
    assert "thread_ts" not in event  # a new thread: its ts is the root
    timeline = page.get_by_test_id("timeline")
    playwright_api.expect(timeline).to_contain_text("hello from a chip")

    # a quiet thread the app knows nothing of: its status shows until a message is posted in it
    root = slack.add_user_message("D0ADMIN", "U0ADMIN", "a quiet thread")
    api.assistant_threads_setStatus(channel_id="D0ADMIN", thread_ts=root["ts"], status="is thinking…")
    api.assistant_threads_setTitle(channel_id="D0ADMIN", thread_ts=root["ts"], title="Quiet")
    thread = timeline.locator(f'[data-testid="thread"][data-thread-ts="{root["ts"]}"]')
    playwright_api.expect(thread.get_by_test_id("assistant-status")).to_have_text("projectops is thinking…")
    playwright_api.expect(thread.get_by_test_id("thread-title")).to_have_text("Quiet")
    page.screenshot(path=str(tmp_path / "messages-tab-status.png"), full_page=True)
    api.chat_postMessage(channel="D0ADMIN", thread_ts=root["ts"], text="Here you are", blocks=[
        {"type": "section", "text": {"type": "mrkdwn", "text": "Here you are"}}, FEEDBACK])
    playwright_api.expect(thread.get_by_test_id("assistant-status")).to_have_count(0)
    thread.get_by_test_id("feedback-negative-pg_feedback_buttons").click()
    click = sent(demo, lambda p: p.get("type") == "block_actions")
    action = click["actions"][0]
    assert (action["type"], action["action_id"], action["value"]) == ("feedback_buttons", "pg_feedback_buttons",
                                                                       "pg-bad")
    assert click["container"]["thread_ts"] == root["ts"]

    # a reply in that thread is a DM message with its thread_ts
    thread_root = timeline.locator(f'.msg[data-ts="{root["ts"]}"]')
    thread_root.get_by_test_id("reply-in-thread").last.click()
    send(page, "and that one?")
    reply = event_of(sent(demo, lambda p: event_of(p).get("text") == "and that one?"))
    assert (reply["thread_ts"], reply["channel_type"]) == (root["ts"], "im")
    playwright_api.expect(thread).to_contain_text("and that one?")
    page.screenshot(path=str(tmp_path / "messages-tab-thread.png"), full_page=True)

    page.get_by_test_id("nav-home").click()
    sent(demo, lambda p: event_of(p).get("type") == "app_home_opened" and event_of(p).get("tab") == "home")
    playwright_api.expect(page.get_by_test_id("suggested-prompts")).to_be_hidden()


def audited(demo: Demo, operation: str) -> list[dict[str, Any]]:
    return demo.project.services.audit.query(AuditQuery(operation=operation, limit=50))


def root_of(page, text: str):
    """The top-level DM message `text` (a thread's root, with the app's replies under it)."""
    return page.get_by_test_id("timeline").locator(":scope > .msg.message", has_text=text).last


def test_assistant_journey(demo: Demo, page, tmp_path: Path) -> None:
    """Plain words in the Messages tab as the operator: the role's suggested prompts show as chips, a question
    is answered in its thread, a change is read back as the `/projects …` command with Confirm / Cancel and
    runs once confirmed, and Misunderstood feedback is thanked."""
    expect = playwright_api.expect
    timeline = page.get_by_test_id("timeline")
    switch_user(page, "U0OPERATOR")
    page.get_by_test_id("nav-dm").click()
    expect(page.get_by_test_id("composer")).to_have_attribute("placeholder", re.compile("plain words"))
    chips = page.get_by_test_id("suggested-prompts").get_by_test_id("suggested-prompt")
    expect(chips).to_have_text(["Back ends", "Storage", "All projects", "Start a change"])  # an operator's
    page.screenshot(path=str(tmp_path / "assistant-prompts.png"), full_page=True)

    question = "how many phoenix projects are there"
    send(page, question)
    answer = root_of(page, question).get_by_test_id("thread")
    expect(answer).to_contain_text("Phoenix projects on phoenix")
    expect(answer).to_contain_text("rag-eval")  # from the demo seed
    page.screenshot(path=str(tmp_path / "assistant-question.png"), full_page=True)

    chips.filter(has_text="Back ends").click()  # a chip sends its words as the person would
    expect(root_of(page, "are all back ends up?").get_by_test_id("thread")).to_contain_text("terraform")

    send(page, "which jobs are failing?")
    jobs = root_of(page, "which jobs are failing?").get_by_test_id("thread")
    expect(jobs.get_by_test_id("message")).not_to_have_count(0)
    choice = jobs.get_by_role("button", name=re.compile(r"^clickstream\b"))
    if choice.count():  # asked which project: a button per candidate, answered in the same thread
        choice.click()
        expect(jobs).to_contain_text("Jobs in clickstream")
        expect(jobs).to_contain_text("failed")  # the seed's failing clickstream job

    change = "create a phoenix project called journey-test"
    send(page, change)
    proposal = root_of(page, change).get_by_test_id("thread")
    expect(proposal).to_contain_text("💬 I read this as /projects create phoenix journey-test")
    expect(proposal.get_by_test_id("button-projectops_cancel")).to_be_visible()
    assert not audited(demo, "phoenix.project.create")  # nothing changes without the button
    page.screenshot(path=str(tmp_path / "assistant-change.png"), full_page=True)
    proposal.get_by_test_id("button-projectops_confirm").click()
    expect(page.get_by_test_id("confirm-dialog")).to_contain_text("/projects create phoenix journey-test")
    page.get_by_test_id("confirm-ok").click()
    expect(proposal).to_contain_text("Created Phoenix project journey-test")
    page.screenshot(path=str(tmp_path / "assistant-done.png"), full_page=True)

    answer.get_by_test_id("feedback-negative-projectops_assist_feedback").click()
    expect(timeline.locator(".msg.ephemeral", has_text="Noted as misunderstood")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "assistant-feedback.png"), full_page=True)
    created = audited(demo, "phoenix.project.create")
    assert [(row["user"], row["outcome"]) for row in created] == [("U0OPERATOR", "succeeded")]
    messages = [json.loads(row["params"]) for row in audited(demo, "assistant.message")]
    words = {params["words"]: params for params in messages}
    assert words[change]["resolved"] == ["/projects create phoenix journey-test"]
    assert words[question]["resolver"] == "offline"
    assert [json.loads(row["params"])["verdict"] for row in audited(demo, "assistant.feedback")] == ["misunderstood"]
    demo.slack.assert_no_rejections()
