"""Honest discounts: the lowest price of the last 30 days and the announced reduction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pricegraph.errors import GuardrailError
from pricegraph.pricing.guardrails.memory import (
    PriceMemory,
    announced_discount,
    lowest_price_in_window,
)

NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_lowest_counts_changes_in_the_window_and_the_price_in_force_at_its_start() -> None:
    history = [
        (days_ago(60), 80.0),
        (days_ago(40), 100.0),
        (days_ago(10), 90.0),
        (days_ago(2), 120.0),
    ]
    assert lowest_price_in_window(history, NOW) == 90.0
    # 100 was in force when the window opened although it was set 40 days ago.
    assert lowest_price_in_window([(days_ago(60), 80.0), (days_ago(40), 100.0)], NOW) == 100.0
    assert lowest_price_in_window(history, NOW, days=5) == 90.0
    assert lowest_price_in_window(list(reversed(history)), NOW) == 90.0


def test_changes_at_or_after_now_do_not_count() -> None:
    history = [(days_ago(20), 100.0), (NOW, 70.0), (NOW + timedelta(days=1), 50.0)]
    assert lowest_price_in_window(history, NOW) == 100.0
    assert lowest_price_in_window([(NOW, 70.0)], NOW) is None
    assert lowest_price_in_window([], NOW) is None


def test_naive_times_are_utc_and_zones_are_respected() -> None:
    naive_now = datetime(2024, 6, 30, 12)
    assert lowest_price_in_window([(datetime(2024, 6, 20), 90.0)], naive_now) == 90.0
    plus_two = timezone(timedelta(hours=2))
    # 2024-06-30 13:00+02:00 is 11:00 UTC, before NOW: it counts.
    assert (
        lowest_price_in_window(
            [(days_ago(40), 100.0), (datetime(2024, 6, 30, 13, tzinfo=plus_two), 60.0)], NOW
        )
        == 60.0
    )


@pytest.mark.parametrize(
    ("history", "days", "message"),
    [
        ([("2024-06-01", 1.0)], 30, "price history entry 0: expected a datetime, got '2024-06-01'"),
        (
            [(days_ago(1), -1.0)],
            30,
            "price history entry 0: expected a finite price >= 0, got -1.0",
        ),
        ([(days_ago(1), float("nan"))], 30, "got nan"),
        ([], 0, "expected days > 0, got 0"),
    ],
)
def test_invalid_history(history: list, days: float, message: str) -> None:
    with pytest.raises(GuardrailError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lowest_price_in_window(history, NOW, days)


@pytest.mark.parametrize(
    ("price", "lowest", "expected"),
    [
        (80.0, 100.0, (100.0, 20.0)),
        (85.95, 99.0, (99.0, 13.1)),  # 13.18 % rounded down
        (66.67, 100.0, (100.0, 33.3)),
        (100.0, 100.0, (100.0, 0.0)),
        (120.0, 100.0, (100.0, 0.0)),
        (0.0, 100.0, (100.0, 100.0)),
        (5.0, 0.0, (0.0, 0.0)),
    ],
)
def test_announced_discount(price: float, lowest: float, expected: tuple[float, float]) -> None:
    assert announced_discount(price, lowest) == expected


def test_announced_discount_refuses_bad_amounts() -> None:
    with pytest.raises(
        GuardrailError, match="lowest_price_30d: expected a finite price >= 0, got inf"
    ):
        announced_discount(10.0, float("inf"))


def test_price_memory_is_immutable_and_answers_the_lowest() -> None:
    empty = PriceMemory()
    memory = empty.record("a", days_ago(50), 100.0).record("a", days_ago(20), 80.0)
    memory = memory.record_many([("a", days_ago(5), 95.0), ("b", days_ago(3), 10.0)])
    assert empty.product_ids == ()
    assert memory.product_ids == ("a", "b")
    assert memory.lowest("a", NOW) == 80.0
    assert memory.lowest("b", NOW) == 10.0
    assert memory.lowest("unknown", NOW) is None
    # The reduced price recorded now is not measured against itself.
    reduced = memory.record("a", NOW, 60.0)
    assert reduced.lowest("a", NOW) == 80.0
    assert announced_discount(60.0, reduced.lowest("a", NOW)) == (80.0, 25.0)


def test_price_memory_prunes_what_can_no_longer_matter() -> None:
    memory = PriceMemory(window_days=30).record_many(
        [
            ("a", days_ago(90), 50.0),
            ("a", days_ago(45), 120.0),
            ("a", days_ago(40), 110.0),
            ("a", days_ago(10), 100.0),
        ]
    )
    # Window of the newest change (10 days ago) opens 40 days ago: 110 was in force then.
    assert memory.history("a") == ((days_ago(40), 110.0), (days_ago(10), 100.0))
    assert memory.lowest("a", NOW) == 100.0
    assert memory.lowest("a", days_ago(10) + timedelta(seconds=1)) == 100.0
    same_time = memory.record("a", days_ago(10), 99.0)
    assert same_time.history("a")[-1] == (days_ago(10), 99.0)


def test_price_memory_validates() -> None:
    with pytest.raises(GuardrailError, match="window_days: expected days > 0, got -1"):
        PriceMemory(window_days=-1)
    with pytest.raises(
        GuardrailError, match="price change 0 of product 'a': expected a finite price >= 0, got -5"
    ):
        PriceMemory().record("a", NOW, -5)
