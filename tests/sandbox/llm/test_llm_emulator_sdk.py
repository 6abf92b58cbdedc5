"""The model emulator driven by the official `openai` SDK over real HTTP (serve_in_thread)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
import loopback
import pytest
from model_emulator import faults, model_emulator_fixtures, recorded, script
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.llm import ECHO, NO_FITTING_TOOL, RESULTS_PREFIX, TOOL_NOT_AVAILABLE, create_app
from sandbox.serving import free_port, serve_in_thread

# The SDK takes about a second to import: the tests import it where they use it, so that only the pytest-xdist
# worker that runs this file pays for it, not every worker that collects the suite.
if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import (
        ChatCompletionFunctionToolParam,
        ChatCompletionMessageFunctionToolCallParam,
        ChatCompletionMessageParam,
        ChatCompletionUserMessageParam,
    )

API_KEY = "sk-emulator-test-key-0123456789"
MODEL = "gpt-4o-mini"
SECRET = "hunter2-do-not-send"
ROOT = Path(__file__).resolve().parents[3]

TOOLS: list[ChatCompletionFunctionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "project_list",
            "description": "List the projects of a back end",
            "parameters": {
                "type": "object",
                "properties": {"kind": {"type": "string", "enum": ["polaris", "phoenix", "terraform"]}},
                "required": ["kind"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "project_pause",
            "description": "Pause a running project",
            "parameters": {
                "type": "object",
                "properties": {"project": {"type": "string"}, "target": {"type": "string"}},
                "required": ["project"],
            },
        },
    },
]


server, url = model_emulator_fixtures(API_KEY)


@pytest.fixture
async def client(url: str) -> AsyncIterator[AsyncOpenAI]:
    from openai import AsyncOpenAI

    async with AsyncOpenAI(base_url=f"{url}/v1", api_key=API_KEY, max_retries=0, timeout=10) as sdk:
        yield sdk


def user(text: str) -> ChatCompletionUserMessageParam:
    return {"role": "user", "content": text}


async def test_models(client: AsyncOpenAI) -> None:
    import openai

    models = [m.id async for m in client.models.list()]
    assert MODEL in models
    assert (await client.models.retrieve(MODEL)).id == MODEL
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("no-such-model")


async def test_scripted_text_answer(client: AsyncOpenAI, url: str) -> None:
    script(url, {"content": "Clickstream is running."})
    done = await client.chat.completions.create(model=MODEL, messages=[user("is clickstream running?")])
    assert done.object == "chat.completion" and done.model == MODEL and done.id.startswith("chatcmpl-")
    assert done.created == pytest.approx(time.time(), abs=60)
    choice = done.choices[0]
    assert choice.message.content == "Clickstream is running." and choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert done.usage is not None and done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    # The answer was used up: the next request gets the default echo.
    again = await client.chat.completions.create(model=MODEL, messages=[user("hello")])
    assert again.choices[0].message.content == ECHO + "hello"


async def test_tool_call_round_trip(client: AsyncOpenAI, url: str) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You run projects."},
        user("pls pause clickstream thx"),
    ]
    first = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "project_pause"
    assert json.loads(call.function.arguments) == {"project": "clickstream"}

    messages += [
        cast("ChatCompletionMessageParam", choice.message.model_dump(exclude_none=True)),
        {"role": "tool", "tool_call_id": call.id, "content": "clickstream is pausing"},
    ]
    second = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == f"{RESULTS_PREFIX}\nproject_pause: clickstream is pausing"


async def test_scripted_tool_call_matched_by_regex(client: AsyncOpenAI, url: str) -> None:
    script(
        url,
        {"match": "(?i)how many", "content": "There are 6."},
        {"match": "(?i)list", "tool_call": {"name": "project_list", "arguments": {"kind": "phoenix"}}},
    )
    listed = await client.chat.completions.create(model=MODEL, messages=[user("List Arize ones")], tools=TOOLS)
    (call,) = listed.choices[0].message.tool_calls or []
    assert call.type == "function"
    assert (call.function.name, call.function.arguments) == ("project_list", '{"kind":"phoenix"}')
    counted = await client.chat.completions.create(model=MODEL, messages=[user("how many are there")], tools=TOOLS)
    assert counted.choices[0].message.content == "There are 6."
    assert loopback.get(f"{url}/_script").json() == {"script": []}


async def test_tool_not_offered_is_not_called(client: AsyncOpenAI, url: str) -> None:
    script(url, {"tool_call": {"name": "project_delete", "arguments": {"project": "clickstream"}}})
    done = await client.chat.completions.create(model=MODEL, messages=[user("delete clickstream")], tools=TOOLS)
    assert done.choices[0].message.tool_calls is None and done.choices[0].finish_reason == "stop"
    assert done.choices[0].message.content == TOOL_NOT_AVAILABLE.format(name="project_delete")
    # Offered but switched off by tool_choice "none": not called either.
    script(url, {"tool_call": {"name": "project_pause", "arguments": {"project": "x"}}})
    off = await client.chat.completions.create(model=MODEL, messages=[user("pause x")], tools=TOOLS, tool_choice="none")
    assert off.choices[0].message.content == TOOL_NOT_AVAILABLE.format(name="project_pause")


async def test_default_tool_choice_rules(client: AsyncOpenAI) -> None:
    nothing = await client.chat.completions.create(model=MODEL, messages=[user("tell me a joke")], tools=TOOLS)
    assert nothing.choices[0].message.content == NO_FITTING_TOOL
    forced = await client.chat.completions.create(
        model=MODEL,
        messages=[user("tell me a joke about phoenix")],
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "project_list"}},
    )
    (call,) = forced.choices[0].message.tool_calls or []
    assert call.type == "function"
    assert call.function.name == "project_list" and json.loads(call.function.arguments) == {"kind": "phoenix"}


async def test_refusal(client: AsyncOpenAI, url: str) -> None:
    script(url, {"refusal": "I can't help with that."})
    done = await client.chat.completions.create(model=MODEL, messages=[user("delete everything")])
    message = done.choices[0].message
    assert message.refusal == "I can't help with that." and message.content is None


async def test_auth(url: str) -> None:
    import openai

    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="sk-wrong-key-000000", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as caught:
            await wrong.chat.completions.create(model=MODEL, messages=[user("hi")])
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
    assert "sk-wrong-key-000000" not in caught.value.message
    missing = loopback.post(f"{url}/v1/chat/completions", json={"model": MODEL, "messages": [user("hi")]})
    assert missing.status_code == 401
    error = missing.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and "didn't provide an API key" in error["message"]
    assert loopback.get(f"{url}/v1/models").status_code == 401


async def test_rate_limit_with_retry_after(client: AsyncOpenAI, url: str) -> None:
    import openai

    faults(url, {"status": 429, "count": 1, "retry_after": 0.2})
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model=MODEL, messages=[user("hi")])
    assert caught.value.response.headers["retry-after"] == "0.2"
    assert caught.value.code == "rate_limit_exceeded"
    assert (await client.chat.completions.create(model=MODEL, messages=[user("hi")])).choices


async def test_sdk_retries_after_429_and_503(url: str) -> None:
    from openai import AsyncOpenAI

    faults(url, {"status": 429, "count": 1, "retry_after": 0.3})
    faults(url, {"status": 503, "count": 1, "retry_after": 0.1})
    async with AsyncOpenAI(base_url=f"{url}/v1", api_key=API_KEY, max_retries=2) as retrying:
        started = time.monotonic()
        done = await retrying.chat.completions.create(model=MODEL, messages=[user("hi")])
        waited = time.monotonic() - started
    assert done.choices[0].message.content == ECHO + "hi"
    assert waited >= 0.4  # it honoured both Retry-After values
    assert len(recorded(url)) == 3


async def test_latency_fault_and_client_timeout(url: str) -> None:
    import openai

    faults(url, {"latency_ms": 1500})
    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=API_KEY, max_retries=0, timeout=0.3) as impatient:
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            await impatient.chat.completions.create(model=MODEL, messages=[user("hi")])
        assert time.monotonic() - started < 1.2
        # the emulator still answers the abandoned request when its 1.5 s are up: let it, before the next test
        # scripts an answer that request would take
        await asyncio.sleep(max(0.0, started + 1.7 - time.monotonic()))
    loopback.delete(f"{url}/_faults").raise_for_status()
    assert loopback.get(f"{url}/_faults").json() == {"latency_ms": 0.0, "faults": []}


async def test_malformed_body_and_dropped_connection(client: AsyncOpenAI, url: str) -> None:
    import openai

    faults(url, {"malformed": True, "count": 1})
    with pytest.raises(json.JSONDecodeError):
        await client.chat.completions.create(model=MODEL, messages=[user("hi")])
    faults(url, {"drop": True, "count": 1})
    with pytest.raises(openai.APIConnectionError):
        await client.chat.completions.create(model=MODEL, messages=[user("hi")])
    assert (await client.chat.completions.create(model=MODEL, messages=[user("hi")])).choices


async def test_invalid_tool_message_is_400(client: AsyncOpenAI) -> None:
    import openai

    orphan: list[ChatCompletionMessageParam] = [
        user("hi"),
        {"role": "tool", "tool_call_id": "call_nope", "content": "x"},
    ]
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=orphan)
    assert caught.value.param == "messages.[1].role" and "must be a response" in caught.value.message
    assert caught.value.body is not None and caught.value.type == "invalid_request_error"

    call: ChatCompletionMessageFunctionToolCallParam = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "project_list", "arguments": "{}"},
    }
    unanswered: list[ChatCompletionMessageParam] = [
        user("hi"),
        {"role": "assistant", "tool_calls": [call]},
        user("and?"),
    ]
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=unanswered, tools=TOOLS)
    assert caught.value.param == "messages.[1].role" and "call_1" in caught.value.message


def _tool(**function: Any) -> dict[str, Any]:
    return {"type": "function", "function": function}


@pytest.mark.parametrize(
    ("change", "param", "code"),
    [
        ({"tools": [_tool(name="has space")]}, "tools[0].function.name", "invalid_value"),
        ({"tools": [_tool(name="x" * 65)]}, "tools[0].function.name", "string_above_max_length"),
        ({"tools": [_tool()]}, "tools[0].function.name", "missing_required_parameter"),
        ({"tool_choice": "auto"}, "tool_choice", None),
        ({"tools": TOOLS, "tool_choice": "sometimes"}, "tool_choice", "invalid_value"),
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}},
         "tool_choice.function.name", "invalid_value"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "invalid_value"),
        ({"messages": []}, "messages", "empty_array"),
        ({"messages": [{"role": "user"}]}, "messages[0].content", "missing_required_parameter"),
        ({"temperature": 3}, "temperature", "decimal_above_max_value"),
        ({"stream_options": {"include_usage": True}}, "stream_options", None),
        ({"frobnicate": True}, None, None),
    ],
)  # fmt: skip
async def test_request_validation(
    client: AsyncOpenAI, change: dict[str, Any], param: str | None, code: str | None
) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=[user("hi")], extra_body=change)
    error = caught.value.response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")


async def test_unknown_model_and_bad_json(client: AsyncOpenAI, url: str) -> None:
    import openai

    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="gpt-9", messages=[user("hi")])
    assert caught.value.code == "model_not_found"
    bad = loopback.post(
        f"{url}/v1/chat/completions",
        content=b"{not json",
        headers={"authorization": f"Bearer {API_KEY}", "content-type": "application/json"},
    )
    assert bad.status_code == 400 and "could not parse the JSON body" in bad.json()["error"]["message"]


async def test_recording(client: AsyncOpenAI, url: str) -> None:
    await client.chat.completions.create(
        model=MODEL, messages=[user("pause clickstream")], tools=TOOLS, tool_choice="auto"
    )
    (request,) = recorded(url)
    assert request["method"] == "POST" and request["path"] == "/v1/chat/completions"
    assert [t["function"]["name"] for t in request["body"]["tools"]] == ["project_list", "project_pause"]
    assert "authorization" not in request["headers"]
    assert SECRET not in json.dumps(request) and API_KEY not in json.dumps(request)
    loopback.delete(f"{url}/_requests").raise_for_status()
    assert recorded(url) == []


async def test_streaming_text_and_tool_calls(client: AsyncOpenAI, url: str) -> None:
    script(url, {"content": "Two jobs are failing."})
    stream = await client.chat.completions.create(
        model=MODEL, messages=[user("which jobs are failing?")], stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Two jobs are failing."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None

    async with client.chat.completions.stream(
        model=MODEL, messages=[user("pause 'clickstream'")], tools=TOOLS
    ) as helper:
        final = await helper.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert call.function.name == "project_pause" and json.loads(call.function.arguments) == {"project": "clickstream"}
    assert final.choices[0].finish_reason == "tool_calls"


async def test_mounted_under_a_prefix() -> None:
    from openai import AsyncOpenAI

    handle = serve_in_thread(Starlette(routes=[Mount("/llm", app=create_app())]))
    try:
        async with AsyncOpenAI(base_url=f"{handle.url}/llm/v1", api_key="ignored", max_retries=0) as sdk:
            loopback.post(f"{handle.url}/llm/_script", json={"content": "mounted"}).raise_for_status()
            done = await sdk.chat.completions.create(model=MODEL, messages=[user("hi")])
        assert done.choices[0].message.content == "mounted"
        assert [r["path"] for r in loopback.get(f"{handle.url}/llm/_requests").json()["requests"]] == [
            "/v1/chat/completions"
        ]
    finally:
        handle.stop()


def test_module_entry_point_serves() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.llm", "--port", str(port), "--api-key", "demo", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                models = loopback.get(f"http://127.0.0.1:{port}/v1/models", headers={"authorization": "Bearer demo"})
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "emulator did not start"
                time.sleep(0.1)
        assert models.status_code == 200 and models.json()["object"] == "list"
    finally:
        process.terminate()
        process.wait(timeout=10)
