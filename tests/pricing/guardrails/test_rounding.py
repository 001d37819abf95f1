"""Whole cents with tolerance for float noise, and price endings inside an interval."""

from __future__ import annotations

import numpy as np
import pytest

from pricegraph.pricing.guardrails.rounding import ceil_cents, floor_cents, round_in_interval


def test_cent_bounds_forgive_float_noise() -> None:
    assert 82.0 * 1.2 == 98.39999999999999
    assert ceil_cents(82.0 * 1.2) == 9840
    assert floor_cents(90 * 1.1) == 9900  # 99.00000000000001
    assert ceil_cents(10.001) == 1001
    assert floor_cents(10.009) == 1000
    assert np.isnan(ceil_cents(np.nan))
    assert ceil_cents(-np.inf) == -np.inf


def run(
    target: float, low: float, high: float, endings: tuple[int, ...], mode: str
) -> tuple[float, bool]:
    cents, has_ending = round_in_interval(
        np.array([target]),
        np.array([low]),
        np.array([high]),
        endings,
        mode,  # type: ignore[arg-type]
    )
    return float(cents[0]), bool(has_ending[0])


@pytest.mark.parametrize(
    ("target", "low", "high", "mode", "expected"),
    [
        (9840.0, 1, np.inf, "nearest", (9850.0, True)),
        (9840.0, 1, np.inf, "down", (9799.0, True)),
        (9840.0, 1, np.inf, "up", (9850.0, True)),
        (9840.0, 9800, np.inf, "down", (9850.0, True)),  # 97.99 below the floor: go up
        (9840.0, 1, 9845, "up", (9799.0, True)),  # 98.50 above the ceiling: go down
        (9840.0, 9800, 9845, "nearest", (9840.0, False)),  # nothing fits: stay on the cent
        (9840.4, 9800, 9845, "nearest", (9840.0, False)),
        (9899.9999999999, 1, np.inf, "down", (9899.0, True)),  # float noise under 98.99
        (50.0, 1, np.inf, "down", (50.0, True)),
        (30.0, 1, np.inf, "down", (50.0, True)),  # no ending in [0.01, 0.30]: go up
    ],
)
def test_round_in_interval(
    target: float, low: float, high: float, mode: str, expected: tuple
) -> None:
    assert run(target, low, high, (50, 99), mode) == expected


def test_without_endings_rounds_half_up_to_the_cent_inside() -> None:
    cents, has_ending = round_in_interval(
        np.array([1000.5, 1000.49, 1000.7]),
        np.array([1, 1, 1]),
        np.array([np.inf, np.inf, 1000]),
        (),
        "nearest",
    )
    assert cents.tolist() == [1001.0, 1000.0, 1000.0]
    assert not has_ending.any()


def test_huge_prices_keep_whole_cents() -> None:
    cents, has_ending = round_in_interval(
        np.array([1e13 + 12.0]), np.array([1.0]), np.array([1e14]), (95,), "up"
    )
    assert cents.tolist() == [1e13 + 95]
    assert has_ending.all()
