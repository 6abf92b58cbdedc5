"""Plain words → the same operation requests a typed `/projects` command makes.

    understand(text, registry, targets, catalog, history=(), now=None, tz="UTC") -> Understanding

Pipeline: tokenize (Slack markup, quotes, contractions) → rewrite slang phrases → correct typos
against the command words (rapidfuzz) → split several asks → read each into a Frame (names found
in the live Catalog) → resolve against the registry (`resolve.Resolver`) → prove every command
with the real parser. Pure and offline: no I/O, no model; a few milliseconds per message.
"""

from __future__ import annotations

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


def prepare(text: str, grammar: Grammar, targets: Mapping[str, str], catalog: Catalog) -> list[list[Token]]:
    """The message's asks, each as canonical tokens."""
    tokens = rewrite_phrases(tokenize(text))

    def known(word: str) -> bool:
        return word in targets or word in catalog.by_folded or word in catalog.by_component

    tokens = fix_typos(tokens, _vocabulary(grammar.command_words | grammar.act_words), known,
                       lambda w: name_score(catalog, w))
    tokens = rewrite_phrases(tokens)
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
    if answer is not None:
        return _with_context(answer, requests)
    return Understood(requests[:MAX_REQUESTS], notes=notes)


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
