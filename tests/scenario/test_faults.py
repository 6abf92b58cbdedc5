"""Back ends failing under every command, through signed Slack requests.

The matrix: every back end × {429 with Retry-After, 500, slow beyond the bound, refused (a closed port), malformed
JSON} × {list, show, create, delete (confirmed, name typed, approved by another admin), digest now}. Each reply comes
within the configured bound (`backends.timeout_seconds`), says which back end and why in words (no traceback, no
exception class name), leaves no audit row `started`, and nothing half-done: what the reply says happened is what
the back end holds. The four back ends of one fault run side by side (one channel each), so the matrix takes about
as long as its slowest column.

Then changes whose answer did not come although the change was made (the emulator applies it, then answers 500,
drops the connection, or answers after the bound): the reply and the audit row say the change happened.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import loopback
import pytest
from rig import Bot, message_text

from bot.store import AuditQuery
from sandbox.serving import free_port
from scenario.helpers import wait_until

BOUND = 1.0  # backends.timeout_seconds in these tests
PROGRESS = 0.4  # backends.progress_seconds: a slow command says it still waits
MARGIN = 2.5  # what Slack's side, the rig and two shared CPUs may add to the bound
LATENCY_MS = 1500  # "slow": every request takes longer than the bound
#: the bound where a change's answer is lost: the reads before the change must fit in it on a busy machine
LOST_BOUND = 2.0

KINDS = ("polaris", "phoenix", "terraform", "matillion")
NAMES = {"polaris": "Polaris", "phoenix": "Phoenix", "terraform": "HCP Terraform", "matillion": "Matillion"}
SHOWN = {"polaris": "clickstream", "phoenix": "rag-eval", "terraform": "sandbox-playground",
         "matillion": "analytics-dwh"}
DELETED = {"polaris": "marketing-sandbox", "phoenix": "rag-eval", "terraform": "sandbox-playground",
           "matillion": "marketing-redshift"}
CHANNELS = {"polaris": "C0FPOLARIS", "phoenix": "C0FPHOENIX", "terraform": "C0FTERRAFORM", "matillion": "C0FMATILLION"}
CREATE_PATHS = {"polaris": "/v1/projects", "phoenix": "/v1/projects",
                "terraform": "/api/v2/organizations/acme/projects", "matillion": "/v1/projects"}

#: fault -> (what is switched on at the emulators, the words a reply must use for it)
FAULTS: dict[str, tuple[dict[str, Any] | None, str]] = {
    "429": ({"status": 429, "count": -1, "retry_after": 0.05}, r"rate limit|\b429\b"),
    "500": ({"status": 500, "count": -1}, r"\b500\b|problem on its side"),
    "slow": ({"latency_ms": LATENCY_MS}, r"did not answer|no answer|did not confirm|took longer"),
    "refused": (None, r"could not reach|refused"),
    "malformed": ({"malformed": True, "count": -1}, r"not JSON|cut short"),
}
#: What must never reach a person: a traceback, an exception's class name, the catch-all.
INTERNALS = re.compile(r"Traceback|\b[A-Z][A-Za-z]*(Error|Exception)\b|ReadTimeout|ConnectTimeout|JSONDecode|"
                       r"inside projectops|unexpected error", re.IGNORECASE)

SIGNING = threading.Lock()  # the request builder remembers the last response_url: one signer at a time


# ---------------------------------------------------------------- the conversation, thread-safe


def command(bot: Bot, text: str, user: str, channel: str) -> str:
    with SIGNING:
        signed = bot.requests.slash_command(text, user_id=user, channel_id=channel)
        rid = bot.requests.last_response_url_id
    assert bot.post(signed).status_code == 200
    return rid


def click(bot: Bot, message: dict, action: str, user: str, channel: str) -> str:
    message.setdefault("ts", f"{time.time():.6f}")
    with SIGNING:
        signed = bot.requests.block_actions([{"action_id": action}], user_id=user, channel_id=channel,
                                            message=message)
        rid = bot.requests.last_response_url_id
    assert bot.post(signed).status_code == 200
    return rid


def final(bot: Bot, rid: str, timeout: float = 15.0) -> dict[str, Any]:
    """The answer at `rid` once it no longer says it is running or waiting."""

    def done() -> dict[str, Any] | None:
        posts = bot.slack.response_posts(rid)
        text = message_text(posts[-1]) if posts else ""
        return posts[-1] if posts and "still waiting" not in text and "Running" not in text else None

    return wait_until(done, timeout)


def ask(bot: Bot, text: str, channel: str, user: str = "U0OPERATOR") -> tuple[str, float, list[dict]]:
    """`/projects <text>`: the final answer's text, how long it took, and every post at its response_url."""
    started = time.monotonic()
    rid = command(bot, text, user, channel)
    answer = final(bot, rid)
    return message_text(answer), time.monotonic() - started, bot.slack.response_posts(rid)


def typed_view(bot: Bot, name: str) -> dict[str, Any]:
    """The typed-name confirmation modal asking for `name` (each back end deletes a different name)."""

    def find() -> dict[str, Any] | None:
        views = list(bot.slack.views.values())
        return next((v for v in reversed(views) if v.get("callback_id") == "projectops_typed_confirm"
                     and f"Type {name} to confirm" in message_text(v)), None)

    return wait_until(find, 10)


def confirm(bot: Bot, text: str, name: str, channel: str, user: str) -> tuple[dict, str, float]:
    """Ask for a destructive command, press Confirm and type the name; returns the prompt, the answer's text and
    how long that answer took once the name was typed."""
    rid = command(bot, text, user, channel)
    prompt = final(bot, rid)
    assert any(b.get("block_id") == "projectops_confirmation" for b in prompt.get("blocks", [])), prompt
    rid = click(bot, prompt, "projectops_confirm", user, channel)
    view = typed_view(bot, name)
    started = time.monotonic()
    with SIGNING:
        signed = bot.requests.view_submission(view, user_id=user, values={"typed_name": {"value": name}})
    assert bot.post(signed).status_code == 200
    return prompt, message_text(final(bot, rid)), time.monotonic() - started


def approve(bot: Bot, channel: str, approver: str = "U0ADMIN") -> tuple[str, float]:
    """Approve the newest request in `channel`; the result posted in its thread, and how long it took."""
    request = wait_until(lambda: [m for m in bot.slack.messages(channel) if any(
        b.get("block_id", "").startswith("approval_") for b in m.get("blocks", []))], 10)[-1]
    started = time.monotonic()
    click(bot, request, "projectops_approve", approver, channel)
    reply = bot.slack.wait_for_sync("chat.postMessage", lambda c: c.params.get("thread_ts") == request["ts"],
                                    timeout=15)
    return message_text(reply.params), time.monotonic() - started


# ---------------------------------------------------------------- what must hold


def clear(text: str, kind: str, cause: str, took: float, bound: float = BOUND) -> None:
    """A reply a person can act on: in time, naming the back end and the cause in words, no internals."""
    assert took <= bound + MARGIN, f"{took:.1f} s for: {text}"
    assert re.search(cause, text, re.IGNORECASE), text
    assert NAMES[kind] in text or f"`{kind}`" in text or kind in text, text
    assert not INTERNALS.search(text), text


def everything_posted(bot: Bot) -> str:
    """Every text projectops sent to Slack in this test."""
    return "\n".join(message_text(call.params) for call in list(bot.slack.calls)
                     if isinstance(call.params, dict))


def names_on(backends: str, kind: str) -> set[str]:
    """The project names the emulator holds, read from its API (faults off)."""
    with loopback.Client(base_url=f"{backends}/{kind}", timeout=10) as http:
        if kind == "polaris":
            data = http.get("/v1/projects", auth=("demo-polaris-key", "")).json()
            return {p["metadata"]["name"] for p in data}
        if kind == "phoenix":
            return {p["name"] for p in http.get("/v1/projects", params={"limit": 1000}).json()["data"]}
        if kind == "terraform":
            data = http.get("/api/v2/organizations/acme/projects", params={"page[size]": 100},
                            headers={"Authorization": "Bearer demo-terraform-token"}).json()
            return {p["attributes"]["name"] for p in data["data"]}
        return {p["name"] for p in http.get("/_admin/state").json()["projects"]}


def says_it_happened(text: str) -> bool | None:
    """What a reply to a change says about it: True (done), None (cannot tell), False (not done)."""
    if "cannot tell" in text:
        return None
    if "did not happen" in text or ":warning:" in text or "could not" in text.lower():
        return False
    return "happened" in text or "Created" in text or "Deleted" in text or "deleted" in text


def no_row_left_started(bot: Bot) -> None:
    wait_until(lambda: not bot.audit.query(AuditQuery(outcome="started", limit=100)), 10)


def set_faults(backends: str, spec: dict[str, Any] | None) -> None:
    with loopback.Client(base_url=backends, timeout=10) as http:
        for kind in KINDS:
            http.delete(f"/{kind}/_faults").raise_for_status()
            if spec:
                http.post(f"/{kind}/_faults", json=spec).raise_for_status()


def side_by_side(work: Callable[[str], Any]) -> dict[str, Any]:
    """`work(kind)` for the four back ends at once; the first failure is raised."""
    with ThreadPoolExecutor(len(KINDS)) as pool:
        futures = {kind: pool.submit(work, kind) for kind in KINDS}
        return {kind: future.result() for kind, future in futures.items()}


@pytest.fixture
def config(demo_config_dict: dict) -> dict:
    config = copy.deepcopy(demo_config_dict)
    config["backends"] = {"timeout_seconds": BOUND, "progress_seconds": PROGRESS}
    return config


def unreachable(config: dict) -> dict:
    """Every target pointed at a port nothing listens on."""
    config = copy.deepcopy(config)
    closed = f"http://127.0.0.1:{free_port()}"
    for kind, target in config["targets"].items():
        target["url"] = f"{closed}/{kind}"
        if "token_url" in target.get("options", {}):
            target["options"]["token_url"] = f"{closed}/matillion/oauth/dpc/token"
    return config


# ---------------------------------------------------------------- the matrix


def run_column(bot: Bot, kind: str, fault: str) -> dict[str, str]:
    """list, show, create, delete and digest now on one back end with `fault` on; each answer checked."""
    _, cause = FAULTS[fault]
    channel = CHANNELS[kind]
    replies: dict[str, str] = {}

    text, took, posts = ask(bot, f"list {kind}", channel, user="U0VIEWER")
    clear(text, kind, cause, took)
    if fault == "slow":  # the wait was shown in place, then replaced by the answer
        assert any("still waiting for" in message_text(p) for p in posts[:-1]), posts
        assert posts[-1].get("replace_original") is True

    text, took, _ = ask(bot, f"show {kind} {SHOWN[kind]}", channel, user="U0VIEWER")
    clear(text, kind, cause, took)

    created = f"flt-{fault}-{kind[:3]}"
    text, took, _ = ask(bot, f"create {kind} {created}" + (" snowflake" if kind == "matillion" else ""), channel)
    clear(text, kind, cause, took)
    replies["create"] = text

    prompt, text, took = confirm(bot, f"delete {kind} {DELETED[kind]}", DELETED[kind], channel, "U0OPERATOR")
    assert not INTERNALS.search(message_text(prompt)), prompt
    assert "needs a second person" in text and took <= BOUND + MARGIN, (took, text)
    text, took = approve(bot, channel)
    clear(text, kind, cause, took)
    replies["delete"] = text

    if kind != "matillion":  # digests cover Polaris jobs and storage, and Phoenix and Terraform project counts
        text, _, _ = ask(bot, f"digest add all <#{channel}|faults> {kind} hourly", channel)
        digest_id = re.search(r"Digest #(\d+)", text).group(1)
        text, took, _ = ask(bot, f"digest now {digest_id}", channel)
        assert f"Digest #{digest_id} posted" in text and took <= BOUND + MARGIN, (took, text)
        [posted] = [m for m in bot.slack.messages(channel) if "digest" in (m.get("text") or "")
                    and not m.get("thread_ts")]
        digest = message_text(posted)
        assert "no figures" in digest and "nothing to report" in posted["text"], digest
        assert "need attention" not in digest and "All healthy" not in digest, digest
        clear(digest, kind, cause, 0)
    return replies


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_back_end_fails_clearly_under_every_command(fault: str, make_bot, config: dict,
                                                          backends: str) -> None:
    spec, _ = FAULTS[fault]
    with make_bot(unreachable(config) if fault == "refused" else config) as bot:
        for kind, channel in CHANNELS.items():
            bot.slack.add_channel(channel, f"faults-{kind}")
        set_faults(backends, spec)
        try:
            replies = side_by_side(lambda kind: run_column(bot, kind, fault))
        finally:
            set_faults(backends, None)
        if fault == "slow":  # requests given up on may still land: let them, then look
            time.sleep(LATENCY_MS / 1000 + 0.3)

        no_row_left_started(bot)
        assert not INTERNALS.search(everything_posted(bot))
        for kind, said in replies.items():  # nothing half-done: what the replies say is what the back end holds
            names = names_on(backends, kind)
            assert DELETED[kind] in names, f"{kind}: {said['delete']}"
            created = f"flt-{fault}-{kind[:3]}"
            happened = says_it_happened(said["create"])
            if happened is not None:
                assert (created in names) == happened, f"{kind}: {said['create']}"
        failed = bot.audit.query(AuditQuery(operation="phoenix.project.delete", limit=5))
        assert [r["outcome"] for r in failed] == ["failed"]


# ---------------------------------------------------------------- changes made, answers lost


#: fault -> (the emulator's answer once it has made the change, the words for it in the reply)
LOST: dict[str, tuple[dict[str, Any], str]] = {
    "500": ({"status": 500, "apply": True}, "answered HTTP 500"),
    "drop": ({"drop": True, "apply": True}, "dropped the connection"),
    "late": ({"delay_ms": int((LOST_BOUND + 1) * 1000), "apply": True}, "did not confirm within"),
}


@pytest.fixture
def lost_config(config: dict) -> dict:
    config["backends"]["timeout_seconds"] = LOST_BOUND
    return config


@pytest.mark.parametrize("lost", list(LOST))
def test_a_delete_that_happened_is_reported_as_done(lost: str, make_bot, lost_config: dict, backends: str) -> None:
    spec, words = LOST[lost]
    lost_config["approvals"] = {"required_for": []}  # the admin's own confirmation runs it
    with make_bot(lost_config) as bot, loopback.Client(base_url=backends, timeout=10) as http:
        for kind in KINDS:
            http.post(f"/{kind}/_faults", json={**spec, "method": "DELETE"}).raise_for_status()

        def delete(kind: str) -> str:
            _, text, took = confirm(bot, f"delete {kind} {DELETED[kind]}", DELETED[kind], CHANNELS[kind], "U0ADMIN")
            assert took <= LOST_BOUND + MARGIN, (took, text)
            return text

        replies = side_by_side(delete)
        for kind, text in replies.items():
            if kind == "polaris" and lost == "drop":  # a DELETE may be sent again: Polaris accepts it again
                assert "Polaris accepted the request" in text or "the delete happened" in text, text
            else:
                assert f"{NAMES[kind]} {words}" in text and f"`{DELETED[kind]}`" in text, text
                assert "is gone: the delete happened" in text or "is being deleted: the delete happened" in text, text
            assert not INTERNALS.search(text), text
            assert DELETED[kind] not in names_on(backends, kind) or kind == "polaris"  # Polaris deletes over time
        no_row_left_started(bot)
        for kind in KINDS:
            [row] = bot.audit.query(AuditQuery(operation=f"{kind}.project.delete", limit=5))
            assert row["outcome"] == "succeeded", row
            assert "the delete happened" in row["error"] or (kind == "polaris" and lost == "drop"), row


@pytest.mark.parametrize("lost", list(LOST))
def test_a_create_that_happened_is_reported_as_done(lost: str, make_bot, lost_config: dict, backends: str) -> None:
    spec, words = LOST[lost]
    with make_bot(lost_config) as bot, loopback.Client(base_url=backends, timeout=10) as http:
        for kind in KINDS:
            http.post(f"/{kind}/_faults", json={**spec, "method": "POST", "path": CREATE_PATHS[kind]})

        def create(kind: str) -> str:
            name = f"lost-{lost}-{kind[:3]}"
            text, took, _ = ask(bot, f"create {kind} {name}" + (" snowflake" if kind == "matillion" else ""),
                                CHANNELS[kind])
            assert took <= LOST_BOUND + MARGIN, (took, text)
            return text

        replies = side_by_side(create)
        for kind, text in replies.items():
            name = f"lost-{lost}-{kind[:3]}"
            assert f"{NAMES[kind]} {words}" in text and f"`{name}` exists now: the create happened" in text, text
            assert not INTERNALS.search(text), text
            assert name in names_on(backends, kind)
        no_row_left_started(bot)
        for kind in KINDS:
            [row] = bot.audit.query(AuditQuery(operation=f"{kind}.project.create", limit=5))
            assert row["outcome"] == "succeeded" and "the create happened" in row["error"], row


def test_a_proxys_html_page_is_named_on_every_command_that_reads_all_targets(make_bot, config: dict,
                                                                              backends: str) -> None:
    """`list` of every target, `targets` and the delete previews name the back end and the cause."""
    with make_bot(config) as bot:
        set_faults(backends, {"html": True, "count": -1})
        try:
            listing, took, _ = ask(bot, "list", "C0OPS", user="U0VIEWER")
            assert took <= BOUND + MARGIN and not INTERNALS.search(listing), listing
            for kind in KINDS:
                assert f"{NAMES[kind]} answered " in listing and "a web page" in listing, listing
            targets, took, _ = ask(bot, "targets", "C0OPS", user="U0VIEWER")
            assert "0 of 4 targets answer" in targets and targets.count("a web page") == 4, targets
            assert took <= BOUND + MARGIN and not INTERNALS.search(targets), targets

            def preview(kind: str) -> str:
                rid = command(bot, f"delete {kind} {DELETED[kind]}", "U0OPERATOR", CHANNELS[kind])
                return message_text(final(bot, rid))

            for kind, prompt in side_by_side(preview).items():
                assert "I could not read what this would affect" in prompt and "a web page" in prompt, prompt
                assert NAMES[kind] in prompt and not INTERNALS.search(prompt), prompt
        finally:
            set_faults(backends, None)
        no_row_left_started(bot)
