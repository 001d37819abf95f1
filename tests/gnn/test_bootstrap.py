"""Bootstrap intervals over customers: coverage of known cases, pairing, seeding, errors."""

from __future__ import annotations

import numpy as np
import pytest

from pricegraph.gnn.bootstrap import bootstrap_difference, bootstrap_mean


def test_constant_values_give_a_point_interval() -> None:
    interval = bootstrap_mean(np.full(50, 0.25), num_resamples=200)
    assert (interval.mean, interval.low, interval.high) == (0.25, 0.25, 0.25)
    assert interval.excludes_zero and str(interval) == "0.2500 [0.2500, 0.2500]"


def test_interval_brackets_the_mean_and_shrinks_with_more_customers() -> None:
    rng = np.random.default_rng(0)
    small = bootstrap_mean(rng.random(100), seed=1)
    large = bootstrap_mean(rng.random(10_000), seed=1)
    assert small.low < small.mean < small.high
    # Uniform(0, 1): sd 0.289, so the 95 % half-width is about 1.96 * 0.289 / sqrt(n).
    assert small.high - small.low == pytest.approx(2 * 1.96 * 0.289 / 10, rel=0.25)
    assert large.high - large.low == pytest.approx(2 * 1.96 * 0.289 / 100, rel=0.25)


def test_the_same_seed_gives_the_same_interval() -> None:
    values = np.random.default_rng(3).random(40)
    assert bootstrap_mean(values, seed=7) == bootstrap_mean(values, seed=7)
    assert bootstrap_mean(values, seed=7) != bootstrap_mean(values, seed=8)


def test_paired_difference_sees_a_consistent_small_gain() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(500)  # large spread between customers ...
    better = base + 0.01  # ... but the same +0.01 for every one of them
    paired = bootstrap_difference(better, base)
    assert paired.mean == pytest.approx(0.01) and paired.excludes_zero
    assert paired.low == pytest.approx(0.01) and paired.high == pytest.approx(0.01)
    # Unpaired, the two means' intervals overlap: pairing is what separates them.
    assert bootstrap_mean(better).low < bootstrap_mean(base).high
    same = bootstrap_difference(base, rng.permutation(base))
    assert same.low < 0 < same.high and not same.excludes_zero


@pytest.mark.parametrize(
    ("first", "second", "kwargs", "message"),
    [
        (np.zeros(3), np.zeros(4), {}, r"shapes \(3,\) and \(4,\)"),
        (np.zeros(0), np.zeros(0), {}, "non-empty 1-d array"),
        (np.zeros(3), np.zeros(3), {"level": 1.0}, "level=1.0"),
        (np.zeros(3), np.zeros(3), {"num_resamples": 0}, "num_resamples=0"),
    ],
)
def test_bad_arguments_are_refused(first, second, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        bootstrap_difference(first, second, **kwargs)


def test_strata_average_their_means_and_pair_within_each_stratum() -> None:
    from pricegraph.gnn.bootstrap import bootstrap_strata

    first, second = np.full(10, 0.2), np.full(1000, 0.6)
    pooled = bootstrap_strata([first, second], num_resamples=100)
    assert pooled.mean == pytest.approx(0.4)  # equal weight per stratum, not per customer
    assert pooled.low == pytest.approx(0.4) and pooled.high == pytest.approx(0.4)
    rng = np.random.default_rng(0)
    base = [rng.random(300), rng.random(500)]
    gain = bootstrap_strata([b + 0.02 for b in base], base)
    assert gain.mean == pytest.approx(0.02) and gain.excludes_zero
    one = bootstrap_strata([base[0]], seed=4)
    assert one == bootstrap_mean(base[0], seed=4)
    with pytest.raises(ValueError, match="stratum 1: expected the same customers"):
        bootstrap_strata(base, [base[0], base[0]])
    with pytest.raises(ValueError, match="got 0 and None"):
        bootstrap_strata([])
