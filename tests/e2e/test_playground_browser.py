"""The playground in a real browser (Debian's chromium, headless, driven by Playwright): the demo journey.

List, show and create projects, request a delete as the operator (confirm dialog, typed-name modal),
switch to the admin, approve, and read the result in the thread and the audit log. Screenshots go to
the test's tmp_path.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.demo import Demo, start_demo

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
