"""Plain words → the same operation requests a typed `/projects` command makes.

    understand(text, registry, targets, catalog, history=(), now=None, tz="UTC") -> Understanding

Pipeline: tokenize (Slack markup, quotes, contractions) → rewrite slang phrases → correct typos
against the command words (rapidfuzz) → split several asks → read each into a Frame (names found
in the live Catalog) → resolve against the registry (`resolve.Resolver`) → prove every command
with the real parser. Pure and offline: no I/O, no model; a few milliseconds per message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from bot.assistant.catalog import Catalog
from bot.assistant.commands import config_for
from bot.assistant.frame import name_score, read_frame
from bot.assistant.grammar import Grammar, grammar_for
from bot.assistant.memory import Memory
from bot.assistant.resolve import MAX_REQUESTS, Resolver
from bot.assistant.results import CannotHelp, Clarify, ResolvedRequest, Understanding, Understood
from bot.assistant.text import Token, correction_vocabulary, fix_typos, rewrite_phrases, split_asks, tokenize
from bot.assistant.vocabulary import FILLER
from bot.errors import UsageError
from bot.operations.parser import parse_command
from bot.operations.registry import Registry
from bot.risk import Risk


@lru_cache(maxsize=8)
def _vocabulary(command_words: frozenset[str]) -> tuple[str, ...]:
    return correction_vocabulary(command_words)


def _exact(text: str, registry: Registry, targets: Mapping[str, str]) -> Understood | None:
    """A message that already is the `/projects` grammar (with options) runs as typed."""
    try:
        parsed = parse_command(text.strip().removeprefix("/projects").strip(), registry, config_for(targets))
    except UsageError:
        return None
    op = parsed.operation
    target = parsed.target.name if parsed.target else None
    command = "/projects " + text.strip().removeprefix("/projects").strip()
    params = parsed.params.model_dump(mode="json", exclude_unset=True)
    return Understood([ResolvedRequest(op.name, op.kind, target, params, command, str(op.risk))])


def _has_content(tokens: list[Token]) -> bool:
    return any(not t.special and (t.quoted or t.low not in FILLER or t.low in ("it", "that", "who", "what", "how",
                                                                               "which"))
               for t in tokens)


#: "set the description of rag-eval to nightly eval runs": everything after "to"/"as" is the value, as typed.
_FREE_DESCRIPTION = re.compile(r"^(?P<head>.*?\bdescription\b.*?)\s+(?:to|as)\s*:?\s+(?P<value>\S.*?)\s*$",
                               re.IGNORECASE | re.DOTALL)
_QUOTED = re.compile(r"^([\"'`\u201c\u2018]).*[\"'`\u201d\u2019]$", re.DOTALL)
#: Slack's own references only (a typed `<` or `>` arrives decoded and stays as typed): `<@U1>`, `<#C1|ops>`,
#: `<!here>`, `<https://x|label>`, `<mailto:a@b>`.
_SLACK_MARKUP = re.compile(r"<(?P<body>(?:[@#!]|https?://|mailto:)[^<>|]*)(?:\|(?P<label>[^<>]*))?>")


def _unmarked(value: str) -> str:
    """Slack's markup in free text, as people see it: `<!channel>` → @channel, `<#C1|ops>` → #ops, a link as its
    label and address."""
    def plain(m: re.Match[str]) -> str:
        body, label = m.group("body"), m.group("label")
        if body.startswith("!"):
            return "@" + (label or body[1:].split("^")[0]).lstrip("@")
        if body.startswith("#"):
            return "#" + label if label else body
        if body.startswith("@"):
            return m.group(0)  # a person: their id is the only stable name
        return f"{label} ({body})" if label else body
    return _SLACK_MARKUP.sub(plain, value).strip()


def free_text_value(text: str) -> tuple[str, str] | None:
    """A description given as free text after "description … to": (the words before it, the value).

    The value is taken whole and never read for meaning (its time words pick no schedule, its
    words no operation). A quoted value is left to the usual reading."""
    m = _FREE_DESCRIPTION.match(text.strip())
    if not m or _QUOTED.match(m.group("value")) or '"' in m.group("head"):
        return None
    value = _unmarked(m.group("value")).rstrip()
    return (m.group("head"), value) if value else None


def prepare(text: str, grammar: Grammar, targets: Mapping[str, str], catalog: Catalog) -> list[list[Token]]:
    """The message's asks, each as canonical tokens."""
    free = free_text_value(text)
    if free is not None:
        text = free[0]
    tokens = rewrite_phrases(tokenize(text))

    def known(word: str) -> bool:
        return word in targets or word in catalog.by_folded or word in catalog.by_component

    tokens = fix_typos(tokens, _vocabulary(grammar.command_words | grammar.act_words), known,
                       lambda w: name_score(catalog, w))
    tokens = rewrite_phrases(tokens)
    if free is not None:
        tokens.append(Token(free[1], free[1].lower(), quoted=True))
    return [clause for clause in split_asks(tokens) if _has_content(clause)]


def understand(text: str, registry: Registry, targets: Mapping[str, str], catalog: Catalog,
               history: Sequence[Understanding] = (), now: datetime | None = None,
               tz: str = "UTC") -> Understanding:
    """What `text` asks for, resolved against the registry, the targets (name → kind) and live names.

    `history` holds the thread's earlier results (oldest first) so "it" and "that one" refer to the
    last thing resolved; `now` and `tz` (the person's IANA zone) anchor "yesterday" and "today".
    """
    grammar = grammar_for(registry)
    now = now or datetime.now(UTC)
    stripped = text.strip()
    if stripped.startswith("/projects") or " --" in stripped:
        exact = _exact(stripped, registry, targets)
        if exact is not None:
            return exact
    clauses = prepare(text, grammar, targets, catalog)
    if not clauses:
        return Clarify("What would you like to do? Ask me about your projects, tables, jobs, digests or the "
                       "audit log, or type `/projects help`.", [("Show what I can do", "/projects help")])
    memory = Memory.of(history)
    requests: list[ResolvedRequest] = []
    notes: list[str] = []
    answer: Clarify | CannotHelp | None = None
    for clause in clauses:
        frame = read_frame(clause, catalog, targets, now, tz, grammar.literal_words, grammar.act_words)
        outcome = Resolver(grammar, registry, catalog, targets, memory, now).resolve(frame)
        if outcome.answer is not None:
            answer = answer or outcome.answer  # the first question or refusal; the other asks still resolve
            continue
        notes += [n for n in frame.notes if n not in notes]
        for request in outcome.requests:
            if all(r.command_text != request.command_text for r in requests):
                requests.append(request)
        memory = memory.after(Understood(outcome.requests))
    destructive = [r for r in requests if r.risk == Risk.DESTRUCTIVE]
    if len(destructive) > 1:
        return _one_at_a_time(destructive)
    if answer is not None:
        return _with_context(answer, requests)
    return Understood(requests[:MAX_REQUESTS], notes=notes)


def _one_at_a_time(destructive: list[ResolvedRequest]) -> CannotHelp:
    """Several deletions in one message: the same no as "delete everything", whatever else was asked."""
    verbs = " and ".join(dict.fromkeys(f"`{r.operation_name.removeprefix('project.').replace('.', ' ')}`"
                                         for r in destructive))
    listers = list(dict.fromkeys(f"/projects list {r.target}" for r in destructive if r.target))
    return CannotHelp(
        f"I don't run {verbs} on several things at once: changes go one at a time, each with its own preview, "
        "confirmation and approval. Ask for one, then the next.", listers or ["/projects list"])


def _with_context(answer: Clarify | CannotHelp, done: list[ResolvedRequest]) -> Clarify | CannotHelp:
    """One ask needs a question or a no: say what the other asks resolved to, so nothing is lost."""
    if not done:
        return answer
    earlier = ", ".join(f"`{r.command_text}`" for r in done[:MAX_REQUESTS])
    if isinstance(answer, Clarify):
        choices = answer.choices or [(r.command_text, r.command_text) for r in done]
        return Clarify(f"I understood {earlier}. For the rest: {answer.question}", choices)
    return CannotHelp(f"I understood {earlier}. For the rest: {answer.reason}",
                      list(dict.fromkeys([r.command_text for r in done] + answer.suggestions)))
