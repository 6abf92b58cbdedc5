"""Times and schedules in words → the audit's `since`/`until` and the digest schedule grammar.

"every weekday at 8:30" → `weekdays 08:30`; "every morning at 9" → `daily 09:00`; "mondays 10am" →
`weekly mon 10:00`; "every hour" → `hourly`. "yesterday" → since yesterday 00:00 until today 00:00;
"today", "this week", "last week", "in the last 2 days", "since 2026-11-01".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.assistant.vocabulary import DAY_PARTS, WEEKDAYS

_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?(am|pm|a\.m\.|p\.m\.|h)?$")
_CRON = re.compile(r"(?<!\S)([0-9*][0-9*,/\-]*(?:\s+[0-9*][0-9*,/\-]*){4})(?!\S)")
_UNITS = {"minute": "minutes", "minutes": "minutes", "min": "minutes", "mins": "minutes", "m": "minutes",
          "hour": "hours", "hours": "hours", "h": "hours", "hrs": "hours", "hr": "hours",
          "day": "days", "days": "days", "d": "days", "week": "weeks", "weeks": "weeks", "w": "weeks",
          "month": "months", "months": "months"}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10, "a": 1, "an": 1}
_RECURRING = {"every", "each", "daily", "hourly", "weekly", "weekdays", "nightly", "mornings", "evenings"}


def _is_period_word(word: str) -> bool:
    return word in ("day", "days", "hour", "week", "weekday", "weekdays", "workday", "workdays", "working", "other") \
        or word in DAY_PARTS or word in WEEKDAYS


def clock_time(word: str, after: str = "") -> str | None:
    """`9` / `9am` / `8:30` / `5pm` / `17:00` (and `after` = "pm"/"am") → `HH:MM`, else None."""
    m = _CLOCK.match(word)
    if not m:
        return DAY_PARTS.get(word) if word in ("noon", "midnight") else None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    suffix = (m.group(3) or after or "").replace(".", "")
    if suffix == "pm" and hour < 12:
        hour += 12
    if suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


@dataclass(frozen=True)
class Found:
    value: str
    used: frozenset[int]  # indices of the words it was read from


def find_schedule(words: list[str]) -> Found | None:
    """A digest schedule, only when the words say it recurs ("every", "daily", "on mondays" …)."""
    text = " ".join(words)
    cron = _CRON.search(text)
    if cron:
        start = len(text[:cron.start()].split())
        return Found(cron.group(1), frozenset(range(start, start + 5)))
    recurring = [i for i, w in enumerate(words)
                 if (w in _RECURRING and w not in ("every", "each"))
                 or (w in WEEKDAYS and w.endswith("s") and len(w) > 4)
                 or (w in ("every", "each") and i + 1 < len(words) and _is_period_word(words[i + 1]))]
    if not recurring:
        return None
    used: set[int] = set(recurring)
    days = ""
    day = ""
    part_time = ""
    at = ""
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in ("weekday", "weekdays", "workday", "workdays") or (w == "working" and nxt == "days"):
            days = "weekdays"
            used.add(i)
        elif w in WEEKDAYS and w not in ("sun", "sat", "wed"):
            day = WEEKDAYS[w]
            used.add(i)
        elif w in ("day", "days") and i > 0 and words[i - 1] in ("every", "each"):
            days = days or "daily"
            used.add(i)
        elif w == "hour" and i > 0 and words[i - 1] in ("every", "each"):
            days = "hourly"
            used.add(i)
        elif w in ("hourly", "daily", "weekly"):
            days = days or w
        elif w in DAY_PARTS and w not in ("noon", "midnight"):
            part_time = part_time or DAY_PARTS[w]
            used.add(i)
        t = clock_time(w, nxt if nxt in ("am", "pm") else "")
        if t and (i > 0 and words[i - 1] in ("at", "@", "by", "around") or not w.isdigit()):
            at = t
            used.add(i)
            if nxt in ("am", "pm"):
                used.add(i + 1)
            if i > 0 and words[i - 1] in ("at", "@", "by", "around"):
                used.add(i - 1)
    if days == "hourly":
        return Found("hourly", frozenset(used))
    when = at or part_time or "09:00"
    if day and days != "weekdays":
        return Found(f"weekly {day} {when}", frozenset(used))
    if days == "weekly":
        return Found(f"weekly mon {when}", frozenset(used))
    return Found(f"{days or 'daily'} {when}", frozenset(used))


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _stamp(moment: datetime, utc: bool) -> str:
    if moment.hour == 0 and moment.minute == 0 and utc:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%dT%H:%M") + ("" if utc else moment.strftime("%z")[:3] + ":" +
                                                  moment.strftime("%z")[3:])


@dataclass(frozen=True)
class Period:
    since: str = ""
    until: str = ""
    used: frozenset[int] = frozenset()


def find_period(words: list[str], now: datetime, tz: str = "UTC") -> Period | None:
    """An audit time window in words, as the audit grammar's `since`/`until` values."""
    local = now.astimezone(zone(tz))
    utc = local.utcoffset() == timedelta(0)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for i, w in enumerate(words):
        prev = words[i - 1] if i > 0 else ""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w == "yesterday":
            start = midnight - timedelta(days=1)
            if prev == "since":
                return Period(_stamp(start, utc), "", frozenset({i - 1, i}))
            return Period(_stamp(start, utc), _stamp(midnight, utc), frozenset({i}))
        if w in ("today", "tonight"):
            return Period(_stamp(midnight, utc), "", frozenset({i} | ({i - 1} if prev == "since" else set())))
        if w == "week" and prev == "this":
            return Period(_stamp(midnight - timedelta(days=local.weekday()), utc), "", frozenset({i - 1, i}))
        if w == "month" and prev == "this":
            return Period(_stamp(midnight.replace(day=1), utc), "", frozenset({i - 1, i}))
        if w in ("last", "past", "previous") and nxt:
            j = i + 1
            amount = 1
            if words[j].isdigit() or words[j] in _NUMBERS:
                amount = int(words[j]) if words[j].isdigit() else _NUMBERS[words[j]]
                j += 1
            unit = _UNITS.get(words[j]) if j < len(words) else None
            if unit and not (j == i + 1 and unit == "minutes"):
                delta = timedelta(days=30 * amount) if unit == "months" else timedelta(**{unit: amount})
                return Period(_stamp(local.replace(second=0, microsecond=0) - delta, utc), "",
                              frozenset(range(i - (1 if prev in ("in", "over", "during", "for") else 0), j + 1)))
        if w == "since" and re.fullmatch(r"\d{4}-\d{2}-\d{2}(t[\d:]+)?", nxt):
            return Period(nxt.upper() if "t" in nxt else nxt, "", frozenset({i, i + 1}))
        m = re.fullmatch(r"(\d+)([hdw])", w)
        if m and prev in ("since", "last", "past"):
            unit = {"h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
            moment = local.replace(second=0, microsecond=0) - timedelta(**{unit: int(m.group(1))})
            return Period(_stamp(moment, utc), "", frozenset({i - 1, i}))
    return None
