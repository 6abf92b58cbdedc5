"""What the emulated model answers: scripted answers first, else a small deterministic default.

Script (``POST /_script``; one answer object, a list of them, or ``{"answers": [...]}``)::

    {"match": "(?i)pause (\\w+)",   optional regex, `re.search`ed on the last user message;
                                    without it the answer is taken in FIFO order
     "times": 1,                    optional: how many requests it answers (-1 = every one)
     and exactly one of:
     "content": "text"              a text answer ("text" is accepted as an alias)
     "tool_call": {"name": "n", "arguments": {...} | "raw string", "id": "call_..."?}
     "tool_calls": [ {...}, ... ]   several calls in one answer (parallel tool calls)
     "refusal": "I can't help with that."}

A request takes the first queued answer, oldest first, whose `match` finds the last user message
(an answer without `match` fits every request). A scripted tool call names a tool that must have
been offered to *this* request (and be allowed by `tool_choice`): otherwise the model answers the
text `TOOL_NOT_AVAILABLE` instead, since a real model does not call a tool it was not given.
Arguments given as an object are sent as compact JSON; given as a string they are sent as is
(so a test can hand the client malformed arguments).

Default answer, when nothing scripted fits:

1. the conversation ends with tool results (and `tool_choice` does not force a call): a text
   that quotes them, ``"<tool name>: <result>"`` one per line after ``RESULTS_PREFIX``;
2. tools are callable: the tool whose name and description share the most words with the last
   user message (name words count twice; a trailing "s" is ignored; ties go to the first
   offered) is called; with ``tool_choice: "required"`` or a named function a call is made even
   with no shared word. Arguments are inferred from its JSON schema (`infer_arguments`);
3. otherwise a text: ``NO_FITTING_TOOL`` when tools were offered, else ``ECHO`` + the message.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.llm.validation import ChatRequest, Tool

TOOL_NOT_AVAILABLE = "Sorry, I can't do that: the tool `{name}` is not available to me."
NO_FITTING_TOOL = "Sorry, none of my tools can help with that."
ECHO = "This is the emulated model. You said: "
RESULTS_PREFIX = "Here is what I found:"

_WORD = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"[A-Za-z0-9_][\w.\-]*[A-Za-z0-9_]|[A-Za-z0-9_]")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|`([^`]+)`|(?:(?<=\s)|^)'([^']+)'(?=\W|$)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_STOPWORD_TEXT = (
    "a an the is are was were be been am do does did of to in on at for from by with about into and or "
    "but not no me my i you your we our us it its this that these those there here what which who whom "
    "how when where why can could would should will shall may might must please pls plz thanks thx ty "
    "hi hey hello just now all any some"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_FILLERS = frozenset({"please", "pls", "plz", "thanks", "thx", "ty", "now", "asap"})


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str  # JSON text, exactly as the client receives it
    id: str | None = None


@dataclass(frozen=True)
class Answer:
    """One choice of the model: text, tool calls, or a refusal."""

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str | None = None

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"


@dataclass
class ScriptedAnswer:
    answer: Answer
    match: re.Pattern[str] | None = None
    times: int = 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"match": self.match.pattern if self.match else None, "times": self.times}
        if self.answer.tool_calls:
            out["tool_calls"] = [
                {"name": c.name, "arguments": c.arguments, **({"id": c.id} if c.id else {})}
                for c in self.answer.tool_calls
            ]
        elif self.answer.refusal is not None:
            out["refusal"] = self.answer.refusal
        else:
            out["content"] = self.answer.content
        return out


def parse_script(spec: Any) -> list[ScriptedAnswer]:
    """Scripted answers from the JSON of `POST /_script`; ValueError says what is wrong."""
    if isinstance(spec, dict) and "answers" in spec:
        spec = spec["answers"]
    items = spec if isinstance(spec, list) else [spec]
    return [_scripted(item, i) for i, item in enumerate(items)]


def _scripted(item: Any, i: int) -> ScriptedAnswer:
    if not isinstance(item, dict):
        raise ValueError(f"answer {i}: expected an object")
    kinds = [k for k in ("content", "text", "tool_call", "tool_calls", "refusal") if k in item]
    if len(kinds) != 1:
        raise ValueError(f"answer {i}: give exactly one of content, tool_call, tool_calls, refusal")
    unknown = set(item) - {"match", "times", *kinds}
    if unknown:
        raise ValueError(f"answer {i}: unknown keys {sorted(unknown)}")
    kind = kinds[0]
    if kind in ("content", "text", "refusal") and not isinstance(item[kind], str):
        raise ValueError(f"answer {i}: {kind} must be a string")
    if kind in ("content", "text"):
        answer = Answer(content=item[kind])
    elif kind == "refusal":
        answer = Answer(refusal=item["refusal"])
    else:
        calls = [item["tool_call"]] if kind == "tool_call" else item["tool_calls"]
        if not isinstance(calls, list) or not calls:
            raise ValueError(f"answer {i}: tool_calls must be a non-empty list")
        answer = Answer(tool_calls=tuple(_call(c, i) for c in calls))
    match = item.get("match")
    try:
        pattern = re.compile(match) if match is not None else None
    except (re.error, TypeError) as exc:
        raise ValueError(f"answer {i}: bad match regex: {exc}") from exc
    times = item.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times == 0 or times < -1:
        raise ValueError(f"answer {i}: times must be a positive integer or -1")
    return ScriptedAnswer(answer=answer, match=pattern, times=times)


def _call(spec: Any, i: int) -> ToolCall:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ValueError(f"answer {i}: a tool call needs a string name")
    arguments = spec.get("arguments", {})
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, separators=(",", ":"))
    call_id = spec.get("id")
    if call_id is not None and not isinstance(call_id, str):
        raise ValueError(f"answer {i}: a tool call id must be a string")
    return ToolCall(name=spec["name"], arguments=text, id=call_id)


@dataclass
class Script:
    """The queue of scripted answers (thread-safe: tests add from their own thread)."""

    answers: list[ScriptedAnswer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answers: list[ScriptedAnswer]) -> None:
        with self.lock:
            self.answers.extend(answers)

    def clear(self) -> None:
        with self.lock:
            self.answers.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self.lock:
            return [a.to_json() for a in self.answers]

    def take(self, text: str) -> Answer | None:
        """Consume the first queued answer that fits `text` (the last user message)."""
        with self.lock:
            for scripted in self.answers:
                if scripted.match is None or scripted.match.search(text):
                    if scripted.times > 0:
                        scripted.times -= 1
                        if scripted.times == 0:
                            self.answers.remove(scripted)
                    return scripted.answer
        return None


def answer(request: ChatRequest, script: Script) -> Answer:
    """The model's answer to a validated request."""
    scripted = script.take(request.last_user_text())
    if scripted is not None:
        return offered_only(scripted, request)
    return default_answer(request)


def offered_only(answer: Answer, request: ChatRequest) -> Answer:
    """A scripted tool call of a tool this request did not make callable becomes a text."""
    callable_names = {t.name for t in request.callable_tools()}
    for call in answer.tool_calls:
        if call.name not in callable_names:
            return Answer(content=TOOL_NOT_AVAILABLE.format(name=call.name))
    return answer


def default_answer(request: ChatRequest) -> Answer:
    forced = request.tool_choice in ("required", "function")
    results = request.tool_results()
    if results and not forced:
        return Answer(content="\n".join([RESULTS_PREFIX, *(f"{name}: {text}" for name, text in results)]))
    text = request.last_user_text()
    tools = request.callable_tools()
    tool = best_tool(text, tools)
    if tool is None and forced and tools:
        tool = tools[0]
    if tool is not None:
        arguments = json.dumps(infer_arguments(tool.parameters, text), separators=(",", ":"))
        return Answer(tool_calls=(ToolCall(name=tool.name, arguments=arguments),))
    return Answer(content=NO_FITTING_TOOL if request.tools else ECHO + text)


def words(text: str) -> set[str]:
    """Lower-case content words of `text` (camelCase and snake_case split, trailing "s" dropped)."""
    return {_stem(w) for w in _WORD.findall(_CAMEL.sub(" ", text).lower()) if w not in _STOPWORDS}


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def best_tool(text: str, tools: list[Tool]) -> Tool | None:
    """The tool sharing the most words with `text` (name words count twice), None if none shares any."""
    said = words(text)
    best: Tool | None = None
    best_score = 0
    for tool in tools:
        name_words = words(tool.name)
        score = 2 * len(said & name_words) + len(said & (words(tool.description) - name_words))
        if score > best_score:
            best, best_score = tool, score
    return best


def infer_arguments(schema: dict[str, Any], text: str) -> dict[str, Any]:
    """Arguments for a function whose parameters are `schema`, filled from `text`.

    Only required properties are filled (recursively for objects): `default` and `const` are used
    when given; an enum takes the first value the text names, else its first value; a nullable
    property (a union with null, as optional fields of strict tools are) is null unless the text
    names one of its enum values; a string takes the next quoted phrase of the text, else the
    text's last word (politeness like "please"/"thx" skipped); an integer or number takes the
    next number in the text, else the schema's minimum or 0; a boolean is false; an array is
    empty. Local `$ref`s (`#/$defs/...`) and the non-null branch of `anyOf`/`oneOf` are followed.
    """
    value = _Inference(text, schema).value(schema)
    return value if isinstance(value, dict) else {}


class _Inference:
    def __init__(self, text: str, root: dict[str, Any]) -> None:
        self.root = root
        self.text = text
        self.lower_words = set(_WORD.findall(text.lower()))
        self.quoted = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]
        self.numbers = [float(n) for n in _NUMBER.findall(_QUOTED.sub(" ", text))]
        tokens = [t for t in _TOKEN.findall(_QUOTED.sub(" ", text)) if t.lower() not in _FILLERS]
        self.last_word = tokens[-1] if tokens else (self.quoted[-1] if self.quoted else "")

    def resolve(self, schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The schema behind `$ref`s and unions, and whether null was one of the union's branches."""
        nullable = False
        for _ in range(32):  # follow $ref and union chains, never forever
            ref = schema.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                node: Any = self.root
                for part in ref[2:].split("/"):
                    node = node.get(part, {}) if isinstance(node, dict) else {}
                schema = node if isinstance(node, dict) else {}
                continue
            branches = schema.get("anyOf") or schema.get("oneOf")
            if isinstance(branches, list) and branches:
                usable = [b for b in branches if isinstance(b, dict) and b.get("type") != "null"]
                nullable = nullable or len(usable) < len(branches)
                schema = usable[0] if usable else {"type": "null"}
                continue
            break
        kind = schema.get("type")
        if isinstance(kind, list):
            nullable = nullable or "null" in kind
            schema = {**schema, "type": next((k for k in kind if k != "null"), "null")}
        return schema, nullable

    def value(self, schema: dict[str, Any]) -> Any:
        if "default" in schema:
            return schema["default"]
        schema, nullable = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "default" in schema:
            return schema["default"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            mentioned = self.mentioned(schema["enum"])
            if mentioned is not None or nullable:
                return mentioned
            return schema["enum"][0]
        kind = schema.get("type")
        if nullable or kind == "null":
            return None
        if kind == "object" or (kind is None and "properties" in schema):
            properties = schema.get("properties") or {}
            return {
                name: self.value(properties.get(name) or {})
                for name in schema.get("required") or []
                if isinstance(name, str)
            }
        if kind in ("integer", "number"):
            number = self.numbers.pop(0) if self.numbers else float(schema.get("minimum", 0))
            return int(number) if kind == "integer" else number
        if kind == "boolean":
            return False
        if kind == "array":
            return []
        return self.quoted.pop(0) if self.quoted else self.last_word

    def mentioned(self, values: list[Any]) -> Any:
        """The first enum value the text names (as a word or a phrase), else None."""
        lowered = f" {' '.join(_WORD.findall(self.text.lower()))} "
        for value in values:
            if isinstance(value, str) and (value.lower() in self.lower_words or f" {value.lower()} " in lowered):
                return value
        return None
