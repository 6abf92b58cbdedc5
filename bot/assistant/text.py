"""Words in, tokens out: Slack markup, quotes, contractions, slang phrases, typos, and several asks.

Every token keeps the spelling the person typed (`text`) next to the canonical lower-case word the
rest of the pipeline reads (`low`), so names and quoted descriptions come out as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.assistant.vocabulary import (
    ACT_WORDS,
    ALL_WORDS,
    CONTRACTIONS,
    ENGLISH,
    KIND_WORDS,
    OBJ_WORDS,
    PAST_ACTS,
    PHRASES,
    QUESTION_WORDS,
)

_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*")
_SCAN = re.compile(
    r"(?P<user><@(?P<uid>[UW][A-Z0-9]+)(?:\|[^>]*)?>|(?<![\w<])@(?P<bare>[UW][A-Z0-9]{5,})\b)"
    r"|(?P<channel><#(?P<cid>[CGD][A-Z0-9]+)(?:\|(?P<cname>[^>]*))?>)"
    r"|<(?P<url>[^|>]+)(?:\|(?P<label>[^>]*))?>"
    r"|\"(?P<dq>[^\"]*)\"|`(?P<bq>[^`]*)`|(?<![\w])'(?P<sq>[^']+)'(?![\w])"
    r"|(?P<sep>[;,])"
    r"|(?P<word>[^\s,;\"`]+)"
)
_TRAILING = ".?!:)"
_SMART = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "…": "..."})


@dataclass(frozen=True)
class Token:
    """One word: as typed (`text`), as read (`low`), and what sort of thing it is."""

    text: str
    low: str
    quoted: bool = False
    special: str = ""  # "user", "channel", "sep", "end" (end of a sentence)
    typed: str = ""  # the original word when `low` was corrected from a typo

    @property
    def plain(self) -> bool:
        return not self.quoted and not self.special


def _word(text: str) -> list[Token]:
    tokens: list[Token] = []
    end = ""
    while text and text[-1] in _TRAILING:
        if text[-1] in ".?!":
            end = text[-1]
        text = text[:-1]
    text = text.lstrip("(")
    if text.lower().endswith(("'s", "’s")) and len(text) > 3:
        text = text[:-2]
    if text:
        low = text.lower()
        tokens += [Token(text, part) for part in CONTRACTIONS.get(low, (low,))]
    if end:
        tokens.append(Token(end, end, special="end"))
    return tokens


def tokenize(message: str) -> list[Token]:
    """Slack markup resolved, quoted strings kept whole, punctuation turned into separators."""
    text = _LEADING_MENTION.sub("", message.translate(_SMART)).strip()
    if text.lower().startswith("/projects"):
        text = text[len("/projects"):]
    tokens: list[Token] = []
    for m in _SCAN.finditer(text):
        if m.group("user"):
            uid = m.group("uid") or m.group("bare")
            tokens.append(Token(uid, uid.lower(), special="user"))
        elif m.group("channel"):
            tokens.append(Token(m.group("channel"), (m.group("cname") or m.group("cid")).lower(), special="channel"))
        elif m.group("url") is not None:
            tokens += _word(m.group("label") or m.group("url"))
        elif m.group("dq") is not None or m.group("bq") is not None or m.group("sq") is not None:
            inner = next(g for g in (m.group("dq"), m.group("bq"), m.group("sq")) if g is not None)
            tokens.append(Token(inner, inner.lower(), quoted=True))
        elif m.group("sep"):
            tokens.append(Token(m.group("sep"), m.group("sep"), special="sep"))
        else:
            tokens += _word(m.group("word"))
    while tokens and tokens[-1].special == "sep":
        tokens.pop()
    return tokens


# ---------------------------------------------------------------- phrases
_PHRASES = sorted(PHRASES, key=lambda p: -len(p[0]))
_PHRASE_HEADS = {p[0][0] for p in _PHRASES}


def _match(tokens: list[Token], i: int, pattern: tuple[str, ...]) -> list[Token] | None:
    taken: list[Token] = []
    for j, word in enumerate(pattern):
        if i + j >= len(tokens):
            return None
        tok = tokens[i + j]
        if word == "*":
            if not tok.plain and not tok.quoted:
                return None
        elif not tok.plain or tok.low != word:
            return None
        taken.append(tok)
    return taken


def rewrite_phrases(tokens: list[Token]) -> list[Token]:
    """Replace slang and multi-word phrases by canonical words ("get rid of" → "delete")."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.plain and tok.low in _PHRASE_HEADS:
            for pattern, replacement in _PHRASES:
                if pattern[0] != tok.low:
                    continue
                taken = _match(tokens, i, pattern)
                if taken is None:
                    continue
                gap = next((t for t, w in zip(taken, pattern, strict=True) if w == "*"), None)
                text = " ".join(t.text for t in taken if t is not gap)
                out += [gap if (w == "*" and gap is not None) else Token(text, w) for w in replacement]
                i += len(pattern)
                break
            else:
                out.append(tok)
                i += 1
            continue
        out.append(tok)
        i += 1
    return out


# ---------------------------------------------------------------- typos
_LOOKS_LIKE_VALUE = re.compile(r"[\d:/_.#@%=*\-]")


def correction_vocabulary(extra: Iterable[str] = ()) -> tuple[str, ...]:
    words = set(ACT_WORDS) | set(OBJ_WORDS) | set(KIND_WORDS) | set(PAST_ACTS) | ALL_WORDS | set(extra)
    words |= {"project", "projects", "everything", "provisioning", "digest", "whoami"}
    return tuple(sorted(w for w in words if not w.startswith("_") and len(w) >= 3))


_SUFFIXES = frozenset({"s", "es", "d", "ed", "ing", "er", "ers", "ings"})


@lru_cache(maxsize=8)
def _stems(vocabulary: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for v in vocabulary if len(v) >= 4)


def fix_typos(tokens: list[Token], vocabulary: tuple[str, ...], known: Callable[[str], bool],
              name_score: Callable[[str], float]) -> list[Token]:
    """Correct a word that is no known word, name or value to the closest command word ("lsit" → "list").

    `known(word)` says whether the word is a name or target already; `name_score(word)` is how close it
    comes to a live name, so that "clikstream" stays for the name matcher instead of becoming a verb.
    """
    out: list[Token] = []
    vocab_set = set(vocabulary)
    for tok in tokens:
        word = tok.low
        if (not tok.plain or len(word) < 3 or word in vocab_set or word in ENGLISH or word in QUESTION_WORDS
                or _LOOKS_LIKE_VALUE.search(word) or known(word)):
            out.append(tok)
            continue
        if any(word.startswith(v) and word[len(v):] in _SUFFIXES for v in _stems(vocabulary)):
            out.append(tok)  # "scheduled", "reporting": a form of a known word, not a typo
            continue
        cutoff = 85 if len(word) == 3 else 75 if len(word) == 4 else 78
        best = process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff)
        if best is None or (len(word) <= 4 and best[0][0] != word[0]) or name_score(word) >= best[1]:
            out.append(tok)
            continue
        out.append(replace(tok, low=best[0], typed=tok.text))
    return out


# ---------------------------------------------------------------- several asks
_STARTERS_SKIP = frozenset({"also", "then", "please", "can", "could", "you", "would", "me", "pls", "and", "finally",
                            "afterwards", "after", "that"})


def _starts_clause(tokens: list[Token], i: int) -> bool:
    """Whether the words from `i` on begin a new ask (a verb or a question word comes first)."""
    while i < len(tokens) and tokens[i].plain and tokens[i].low in _STARTERS_SKIP:
        i += 1
    if i >= len(tokens) or not tokens[i].plain:
        return False
    word = tokens[i].low
    return (word in ACT_WORDS or word in QUESTION_WORDS or word in ("whoami", "_count", "_whatabout")
            or word.startswith("_") and word in ("_happened",))


def split_asks(tokens: list[Token]) -> list[list[Token]]:
    """Split at `;`, sentence ends, "and then", "then", and an "and"/"," followed by a new verb."""
    clauses: list[list[Token]] = [[]]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        cut = False
        skip = 1
        if tok.special == "end" or (tok.special == "sep" and tok.low == ";"):
            if tok.special == "end" and clauses[-1]:
                clauses[-1].append(tok)  # keeps "?" for the question check
            cut = True
        elif tok.plain and tok.low == "then" and clauses[-1]:
            cut = True
        elif tok.special == "sep" and tok.low == ",":
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.plain and nxt.low in ("then", "and") or _starts_clause(tokens, i + 1):
                cut = True
        elif tok.plain and tok.low in ("and", "also", "plus") and clauses[-1]:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.plain and nxt.low == "then":
                cut, skip = True, 2
            elif _starts_clause(tokens, i + 1):
                cut = True
        if cut:
            if clauses[-1]:
                clauses.append([])
            i += skip
            continue
        if tok.special != "sep":
            clauses[-1].append(tok)
        i += 1
    return [c for c in clauses if c]
