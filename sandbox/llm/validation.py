"""Validation of a `POST /v1/chat/completions` body, with the real API's error answers.

Checked, in this order: the body is a JSON object; no unknown top-level parameter; `model`
present (unknown model -> 404 `model_not_found`); `messages` a non-empty array whose items have a
known role and the content that role needs; assistant `tool_calls` well formed; every `tool`
message answers a `tool_call_id` of the assistant message right before its run of tool
messages, and every such id is answered; `tools` well formed (names match `^[a-zA-Z0-9_-]+$`, at
most 64 characters); `tool_choice` one of `none|auto|required` or a function that is in
`tools`; `stream`, `stream_options`, `n`, `temperature`, `top_p`, `max_tokens`,
`max_completion_tokens` of the right type and range. Everything else is accepted as is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sandbox.llm.errors import ApiError, bad_request, invalid_type, invalid_value, missing

ROLES = ("system", "developer", "user", "assistant", "tool")
TOOL_CHOICES = ("none", "auto", "required")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
TOOL_NAME_MAX = 64
MAX_N = 128

# Every body parameter of the chat-completions reference (and of the official SDK's `create`).
KNOWN_PARAMS = frozenset(
    {
        "messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias",
        "logprobs", "max_completion_tokens", "max_tokens", "metadata", "modalities", "moderation", "n",
        "parallel_tool_calls", "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_options",
        "prompt_cache_retention", "reasoning_effort", "response_format", "safety_identifier", "seed",
        "service_tier", "stop", "store", "stream", "stream_options", "temperature", "tool_choice", "tools",
        "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
    }
)  # fmt: skip

NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
    "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
    "have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)"
)
TOOL_WITHOUT_CALL = (
    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
)
UNANSWERED_CALLS = (
    "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
    "'tool_call_id'. The following tool_call_ids did not have response messages: {ids}"
)


@dataclass(frozen=True)
class Tool:
    """A function tool offered by the request."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat-completions request, reduced to what the emulator answers from."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[Tool]
    tool_choice: str  # "none" | "auto" | "required" | "function" (then `forced_tool` names it)
    forced_tool: str | None = None
    stream: bool = False
    include_usage: bool = False
    n: int = 1

    def last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message["role"] == "user":
                return message_text(message)
        return ""

    def callable_tools(self) -> list[Tool]:
        """The tools the model may call under `tool_choice` (none with "none", one when forced)."""
        if self.tool_choice == "none":
            return []
        if self.forced_tool is not None:
            return [t for t in self.tools if t.name == self.forced_tool]
        return list(self.tools)

    def tool_results(self) -> list[tuple[str, str]]:
        """(tool name, content) of the trailing run of tool messages, oldest first."""
        names: dict[str, str] = {}
        for message in self.messages:
            for call in message.get("tool_calls") or []:
                names[call["id"]] = call["function"]["name"]
        out: list[tuple[str, str]] = []
        for message in reversed(self.messages):
            if message["role"] != "tool":
                break
            out.append((names.get(message["tool_call_id"], "tool"), message_text(message)))
        return out[::-1]


def message_text(message: dict[str, Any]) -> str:
    """The text of a message: its string content, or its text parts joined by newlines."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad_request(NOT_JSON) from exc
    if not isinstance(body, dict):
        raise bad_request(NOT_JSON)
    return body


def validate_chat_request(body: dict[str, Any], models: Collection[str]) -> ChatRequest:
    """The request as a `ChatRequest`, or an `ApiError` with the answer the real API gives."""
    for name in body:
        if name not in KNOWN_PARAMS:
            raise bad_request(f"Unrecognized request argument supplied: {name}")
    model = body.get("model")
    if model is None:
        raise bad_request("you must provide a model parameter")
    if not isinstance(model, str):
        raise invalid_type("model", "a string", model)
    if "messages" not in body:
        raise missing("messages")
    messages = _messages(body["messages"])
    tools = _tools(body.get("tools"))
    tool_choice, forced = _tool_choice(body.get("tool_choice"), tools)
    stream = _optional(body, "stream", bool, "a boolean", False)
    options = body.get("stream_options")
    if options is not None and not stream:
        raise bad_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    include_usage = False
    if options is not None:
        if not isinstance(options, dict):
            raise invalid_type("stream_options", "an object", options)
        include_usage = _optional(options, "include_usage", bool, "a boolean", False, "stream_options.")
    n = _number(body, "n", 1, MAX_N, integer=True)
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "max_tokens", 1, None, integer=True)
    _number(body, "max_completion_tokens", 1, None, integer=True)
    if model not in models:
        raise ApiError(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    return ChatRequest(
        model=model,
        messages=messages,
        tools=tools,
        tool_choice=tool_choice,
        forced_tool=forced,
        stream=stream,
        include_usage=include_usage,
        n=int(n) if n is not None else 1,
    )


def _messages(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise invalid_type("messages", "an array of objects", value)
    if not value:
        raise bad_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
            "empty_array",
        )
    open_calls: dict[str, str] = {}  # tool_call_id -> name, of the assistant message being answered
    answered: set[str] = set()
    opened_at = -1
    for i, message in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise invalid_type(where, "an object", message)
        role = message.get("role")
        if role is None:
            raise missing(f"{where}.role")
        if role not in ROLES:
            raise invalid_value(f"{where}.role", role, ROLES)
        if role != "tool":
            _check_answered(open_calls, answered, opened_at)
            open_calls, answered = {}, set()
        if role == "assistant":
            calls = _tool_calls(message.get("tool_calls"), where)
            if calls:
                open_calls, opened_at = calls, i
            _content(message, where, required=not calls, parts=("text", "refusal"))
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if call_id is None:
                raise missing(f"{where}.tool_call_id")
            if not isinstance(call_id, str):
                raise invalid_type(f"{where}.tool_call_id", "a string", call_id)
            if call_id not in open_calls:
                raise bad_request(TOOL_WITHOUT_CALL, f"messages.[{i}].role")
            answered.add(call_id)
            _content(message, where, required=True, parts=("text",))
        else:
            parts = ("text",) if role in ("system", "developer") else ("text", "image_url", "input_audio", "file")
            _content(message, where, required=True, parts=parts)
    _check_answered(open_calls, answered, opened_at)
    return value


def _check_answered(open_calls: dict[str, str], answered: set[str], opened_at: int) -> None:
    left = [call_id for call_id in open_calls if call_id not in answered]
    if left:
        raise bad_request(UNANSWERED_CALLS.format(ids=", ".join(left)), f"messages.[{opened_at}].role")


def _tool_calls(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise invalid_type(f"{where}.tool_calls", "an array of objects", value)
    calls: dict[str, str] = {}
    for j, call in enumerate(value):
        here = f"{where}.tool_calls[{j}]"
        if not isinstance(call, dict):
            raise invalid_type(here, "an object", call)
        for key in ("id", "type", "function"):
            if key not in call:
                raise missing(f"{here}.{key}")
        if call["type"] != "function":
            raise invalid_value(f"{here}.type", call["type"], ("function",))
        function = call["function"]
        if not isinstance(function, dict):
            raise invalid_type(f"{here}.function", "an object", function)
        for key in ("name", "arguments"):
            if key not in function:
                raise missing(f"{here}.function.{key}")
            if not isinstance(function[key], str):
                raise invalid_type(f"{here}.function.{key}", "a string", function[key])
        _tool_name(function["name"], f"{here}.function.name")
        if not isinstance(call["id"], str):
            raise invalid_type(f"{here}.id", "a string", call["id"])
        calls[call["id"]] = function["name"]
    return calls


def _content(message: dict[str, Any], where: str, *, required: bool, parts: tuple[str, ...]) -> None:
    content = message.get("content")
    if content is None:
        if required:
            raise missing(f"{where}.content")
        return
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise invalid_type(f"{where}.content", "one of a string or array of objects", content)
    for k, part in enumerate(content):
        here = f"{where}.content[{k}]"
        if not isinstance(part, dict):
            raise invalid_type(here, "an object", part)
        kind = part.get("type")
        if kind is None:
            raise missing(f"{here}.type")
        if kind not in parts:
            raise invalid_value(f"{here}.type", kind, parts)
        if kind == "text" and "text" not in part:
            raise missing(f"{here}.text")
        if kind == "text" and not isinstance(part["text"], str):
            raise invalid_type(f"{here}.text", "a string", part["text"])


def _tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_type("tools", "an array of objects", value)
    if not value:
        raise bad_request(
            "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "tools",
            "empty_array",
        )
    tools: list[Tool] = []
    for i, tool in enumerate(value):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise invalid_type(where, "an object", tool)
        if "type" not in tool:
            raise missing(f"{where}.type")
        if tool["type"] != "function":
            raise invalid_value(f"{where}.type", tool["type"], ("function",))
        function = tool.get("function")
        if function is None:
            raise missing(f"{where}.function")
        if not isinstance(function, dict):
            raise invalid_type(f"{where}.function", "an object", function)
        if "name" not in function:
            raise missing(f"{where}.function.name")
        name = _tool_name(function["name"], f"{where}.function.name")
        description = function.get("description")
        if description is not None and not isinstance(description, str):
            raise invalid_type(f"{where}.function.description", "a string", description)
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise invalid_type(f"{where}.function.parameters", "an object", parameters)
        strict = function.get("strict")
        if strict is not None and not isinstance(strict, bool):
            raise invalid_type(f"{where}.function.strict", "a boolean", strict)
        tools.append(Tool(name=name, description=description or "", parameters=parameters or {}))
    return tools


def _tool_name(name: Any, param: str) -> str:
    if not isinstance(name, str):
        raise invalid_type(param, "a string", name)
    if not name:
        raise bad_request(
            f"Invalid '{param}': string too short. Expected a string with minimum length 1, but got an empty "
            "string instead.",
            param,
            "empty_string",
        )
    if len(name) > TOOL_NAME_MAX:
        raise bad_request(
            f"Invalid '{param}': string too long. Expected a string with maximum length {TOOL_NAME_MAX}, but got "
            f"a string with length {len(name)} instead.",
            param,
            "string_above_max_length",
        )
    if not TOOL_NAME.match(name):
        raise bad_request(
            f"Invalid '{param}': string does not match pattern. Expected a string that matches the pattern "
            f"'{TOOL_NAME.pattern}'.",
            param,
            "invalid_value",
        )
    return name


def _tool_choice(value: Any, tools: list[Tool]) -> tuple[str, str | None]:
    if value is None:
        return ("auto" if tools else "none"), None
    if not tools:
        raise bad_request(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
        )
    if isinstance(value, str):
        if value not in TOOL_CHOICES:
            raise invalid_value("tool_choice", value, TOOL_CHOICES)
        return value, None
    if not isinstance(value, dict):
        raise invalid_type("tool_choice", "one of a string or object", value)
    if value.get("type") != "function":
        raise invalid_value("tool_choice.type", value.get("type"), ("function",))
    function = value.get("function")
    if not isinstance(function, dict) or "name" not in function:
        raise missing("tool_choice.function.name")
    name = function["name"]
    if name not in {t.name for t in tools}:
        raise bad_request(
            f"Invalid value for 'tool_choice': function '{name}' is not one of the functions in 'tools'.",
            "tool_choice.function.name",
            "invalid_value",
        )
    return "function", name


def _optional(body: dict[str, Any], name: str, kind: type, expected: str, default: Any, prefix: str = "") -> Any:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise invalid_type(prefix + name, expected, value)
    return value


def _number(body: dict[str, Any], name: str, low: float, high: float | None, *, integer: bool = False) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    numeric = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not numeric:
        raise invalid_type(name, "an integer" if integer else "a number", value)
    word = "integer" if integer else "decimal"
    if value < low:
        raise bad_request(
            f"Invalid '{name}': {word} below minimum value. Expected a value >= {low:g}, but got {value} instead.",
            name,
            f"{word}_below_min_value",
        )
    if high is not None and value > high:
        raise bad_request(
            f"Invalid '{name}': {word} above maximum value. Expected a value <= {high:g}, but got {value} instead.",
            name,
            f"{word}_above_max_value",
        )
    return float(value)
