"""One ask, read into a Frame: its verbs, the things it names, and every value it carries.

Names are looked up in the live Catalog: exact (any case, spaces or dashes), then close spellings
(rapidfuzz), then a part of a name ("analytics" → analytics-prod, analytics-dwh). Job ids match by
prefix. Values with a shape of their own (regions, plans, `name:type` columns, s3 prefixes, dates,
percentages, channels, mentions) are read by pattern; times and schedules by `timewords`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process

from bot.assistant.catalog import Catalog, NameEntry
from bot.assistant.text import Token
from bot.assistant.timewords import Period, find_period, find_schedule
from bot.assistant.vocabulary import (
    ACT_WORDS,
    ALL_WORDS,
    DIGEST_KIND_WORDS,
    FILLER,
    HEALTH_WORDS,
    KIND_WORDS,
    OBJ_WORDS,
    OUTCOME_WORDS,
    PAST_ACTS,
    PROJECT_STATES,
    PRONOUNS,
    QUESTION_WORDS,
    SECRET_WORDS,
    UP_WORDS,
)

PRIMARY_OBJS = ("project", "table", "job", "connection", "workspace", "digest", "audit", "provisioning", "target",
                "role")
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*:[a-z]+$")
_REGION = re.compile(r"^(us|eu|ap|ca|sa|me|af)-[a-z]+-\d$")
_PLAN = re.compile(r"^a\.\d\d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTERVAL = re.compile(r"^\d{4}-\d{2}-\d{2}(t[\d:]+z?)?/\d{4}-\d{2}-\d{2}(t[\d:]+z?)?$")
_DURATION = re.compile(r"^(\d+)([hd])$")
_PERCENT = re.compile(r"^(\d{1,3})%$")
_HEXISH = re.compile(r"^[0-9a-f]{4,}(-[0-9a-f]{1,12}){0,4}$")
_TF_PROJECT = re.compile(r"^prj-[a-z0-9]{8,}$", re.I)
_TF_WORKSPACE = re.compile(r"^ws-[a-z0-9]{8,}$", re.I)
_PHOENIX_ID = re.compile(r"^UHJvamVjdD[A-Za-z0-9+/]+=*$")
_PROVISION_ID = re.compile(r"^ma-[0-9a-f]{6,}$")
_CHANNEL_NAME = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")
_IANA = re.compile(r"^[A-Z][A-Za-z]+/[A-Z][A-Za-z_]+$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.]*[-_][a-z0-9_.-]*[a-z0-9]$|^[a-z]+[0-9][a-z0-9]*$")
_SQL = re.compile(r"^\s*(insert|replace|select|with)\b", re.I)
_NAME_BEFORE = {"called", "named", "name"}
_NEW_THING = {"project", "table", "connection", "job"}
_NOT_A_NEW_NAME = FILLER | set(ACT_WORDS) | set(OBJ_WORDS) | set(KIND_WORDS) | {
    "with", "on", "in", "using", "for", "snowflake", "redshift", "aggregate", "detail", "s3", "kinesis", "sql",
    "batch", "push_streaming", "plan", "region", "description", "that", "which"}


@dataclass(frozen=True)
class Hit:
    entry: NameEntry
    score: float


@dataclass
class Mention:
    """Words that name something in the catalog, with every reading, best first."""

    text: str
    start: int
    end: int
    hits: list[Hit]
    quoted: bool = False

    def best(self, what: str | None = None) -> list[Hit]:
        hits = [h for h in self.hits if what is None or h.entry.what == what]
        if not hits:
            return []
        top = hits[0].score
        return [h for h in hits if h.score >= top - 4]


@dataclass
class Frame:
    tokens: list[Token]
    words: list[str]
    acts: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)
    objs: list[str] = field(default_factory=list)
    aux: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    target_kinds: list[str] = field(default_factory=list)  # the kinds of the targets named
    mentions: list[Mention] = field(default_factory=list)
    jobs: list[Mention] = field(default_factory=list)
    raw_job_ids: list[str] = field(default_factory=list)
    #: Words shaped like names ("web-2", "ledger_2025") that the live lists do not know (yet).
    raw_names: list[str] = field(default_factory=list)
    quoted: list[tuple[int, str]] = field(default_factory=list)
    numbers: list[tuple[int, int]] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    channel: str = ""
    schedule: str = ""
    period: Period | None = None
    values: dict[str, Any] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    @property
    def question(self) -> bool:
        return "question" in self.flags

    def has(self, *words: str) -> bool:
        return any(w in self.words for w in words)

    @property
    def every_kind(self) -> list[str]:
        """Kinds said outright ("TFC") and kinds of the targets named ("polaris-eu")."""
        return list(dict.fromkeys(self.kinds + self.target_kinds))

    def primary_objs(self) -> list[str]:
        return [o for o in self.objs if o in PRIMARY_OBJS]


# ---------------------------------------------------------------- names
def _exact(catalog: Catalog, text: str) -> list[Hit]:
    return [Hit(e, 100.0) for e in catalog.by_folded.get(text.casefold(), ())]


def _components(catalog: Catalog, word: str) -> list[Hit]:
    return [Hit(e, 70.0) for e in catalog.by_component.get(word, ())]


def _fuzzy(catalog: Catalog, word: str) -> list[Hit]:
    if len(word) < 5:
        return []
    found = process.extract(word, catalog.folded_names, scorer=fuzz.ratio, score_cutoff=84, limit=4)
    return [Hit(e, float(score) - 5) for name, score, _ in found for e in catalog.by_folded[name]]


def name_score(catalog: Catalog, word: str) -> float:
    """How close `word` comes to any live name (for the typo corrector)."""
    best = process.extractOne(word, catalog.folded_names, scorer=fuzz.ratio) if catalog.folded_names else None
    return float(best[1]) if best else 0.0


def _job_hits(catalog: Catalog, word: str) -> list[Hit]:
    return [Hit(e, 100.0) for e in catalog.job_entries if e.value.lower().startswith(word)]


# ---------------------------------------------------------------- reading
def _polarity(words: list[str], i: int) -> bool:
    window = words[max(0, i - 4):i + 3]
    return not any(w in ("disable", "stop", "off", "remove", "without", "no", "unprotect", "drop", "unset", "delete")
                   for w in window)


def _after(words: list[str], i: int, skip: set[str] | None = None) -> int | None:
    j = i + 1
    while j < len(words) and words[j] in (skip or set()):
        j += 1
    return j if j < len(words) else None


def read_frame(tokens: list[Token], catalog: Catalog, targets: Mapping[str, str], now: datetime,
               tz: str = "UTC", reserved: frozenset[str] = frozenset(),
               registry_acts: frozenset[str] = frozenset()) -> Frame:
    """Read one ask. `reserved` words (the registry's literal values) are never read as parts of names;
    `registry_acts` (the registry's own verbs) are verbs even when the vocabulary has no synonym for them."""
    words = [t.low for t in tokens]
    f = Frame(tokens=tokens, words=words)
    if tokens and tokens[-1].special == "end":
        if tokens[-1].low == "?":
            f.flags.add("question")
        f.used.add(len(tokens) - 1)
    if words and words[0] in QUESTION_WORDS | {"_count", "_whatabout"}:
        f.flags.add("question")
    for t in tokens:
        if t.typed:
            f.notes.append(f"read `{t.typed}` as `{t.low}`")

    # values with a shape of their own
    for i, t in enumerate(tokens):
        w = t.low
        if t.special == "user":
            f.users.append(t.text)
            f.used.add(i)
        elif t.special == "channel":
            f.channel = t.text
            f.used.add(i)
        elif t.quoted:
            f.quoted.append((i, t.text))
        elif _CHANNEL_NAME.match(w) and not w[1:].isdigit():
            f.channel = w
            f.used.add(i)
        elif w.startswith("#") and w[1:].isdigit():
            f.numbers.append((i, int(w[1:])))
            f.used.add(i)
        elif w.isdigit():
            f.numbers.append((i, int(w)))
        elif _COLUMN.match(w) and not w.startswith(("s3:", "arn:", "http")):
            f.values.setdefault("column", []).append(t.text)
            f.used.add(i)
        elif w.startswith("s3://"):
            f.values.setdefault("prefix", []).append(t.text)
            f.used.add(i)
        elif w.startswith("arn:"):
            f.values["role_arn"] = t.text
            f.used.add(i)
        elif _INTERVAL.match(w):
            f.values.setdefault("interval", []).append(t.text)
            f.used.add(i)
        elif _REGION.match(w):
            f.values["region"] = w
            f.used.add(i)
        elif _PLAN.match(w):
            f.values["plan"] = w
            f.used.add(i)
        elif _PERCENT.match(w):
            f.values["threshold"] = int(_PERCENT.match(w).group(1))  # type: ignore[union-attr]
            f.used.add(i)
        elif _TF_PROJECT.match(w):
            f.values["raw_project"] = ("terraform", t.text)
            f.used.add(i)
        elif _TF_WORKSPACE.match(w):
            f.values.setdefault("raw_workspaces", []).append(t.text)
            f.used.add(i)
        elif _PHOENIX_ID.match(t.text):
            f.values["raw_project"] = ("phoenix", t.text)
            f.used.add(i)
        elif _PROVISION_ID.match(w):
            f.values["provision_id"] = w
            f.used.add(i)
        elif w in ("utc", "gmt") or _IANA.match(t.text):
            f.values["tz"] = "UTC" if w in ("utc", "gmt") else t.text
            f.used.add(i)

    # date ranges in words: "from 2024-01-01 to 2024-02-01", "between … and …"
    for i, w in enumerate(words):
        if w in ("from", "between") and i + 3 < len(words) and _DATE.match(words[i + 1]) and \
                words[i + 2] in ("to", "and", "until", "-") and _DATE.match(words[i + 3]):
            f.values.setdefault("interval", []).append(f"{words[i + 1]}/{words[i + 3]}")
            f.used.update(range(i, i + 4))

    schedule = find_schedule(words)
    if schedule:
        f.schedule = schedule.value
        f.used |= schedule.used
    period = find_period(words, now, tz)
    if period:
        f.period = period
        f.used |= period.used

    # targets and back-end kinds
    for i, w in enumerate(words):
        if not tokens[i].plain:
            continue
        if tokens[i].text in targets or w in targets:
            name = tokens[i].text if tokens[i].text in targets else w
            f.targets.append(name)
            f.target_kinds.append(targets[name])
            f.used.add(i)
        elif w in KIND_WORDS:
            f.kinds.append(KIND_WORDS[w])
            f.used.add(i)

    _read_names(f, catalog, reserved)
    _read_new_names(f)
    _read_words(f, registry_acts)
    _read_context_values(f)
    return f


def _read_names(f: Frame, catalog: Catalog, reserved: frozenset[str]) -> None:
    tokens, words = f.tokens, f.words
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        if i in f.used or t.special:
            i += 1
            continue
        if t.quoted:
            hits = _exact(catalog, t.text) or _job_hits(catalog, t.low)
            if hits:
                target = f.jobs if hits[0].entry.what == "job" else f.mentions
                target.append(Mention(t.text, i, i + 1, hits, quoted=True))
                f.used.add(i)
            i += 1
            continue
        matched = False
        for size in (3, 2):
            span = [k for k in range(i, min(i + size, n)) if tokens[k].plain and k not in f.used]
            if len(span) < size or span[-1] - span[0] != size - 1:
                continue
            for joiner in ("-", " ", "_"):
                text = joiner.join(tokens[k].text for k in span)
                hits = _exact(catalog, text)
                if hits:
                    if words[span[-1]] in ("project", "projects") and size == 2:
                        hits += [h for h in _exact(catalog, tokens[span[0]].text) if h.entry.what == "project"]
                    f.mentions.append(Mention(" ".join(tokens[k].text for k in span), i, i + size, hits))
                    f.used.update(span)
                    i += size
                    matched = True
                    break
            if matched:
                break
        if matched:
            continue
        w = t.low
        if w in FILLER or w.startswith("_") or w in ACT_WORDS or w in OBJ_WORDS or w in KIND_WORDS or \
                w in PAST_ACTS or w in QUESTION_WORDS:
            i += 1
            continue
        hits = _exact(catalog, t.text)
        if not hits and _HEXISH.match(w) and any(c.isdigit() for c in w):
            jobs = _job_hits(catalog, w)
            if jobs:
                f.jobs.append(Mention(t.text, i, i + 1, jobs))
            else:
                f.raw_job_ids.append(t.text)
            f.used.add(i)
            i += 1
            continue
        if not hits and w not in HEALTH_WORDS and w not in UP_WORDS and not w.isdigit() and w not in reserved:
            hits = _fuzzy(catalog, w) or _components(catalog, w)
        if hits:
            hits.sort(key=lambda h: -h.score)
            f.mentions.append(Mention(t.text, i, i + 1, hits))
            f.used.add(i)
            if hits[0].score < 100 and hits[0].score > 70:
                f.notes.append(f"read `{t.text}` as `{hits[0].entry.value}`")
        i += 1


def _read_words(f: Frame, registry_acts: frozenset[str]) -> None:
    for i, w in enumerate(f.words):
        tok = f.tokens[i]
        if not tok.plain:
            continue
        if w in ACT_WORDS and i not in f.used:
            f.acts.append(ACT_WORDS[w])
        elif w in registry_acts and i not in f.used and w not in OBJ_WORDS:
            f.acts.append(w)
        elif w in PAST_ACTS and i not in f.used:
            f.past.append(PAST_ACTS[w])
            if w == "reset":
                f.acts.append("reset")
        if w in OBJ_WORDS and i not in f.used:
            obj = OBJ_WORDS[w]
            (f.objs if obj in PRIMARY_OBJS else f.aux).append(obj)
            if obj == "_ones":
                f.flags.add("ones")
        if w in ALL_WORDS:
            f.flags.add("all")
        nxt_word = f.words[i + 1] if i + 1 < len(f.words) else ""
        prev_word = f.words[i - 1] if i > 0 else ""
        if (w in PRONOUNS and not (w == "there" and (prev_word in ("is", "are") or nxt_word in ("is", "are")))) or \
                (w in ("that", "this") and OBJ_WORDS.get(nxt_word) in PRIMARY_OBJS and nxt_word != "audit"):
            f.flags.add("it")
        if w in ("_storage", "_count", "_most", "_whatabout", "_happened", "_alldata", "_sortname", "_here",
                 "_autodestroy", "_jobhealth", "_secret"):
            f.flags.add(w[1:])
        if w in ("most", "biggest", "largest", "top"):
            f.flags.add("most")
        if w in ("here",):
            f.flags.add("here")
        if w in UP_WORDS:
            f.flags.add("up")
        if w in SECRET_WORDS:
            f.flags.add("secret")
        if w in ("i", "my", "mine", "myself"):
            f.flags.add("me")
        if w in ("whole", "fully", "end-to-end", "entire"):
            f.flags.add("whole")
        if w in ("now", "immediately"):
            f.flags.add("now")
        if w in ("_delprot", "_stopprot"):
            field_name = "deletion_protection" if w == "_delprot" else "stop_protection"
            f.values[field_name] = _polarity(f.words, i) or "protect" in f.words
        if w in ("storage", "disk", "space", "full", "capacity", "size"):
            f.flags.add("storage")
        if i not in f.used and w not in FILLER and w not in ACT_WORDS and w not in OBJ_WORDS and \
                w not in registry_acts and \
                w not in KIND_WORDS and w not in PAST_ACTS and not w.startswith("_") and w not in HEALTH_WORDS \
                and w not in OUTCOME_WORDS and w not in DIGEST_KIND_WORDS and w not in UP_WORDS and \
                w not in PROJECT_STATES and not w.isdigit() and not any(m.start <= i < m.end for m in f.mentions):
            f.unknown.append(w)
            if _SLUG.match(w) and not w.replace("-", "").isdigit():
                f.raw_names.append(tok.text)


def _claim(f: Frame, j: int) -> None:
    """Word `j` is a new name: whatever the name matcher read into it does not stand."""
    f.used.add(j)
    f.mentions = [m for m in f.mentions if not m.start <= j < m.end]


def _read_new_names(f: Frame) -> None:
    """"called X", "named X", "rename A to X": X is new, whatever it resembles."""
    words, tokens = f.words, f.tokens
    for i, w in enumerate(words):
        nxt = i + 1 if i + 1 < len(words) else None
        if nxt is None or not (tokens[nxt].plain or tokens[nxt].quoted):
            continue
        if w in _NAME_BEFORE and "new_name" not in f.values and words[nxt] not in ("like",):
            f.values["new_name"] = tokens[nxt].text
            _claim(f, nxt)
        if w in ("to", "as", "into") and "rename" in words[:i] and "rename_to" not in f.values:
            f.values["rename_to"] = tokens[nxt].text
            _claim(f, nxt)


def _read_context_values(f: Frame) -> None:
    words, tokens = f.words, f.tokens

    def text_at(j: int) -> str:
        return tokens[j].text

    for i, w in enumerate(words):
        nxt = _after(words, i)
        if w in ("description", "described", "describe", "saying", "says") and "quoted_description" not in f.values:
            q = next((t for j, t in f.quoted if i < j <= i + 3), None)
            if q is not None:
                f.values["quoted_description"] = q
        if w == "bucket" and nxt is not None:
            f.values["bucket"] = text_at(nxt)
            f.used.add(nxt)
        if w == "stream" and nxt is not None and words[nxt] not in ("with", "in"):
            f.values["stream"] = text_at(nxt)
            f.used.add(nxt)
        if w == "prefix" and nxt is not None and not words[nxt].startswith("s3://"):
            f.values.setdefault("prefix", []).append(text_at(nxt))
            f.used.add(nxt)
        if w in ("containing", "contains", "matching", "match", "like") and nxt is not None:
            f.values["name_filter"] = text_at(nxt)
            _claim(f, nxt)
        if w == "with" and (words[i + 2:i + 5] == ["in", "the", "name"] or words[i + 2:i + 4] == ["in", "name"]):
            f.values["name_filter"] = text_at(i + 1)
            _claim(f, i + 1)
        if w == "page" and nxt is not None and words[nxt].isdigit():
            f.values["page"] = int(words[nxt])
            f.used.add(nxt)
        if w in ("last", "top", "latest", "recent") and nxt is not None and words[nxt].isdigit() and \
                nxt not in f.used:
            f.values["last"] = int(words[nxt])
            f.used.add(nxt)
        if w.isdigit() and i + 1 < len(words) and words[i + 1] in ("lines", "logs", "entries", "rows"):
            f.values.setdefault("last", int(w))
        if w == "_autodestroy":
            for j in range(i + 1, min(i + 5, len(words))):
                m = _DURATION.match(words[j])
                if m:
                    f.values["auto_destroy"] = words[j]
                    f.used.add(j)
                    break
                if words[j].isdigit() and j + 1 < len(words) and words[j + 1] in ("days", "day", "hours", "hour"):
                    f.values["auto_destroy"] = words[j] + ("d" if words[j + 1].startswith("day") else "h")
                    f.used.update({j, j + 1})
                    break
        if w in ("reverse", "descending", "z-a") or words[i:i + 3] == ["z", "to", "a"]:
            f.values["sort"] = "-name"
        if w == "_sortname":
            f.values.setdefault("sort", "name")
        if w in ("starter",) and ("plan" in words or "on" in words):
            f.values.setdefault("plan", "starter")
            f.used.add(i)
        if w in ("snowflake", "redshift"):
            f.values["warehouse"] = w
            f.used.add(i)
    for j, q in f.quoted:
        if _SQL.match(q):
            f.values["query"] = q
            f.used.add(j)
    # a new thing's name: the first free word after "project"/"table"/"connection" when creating
    if "new_name" not in f.values:
        for i, w in enumerate(words):
            if w in _NEW_THING and i + 1 < len(words):
                j = i + 1
                tok = tokens[j]
                if j in f.used and not tok.quoted:
                    continue
                if (tok.plain or tok.quoted) and words[j] not in _NOT_A_NEW_NAME and \
                        not any(m.start <= j < m.end for m in f.mentions) and not words[j].isdigit():
                    f.values["new_name"] = tok.text
                    f.used.add(j)
                    break
    if "new_name" not in f.values:
        free = [(j, q) for j, q in f.quoted if j not in f.used and q != f.values.get("quoted_description")
                and not any(m.start == j for m in f.mentions)]
        if free and len(f.quoted) >= 2:
            f.values["new_name"] = free[0][1]
