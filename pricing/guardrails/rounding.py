"""Whole cents and price endings (.90, .95, .99) inside an allowed interval.

Money is handled here in cents, as float64 arrays that hold whole numbers (exact up to
2**53 cents), so the same code serves one price and a batch of prices with identical
results. Converting an amount to a bound in cents forgives float noise of
``1e-6 + 1e-14 * |cents|`` cents, so that ``82.0 * 1.2 = 98.39999999999999`` gives the
floor 98.40 rather than 98.41 or 98.39.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .config import RoundingMode


def cent_tolerance(cents: np.ndarray) -> np.ndarray:
    """Float noise forgiven when comparing amounts in cents: ``1e-6 + 1e-14 * |cents|``."""
    return 1e-6 + 1e-14 * np.abs(cents)


def ceil_cents(amount: np.ndarray) -> np.ndarray:
    """Smallest whole number of cents not below ``amount`` (currency units), within noise.

    NaN stays NaN; ``+-inf`` stay infinite.
    """
    cents = np.asarray(amount, dtype=np.float64) * 100.0
    with np.errstate(invalid="ignore"):
        return np.ceil(cents - cent_tolerance(cents))


def floor_cents(amount: np.ndarray) -> np.ndarray:
    """Largest whole number of cents not above ``amount`` (currency units), within noise.

    NaN stays NaN; ``+-inf`` stay infinite.
    """
    cents = np.asarray(amount, dtype=np.float64) * 100.0
    with np.errstate(invalid="ignore"):
        return np.floor(cents + cent_tolerance(cents))


def round_in_interval(
    target_cents: np.ndarray,
    lower_cents: np.ndarray,
    upper_cents: np.ndarray,
    ending_cents: Sequence[int],
    mode: RoundingMode,
) -> tuple[np.ndarray, np.ndarray]:
    """Round prices to an allowed ending without leaving ``[lower, upper]``.

    Candidates are the prices ``100 * unit + ending`` for every allowed ending. Below
    ``b`` is the dearest candidate ``<= target`` and above ``a`` the cheapest candidate
    ``>= target`` (both within the noise of :func:`cent_tolerance`, and both inside the
    interval). ``nearest`` takes the closer of ``b`` and ``a`` (ties: ``b``), ``down``
    takes ``b`` else ``a``, ``up`` takes ``a`` else ``b``. Where neither exists, or no
    endings are given, the price is the nearest whole cent inside the interval.

    Args:
        target_cents: Prices to round, in cents, shape ``[n]``; each inside its interval.
        lower_cents: Lowest allowed price, whole cents, shape ``[n]`` (``>= 1``).
        upper_cents: Highest allowed price, whole cents or ``inf``, shape ``[n]``.
        ending_cents: Allowed endings in cents, each in ``[0, 99]`` (may be empty).
        mode: ``nearest``, ``down`` or ``up``.

    Returns:
        ``(cents, has_ending)``: the rounded prices in whole cents, shape ``[n]``, and
        whether each got an allowed ending (always ``False`` without endings).
    """
    target = np.asarray(target_cents, dtype=np.float64)
    lower = np.asarray(lower_cents, dtype=np.float64)
    upper = np.asarray(upper_cents, dtype=np.float64)
    nearest_cent = np.clip(np.floor(target + 0.5), lower, upper)
    if not ending_cents:
        return nearest_cent, np.zeros(target.shape, dtype=bool)

    tolerance = cent_tolerance(target)[:, None]
    unit = np.floor(target / 100.0)[:, None]
    offsets = np.array([-1.0, 0.0, 1.0])[:, None]
    endings = np.asarray(ending_cents, dtype=np.float64)[None, :]
    candidates = ((unit[:, :, None] + offsets[None]) * 100.0 + endings[None]).reshape(
        len(target), -1
    )
    inside = (candidates >= lower[:, None]) & (candidates <= upper[:, None])
    is_below = inside & (candidates <= target[:, None] + tolerance)
    is_above = inside & (candidates >= target[:, None] - tolerance)
    below = np.where(is_below, candidates, -np.inf).max(axis=1)
    above = np.where(is_above, candidates, np.inf).min(axis=1)
    has_below, has_above = np.isfinite(below), np.isfinite(above)

    if mode == "down":
        chosen = np.where(has_below, below, above)
    elif mode == "up":
        chosen = np.where(has_above, above, below)
    else:
        with np.errstate(invalid="ignore"):
            is_above_closer = (above - target) < (target - below)
        chosen = np.where(has_below & (~has_above | ~is_above_closer), below, above)
    has_ending = has_below | has_above
    return np.where(has_ending, chosen, nearest_cent), has_ending


__all__ = ["ceil_cents", "cent_tolerance", "floor_cents", "round_in_interval"]
