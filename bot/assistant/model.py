"""The optional model path: plain words → a model's proposed tool calls → the same requests a typed command makes.

Used only when `PROJECTOPS_LLM_BASE_URL` and `PROJECTOPS_LLM_MODEL` are set (any OpenAI-compatible
server: OpenAI, Ollama, vLLM, llama.cpp; `PROJECTOPS_LLM_API_KEY` is optional, Ollama ignores it)::

    resolver = ModelResolver.from_env()          # None when no model is configured
    allowed = await allowed_operations(policy, user_id, registry, config)
    try:
        understanding = await resolver.resolve(text, registry=registry, config=config, allowed_ops=allowed)
    except ModelUnavailable as exc:
        understanding = understand(text, ...)    # the offline understanding answers
        note = exc.notice                        # "The model did not answer (timeout); I understood this offline."

The model only proposes. It is offered one tool per operation the caller may run (`bot.assistant.tools`),
its arguments are re-validated by the operation's params model and written back as the `/projects …`
command that `parse_command` reads the same way, and its result goes through the one choke point like
any typed command. Nothing of the config but target names and kinds is sent; the API key goes only in
the Authorization header (registered with `bot.redact`, never logged). A model that fails, is slow
(4 s by default), refuses, claims to have done something, or proposes something unusable raises
`ModelUnavailable`; the caller then answers with the offline understanding and says so.

The `openai` SDK is imported when the first resolver is built (it takes a while to import), so
importing this module costs nothing when no model is configured.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Any, cast

from pydantic import SecretStr

from bot.assistant.results import CannotHelp, Clarify, ResolvedRequest, Understanding, Understood
from bot.assistant.tools import AllowedOps, ToolCallError, ToolSet, build_tools
from bot.operations.registry import Registry
from bot.redact import MASK, register_secret, scrub
from bot.settings import AppConfig, Env

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion, ChatCompletionFunctionToolParam, ChatCompletionMessageParam

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 4.0  # seconds: past this the offline understanding answers instead
MAX_REQUESTS = 5  # more proposed calls than this is a bulk ask: the offline understanding narrows it
ANSWER_MAX = 500  # characters of a model's text answer shown to the person
HISTORY_MAX = 2000  # characters of the thread's earlier turns sent along
UNUSED_KEY = "unused"  # the SDK insists on a key; servers that need none (Ollama) ignore it

SYSTEM_PROMPT = """\
You help people use projectops, a Slack app that runs projects on Imply Polaris, Arize Phoenix, \
HCP Terraform and Matillion Data Productivity Cloud: it lists and shows projects, Polaris tables, \
jobs and connections, creates, changes, pauses, stops and deletes them, and sends scheduled digests.

Rules:
- You only propose. Answer a request by calling the tool (or tools) that does it; projectops shows \
the person the exact command, and anything that changes something runs only after they confirm.
- Never claim that something was done, changed or checked: you cannot run anything yourself.
- Use only names the person gave or that appear earlier in the thread; never invent project, table, \
job or target names.
- Call at most {max_requests} tools. Never call a tool once per project for a bulk request such as \
"delete everything".
- When no tool fits, answer in one or two short sentences with what projectops can do instead."""

_REFUSAL = re.compile(
    r"^\W*(sorry|i'?m sorry|i am sorry|apologies|unfortunately|i can(?:not|'t|’t)|i am (?:not able|unable)|"
    r"i'?m (?:not able|unable)|as an ai)\b|none of my tools|not available to me|i (?:do not|don't|don’t) have "
    r"(?:a |the )?(?:tool|access|ability)",
    re.I,
)
_CLAIMS_DONE = re.compile(
    r"\b(?:i(?:'ve| have)?|it(?:'s| has| was)|has been|have been|was|were|is now|are now|successfully)\s+"
    r"(?:\w+\s+){0,2}?(?:deleted|paused|stopped|created|dropped|cancell?ed|reset|resumed|moved|updated|removed|"
    r"started|scheduled|added|changed)\b",
    re.I,
)


class ModelUnavailable(Exception):
    """The model gave no usable answer; the offline understanding answers instead.

    `reason` is a few words for the reply and the log ("timeout", "HTTP 500", "invalid arguments");
    `answered` tells a model that did not answer from one whose answer could not be used.
    """

    def __init__(self, reason: str, *, answered: bool = False, detail: str = "") -> None:
        self.reason = reason
        self.answered = answered
        self.detail = scrub(detail)
        super().__init__(reason)

    @property
    def notice(self) -> str:
        """The sentence the reply carries above the offline understanding."""
        if self.answered:
            return f"The model's answer could not be used ({self.reason}); I understood this offline."
        return f"The model did not answer ({self.reason}); I understood this offline."


def clip(text: str, limit: int = ANSWER_MAX) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def system_prompt(toolset: ToolSet, config: AppConfig) -> str:
    """The instructions: what projectops is, the propose-only rule, and the target names and kinds offered."""
    offered = sorted({name for entry in toolset.entries.values() for name in entry.targets})
    prompt = SYSTEM_PROMPT.format(max_requests=MAX_REQUESTS)
    if offered:
        kinds = {name: config.targets[name].kind for name in offered if name in config.targets}
        prompt += "\n\nTargets (name: kind): " + ", ".join(f"{n}: {k}" for n, k in kinds.items()) + "."
    return prompt


def scrub_for_model(text: str, config: AppConfig) -> str:
    """`text` without the config's credentials, known secrets or secret-looking strings (a pasted token)."""
    for target in config.targets.values():
        for value in target.credentials.values():
            secret = value.get_secret_value()
            if len(secret) >= 4:
                text = text.replace(secret, MASK)
    return scrub(text)


def messages_for(text: str, toolset: ToolSet, config: AppConfig, history_text: str = "") -> list[dict[str, Any]]:
    """The conversation sent: the instructions, the thread's earlier turns (if any), the person's words.

    The words and the history are scrubbed of secrets first (`scrub_for_model`).
    """
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt(toolset, config)}]
    history = scrub_for_model(history_text.strip(), config)
    if history:
        if len(history) > HISTORY_MAX:
            history = "…" + history[-HISTORY_MAX:]
        messages.append({"role": "system", "content": "Earlier in this thread (for \"it\" or \"that one\"):\n"
                         + history})
    messages.append({"role": "user", "content": scrub_for_model(text.strip(), config)})
    return messages


def _status_reason(status: int) -> str:
    if status == 429:
        return "rate limited (429)"
    if status in (401, 403):
        return f"not authorized ({status})"
    return f"HTTP {status}"


class ModelResolver:
    """Resolves plain words with an OpenAI-compatible model through the official `openai` SDK."""

    def __init__(self, base_url: str, model: str, api_key: str | SecretStr | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT, max_retries: int = 0) -> None:
        from openai import AsyncOpenAI

        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        register_secret(key)
        self.model = model
        self.timeout = timeout
        self._client: AsyncOpenAI = AsyncOpenAI(
            base_url=base_url, api_key=key or UNUSED_KEY, timeout=timeout, max_retries=max_retries
        )

    @classmethod
    def from_env(cls, env: Env | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> ModelResolver | None:
        """The resolver the environment configures, or None without `PROJECTOPS_LLM_BASE_URL` and `_MODEL`."""
        env = env or Env()
        base_url = (env.projectops_llm_base_url or "").strip()
        model = (env.projectops_llm_model or "").strip()
        if not base_url or not model:
            return None
        return cls(base_url, model, env.projectops_llm_api_key, timeout=timeout)

    @property
    def name(self) -> str:
        """Who resolved a request, for the audit row: `model:<model name>`."""
        return f"model:{self.model}"

    def __repr__(self) -> str:
        return f"ModelResolver(model={self.model!r}, timeout={self.timeout})"

    async def aclose(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> ModelResolver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def resolve(self, text: str, *, registry: Registry, config: AppConfig, allowed_ops: AllowedOps,
                      history_text: str = "", timeout: float | None = None) -> Understanding:
        """What the model proposes for `text`, limited to `allowed_ops`; `ModelUnavailable` when unusable."""
        toolset = build_tools(registry, allowed_ops, config)
        if not toolset:
            raise ModelUnavailable("nothing to offer")
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        completion = await self._complete(messages_for(text, toolset, config, history_text), toolset, limit)
        try:
            understanding = self._read(completion, toolset, registry, config)
        except ModelUnavailable as exc:
            log.warning("model %s answer not used: %s %s", self.model, exc.reason, exc.detail)
            raise
        log.info("model %s answered in %d ms", self.model, (time.monotonic() - started) * 1000)
        return understanding

    async def _complete(self, messages: list[dict[str, Any]], toolset: ToolSet, limit: float) -> ChatCompletion:
        import openai

        try:
            return await asyncio.wait_for(
                self._client.chat.completions.create(
                    model=self.model,
                    messages=cast("list[ChatCompletionMessageParam]", messages),  # dicts of the documented shape
                    tools=cast("list[ChatCompletionFunctionToolParam]", toolset.tools),
                    tool_choice="auto",
                    timeout=limit,
                ),
                timeout=limit + 0.5,
            )
        except (TimeoutError, openai.APITimeoutError):
            reason, detail = "timeout", f"no answer within {limit:g} s"
        except openai.APIStatusError as exc:
            reason, detail = _status_reason(exc.status_code), type(exc).__name__
        except openai.APIConnectionError as exc:
            reason, detail = "connection failed", type(exc.__cause__ or exc).__name__
        except (openai.OpenAIError, ValueError) as exc:  # unreadable body (JSON cut short, wrong shape)
            reason, detail = "malformed answer", type(exc).__name__
        log.warning("model %s did not answer: %s (%s)", self.model, reason, detail)
        raise ModelUnavailable(reason, detail=detail)

    def _read(self, completion: Any, toolset: ToolSet, registry: Registry, config: AppConfig) -> Understanding:
        choices = getattr(completion, "choices", None)
        if not choices:
            raise ModelUnavailable("malformed answer", answered=True, detail="no choices")
        message = choices[0].message
        if getattr(message, "refusal", None):
            raise ModelUnavailable("refused", answered=True)
        calls = list(getattr(message, "tool_calls", None) or [])
        if calls:
            return self._requests(calls, toolset, registry, config)
        content = getattr(message, "content", None)
        return self._text(content if isinstance(content, str) else "")

    def _requests(self, calls: list[Any], toolset: ToolSet, registry: Registry, config: AppConfig) -> Understood:
        if len(calls) > MAX_REQUESTS:
            raise ModelUnavailable("too many requests", answered=True, detail=f"{len(calls)} tool calls")
        requests: list[ResolvedRequest] = []
        for call in calls:
            function = getattr(call, "function", None)
            if getattr(call, "type", "function") != "function" or function is None:
                raise ModelUnavailable("unknown tool", answered=True, detail=str(getattr(call, "type", "")))
            try:
                request = toolset.request(str(function.name), function.arguments or "", registry, config, self.name)
            except ToolCallError as exc:
                raise ModelUnavailable(exc.reason, answered=True, detail=exc.detail) from None
            if request not in requests:
                requests.append(request)
        return Understood(requests=requests, resolver=self.name)

    def _text(self, content: str) -> Understanding:
        text = scrub(content.strip())
        if not text:
            raise ModelUnavailable("empty answer", answered=True)
        if _REFUSAL.search(text):
            raise ModelUnavailable("refused", answered=True)
        if _CLAIMS_DONE.search(text):  # it cannot have done anything: such a text would mislead
            raise ModelUnavailable("claimed an action", answered=True)
        if text.endswith("?"):
            return Clarify(question=clip(text), resolver=self.name)
        return CannotHelp(reason=clip(text), resolver=self.name)

