"""``nasty_world`` breaks a world by position and refuses arguments it cannot honour."""

from __future__ import annotations

import re

import pytest

from pricegraph.synthetic import WorldConfig, generate_world, nasty_world

SMALL = WorldConfig(seed=2, n_brands=3, n_products=12, n_customers=20, n_days=20)


def test_only_the_named_quirks_change_the_world() -> None:
    clean = generate_world(SMALL)
    world = nasty_world(clean, huge_lines=1, free_lines=1, idle_customers=1)
    assert len(world.customers) == len(clean.customers) + 1
    assert len(world.events) == len(clean.events)
    changed = world.events.compare(clean.events)
    assert len(changed) == 2  # one huge line, one free line
    assert world.truth is clean.truth and world.config is clean.config


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duplicate_every": 1}, "duplicate_every: expected >= 2, got 1"),
        ({"idle_customers": 0}, "idle_customers: expected >= 1, got 0"),
        ({"huge_lines": 10_000}, "huge_lines + free_lines: expected <= "),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        nasty_world(generate_world(SMALL), **kwargs)
