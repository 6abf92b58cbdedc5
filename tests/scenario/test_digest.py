"""Scheduled digests end to end: a slash-command subscription, the clock moved, the post and the alerts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import loopback
from rig import Bot, message_text

from bot.store import AuditQuery

CHANNEL = "C0DIGEST"


def on_app_loop(bot: Bot, coroutine: Any, timeout: float = 20.0) -> Any:
    """Run a scheduler coroutine on the app's own event loop (where its HTTP clients live)."""
    scheduler = bot.project.services.scheduler
    return asyncio.run_coroutine_threadsafe(coroutine, scheduler.loop).result(timeout)


def test_subscription_posts_a_fresh_digest_when_due_and_alerts_once(bot: Bot, backends: str) -> None:
    answer = bot.run("digest add all <#C0DIGEST|digests> polaris phoenix terraform daily 09:00", user="U0OPERATOR")
    text = message_text(answer)
    assert "Digest #1" in text and "daily 09:00 (Europe/London)" in text  # the requester's Slack tz
    assert bot.audit.query(AuditQuery(operation="digest.add"))[0]["outcome"] == "succeeded"

    scheduler = bot.project.services.scheduler
    now = datetime.now(UTC)
    assert on_app_loop(bot, scheduler.run_due(now)) == []  # not due yet

    with loopback.Client(base_url=f"{backends}/polaris") as http:  # fresh figures, read when the digest runs
        http.patch("/_admin/projects/iot-telemetry", json={"currentBytes": 190_000_000_000}).raise_for_status()
    later = now + timedelta(days=1, minutes=1)
    assert on_app_loop(bot, scheduler.run_due(later)) == [1]
    assert on_app_loop(bot, scheduler.run_due(later + timedelta(seconds=30))) == []  # posted once

    [digest] = bot.slack.messages(CHANNEL)
    posted = message_text(digest)
    assert "Storage digest" in posted and "Over 80% of their storage" in posted
    assert "polaris / clickstream* 92%" in posted
    assert "polaris / iot-telemetry*: 190.0 GB / 400.0 GB (48%)" in posted
    assert "Phoenix `phoenix`:" in posted and "Terraform `terraform`:" in posted
    assert "Job health digest" in posted and "clickstream" in posted
    menus = [b["accessory"] for b in digest["blocks"] if b.get("accessory", {}).get("type") == "overflow"]
    assert menus[0]["options"][0]["value"].startswith("job logs polaris clickstream ")  # the error job comes first
    _, rid = bot.pick(digest, "Logs", user="U0VIEWER", channel=CHANNEL, menu=menus[0])
    assert "Access Denied (403)" in message_text(bot.answer(rid))
    [chart] = bot.slack.files.values()
    assert chart.channel_id == CHANNEL and chart.content.startswith(b"\x89PNG")

    # a job goes to error between digests: one alert over two checks
    state = loopback.get(f"{backends}/polaris/_admin/state").json()
    assert any(p["name"] == "analytics-prod" for p in state["projects"])
    with loopback.Client(base_url=f"{backends}/polaris") as http:
        jobs = http.get("/v1/projects/" + _uid(state, "analytics-prod") + "/jobs", auth=("demo-polaris-key", ""))
        job = next(j for j in jobs.json()["values"] if j["health"]["status"] == "ok")
        http.patch(f"/_admin/projects/analytics-prod/jobs/{job['id']}", json={"health": "error"}).raise_for_status()
    on_app_loop(bot, scheduler.check_alerts(later + timedelta(minutes=5)))
    on_app_loop(bot, scheduler.check_alerts(later + timedelta(minutes=10)))
    alerts = [m for m in bot.slack.messages(CHANNEL)[1:] if "New since the last check" in message_text(m)]
    assert len(alerts) == 1 and job["id"] in message_text(alerts[0])
    assert "clickstream" not in message_text(alerts[0])  # already told in the digest


def _uid(state: dict, name: str) -> str:
    return next(p["uid"] for p in state["projects"] if p["name"] == name)


def test_list_now_remove_and_a_down_back_end_is_a_line(bot: Bot, backends: str) -> None:
    refused = message_text(bot.run("digest add storage hourly", user="U0VIEWER"))
    assert "operator" in refused.lower()
    bot.run("digest add storage terraform phoenix weekly mon 09:00 --tz UTC", user="U0OPERATOR", channel="C0STORE")
    listed = message_text(bot.run("digest list", user="U0VIEWER"))
    assert "#1* storage" in listed and "weekly mon 09:00 (UTC)" in listed and "`terraform`" in listed

    loopback.post(f"{backends}/phoenix/_faults", json={"status": 500, "count": 50}).raise_for_status()
    assert "posted to <#C0STORE>" in message_text(bot.run("digest now 1", user="U0VIEWER"))
    [digest] = bot.slack.messages("C0STORE")
    posted = message_text(digest)
    assert "Not reachable" in posted and "`phoenix` (phoenix)" in posted
    assert "Terraform `terraform`: 6 projects" in posted and "clickstream" not in posted

    assert "removed" in message_text(bot.run("digest remove 1", user="U0OPERATOR"))
    assert "No digests yet" in message_text(bot.run("digest list"))
    assert "no digest #1" in message_text(bot.run("digest now 1")).lower()
    assert [r["outcome"] for r in bot.audit.query(AuditQuery(operation="digest.remove"))] == ["succeeded"]


def test_bad_schedule_and_target_are_explained(bot: Bot) -> None:
    assert "not a time of day" in message_text(bot.run("digest add storage daily 25:00", user="U0OPERATOR"))
    assert "not a target a digest can cover" in message_text(
        bot.run("digest add storage polaris matillion hourly", user="U0OPERATOR"))
    ack, _ = bot.command("digest add storag hourly", user="U0OPERATOR")  # bad input: answered in the ack
    assert "Did you mean `storage`?" in message_text(ack.json())


def test_a_channel_typed_by_name_and_an_own_threshold(bot: Bot, backends: str) -> None:
    bot.slack.add_channel("C0DATAOPS", "data-ops")
    bot.slack.add_channel("G0PRIVATE", "platform-private", is_private=True)
    answer = message_text(bot.run("digest add storage #data-ops polaris --threshold 95% daily 07:00",
                                  user="U0OPERATOR"))
    assert "<#C0DATAOPS>" in answer and "flags storage over 95%" in answer
    assert "<#G0PRIVATE>" in message_text(bot.run("digest add job-health #platform-private hourly", user="U0OPERATOR"))
    listed = message_text(bot.run("digest list"))
    assert "flags storage over 95%" in listed and "#2* job-health" in listed and "over 80%" not in listed

    on_app_loop(bot, bot.project.services.scheduler.run_subscription(
        bot.project.services.scheduler.store.get(1)))
    posted = message_text(bot.slack.messages("C0DATAOPS")[0])
    assert "Over 95%" not in posted and "polaris / clickstream*: " in posted  # 92% is under this digest's line

    missing = message_text(bot.run("digest add storage #data-opz daily 07:00", user="U0OPERATOR"))
    assert "cannot find a channel named `#data-opz`" in missing and "Did you mean `#data-ops`?" in missing
    ack, _ = bot.command("digest add storage --threshold 150 daily 07:00", user="U0OPERATOR")  # answered in the ack
    assert "`150` is not a threshold" in message_text(ack.json())
    refused = message_text(bot.run("digest add job-health --threshold 85% hourly", user="U0OPERATOR"))
    assert "`--threshold` is for storage digests" in refused
    assert [r["outcome"] for r in bot.audit.query(AuditQuery(operation="digest.add"))].count("succeeded") == 2


def test_channels_projectops_cannot_post_in_are_refused_with_what_to_do(bot: Bot) -> None:
    bot.slack.add_channel("C0OUTSIDE", "outside", is_member=False)
    bot.slack.add_channel("G0HIDDEN", "hidden", is_private=True, is_member=False)
    outside = message_text(bot.run("digest add storage <#C0OUTSIDE|outside> daily 07:00", user="U0OPERATOR"))
    assert "I am not in <#C0OUTSIDE>" in outside and "/invite @projectops" in outside
    hidden = message_text(bot.run("digest add storage #hidden daily 07:00", user="U0OPERATOR"))
    assert "cannot find a channel named `#hidden`" in hidden and "invite projectops" in hidden
    assert "No digests yet" in message_text(bot.run("digest list"))

    bot.slack.add_channel("C0LEFT", "left")
    bot.run("digest add storage <#C0LEFT|left> polaris daily 07:00", user="U0OPERATOR")
    bot.slack.add_channel("C0LEFT", "left", is_member=False)  # removed from the channel later
    now = message_text(bot.run("digest now 1", user="U0OPERATOR"))
    assert "could not be posted to <#C0LEFT>" in now and "Invite me back" in now

    scheduler = bot.project.services.scheduler  # the scheduled run: audited, the subscriber told by DM
    assert on_app_loop(bot, scheduler.run_due(datetime.now(UTC) + timedelta(days=1, minutes=1))) == []
    [dm] = bot.slack.messages("D0OPERATOR")
    assert "Digest #1" in message_text(dm) and "Invite me back" in message_text(dm)
    assert ":warning: could not post" in message_text(bot.run("digest list"))
    failed = message_text(bot.run("audit op digest.run failed", user="U0ADMIN"))
    assert "digest.run" in failed and "not in that channel" in failed
    outcomes = [r["outcome"] for r in bot.audit.query(AuditQuery(operation="digest.add"))]
    assert outcomes.count("succeeded") == 1 and len(outcomes) == 3
