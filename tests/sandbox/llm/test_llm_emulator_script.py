"""The model emulator's pure parts: script parsing and matching, tool choice, argument inference."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel
from starlette.testclient import TestClient

from sandbox.llm import create_app, infer_arguments
from sandbox.llm.errors import ApiError
from sandbox.llm.script import Script, best_tool, parse_script
from sandbox.llm.validation import Tool, validate_chat_request


class PauseParams(BaseModel):
    project: str
    target: Literal["polaris", "phoenix"] | None = None
    wait_seconds: int = 30


def _said(script: Script, text: str) -> str | None:
    answer = script.take(text)
    return answer.content if answer else None


def test_script_fifo_regex_and_times() -> None:
    script = Script()
    script.add(parse_script({"answers": [{"match": "^pause", "content": "P", "times": 2}, {"text": "F"}]}))
    assert _said(script, "list things") == "F"  # the regex answer waits for its message
    assert _said(script, "pause x") == "P"
    assert _said(script, "pause y") == "P"
    assert script.take("pause z") is None
    script.add(parse_script([{"content": "always", "times": -1}]))
    assert [_said(script, "a"), _said(script, "b")] == ["always", "always"]
    assert script.pending() == [{"match": None, "times": -1, "content": "always"}]


@pytest.mark.parametrize(
    "bad",
    [
        {"content": "a", "refusal": "b"},
        {},
        {"content": 3},
        {"tool_call": {"arguments": {}}},
        {"tool_calls": []},
        {"content": "a", "match": "("},
        {"content": "a", "times": 0},
        {"content": "a", "colour": "red"},
    ],
)
def test_script_rejects_bad_answers(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        parse_script(bad)


def test_script_tool_call_arguments() -> None:
    (as_object, as_text) = parse_script(
        [
            {"tool_call": {"name": "a", "arguments": {"x": 1, "y": "z"}}},
            {"tool_call": {"name": "a", "arguments": '{"x": oops'}, "times": 1},
        ]
    )
    assert as_object.answer.tool_calls[0].arguments == '{"x":1,"y":"z"}'
    assert as_text.answer.tool_calls[0].arguments == '{"x": oops'
    assert as_object.answer.finish_reason == "tool_calls"


def test_best_tool_prefers_name_words() -> None:
    tools = [
        Tool("job_list", "List the ingestion jobs of a project"),
        Tool("project_list", "List projects"),
        Tool("project_pause", "Pause a project"),
    ]
    assert best_tool("which jobs are failing?", tools) is tools[0]
    assert best_tool("show me all projects", tools) is tools[1]
    assert best_tool("pause clickstream", tools) is tools[2]
    assert best_tool("tell me a joke", tools) is None


def test_infer_arguments_from_a_strict_pydantic_tool() -> None:
    import openai  # here, not at the top: it takes about a second to import, and every xdist worker collects this file

    schema = openai.pydantic_function_tool(PauseParams, name="project_pause")["function"]["parameters"]
    assert infer_arguments(schema, "pls pause clickstream thx") == {
        "project": "clickstream",
        "target": None,
        "wait_seconds": 30,
    }
    assert infer_arguments(schema, "pause “click stream” on Phoenix")["target"] == "phoenix"


def test_infer_arguments_rules() -> None:
    schema = {
        "type": "object",
        "$defs": {"Kind": {"type": "string", "enum": ["polaris", "terraform"]}},
        "properties": {
            "name": {"type": "string"},
            "table": {"type": "string"},
            "kind": {"$ref": "#/$defs/Kind"},
            "limit": {"type": "integer", "minimum": 1},
            "ratio": {"type": "number"},
            "force": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "options": {"type": "object", "properties": {"region": {"type": "string"}}, "required": ["region"]},
            "note": {"type": ["string", "null"]},
            "unused": {"type": "string"},
        },
        "required": ["name", "table", "kind", "limit", "ratio", "force", "tags", "options", "note"],
    }
    got = infer_arguments(schema, "show 'orders' of \"web events\" in terraform, top 5 at 0.5 in us-east-1 please")
    assert got == {
        "name": "orders",
        "table": "web events",
        "kind": "terraform",
        "limit": 5,
        "ratio": 0.5,
        "force": False,
        "tags": [],
        "options": {"region": "us-east-1"},
        "note": None,
    }
    at_least_one = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}
    assert infer_arguments(at_least_one, "x") == {"n": 1}
    assert infer_arguments({}, "anything") == {}


def test_validation_accepts_a_full_tool_conversation() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "project_list", "arguments": "{}"}}
    body = {
        "model": "m",
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": "list"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "[]"},
            {"role": "user", "content": "thanks"},
        ],
        "tools": [{"type": "function", "function": {"name": "project_list"}}],
        "tool_choice": "required",
        "temperature": 0,
        "n": 2,
    }
    request = validate_chat_request(body, ["m"])
    assert request.last_user_text() == "thanks" and request.n == 2 and request.tool_results() == []
    with pytest.raises(ApiError) as caught:
        validate_chat_request({**body, "model": "other"}, ["m"])
    assert caught.value.status == 404 and caught.value.code == "model_not_found"


def test_control_endpoints_reject_bad_input() -> None:
    with TestClient(create_app()) as http:
        assert http.post("/_script", content=b"{oops").status_code == 400
        assert http.post("/_script", json={"content": 1}).status_code == 400
        assert http.post("/_faults", json={"status": 200}).status_code == 400
        assert http.post("/_faults", json={"status": 429, "drop": True}).status_code == 400
        assert http.post("/_faults", json={}).status_code == 400
        assert http.post("/_faults", json={"status": 500, "count": -1, "path": "/v1/models"}).json() == {
            "latency_ms": 0.0,
            "faults": [{"count": -1, "status": 500, "path": "/v1/models"}],
        }
        assert http.get("/v1/models").status_code == 500
        assert http.get("/v1/models").json()["error"]["type"] == "server_error"
        assert http.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []}).status_code == 400
        assert http.get("/healthz").status_code == 200  # outside the fault's path prefix
