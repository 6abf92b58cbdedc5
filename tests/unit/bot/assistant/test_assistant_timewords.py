"""Schedules and times in words → the digest schedule grammar and the audit's since/until."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.assistant.timewords import clock_time, find_period, find_schedule
from bot.scheduler import parse_schedule

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(("words", "schedule"), [
    ("every weekday at 8:30", "weekdays 08:30"),
    ("every morning at 9", "daily 09:00"),
    ("daily at 5pm", "daily 17:00"),
    ("every day at 7:15", "daily 07:15"),
    ("every monday at 10am", "weekly mon 10:00"),
    ("on fridays at 17:30", "weekly fri 17:30"),
    ("every hour", "hourly"),
    ("hourly", "hourly"),
    ("every evening", "daily 18:00"),
    ("weekly", "weekly mon 09:00"),
    ("at noon every day", "daily 12:00"),
    ("30 8 * * 1-5", "30 8 * * 1-5"),
])
def test_schedules_in_words_use_the_digest_grammar(words: str, schedule: str) -> None:
    found = find_schedule(words.split())
    assert found is not None and found.value == schedule
    parse_schedule(found.value.split(), "UTC")  # the scheduler reads it


@pytest.mark.parametrize("words", ["delete every project", "nuke every terraform project", "list all projects",
                                   "show digest 3", "stop job 26dce515"])
def test_no_schedule_without_a_recurrence(words: str) -> None:
    assert find_schedule(words.split()) is None


@pytest.mark.parametrize(("words", "since", "until"), [
    ("who deleted stuff yesterday", "2026-11-15", "2026-11-16"),
    ("failed since yesterday", "2026-11-15", ""),
    ("what happened today", "2026-11-16", ""),
    ("this week", "2026-11-16", ""),
    ("last week", "2026-11-09T10:00", ""),
    ("in the last 2 days", "2026-11-14T10:00", ""),
    ("the last 24 hours", "2026-11-15T10:00", ""),
    ("since 2026-11-01", "2026-11-01", ""),
    ("since 3d", "2026-11-13T10:00", ""),
])
def test_periods(words: str, since: str, until: str) -> None:
    period = find_period(words.split(), NOW)
    assert period is not None
    assert (period.since, period.until) == (since, until)


def test_no_period_in_a_count() -> None:
    assert find_period(["show", "the", "last", "20", "audit", "entries"], NOW) is None


def test_periods_in_the_persons_zone() -> None:
    period = find_period(["yesterday"], NOW, "America/New_York")
    assert period is not None
    assert (period.since, period.until) == ("2026-11-15T00:00-05:00", "2026-11-16T00:00-05:00")
    assert datetime.fromisoformat(period.since).astimezone(UTC).hour == 5


@pytest.mark.parametrize(("word", "after", "value"), [
    ("9", "", "09:00"), ("9am", "", "09:00"), ("9", "pm", "21:00"), ("12am", "", "00:00"), ("17:45", "", "17:45"),
    ("noon", "", "12:00"), ("25:00", "", None), ("hello", "", None),
])
def test_clock_times(word: str, after: str, value: str | None) -> None:
    assert clock_time(word, after) == value
