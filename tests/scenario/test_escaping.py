"""Mass-ping injection: whatever back ends hold (descriptions, job errors) and whatever people type (names, mentions),
nothing projectops posts to Slack pings, mentions or links unless projectops wrote it itself.

Every text Slack reads as mrkdwn in every recorded call (Web API methods, response_url posts, acks, views, files) is
checked: each `<` in it must start a control sequence projectops writes — a mention of a person acting in the test,
a channel link or a date — everything else has to arrive escaped (`&lt;`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import loopback
import pytest
from rig import Bot, message_text

#: What a hostile back-end user writes where projectops will show it.
EVIL = "<!everyone> <!channel> <@U0ADMIN> <!here> & <https://evil.example|click here>"
TERRAFORM = {"Authorization": "Bearer demo-terraform-token", "Content-Type": "application/vnd.api+json"}
PINGS = ("<!everyone>", "<!channel>", "<!here>")


@pytest.fixture
def planted(backends: str) -> Iterator[str]:
    """EVIL in a Phoenix project's description, an HCP Terraform project's description and a Polaris job's error."""
    with loopback.Client(base_url=backends, timeout=10) as http:
        http.put("/phoenix/v1/projects/rag-eval", json={"description": f"RAG evals {EVIL}"}).raise_for_status()

        listed = http.get("/terraform/api/v2/organizations/acme/projects", headers=TERRAFORM,
                          params={"filter[names]": "platform-core"})
        [project] = listed.raise_for_status().json()["data"]
        http.patch(f"/terraform/api/v2/projects/{project['id']}", headers=TERRAFORM, content=json.dumps(
            {"data": {"type": "projects", "attributes": {"description": f"Core {EVIL}"}}})).raise_for_status()

        state = http.get("/polaris/_admin/state").raise_for_status().json()
        uid = next(p["uid"] for p in state["projects"] if p["name"] == "clickstream")
        jobs = http.get(f"/polaris/v1/projects/{uid}/jobs", auth=("demo-polaris-key", "")).raise_for_status()
        job = jobs.json()["values"][0]
        http.patch(f"/polaris/_admin/projects/clickstream/jobs/{job['id']}",
                   json={"health": "error", "message": f"Ingestion failed: {EVIL}"}).raise_for_status()
    yield job["id"]


def plant_phoenix_project(backends: str, name: str) -> None:
    """A Phoenix project whose name is hostile (Phoenix takes any name; projectops' own create refuses `<`)."""
    with loopback.Client(base_url=backends, timeout=10) as http:
        http.post("/phoenix/v1/projects", json={"name": name}).raise_for_status()


# ---------------------------------------------------------------- what Slack would read


def slack_read_texts(node: Any) -> Iterator[str]:
    """Every text Slack parses for mentions in a payload: top-level `text`, mrkdwn objects, a file's comment.
    plain_text objects (headers, buttons, labels) are shown as they are and never parsed, so they are skipped."""
    if isinstance(node, list):
        for item in node:
            yield from slack_read_texts(item)
    elif isinstance(node, dict):
        if node.get("type") == "plain_text":
            return
        for key, value in node.items():
            if key in ("text", "initial_comment") and isinstance(value, str):
                yield value
            elif isinstance(value, dict | list):
                yield from slack_read_texts(value)


def unwanted(texts: Iterable[str], actors: set[str]) -> list[str]:
    """Each `<…>` Slack would act on that projectops did not write: anything but a mention of an actor, a channel
    link or a date."""
    people = "|".join(sorted(actors))
    allowed = re.compile(rf"<@(?:{people})>|<#C[A-Z0-9]+>|<!date\^[^<>|]*\|[^<>]*>")
    found = []
    for text in texts:
        for match in re.finditer("<", text):
            if not allowed.match(text, match.start()):
                found.append(text[max(0, match.start() - 40): match.start() + 60])
    return found


def assert_nothing_pings(bot: Bot, acks: list[httpx.Response], actors: set[str]) -> None:
    texts: list[str] = []
    for call in bot.slack.calls:
        texts += slack_read_texts(call.params)
    for ack in acks:
        if ack.content:
            texts += slack_read_texts(ack.json())
    assert texts, "nothing was recorded"
    assert unwanted(texts, actors) == []
    for ping in PINGS:
        assert not any(ping in t for t in texts), ping


def wait_calls(bot: Bot, method: str, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(bot.slack.calls_to(method)) < count:
        time.sleep(0.02)
    assert len(bot.slack.calls_to(method)) >= count, method


def mention(text: str, ts: str, user: str = "U0VIEWER") -> dict[str, Any]:
    return {"type": "app_mention", "user": user, "text": f"<@U0BOT> {text}", "channel": "C0OPS", "ts": ts,
            "event_ts": ts}


# ---------------------------------------------------------------- the tests


def test_back_end_text_and_typed_names_never_ping(bot: Bot, planted: str, backends: str) -> None:
    acks: list[httpx.Response] = []

    def run(text: str, user: str = "U0VIEWER") -> str:
        ack, rid = bot.command(text, user=user)
        acks.append(ack)
        assert ack.status_code == 200, ack.text
        return message_text(bot.answer(rid))

    # reads of what the back ends hold: shown, escaped
    assert "RAG evals &lt;!everyone&gt; &lt;!channel&gt; &lt;@U0ADMIN&gt;" in run("list phoenix")
    assert "&amp; &lt;https://evil.example|click here&gt;" in run("show phoenix rag-eval")
    run("list terraform")
    assert "Core &lt;!everyone&gt;" in run("show terraform platform-core")
    assert "Ingestion failed: &lt;!everyone&gt;" in run("job list polaris clickstream --health error")
    assert "&lt;!channel&gt;" in run(f"job show polaris clickstream {planted[:8]}")
    run("list")

    # names people type, echoed back
    assert "Table &lt;!channel&gt; was not found" in run("table show polaris clickstream <!channel>")
    assert "Project with name &lt;!here&gt; not found" in run("show phoenix <!here>")
    ack, _ = bot.command("create phoenix <!here>", user="U0OPERATOR")  # refused in the ack, before any call
    acks.append(ack)
    assert "cannot contain &lt; or &gt;" in message_text(ack.json())
    ack, rid = bot.command("delete terraform <!here>", user="U0OPERATOR")  # not there: refused, no Confirm
    acks.append(ack)
    assert "No project named `&lt;!here&gt;`" in message_text(bot.answer(rid))
    plant_phoenix_project(backends, "<!here>")  # one that is there goes as far as the confirmation
    ack, rid = bot.command("delete phoenix <!here>", user="U0OPERATOR")
    acks.append(ack)
    prompt = bot.answer(rid)
    assert "`/projects delete phoenix &lt;!here&gt;`" in message_text(prompt)
    ack, rid = bot.click(prompt, "projectops_cancel", user="U0OPERATOR")
    acks.append(ack)
    assert "Cancelled by <@U0OPERATOR>: `/projects delete phoenix &lt;!here&gt;`" in message_text(bot.answer(rid))

    # the digest, posted to a channel
    run("digest add job-health polaris daily 09:00", user="U0OPERATOR")
    assert "posted to <#C0OPS>" in run("digest now 1", user="U0OPERATOR")
    digest = next(m for m in bot.slack.messages("C0OPS") if "Job health digest" in message_text(m))
    assert "Ingestion failed: &lt;!everyone&gt;" in message_text(digest)

    # the App Home, and plain words in a mention
    posts = len(bot.slack.calls_to("chat.postMessage"))
    bot.post(bot.requests.event_callback({"type": "app_home_opened", "user": "U0VIEWER", "tab": "home"}))
    bot.post(bot.requests.event_callback(mention("show phoenix rag-eval <!channel>", "1700000000.000100")))
    bot.post(bot.requests.event_callback(mention("<!everyone> which jobs are failing?", "1700000000.000200")))
    wait_calls(bot, "views.publish", 1)
    wait_calls(bot, "chat.postMessage", posts + 2)
    time.sleep(0.3)  # anything still on its way
    assert_nothing_pings(bot, acks, actors={"U0VIEWER", "U0OPERATOR"})


def test_a_typed_name_goes_through_confirmation_and_approval_escaped(bot: Bot, backends: str) -> None:
    plant_phoenix_project(backends, "<!here>")  # a thing that is not there is refused before any confirmation
    answer = bot.confirm_and_approve("delete phoenix <!here>", user="U0OPERATOR", approver="U0ADMIN")
    assert "&lt;!here&gt;" in message_text(answer)
    request = next(m for m in bot.slack.messages("C0OPS") if "Approval" in message_text(m))
    assert "<@U0OPERATOR> asks to run" in message_text(request)
    assert "`/projects delete phoenix &lt;!here&gt;`" in message_text(request)
    assert_nothing_pings(bot, [], actors={"U0OPERATOR", "U0ADMIN"})


def test_the_checker_finds_what_it_is_for() -> None:
    assert unwanted(["<!here> hi", "ok <@U0ADMIN>", "&lt;!channel&gt;", "<!date^1^{date}|x>", "<#C0OPS>"],
                    {"U0VIEWER"}) == ["<!here> hi", "ok <@U0ADMIN>"]
    payload = {"text": "<!here>", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "<!x>"}},
                                             {"type": "section", "text": {"type": "mrkdwn", "text": "a"}}]}
    assert list(slack_read_texts(payload)) == ["<!here>", "a"]
