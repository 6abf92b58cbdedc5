"""Type-ahead filtering of external-select options."""

from bot.slack.pickers import filter_names


def test_substring_matches_come_first_then_close_names() -> None:
    names = ["clickstream", "analytics-prod", "marketing-sandbox", "click-archive"]
    assert filter_names(names, "click") == ["click-archive", "clickstream"]
    assert filter_names(names, "clikstream")[0] == "clickstream"


def test_nothing_typed_gives_all_sorted_within_the_limit() -> None:
    assert filter_names(["b", "A", "c"], "") == ["A", "b", "c"]
    assert len(filter_names([f"p{i}" for i in range(300)], "")) == 100
