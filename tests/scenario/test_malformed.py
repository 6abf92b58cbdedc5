"""Malformed but signed requests, generated for every listener (issue 15, items 2 and 7).

For every action id, view callback id and options action id projectops registers, for `/projects` and for the
events it listens to, hypothesis sends payloads Slack would send with a few fields broken: values of the wrong
type (null, numbers, objects, lists), huge and odd strings (unicode, quotes, `<!everyone>`), fields missing,
private_metadata that is not JSON or has the wrong types. Each answer must pass `assert_answered_well`
(tests/malformed.py): 2xx/4xx within 3 s, no traceback or exception name anywhere, nothing logged at ERROR.
The specific requests of the issue are checked one by one below, with the reply a person must get.

`PROJECTOPS_FUZZ_EXAMPLES=200 pytest tests/scenario/test_malformed.py` digs deeper than the default.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from malformed import (
    DROP,
    PINGS,
    Outcome,
    assert_answered_well,
    catching_logs,
    event,
    exchange,
    form,
    interaction,
    json_of,
    junk,
    mutate,
    no_pings,
    texts,
)
from rig import Bot, message_text
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncBoltRequest

from bot.store.audit import AuditQuery
from bot.ui import ids

EXAMPLES = int(os.environ.get("PROJECTOPS_FUZZ_EXAMPLES", "10"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("PROJECTOPS_FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

CONFIRM_VALUE = "set by click()"  # an opaque confirmation id made in the store
PLAIN = {"type": "plain_text", "text": "x"}

#: Every button and menu of a message: its action id and the action as a click reports it.
MESSAGE_ACTIONS: dict[str, dict[str, Any]] = {
    ids.CONFIRM_ACTION: {"value": CONFIRM_VALUE},
    ids.CANCEL_ACTION: {"value": CONFIRM_VALUE},
    ids.APPROVE_ACTION: {"value": "apr_unknown"},
    ids.REJECT_ACTION: {"value": "apr_unknown"},
    ids.SHARE_ACTION: {"value": "share"},
    ids.PAGE_ACTION: {"value": "list phoenix"},
    f"{ids.PAGE_ACTION}_next": {"value": "audit page 2"},
    ids.ROW_ACTION: {"type": "overflow", "selected_option": {"value": "show phoenix rag-eval", "text": PLAIN}},
    ids.CREATE_BUTTON: {},
    ids.PROVISION_RESUME_ACTION: {"value": json.dumps({"id": "prov_unknown", "target": "matillion"})},
    ids.ASSIST_CHOICE_ACTION: {"value": "/projects list phoenix"},
    f"{ids.ASSIST_CHOICE_ACTION}_1": {"value": "/projects targets"},
    ids.ASSIST_FEEDBACK_ACTION: {"value": "good:1"},
}
#: Menus inside a modal.
VIEW_ACTIONS: dict[str, dict[str, Any]] = {
    ids.TARGET_ACTION: {"type": "static_select", "selected_option": {"value": "phoenix", "text": PLAIN}},
}
BASE_META = {"user": "U0ADMIN", "channel": "C0OPS", "team": "T0TEAM"}
#: Every modal: its callback id, private_metadata and submitted state values.
FORMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    ids.TYPED_CALLBACK: ({**BASE_META, "text": "delete phoenix rag-eval", "response_url": ""},
                         {ids.TYPED_BLOCK: {"value": "rag-eval"}}),
    ids.CREATE_CALLBACK: ({**BASE_META, "target": "phoenix", "kind": "phoenix"},
                          {"name": {"value": "fuzzed"}, "description": {"value": "made by a test"}}),
    ids.EDIT_PICK_CALLBACK: (BASE_META, {"pick_target": {ids.PICK_TARGET_ACTION: {
        "type": "external_select", "selected_option": {"value": "t:phoenix", "text": PLAIN}}},
        "pick_project": {ids.PICK_PROJECT_ACTION: {
            "type": "external_select", "selected_option": {"value": "rag-eval", "text": PLAIN}}}}),
    ids.EDIT_CALLBACK: ({**BASE_META, "target": "phoenix", "kind": "phoenix", "project": "rag-eval",
                         "current": {"description": "old"}}, {"description": {"value": "new"}}),
    ids.PROVISION_CALLBACK: ({**BASE_META, "target": "matillion", "values": {}, "step": 1},
                             {"target": {"pick": {"type": "static_select",
                                                  "selected_option": {"value": "matillion", "text": PLAIN}}},
                              "name": {"value": "fuzzed"}}),
    ids.PROVISION_RESUME_CALLBACK: ({**BASE_META, "target": "matillion", "resume": "prov_unknown"},
                                    {"password": {"value": "hunter2"}}),
}
OPTIONS = (ids.PICK_TARGET_ACTION, ids.PICK_PROJECT_ACTION)
META_KEYS = ("user", "channel", "team", "target", "kind", "project", "current", "step", "values", "resume", "text",
             "response_url")


@pytest.fixture
def fuzz_bot(bot: Bot) -> Iterator[Bot]:
    """The rig's bot, with the per-channel message pacing off (it is tested elsewhere and only slows this)."""
    bot.project.services.pacer.interval = 0.0
    yield bot


@pytest.fixture
def logs() -> Iterator[Any]:
    with catching_logs() as catcher:
        yield catcher


# -- strategies ----------------------------------------------------------------------------------------------------

def changes(paths: list[tuple[Any, ...]], special: dict[tuple[Any, ...], st.SearchStrategy[Any]] | None = None,
            max_size: int = 4) -> st.SearchStrategy[dict[tuple[Any, ...], Any]]:
    """A few fields of a payload, each removed or set to a value of the wrong kind."""
    special = special or {}
    one = st.sampled_from(paths).flatmap(
        lambda p: st.tuples(st.just(p), special.get(p, st.one_of(st.just(DROP), junk))))
    return st.lists(one, min_size=1, max_size=max_size, unique_by=lambda c: c[0]).map(dict)


button_values = st.one_of(
    junk, texts, json_of(junk),
    json_of(st.fixed_dictionaries({"text": st.one_of(junk, texts), "user": st.sampled_from(["U0ADMIN", 7, None])})),
    json_of(st.fixed_dictionaries({"id": junk, "target": st.one_of(junk, st.just("matillion"))})),
    st.sampled_from(["null", "[]", "{}", '{"text": 123, "user": "U0ADMIN"}', "good:", "good:abc", ":1"]),
)
user_ids = st.one_of(st.sampled_from(["U0ADMIN", "U0VIEWER", "U0OPERATOR", "", "W0NOBODY"]), junk)
CLICK_PATHS: list[tuple[Any, ...]] = [
    ("actions", 0, "value"), ("actions", 0, "selected_option"), ("actions", 0, "selected_option", "value"),
    ("actions", 0, "block_id"), ("actions", 0, "action_ts"), ("actions", 0, "type"), ("actions", 0),
    ("actions",), ("user",), ("user", "id"), ("user", "username"), ("user", "team_id"), ("team",), ("team", "id"),
    ("enterprise",), ("channel",), ("channel", "id"), ("container",), ("container", "message_ts"),
    ("container", "channel_id"), ("container", "thread_ts"), ("message",), ("message", "blocks"),
    ("message", "text"), ("message", "ts"), ("message", "thread_ts"), ("view",), ("view", "private_metadata"),
    ("view", "state"), ("view", "id"), ("view", "hash"), ("state",), ("state", "values"), ("trigger_id",),
    ("response_url",),
]
CLICK_SPECIAL = {("actions", 0, "value"): button_values, ("actions", 0, "selected_option", "value"): button_values,
                 ("user", "id"): user_ids}

metadata_values = st.one_of(
    texts, json_of(junk),
    json_of(st.fixed_dictionaries({"user": st.sampled_from(["U0ADMIN", "U0VIEWER"])},
                                  optional={k: junk for k in META_KEYS if k != "user"})),
)
input_states = st.one_of(
    junk,
    st.fixed_dictionaries({"type": st.just("plain_text_input"), "value": st.one_of(junk, texts)}),
    st.fixed_dictionaries({"type": st.just("static_select"), "selected_option": junk}),
    st.fixed_dictionaries({"type": st.just("static_select"),
                           "selected_option": st.fixed_dictionaries({"value": st.one_of(junk, texts)})}),
)
state_values = st.one_of(junk, st.dictionaries(
    st.one_of(st.sampled_from(["name", "description", "target", "typed_name", "pick_target", "pick_project",
                               "password", "step", "repository"]), st.text(max_size=8)),
    st.one_of(junk, st.dictionaries(st.text(max_size=8), input_states, max_size=2)), max_size=4))
VIEW_PATHS: list[tuple[Any, ...]] = [
    ("view", "private_metadata"), ("view", "state"), ("view", "state", "values"), ("view", "id"), ("view", "hash"),
    ("view", "blocks"), ("view", "team_id"), ("view", "app_installed_team_id"), ("view", "root_view_id"),
    ("user",), ("user", "id"), ("team",), ("team", "id"), ("trigger_id",), ("response_urls",), ("enterprise",),
]
VIEW_SPECIAL = {("view", "private_metadata"): metadata_values, ("view", "state", "values"): state_values,
                ("user", "id"): user_ids}
OPTION_PATHS: list[tuple[Any, ...]] = [
    ("value",), ("block_id",), ("view",), ("view", "state", "values"), ("view", "private_metadata"), ("user",),
    ("user", "id"), ("team",), ("container",), ("channel",),
]
OPTION_SPECIAL = {("view", "private_metadata"): metadata_values, ("view", "state", "values"): state_values,
                  ("value",): st.one_of(texts, junk)}

COMMAND_WORDS = ["list", "show phoenix", "audit since", "audit last", "audit page", "audit", "audit export since",
                 "create phoenix", "delete phoenix", "table show polaris", "job list polaris", "help", "targets",
                 "whoami", "provision", "edit", "digest add", "update phoenix", "misunderstood", "list all",
                 "show polaris", "job show polaris", "connection list matillion", "workspaces terraform"]
command_texts = st.one_of(
    texts,
    st.tuples(st.sampled_from(COMMAND_WORDS), texts).map(" ".join),
    st.tuples(st.sampled_from(COMMAND_WORDS), st.sampled_from(['"', "'", "“", '"a b', "--x", "=", "\\"]), texts)
    .map(" ".join),
    st.sampled_from(["audit since 99999999d", "audit since 999999999w", "audit until 0001-01-01", "audit last 0",
                     "audit page 99999999999999999999", "list phoenix page 999999999999", "show phoenix payload"]),
)
COMMAND_FIELDS = ["user_id", "channel_id", "team_id", "response_url", "trigger_id", "user_name", "channel_name",
                  "command", "team_domain", "api_app_id", "is_enterprise_install", "enterprise_id"]

EVENT_PATHS: list[tuple[Any, ...]] = [
    ("event", "text"), ("event", "user"), ("event", "channel"), ("event", "ts"), ("event", "thread_ts"),
    ("event", "channel_type"), ("event", "tab"), ("event", "bot_id"), ("event", "subtype"), ("event", "team"),
    ("event", "user_team"), ("event", "blocks"), ("event", "files"), ("event", "view"), ("event",), ("team_id",),
    ("authorizations",), ("is_ext_shared_channel",), ("enterprise_id",), ("api_app_id",), ("event_time",),
]
EVENT_SPECIAL = {("event", "text"): st.one_of(texts, junk, command_texts.map(lambda t: f"<@U0BOT> {t}")),
                 ("event", "user"): user_ids}


# -- requests of each kind -----------------------------------------------------------------------------------------

def click(bot: Bot, action_id: str) -> dict[str, Any]:
    """The block_actions payload of a click on `action_id`, as Slack sends it."""
    if action_id in VIEW_ACTIONS:
        meta, _ = FORMS[ids.CREATE_CALLBACK]
        view = {"callback_id": ids.CREATE_CALLBACK, "private_metadata": json.dumps(meta), "blocks": []}
        signed = bot.requests.block_actions([{"action_id": action_id, **VIEW_ACTIONS[action_id]}], view=view)
    else:
        action = {"action_id": action_id, **MESSAGE_ACTIONS[action_id]}
        if action_id in (ids.CONFIRM_ACTION, ids.CANCEL_ACTION):  # a real confirmation, so the click goes deep
            action["value"] = bot.store.confirmations.create(
                command="delete phoenix rag-eval", requester="U0ADMIN", team="T0TEAM", channel="C0OPS",
                surface="command").id
        message = {"text": "a result", "blocks": [{"type": "section", "block_id": "b1", "text": PLAIN}]}
        signed = bot.requests.block_actions([action], message=message)
    return signed.payload


def submission(bot: Bot, callback_id: str) -> dict[str, Any]:
    meta, values = FORMS[callback_id]
    blocks = [{"type": "input", "block_id": block, "label": PLAIN,
               "element": {"type": "plain_text_input", "action_id": next(iter(actions))}}
              for block, actions in values.items()]
    view = {"callback_id": callback_id, "private_metadata": json.dumps(meta), "blocks": blocks}
    return bot.requests.view_submission(view, values=values).payload


def suggestion(bot: Bot, action_id: str) -> dict[str, Any]:
    meta, values = FORMS[ids.EDIT_PICK_CALLBACK]
    view = {"callback_id": ids.EDIT_PICK_CALLBACK, "private_metadata": json.dumps(meta), "blocks": []}
    signed = bot.requests.block_suggestion(action_id, "pick_project", "rag", view=view)
    payload = signed.payload
    payload["view"]["state"] = {"values": values}
    return payload


def command_fields(bot: Bot, text: str) -> dict[str, str]:
    return dict(bot.requests.slash_command(text).payload)


EVENTS = {
    "app_mention": lambda b: b.requests.event_callback(
        {"type": "app_mention", "user": "U0ADMIN", "text": "<@U0BOT> help", "channel": "C0OPS",
         "ts": "1700000000.000100"}),
    "message.im": lambda b: b.requests.dm_message("help"),
    "app_home_opened.home": lambda b: b.requests.app_home_opened(tab="home"),
    "app_home_opened.messages": lambda b: b.requests.app_home_opened(tab="messages"),
}


# -- every listener is reached -----------------------------------------------------------------------------------

def every_base_request(bot: Bot) -> list[Any]:
    signed = [interaction(bot.requests, click(bot, a)) for a in [*MESSAGE_ACTIONS, *VIEW_ACTIONS]]
    signed += [interaction(bot.requests, submission(bot, c)) for c in FORMS]
    signed += [interaction(bot.requests, suggestion(bot, a)) for a in OPTIONS]
    signed += [bot.requests.slash_command("help")]
    signed += [make(bot) for make in EVENTS.values()]
    return signed


def test_the_generated_requests_reach_every_registered_listener(bot: Bot) -> None:
    """Every listener on the Bolt app matches at least one kind of request generated here, so a listener added
    later without its generator fails this test rather than going unfuzzed."""
    requests = [AsyncBoltRequest(body=s.body.decode(), headers=dict(s.headers)) for s in every_base_request(bot)]

    async def unmatched() -> list[str]:
        missing = []
        for listener in bot.project.bolt._async_listeners:
            hits = [await listener.async_matches(req=r, resp=BoltResponse(status=200)) for r in requests]
            if not any(hits):
                missing.append(getattr(listener.ack_function, "__name__", repr(listener)))
        return missing

    assert bot.on_app_loop(unmatched()) == []
    declared = {v for k, v in vars(ids).items() if k.endswith(("_ACTION", "_CALLBACK", "_BUTTON"))
                and isinstance(v, str)}
    assert declared <= {*MESSAGE_ACTIONS, *VIEW_ACTIONS, *FORMS, *OPTIONS}


# -- generated -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("action_id", [*MESSAGE_ACTIONS, *VIEW_ACTIONS])
@FUZZ
@given(data=st.data())
def test_clicks_with_broken_fields(fuzz_bot: Bot, logs: Any, action_id: str, data: st.DataObject) -> None:
    payload = mutate(click(fuzz_bot, action_id), data.draw(changes(CLICK_PATHS, CLICK_SPECIAL), label="changes"))
    assert_answered_well(exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs), payload)


@pytest.mark.parametrize("callback_id", list(FORMS))
@FUZZ
@given(data=st.data())
def test_form_submissions_with_broken_fields(fuzz_bot: Bot, logs: Any, callback_id: str,
                                             data: st.DataObject) -> None:
    payload = mutate(submission(fuzz_bot, callback_id), data.draw(changes(VIEW_PATHS, VIEW_SPECIAL), label="changes"))
    assert_answered_well(exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs), payload)


@pytest.mark.parametrize("action_id", OPTIONS)
@FUZZ
@given(data=st.data())
def test_option_requests_with_broken_fields(fuzz_bot: Bot, logs: Any, action_id: str, data: st.DataObject) -> None:
    payload = mutate(suggestion(fuzz_bot, action_id), data.draw(changes(OPTION_PATHS, OPTION_SPECIAL),
                                                                label="changes"))
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    if outcome.status == 200:  # an options answer is always a list, even when nothing can be offered
        assert isinstance(json.loads(outcome.body).get("options"), list), outcome.body


@settings(FUZZ, max_examples=EXAMPLES * 3)
@given(text=command_texts, dropped=st.lists(st.sampled_from(COMMAND_FIELDS), max_size=3, unique=True),
       odd=st.dictionaries(st.sampled_from(COMMAND_FIELDS), texts, max_size=2))
def test_slash_commands_with_any_text(fuzz_bot: Bot, logs: Any, text: str, dropped: list[str],
                                      odd: dict[str, str]) -> None:
    fields = {**command_fields(fuzz_bot, text), **odd}
    for name in dropped:
        fields.pop(name, None)
    outcome = exchange(fuzz_bot, form(fuzz_bot.requests, fields), logs)
    assert_answered_well(outcome, fields)


@pytest.mark.parametrize("kind", list(EVENTS))
@FUZZ
@given(data=st.data())
def test_events_with_odd_fields(fuzz_bot: Bot, logs: Any, kind: str, data: st.DataObject) -> None:
    body = mutate(EVENTS[kind](fuzz_bot).payload, data.draw(changes(EVENT_PATHS, EVENT_SPECIAL), label="changes"))
    outcome = exchange(fuzz_bot, event(fuzz_bot.requests, body), logs)
    assert_answered_well(outcome, body)


# -- the cases, one by one ---------------------------------------------------------------------------------

def reply_of(outcome: Outcome) -> str:
    """What the person was told: every response_url post and ephemeral message the request caused."""
    said = [c.params for c in outcome.posted("response_url", "chat.postEphemeral")]
    return "\n".join(message_text(p) for p in said)


def audited(bot: Bot, operation: str) -> list[dict[str, Any]]:
    return [r for r in bot.audit.query(AuditQuery(limit=200)) if r["operation"] == operation]


BROKEN_BUTTON = re.compile(r"broken|out of date", re.IGNORECASE)


@pytest.mark.parametrize("value", ['{"text": 123, "user": "U0ADMIN"}', "null", "[]", '{"user": "U0ADMIN"}',
                                   "not json", "x" * 5000, ""])
@pytest.mark.parametrize("action_id", [ids.CONFIRM_ACTION, ids.CANCEL_ACTION])
def test_a_broken_confirm_or_cancel_value_is_answered_and_audited(fuzz_bot: Bot, logs: Any, action_id: str,
                                                                  value: str) -> None:
    payload = mutate(click(fuzz_bot, action_id), {("actions", 0, "value"): value})
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    assert outcome.status == 200
    assert BROKEN_BUTTON.search(reply_of(outcome)), reply_of(outcome)
    assert [r["user"] for r in audited(fuzz_bot, "button.broken")] == ["U0ADMIN"]


@pytest.mark.parametrize("value", [7, 1.5, True, {"id": "x"}, ["x"]])
@pytest.mark.parametrize("action_id", [ids.CONFIRM_ACTION, ids.APPROVE_ACTION, ids.REJECT_ACTION,
                                       ids.PROVISION_RESUME_ACTION])
def test_a_button_value_that_is_not_a_string_is_refused(fuzz_bot: Bot, logs: Any, action_id: str,
                                                        value: Any) -> None:
    """Slack sends a button's value as a string: anything else was not sent by Slack (400, nothing runs)."""
    payload = mutate(click(fuzz_bot, action_id), {("actions", 0, "value"): value})
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    assert outcome.status == 400 and outcome.calls == []


@pytest.mark.parametrize("action_id", [ids.APPROVE_ACTION, ids.REJECT_ACTION])
@pytest.mark.parametrize("value", ["apr_unknown", '{"id": "x"}', ""])
def test_approve_or_reject_of_no_known_request_is_answered_and_audited(fuzz_bot: Bot, logs: Any, action_id: str,
                                                                       value: str) -> None:
    payload = mutate(click(fuzz_bot, action_id), {("actions", 0, "value"): value})
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    assert "no record of that request" in reply_of(outcome)
    assert [r["outcome"] for r in audited(fuzz_bot, "approval.decide")] == ["refused"]


def test_a_row_menu_without_a_value_is_refused(fuzz_bot: Bot, logs: Any) -> None:
    payload = mutate(click(fuzz_bot, ids.ROW_ACTION), {("actions", 0, "selected_option"): {"value": None}})
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    assert outcome.status == 400


@pytest.mark.parametrize("blocks", ["x", [1, "x"], None])
def test_sharing_a_message_whose_blocks_are_broken(fuzz_bot: Bot, logs: Any, blocks: Any) -> None:
    payload = mutate(click(fuzz_bot, ids.SHARE_ACTION), {("message", "blocks"): blocks})
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    if outcome.status == 200:  # null blocks: a message with nothing in it
        assert "nothing to share" in reply_of(outcome) and not outcome.posted("chat.postMessage")
    else:
        assert outcome.status == 400


@pytest.mark.parametrize("metadata", ["not json", "[]", '"text"', "null", json.dumps({**BASE_META, "user": 7}),
                                      json.dumps({**BASE_META, "step": "two", "values": [], "current": "x",
                                                  "target": ["phoenix"], "kind": {}, "text": 5, "resume": 1})])
@pytest.mark.parametrize("callback_id", list(FORMS))
def test_a_form_whose_metadata_is_broken_says_so(fuzz_bot: Bot, logs: Any, callback_id: str, metadata: str) -> None:
    payload = mutate(submission(fuzz_bot, callback_id), {("view", "private_metadata"): metadata})
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    assert outcome.status == 200
    ack = json.loads(outcome.body)
    shown = " ".join(ack.get("errors", {}).values()) if ack.get("response_action") == "errors" else \
        message_text(ack.get("view") or {})
    assert BROKEN_BUTTON.search(shown), ack
    assert [r["user"] for r in audited(fuzz_bot, "form.broken")] == ["U0ADMIN"]


@pytest.mark.parametrize("value", ["[]", "{}", '{"id": 5, "target": "matillion"}', "x"])
def test_a_broken_resume_button_is_answered_and_audited(fuzz_bot: Bot, logs: Any, value: str) -> None:
    payload = mutate(click(fuzz_bot, ids.PROVISION_RESUME_ACTION), {("actions", 0, "value"): value})
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    assert BROKEN_BUTTON.search(reply_of(outcome)), reply_of(outcome)
    assert not outcome.posted("views.open")
    assert [r["user"] for r in audited(fuzz_bot, "button.broken")] == ["U0ADMIN"]


@pytest.mark.parametrize("user", ["U0ADMIN", 7, None, ["U0ADMIN"], {"name": "admin"}])
@pytest.mark.parametrize("action_id", [ids.CONFIRM_ACTION, ids.SHARE_ACTION, ids.APPROVE_ACTION])
def test_a_click_whose_user_is_not_an_object_is_refused(fuzz_bot: Bot, logs: Any, action_id: str,
                                                        user: Any) -> None:
    payload = mutate(click(fuzz_bot, action_id), {("user",): user})
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    assert outcome.status == 400 and outcome.calls == []


@pytest.mark.parametrize("action_id", [ids.CONFIRM_ACTION, ids.SHARE_ACTION, ids.PAGE_ACTION,
                                       ids.ASSIST_FEEDBACK_ACTION])
def test_a_click_without_a_response_url_is_answered_in_the_channel(fuzz_bot: Bot, logs: Any, action_id: str) -> None:
    payload = mutate(click(fuzz_bot, action_id), {("response_url",): DROP, ("actions", 0, "value"): "{broken"})
    outcome = exchange(fuzz_bot, interaction(fuzz_bot.requests, payload), logs)
    assert_answered_well(outcome, payload)
    assert outcome.posted("chat.postEphemeral", "chat.postMessage"), [c.method for c in outcome.calls]


@pytest.mark.parametrize("text", ["audit since 99999999d", "audit since 999999999999w", "audit until 99999999h",
                                  "audit since 0001-01-01T00:00:00+14:00"])
def test_an_audit_window_out_of_range_gets_a_usage_message(fuzz_bot: Bot, logs: Any, text: str) -> None:
    outcome = exchange(fuzz_bot, fuzz_bot.requests.slash_command(text), logs)
    assert_answered_well(outcome, text)
    assert outcome.status == 200
    said = message_text(json.loads(outcome.body)) if outcome.body else reply_of(outcome)
    assert "time" in said and "audit" in said, said


def test_a_slash_command_mentioning_payload_is_not_dropped(fuzz_bot: Bot, logs: Any) -> None:
    """Bolt reads any form body with "payload" in it as an interactivity payload; projectops reads it again."""
    outcome = exchange(fuzz_bot, fuzz_bot.requests.slash_command("show phoenix payload-svc"), logs)
    assert_answered_well(outcome, "show phoenix payload-svc")
    assert outcome.status == 200
    assert "payload-svc" in reply_of(outcome)


PINGS_TYPED = ["<!everyone>", "<!channel>", "<!here>", "<!here|here>", "`<!channel>`", "*<!everyone>*"]
ping_texts = st.tuples(st.sampled_from(COMMAND_WORDS), st.sampled_from(PINGS_TYPED), texts).map(" ".join)


@settings(FUZZ, max_examples=EXAMPLES * 2)
@given(text=ping_texts)
def test_no_ping_typed_by_a_person_reaches_slack(fuzz_bot: Bot, logs: Any, text: str) -> None:
    """Item 7: whatever a command carries, no Slack call projectops makes holds an unescaped `<!everyone>`,
    `<!channel>` or `<!here>` (the text is echoed escaped, by construction: bot/ui/mrkdwn.py)."""
    outcome = exchange(fuzz_bot, fuzz_bot.requests.slash_command(text), logs)
    assert_answered_well(outcome, text)
    no_pings(outcome, text)
    assert not PINGS.search(outcome.body), outcome.body[:500]
