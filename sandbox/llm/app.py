"""OpenAI-compatible chat-completions emulator (Starlette), written from the OpenAI API reference.

    POST /v1/chat/completions    validated like the real API (`sandbox.llm.validation`); answers a
                                 `chat.completion` (text, tool calls or a refusal; `usage`
                                 estimated at 4 characters a token), or with `"stream": true`
                                 server-sent `chat.completion.chunk` events ending `data: [DONE]`
                                 (`stream_options.include_usage` adds the usage chunk)
    GET  /v1/models              {"object": "list", "data": [{"id", "object": "model", "created", "owned_by"}]}
    GET  /v1/models/{model}      one model; unknown -> 404 `model_not_found`
    GET  /healthz

With an API key configured every `/v1` route needs `Authorization: Bearer <key>`: a missing or
wrong key gets 401 with the real API's error body. Errors are always
`{"error": {"message", "type", "param", "code"}}`.

What the model says comes from `sandbox.llm.script`: scripted answers, else a deterministic
default (call the best-matching offered tool with arguments inferred from its schema, or text).

Emulator control (never authenticated, never faulted, never recorded):

    POST   /_script          queue scripted answers (format in `sandbox.llm.script`); GET lists, DELETE clears
    GET    /_requests        {"requests": [...]} every API request received, bodies parsed; DELETE clears
    POST   /_admin/reset     script, recorded requests and faults cleared
    POST   /_faults ...      see `sandbox.llm.faults`

Serve it on a free port from a test with `sandbox.serving.serve_in_thread(create_app(...))` and
point the SDK at `<url>/v1`; it also works mounted under a prefix (then `<url>/<prefix>/v1`).
"""

from __future__ import annotations

import hmac
import json
import math
import random
import string
import threading
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from sandbox.llm.errors import ApiError
from sandbox.llm.faults import FaultMiddleware, FaultState, Recorder, RecordingMiddleware
from sandbox.llm.script import Answer, Script, answer, parse_script
from sandbox.llm.validation import ChatRequest, parse_body, validate_chat_request

DEFAULT_MODELS = ("gpt-4o-mini", "gpt-4.1-mini", "projectops-emulator")
MODELS_CREATED = 1_721_172_741  # a fixed `created` for the model list, as the real list has fixed dates
OWNED_BY = "projectops-emulator"
FINGERPRINT = "fp_emulator"
NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
    "accessing the API from your browser and are prompted for a username. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
WRONG_KEY = (
    "Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys."
)
CHARS_PER_TOKEN = 4
ARGUMENT_PIECE = 8  # characters of tool-call arguments per streamed chunk
_ALPHABET = string.ascii_letters + string.digits


@dataclass
class LlmState:
    """Everything the emulator keeps: configuration, the script, faults and recorded requests."""

    api_key: str | None = None
    models: tuple[str, ...] = DEFAULT_MODELS
    script: Script = field(default_factory=Script)
    faults: FaultState = field(default_factory=FaultState)
    recorder: Recorder = field(default_factory=Recorder)
    seed: int = 0
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def new_id(self, prefix: str, length: int) -> str:
        """`chatcmpl-…`/`call_…` ids in the real shape; deterministic for a given seed and order."""
        with self._lock:
            return prefix + "".join(self._random.choices(_ALPHABET, k=length))

    def reset(self) -> None:
        self.script.clear()
        self.faults.clear()
        self.recorder.clear()
        with self._lock:
            self._random = random.Random(self.seed)


class LlmApp:
    """The emulator as an ASGI app: recording, then faults, then the API. `state` is the live state."""

    def __init__(self, state: LlmState) -> None:
        self.state = state
        api = Starlette(
            routes=[
                Route("/v1/chat/completions", chat_completions, methods=["POST"]),
                Route("/v1/models", list_models, methods=["GET"]),
                Route("/v1/models/{model:path}", get_model, methods=["GET"]),
                Route("/healthz", healthz, methods=["GET"]),
                Route("/_script", script_control, methods=["GET", "POST", "DELETE"]),
                Route("/_requests", requests_control, methods=["GET", "DELETE"]),
                Route("/_admin/reset", admin_reset, methods=["POST"]),
            ]
        )
        api.state.llm = state
        self._app = RecordingMiddleware(FaultMiddleware(api, state.faults), state.recorder)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def create_app(api_key: str | None = None, models: Iterable[str] = DEFAULT_MODELS, seed: int = 0) -> LlmApp:
    """The model emulator; with `api_key` every `/v1` request must carry it as a Bearer token."""
    return LlmApp(LlmState(api_key=api_key or None, models=tuple(models), seed=seed))


def _state(request: Request) -> LlmState:
    return request.app.state.llm


def _authorize(request: Request) -> None:
    key = _state(request).api_key
    if not key:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, NO_KEY)
    if not hmac.compare_digest(token.encode(), key.encode()):
        raise ApiError(401, WRONG_KEY.format(masked=mask(token)), code="invalid_api_key")


def mask(key: str) -> str:
    """How the real API echoes a wrong key: a few characters at each end, stars between."""
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


# --- /v1 ------------------------------------------------------------------------------------------


async def chat_completions(request: Request) -> Response:
    state = _state(request)
    try:
        _authorize(request)
        chat = validate_chat_request(parse_body(await request.body()), state.models)
    except ApiError as exc:
        return exc.response()
    reply = answer(chat, state.script)
    if chat.stream:
        return StreamingResponse(
            _stream(chat, reply, state),
            media_type="text/event-stream; charset=utf-8",
            headers={"cache-control": "no-cache"},
        )
    return JSONResponse(_completion(chat, reply, state))


async def list_models(request: Request) -> Response:
    try:
        _authorize(request)
    except ApiError as exc:
        return exc.response()
    return JSONResponse({"object": "list", "data": [_model(m) for m in _state(request).models]})


async def get_model(request: Request) -> Response:
    try:
        _authorize(request)
    except ApiError as exc:
        return exc.response()
    name = request.path_params["model"]
    if name not in _state(request).models:
        return ApiError(404, f"The model '{name}' does not exist", param="model", code="model_not_found").response()
    return JSONResponse(_model(name))


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": MODELS_CREATED, "owned_by": OWNED_BY}


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def _answer_text(reply: Answer) -> str:
    if reply.tool_calls:
        return "".join(c.name + c.arguments for c in reply.tool_calls)
    return reply.content or reply.refusal or ""


def _usage(chat: ChatRequest, reply: Answer) -> dict[str, Any]:
    prompt = _tokens(json.dumps(chat.messages) + json.dumps([t.__dict__ for t in chat.tools]))
    completion = _tokens(_answer_text(reply)) * chat.n
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_calls(reply: Answer, state: LlmState) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id or state.new_id("call_", 24),
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in reply.tool_calls
    ]


def _completion(chat: ChatRequest, reply: Answer, state: LlmState) -> dict[str, Any]:
    choices = []
    for index in range(chat.n):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.content,
            "refusal": reply.refusal,
            "annotations": [],
        }
        if reply.tool_calls:
            message["tool_calls"] = _tool_calls(reply, state)
        choices.append({"index": index, "message": message, "logprobs": None, "finish_reason": reply.finish_reason})
    return {
        "id": state.new_id("chatcmpl-", 29),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": chat.model,
        "choices": choices,
        "usage": _usage(chat, reply),
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }


def _pieces(text: str) -> list[str]:
    """Text as a model streams it: a word (with its trailing space) per chunk."""
    pieces: list[str] = []
    for word in text.split(" "):
        pieces.append(word + " ")
    pieces[-1] = pieces[-1][:-1]
    return [p for p in pieces if p]


async def _stream(chat: ChatRequest, reply: Answer, state: LlmState) -> AsyncIterator[bytes]:
    base = {
        "id": state.new_id("chatcmpl-", 29),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": chat.model,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }
    if chat.include_usage:
        base["usage"] = None

    def event(index: int, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return b"data: " + json.dumps({**base, "choices": [choice]}).encode() + b"\n\n"

    for index in range(chat.n):
        if reply.tool_calls:
            for k, call in enumerate(_tool_calls(reply, state)):
                head = {"index": k, **call, "function": {"name": call["function"]["name"], "arguments": ""}}
                delta: dict[str, Any] = {"tool_calls": [head]}
                if k == 0:
                    delta = {"role": "assistant", "content": None, "refusal": None, **delta}
                yield event(index, delta)
                arguments = call["function"]["arguments"]
                for start in range(0, len(arguments), ARGUMENT_PIECE):
                    piece = arguments[start : start + ARGUMENT_PIECE]
                    yield event(index, {"tool_calls": [{"index": k, "function": {"arguments": piece}}]})
        elif reply.refusal is not None:
            yield event(index, {"role": "assistant", "content": None, "refusal": ""})
            for piece in _pieces(reply.refusal):
                yield event(index, {"refusal": piece})
        else:
            yield event(index, {"role": "assistant", "content": "", "refusal": None})
            for piece in _pieces(reply.content or ""):
                yield event(index, {"content": piece})
        yield event(index, {}, reply.finish_reason)
    if chat.include_usage:
        usage = {**base, "choices": [], "usage": _usage(chat, reply)}
        yield b"data: " + json.dumps(usage).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


# --- emulator control ---------------------------------------------------------------------------


async def script_control(request: Request) -> Response:
    script = _state(request).script
    if request.method == "DELETE":
        script.clear()
    elif request.method == "POST":
        try:
            script.add(parse_script(json.loads(await request.body())))
        except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"script": script.pending()})


async def requests_control(request: Request) -> Response:
    recorder = _state(request).recorder
    if request.method == "DELETE":
        recorder.clear()
    return JSONResponse({"requests": recorder.to_json()})


async def admin_reset(request: Request) -> Response:
    state = _state(request)
    state.reset()
    return JSONResponse({"models": list(state.models), "auth": bool(state.api_key)})
