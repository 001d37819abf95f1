r"""Bootstrap intervals over test customers, for means and for paired differences.

The evaluated customers of a window are the sample: a method's recall@k is the
mean of one value per customer, so resampling customers with replacement
(Efron's percentile bootstrap) gives an interval for that mean. Two methods
ranked for the same customers are compared *paired*: the same resampled
customers enter both means, and the interval of the difference
:math:`\bar a^* - \bar b^*` says whether the gap could be noise. A method
*beats* another only when the whole interval lies above zero.

Pure NumPy; the resampling is seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A mean and its percentile bootstrap interval.

    Attributes:
        mean: The mean over the original sample.
        low: Lower end of the interval.
        high: Upper end of the interval.
        level: Coverage, e.g. ``0.95``.
    """

    mean: float
    low: float
    high: float
    level: float

    @property
    def excludes_zero(self) -> bool:
        """Whether zero lies outside ``[low, high]``."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return f"{self.mean:.4f} [{self.low:.4f}, {self.high:.4f}]"


def _resample_index(size: int, num_resamples: int, seed: int) -> np.ndarray:
    """int64 ``[num_resamples, size]`` customer positions drawn with replacement."""
    generator = np.random.default_rng(seed)
    return generator.integers(0, size, size=(num_resamples, size))


def _interval(values: np.ndarray, index: np.ndarray, level: float) -> Interval:
    means = values[index].mean(axis=1)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return Interval(float(values.mean()), float(low), float(high), level)


def _check(values: np.ndarray, num_resamples: int, level: float) -> None:
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values: expected a non-empty 1-d array, got shape {values.shape}")
    if num_resamples < 1 or not 0 < level < 1:
        raise ValueError(
            f"num_resamples must be >= 1 and level in (0, 1), got num_resamples="
            f"{num_resamples}, level={level}"
        )


def bootstrap_mean(
    values: np.ndarray, *, num_resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> Interval:
    """Percentile bootstrap interval of the mean of ``values``.

    Args:
        values: float ``[num_customers]``, one value per customer.
        num_resamples: Bootstrap resamples. (default: ``1000``)
        level: Coverage of the interval. (default: ``0.95``)
        seed: Seed of the resampling.

    Raises:
        ValueError: Empty or non-1-d ``values``, ``num_resamples`` < 1 or ``level``
            outside ``(0, 1)``.
    """
    values = np.asarray(values, dtype=np.float64)
    _check(values, num_resamples, level)
    return _interval(values, _resample_index(values.size, num_resamples, seed), level)


def bootstrap_difference(
    first: np.ndarray,
    second: np.ndarray,
    *,
    num_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Paired bootstrap interval of ``mean(first) - mean(second)``.

    Args:
        first: float ``[num_customers]``, method A per customer.
        second: float ``[num_customers]``, method B for the same customers, same order.
        num_resamples: Bootstrap resamples. (default: ``1000``)
        level: Coverage of the interval. (default: ``0.95``)
        seed: Seed of the resampling.

    Raises:
        ValueError: Arrays of different shapes, or the errors of :func:`bootstrap_mean`.
    """
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    if first.shape != second.shape:
        raise ValueError(
            f"paired samples: expected the same customers, got shapes {first.shape} "
            f"and {second.shape}"
        )
    difference = first - second
    _check(difference, num_resamples, level)
    return _interval(difference, _resample_index(difference.size, num_resamples, seed), level)


def bootstrap_strata(
    firsts: Sequence[np.ndarray],
    seconds: Sequence[np.ndarray] | None = None,
    *,
    num_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Interval of the mean over strata (e.g. rolling origins) of per-stratum means.

    Each stratum's customers are resampled on their own, the per-stratum means are
    averaged with equal weight, and the percentile interval of that average is
    returned. With ``seconds``, the paired differences ``firsts[i] - seconds[i]``
    are used instead (the same customers of stratum ``i`` in both).

    Raises:
        ValueError: No strata, a different number of strata or customers in
            ``seconds``, or the errors of :func:`bootstrap_mean`.
    """
    if not firsts or (seconds is not None and len(seconds) != len(firsts)):
        raise ValueError(
            f"strata: expected one or more, the same number in both, got {len(firsts)} and "
            f"{None if seconds is None else len(seconds)}"
        )
    total = np.zeros(num_resamples)
    point = 0.0
    for position, first in enumerate(firsts):
        values = np.asarray(first, np.float64)
        if seconds is not None:
            other = np.asarray(seconds[position], np.float64)
            if other.shape != values.shape:
                raise ValueError(
                    f"stratum {position}: expected the same customers, got shapes "
                    f"{values.shape} and {other.shape}"
                )
            values = values - other
        _check(values, num_resamples, level)
        index = _resample_index(values.size, num_resamples, seed + position)
        total += values[index].mean(axis=1)
        point += float(values.mean())
    means = total / len(firsts)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return Interval(point / len(firsts), float(low), float(high), level)


__all__ = ["Interval", "bootstrap_difference", "bootstrap_mean", "bootstrap_strata"]
