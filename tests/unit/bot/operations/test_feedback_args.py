"""`/projects misunderstood` arguments: what it takes, and a bad one said in the words a person typed."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.operations.feedback import parse_args


def test_the_arguments_it_takes() -> None:
    assert parse_args(["export", "since", "90d", "last", "5"]) == {"export": True, "since_days": 90, "limit": 5}
    assert parse_args(["SINCE", "7D"]) == {"since_days": 7}


@pytest.mark.parametrize(("args", "said"), [
    (["since", "1x"], "`since` takes a number of days, like `since 30d`."),
    (["since"], "`since` takes a number of days, like `since 30d`."),
    (["last", "many"], "`last` takes a number of messages, like `last 20`."),
    (["yesterday"], "I did not expect `yesterday` here."),
])
def test_a_bad_argument_says_what_it_takes(args: list[str], said: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_args(args)
    assert refused.value.message == said
