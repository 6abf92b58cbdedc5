"""The Slack Web API emulator driven by slack_sdk's own clients."""

from __future__ import annotations

import json
import threading
import time

import loopback
import pytest
from sample_views import MODAL
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from sandbox.slack import SlackEmulator

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*polaris-us* is running"}}
HOME = {"type": "home", "blocks": [SECTION]}


def aclient(slack: SlackEmulator, **kwargs) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url, **kwargs)


def client(slack: SlackEmulator, **kwargs) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.api_url, **kwargs)


def error_of(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return excinfo.value.response["error"]


async def test_auth(slack: SlackEmulator) -> None:
    identity = await aclient(slack).auth_test()
    assert (identity["team_id"], identity["user_id"], identity["bot_id"]) == ("T0TEAM", "U0BOT", "B0BOT")
    with pytest.raises(SlackApiError) as excinfo:
        await AsyncWebClient(token="nonsense", base_url=slack.api_url).auth_test()
    assert error_of(excinfo) == "invalid_auth"
    with pytest.raises(SlackApiError) as excinfo:
        await AsyncWebClient(base_url=slack.api_url).chat_postMessage(channel="C0OPS", text="hi")
    assert error_of(excinfo) == "not_authed"
    with pytest.raises(SlackApiError) as excinfo:
        await aclient(slack).api_call("chat.scheduleMessage", params={"channel": "C0OPS"})
    assert error_of(excinfo) == "unknown_method"
    assert [c.error for c in slack.calls] == [None, "invalid_auth", "not_authed", "unknown_method"]


async def test_post_update_delete_flow(slack: SlackEmulator) -> None:
    api = aclient(slack)
    first = await api.chat_postMessage(channel="C0OPS", text="Deleting…", blocks=[SECTION])
    second = await api.chat_postMessage(channel="C0OPS", text="reply", thread_ts=first["ts"])
    assert float(second["ts"]) > float(first["ts"])
    assert second["message"]["thread_ts"] == first["ts"]

    updated = await api.chat_update(channel="C0OPS", ts=first["ts"], text="Deleted")
    assert updated["ts"] == first["ts"]
    top, reply = slack.messages("C0OPS")
    assert top["text"] == "Deleted" and top["blocks"] == [SECTION] and top["reply_count"] == 1
    assert reply["thread_ts"] == first["ts"]

    await api.chat_update(channel="C0OPS", ts=first["ts"], text="Gone", blocks=[])
    assert slack.messages("C0OPS")[0]["blocks"] == []
    with pytest.raises(SlackApiError) as excinfo:
        await api.chat_update(channel="C0OPS", ts="1.000001", text="x")
    assert error_of(excinfo) == "message_not_found"

    ephemeral = await api.chat_postEphemeral(channel="C0OPS", user="U0VIEWER", text="only you")
    assert slack.ephemerals[-1]["message"]["ts"] == ephemeral["message_ts"]

    await api.chat_delete(channel="C0OPS", ts=second["ts"])
    assert [m["ts"] for m in slack.messages("C0OPS")] == [first["ts"]]
    assert slack.messages("C0OPS")[0]["reply_count"] == 0
    assert [c.error for c in slack.calls_to("chat.update")] == [None, None, "message_not_found"]
    assert slack.element_types_seen == {"section"}


def test_form_encoded_json_fields_are_decoded(slack: SlackEmulator) -> None:
    api = client(slack)
    api.api_call("chat.postMessage", params={"channel": "C0OPS", "text": "x", "blocks": json.dumps([SECTION])})
    call = slack.last("chat.postMessage")
    assert call.params["blocks"] == [SECTION]
    assert call.headers["authorization"] == "Bearer xoxb-test"
    reply = loopback.post(slack.api_url + "auth.test", data={"token": "xoxb-form"}).json()
    assert reply["ok"] is True


async def test_views_open_trigger_rules(slack: SlackEmulator) -> None:
    api = aclient(slack)
    opened = await api.views_open(trigger_id="123.456.abcdef", view=MODAL)
    view = opened["view"]
    assert view["id"] in slack.views and view["callback_id"] == "project_create"
    with pytest.raises(SlackApiError) as excinfo:
        await api.views_open(trigger_id="123.456.abcdef", view=MODAL)
    assert error_of(excinfo) == "exchanged_trigger_id"

    slack.register_trigger("999.1.old", issued_at=time.time() - 3.5)
    with pytest.raises(SlackApiError) as excinfo:
        await api.views_open(trigger_id="999.1.old", view=MODAL)
    assert error_of(excinfo) == "expired_trigger_id"
    with pytest.raises(SlackApiError) as excinfo:
        await api.views_open(trigger_id="not-a-trigger", view=MODAL)
    assert error_of(excinfo) == "invalid_trigger_id"


async def test_views_update_push_publish(slack: SlackEmulator) -> None:
    api = aclient(slack)
    view = (await api.views_open(trigger_id="1.1.a", view={**MODAL, "external_id": "req-1"}))["view"]
    loaded = {**MODAL, "title": {"type": "plain_text", "text": "Loaded"}}
    updated = (await api.views_update(view_id=view["id"], hash=view["hash"], view=loaded))["view"]
    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    with pytest.raises(SlackApiError) as excinfo:
        await api.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)
    assert error_of(excinfo) == "hash_conflict"
    by_external = await api.views_update(external_id="req-1", view=MODAL)
    assert by_external["view"]["id"] == view["id"]
    with pytest.raises(SlackApiError) as excinfo:
        await api.views_update(view_id="V404", view=MODAL)
    assert error_of(excinfo) == "not_found"

    pushed = [(await api.views_push(trigger_id=f"2.{i}.b", view=MODAL))["view"] for i in range(2)]
    assert pushed[0]["root_view_id"] == view["id"] and pushed[1]["previous_view_id"] == pushed[0]["id"]
    with pytest.raises(SlackApiError) as excinfo:
        await api.views_push(trigger_id="2.9.b", view=MODAL)
    assert error_of(excinfo) == "push_limit_reached"

    home = (await api.views_publish(user_id="U0VIEWER", view=HOME))["view"]
    again = (await api.views_publish(user_id="U0VIEWER", view=HOME, hash=home["hash"]))["view"]
    assert again["id"] == home["id"]
    assert slack.home_view("U0VIEWER")["blocks"] == [SECTION]
    assert slack.home_view("U0ADMIN") is None


async def test_directory_methods(slack: SlackEmulator) -> None:
    api = aclient(slack)
    slack.add_user("U0TOKYO", "kenji", tz="Asia/Tokyo", tz_offset=32400)
    slack.add_channel("C0DATA", "data-platform", is_private=True)
    slack.set_usergroup("S0ONCALL", ["U0ADMIN", "U0OPERATOR"])
    admin = (await api.users_info(user="U0ADMIN"))["user"]
    assert admin["is_admin"] is True and admin["name"] == "admin"
    assert (await api.users_info(user="U0TOKYO"))["user"]["tz_offset"] == 32400
    with pytest.raises(SlackApiError) as excinfo:
        await api.users_info(user="U0NOBODY")
    assert error_of(excinfo) == "user_not_found"
    assert (await api.conversations_info(channel="C0OPS"))["channel"]["name"] == "ops"
    data = (await api.conversations_info(channel="C0DATA"))["channel"]
    assert data["name"] == "data-platform" and data["is_private"] is True
    assert (await api.conversations_info(channel="D0ADMIN"))["channel"]["is_im"] is True
    with pytest.raises(SlackApiError) as excinfo:
        await api.conversations_info(channel="#ops")
    assert error_of(excinfo) == "channel_not_found"
    assert (await api.usergroups_users_list(usergroup="S0ONCALL"))["users"] == ["U0ADMIN", "U0OPERATOR"]
    app = AsyncWebClient(token="xapp-1-A0-1-x", base_url=slack.api_url)
    assert (await app.apps_connections_open(app_token="xapp-1-A0-1-x"))["url"].startswith("ws://")


async def test_conversations_list_filters_types_and_pages(slack: SlackEmulator) -> None:
    for i in range(5):
        slack.add_channel(f"C0PUB{i}", f"public-{i}")
    slack.add_channel("C0SECRET", "secret", is_private=True)
    slack.add_channel("G0GROUP", "old-group")
    api = aclient(slack)
    public = (await api.conversations_list())["channels"]
    assert [c["name"] for c in public] == [f"public-{i}" for i in range(5)]
    names, cursor = [], None
    while True:
        page = await api.conversations_list(types="public_channel,private_channel", limit=3, cursor=cursor)
        names += [c["name"] for c in page["channels"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert sorted(names) == sorted([f"public-{i}" for i in range(5)] + ["secret", "old-group"])
    assert len(names) == len(set(names))
    with pytest.raises(SlackApiError) as excinfo:
        await api.conversations_list(types="channels")
    assert error_of(excinfo) == "invalid_types"
    with pytest.raises(SlackApiError) as excinfo:
        await api.conversations_list(cursor="not-a-cursor")
    assert error_of(excinfo) == "invalid_cursor"
    with pytest.raises(SlackApiError) as excinfo:
        await api.conversations_list(limit=1001)
    assert error_of(excinfo) == "invalid_limit"
    slack.add_channel("C0PUB4", "public-4", is_archived=True)
    assert len((await api.conversations_list())["channels"]) == 5
    assert "public-4" not in [c["name"] for c in (await api.conversations_list(exclude_archived=True))["channels"]]
    with pytest.raises(SlackApiError) as excinfo:
        await api.chat_postMessage(channel="C0PUB4", text="hello")
    assert error_of(excinfo) == "is_archived"
    slack.add_channel("C0OUT", "out", is_member=False)
    with pytest.raises(SlackApiError) as excinfo:
        await api.chat_postMessage(channel="C0OUT", text="hello")
    assert error_of(excinfo) == "not_in_channel"
    assert (await api.conversations_info(channel="C0OUT"))["channel"]["is_member"] is False


async def test_ratelimited_then_async_retry_handler_succeeds(slack: SlackEmulator) -> None:
    slack.fail_next("chat.postMessage", retry_after=0)
    api = aclient(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    await api.chat_postMessage(channel="C0OPS", text="digest")
    assert [c.error for c in slack.calls_to("chat.postMessage")] == ["ratelimited", None]


def test_ratelimited_then_sync_retry_handler_succeeds(slack: SlackEmulator) -> None:
    slack.fail_next("chat.postMessage", retry_after=0)
    client(slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]).chat_postMessage(
        channel="C0OPS", text="digest"
    )
    assert [c.ok for c in slack.calls_to("chat.postMessage")] == [False, True]
    assert len(slack.messages("C0OPS")) == 1


def test_ratelimited_without_handler_and_other_failures(slack: SlackEmulator) -> None:
    api = client(slack)
    slack.fail_next("chat.update", error="internal_error", status=500)
    slack.fail_next("users.info", error="fatal_error", count=2)
    with pytest.raises(SlackApiError) as excinfo:
        api.chat_update(channel="C0OPS", ts="1.1", text="x")
    assert excinfo.value.response.status_code == 500
    for _ in range(2):
        with pytest.raises(SlackApiError) as excinfo:
            api.users_info(user="U0ADMIN")
        assert excinfo.value.response.status_code == 200 and error_of(excinfo) == "fatal_error"
    assert api.users_info(user="U0ADMIN")["ok"]

    slack.fail_next("auth.test", retry_after=7)
    raw = loopback.post(slack.api_url + "auth.test", headers={"Authorization": "Bearer xoxb-x"})
    assert (raw.status_code, raw.headers["retry-after"], raw.json()) == (
        429,
        "7",
        {"ok": False, "error": "ratelimited"},
    )


def test_post_rate_limit_per_channel(slack: SlackEmulator) -> None:
    slack.enforce_post_rate = True
    api = client(slack)
    for i in range(3):
        api.chat_postMessage(channel="C0OPS", text=f"burst {i}")
    api.chat_postMessage(channel="C0OTHER", text="other channel has its own budget")
    with pytest.raises(SlackApiError) as excinfo:
        api.chat_postMessage(channel="C0OPS", text="one too many")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["retry-after"] == "1"


async def test_files_upload_v2_async(slack: SlackEmulator) -> None:
    csv = "project,bytes\npolaris-us,1024\n"
    result = await aclient(slack).files_upload_v2(
        channel="C0OPS", content=csv, filename="storage.csv", title="Storage", initial_comment="Weekly usage"
    )
    (upload,) = slack.files.values()
    assert result["file"]["id"] == upload.id
    assert (upload.text, upload.filename, upload.title) == (csv, "storage.csv", "Storage")
    assert (upload.channel_id, upload.initial_comment, upload.completed) == ("C0OPS", "Weekly usage", True)
    assert [c.method for c in slack.calls] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


def test_files_upload_v2_sync_binary(slack: SlackEmulator) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    client(slack).files_upload_v2(channel="C0OPS", file=png, filename="chart.png")
    (upload,) = slack.files.values()
    assert upload.content == png and upload.title == "chart.png" and upload.length == len(png)


def test_response_url_semantics_and_use_limit(slack: SlackEmulator) -> None:
    posted = client(slack).chat_postMessage(channel="C0OPS", text="Approve?", blocks=[SECTION])
    slack.register_response_url("r1", channel_id="C0OPS", message_ts=posted["ts"], user_id="U0ADMIN")
    hook = WebhookClient(slack.response_url("r1"))

    assert hook.send(text="Approved", replace_original=True).status_code == 200
    (message,) = slack.messages("C0OPS")
    assert message["text"] == "Approved" and "blocks" not in message and message["ts"] == posted["ts"]
    hook.send(text="Running now", response_type="in_channel")
    hook.send(text="just for you")
    assert slack.ephemerals[-1]["user"] == "U0ADMIN"
    hook.send_dict({"delete_original": True})
    assert [m["text"] for m in slack.messages("C0OPS")] == ["Running now"]
    hook.send(text="fifth")
    sixth = hook.send(text="sixth")
    assert sixth.status_code == 404 and json.loads(sixth.body)["error"] == "used_url"
    assert len(slack.response_posts("r1")) == 5
    assert [c.ok for c in slack.calls_to("response_url")] == [True] * 5 + [False]


def test_response_url_invalid_blocks_do_not_count(slack: SlackEmulator) -> None:
    hook = WebhookClient(slack.response_url("r2"))
    bad = hook.send(blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    assert bad.status_code == 400 and json.loads(bad.body)["error"] == "invalid_blocks"
    assert slack.response_posts("r2") == []
    assert slack.rejections[0].method == "response_url"
    slack.rejections.clear()


async def test_invalid_blocks_rejected_and_recorded(slack: SlackEmulator) -> None:
    api = aclient(slack)
    with pytest.raises(SlackApiError) as excinfo:
        await api.chat_postMessage(channel="C0OPS", text="x", blocks=[SECTION] * 51)
    assert error_of(excinfo) == "invalid_blocks"
    assert excinfo.value.response["errors"] == ["blocks: 51 items, max 50"]
    with pytest.raises(SlackApiError) as excinfo:
        await api.views_open(trigger_id="5.5.c", view={**MODAL, "title": {"type": "plain_text", "text": "x" * 25}})
    assert error_of(excinfo) == "invalid_blocks"
    with pytest.raises(SlackApiError):
        await api.views_publish(user_id="U0ADMIN", view={**HOME, "submit": MODAL["submit"]})
    assert [r.method for r in slack.rejections] == ["chat.postMessage", "views.open", "views.publish"]
    assert slack.messages("C0OPS") == [] and slack.views == {}
    with pytest.raises(AssertionError, match="51 items"):
        slack.assert_no_rejections()
    slack.strict = False
    with pytest.raises(SlackApiError):
        await api.chat_postMessage(channel="C0OPS", text="x" * 40_001)
    assert len(slack.rejections) == 3
    slack.rejections.clear()


async def test_wait_for(slack: SlackEmulator) -> None:
    def later() -> None:
        time.sleep(0.05)
        client(slack).chat_postMessage(channel="C0OPS", text="done")

    threading.Thread(target=later).start()
    call = await slack.wait_for("chat.postMessage", lambda c: c.params["text"] == "done", timeout=2)
    assert call.ok
    assert slack.wait_for_sync("chat.postMessage").params["channel"] == "C0OPS"
    with pytest.raises(TimeoutError, match="chat.update"):
        slack.wait_for_sync("chat.update", timeout=0.05)
    slack.reset()
    assert slack.calls == [] and slack.messages("C0OPS") == []


def test_response_url_expires_and_dm_and_external_id(slack: SlackEmulator) -> None:
    slack.register_response_url("old", channel_id="C0OPS", created_at=time.time() - 31 * 60)
    expired = WebhookClient(slack.response_url("old")).send(text="too late")
    assert expired.status_code == 404 and json.loads(expired.body)["error"] == "expired_url"

    api = client(slack)
    dm = api.chat_postMessage(channel="U0VIEWER", text="your digest")
    assert dm["channel"].startswith("D") and slack.messages("U0VIEWER")[0]["text"] == "your digest"

    api.views_open(trigger_id="7.7.a", view={**MODAL, "external_id": "same"})
    with pytest.raises(SlackApiError, match="duplicate_external_id"):
        api.views_open(trigger_id="7.8.a", view={**MODAL, "external_id": "same"})
    bad_json = loopback.post(
        slack.api_url + "chat.postMessage",
        content=b"{not json",
        headers={"Authorization": "Bearer xoxb-x", "Content-Type": "application/json"},
    )
    assert bad_json.json() == {"ok": False, "error": "invalid_json"}
