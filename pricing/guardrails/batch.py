"""The guardrail arithmetic over a batch of prices, vectorised with NumPy.

This is the one implementation of the clamps: :func:`~pricegraph.pricing.guardrails.apply.
apply_guardrails` runs it on a batch of one and explains the result, so a batch and
the scalar call give the same prices bit for bit. The rules, their precedence and the
conflict semantics are described in :mod:`.apply`.

Context columns (float64, gross amounts in the shop currency; NaN means "not given"
for the optional ones):

- ``list_price``, ``unit_cost`` (required);
- ``previous_price``, ``competitor_price``, ``ladder_lower``, ``ladder_upper``,
  ``ceiling_price``, ``lowest_price_30d`` (optional);
- ``is_personalized`` (bool, default ``False``).

Other columns (``product_id``, ...) are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ...errors import GuardrailError
from .config import GuardrailConfig, GuardrailRule
from .rounding import ceil_cents, floor_cents, round_in_interval

if TYPE_CHECKING:
    import pandas as pd

MAX_AMOUNT = 1e9
"""Largest amount accepted in a price context (shop currency); larger ones are bugs."""
MAX_PRICE = 1e12
"""Largest proposed price accepted, and a cap no price ever exceeds (rounding included).

Rule bounds stay below ``MAX_AMOUNT * 11`` (percentages are capped at 1000), so the cap
never meets the floor; in cents every price is a whole float64 (``1e14 < 2**53``).
"""

REQUIRED_COLUMNS = ("list_price", "unit_cost")
OPTIONAL_COLUMNS = (
    "previous_price",
    "competitor_price",
    "ladder_lower",
    "ladder_upper",
    "ceiling_price",
    "lowest_price_30d",
)
NUM_RULES = len(GuardrailRule)


class BatchGuardrailResult(NamedTuple):
    """Guardrailed prices of a batch, shape ``[n]`` each.

    Rule masks carry bit ``1 << (rule - 1)`` per :class:`GuardrailRule`; decode them
    with :func:`~.config.rules_in_mask`.
    """

    prices: np.ndarray
    """Final prices, float64, whole cents, gross in the shop currency."""
    bound_mask: np.ndarray
    """int64: the rules that moved each price."""
    conflict_mask: np.ndarray
    """int64: the rules skipped because a higher rule left no room for them."""
    needs_approval: np.ndarray
    """bool: the change against the current price waits for human approval."""


@dataclass(frozen=True)
class GuardrailTrace:
    """Every step of the clamps, per rule and row, for explanations and audits.

    Arrays indexed ``[rule - 1, row]`` have shape ``[num_rules, n]``; bounds are in
    whole cents with ``-inf``/``inf`` for a side the rule does not bound.
    """

    proposed: np.ndarray
    """Proposed prices, ``[n]``."""
    lower_cents: np.ndarray
    """Each rule's lower bound; for ROUNDING the final interval's lower end."""
    upper_cents: np.ndarray
    """Each rule's upper bound; for ROUNDING the final interval's upper end."""
    allowed_lower_cents: np.ndarray
    """Lower end of the interval left after the rule (and the rules above it)."""
    allowed_upper_cents: np.ndarray
    """Upper end of the interval left after the rule (and the rules above it)."""
    is_active: np.ndarray
    """bool: the rule bounds the row (configured and its inputs given)."""
    is_conflict: np.ndarray
    """bool: the rule was skipped (for ROUNDING: no allowed ending fitted)."""
    price_before: np.ndarray
    """Price before the rule's step."""
    price_after: np.ndarray
    """Price after the rule's step."""
    prices: np.ndarray
    """Final prices, ``[n]``."""
    needs_approval: np.ndarray
    """bool, ``[n]``."""

    @property
    def is_bound(self) -> np.ndarray:
        """bool ``[num_rules, n]``: the rule moved the price (in a conflict, toward it)."""
        return self.is_active & (self.price_after != self.price_before)


def apply_guardrails_batch(
    proposed: ArrayLike,
    contexts: Mapping[str, ArrayLike] | pd.DataFrame,
    config: GuardrailConfig,
) -> BatchGuardrailResult:
    """Guardrail a batch of proposed prices; same prices as the scalar call, row by row.

    Args:
        proposed: Proposed prices, gross in the shop currency, shape ``[n]``.
        contexts: A DataFrame or mapping of columns of length ``n`` (see the module
            docstring); NaN marks an optional amount as not given.
        config: The guardrail settings.

    Returns:
        Prices, the rules that bound and conflicted, and the approval flags.

    Raises:
        GuardrailError: A required column is missing, lengths differ, or an amount is
            NaN (where required), negative, infinite or too large (``MAX_AMOUNT``, for
            proposed prices ``MAX_PRICE``); the
            message names the column, the row and the value.
    """
    trace = trace_guardrails(proposed, contexts, config)
    weights = np.array([rule.bit for rule in GuardrailRule], dtype=np.int64)[:, None]
    return BatchGuardrailResult(
        prices=trace.prices,
        bound_mask=(trace.is_bound * weights).sum(axis=0),
        conflict_mask=(trace.is_conflict * weights).sum(axis=0),
        needs_approval=trace.needs_approval,
    )


def trace_guardrails(
    proposed: ArrayLike,
    contexts: Mapping[str, ArrayLike] | pd.DataFrame,
    config: GuardrailConfig,
) -> GuardrailTrace:
    """Run the rules in precedence order and keep every step (see :class:`GuardrailTrace`).

    Each rule's interval is intersected with the interval left by the higher rules. A
    rule whose interval misses it is a conflict: the interval shrinks to its end nearest
    the rule (the higher rules win, the lower one still pulls); a rule whose interval
    holds no whole cent is a conflict that is skipped. The price is clamped to the
    interval after every rule, which ends at the proposed price clamped to the final
    interval, and is then rounded inside that interval.

    Args:
        proposed: Proposed prices, gross in the shop currency, shape ``[n]``.
        contexts: Columns of length ``n`` (see the module docstring).
        config: The guardrail settings.

    Raises:
        GuardrailError: As :func:`apply_guardrails_batch`.
    """
    prices = np.asarray(proposed, dtype=np.float64)
    if prices.ndim != 1:
        raise GuardrailError(f"proposed prices: expected shape [n], got {prices.shape}")
    prices = _amounts("proposed_price", prices, optional=False, upper=MAX_PRICE)
    columns = _columns(contexts, len(prices))
    bounds = _clamp_bounds(columns, config)

    n = len(prices)
    lower, upper = np.empty((NUM_RULES, n)), np.empty((NUM_RULES, n))
    allowed_lower, allowed_upper = np.empty((NUM_RULES, n)), np.empty((NUM_RULES, n))
    is_active = np.zeros((NUM_RULES, n), dtype=bool)
    is_conflict = np.zeros((NUM_RULES, n), dtype=bool)
    before = np.empty((NUM_RULES, n))
    after = np.empty((NUM_RULES, n))
    # Invariant after the floor: price in [feasible_lower, feasible_upper] / 100.
    feasible_lower, feasible_upper = np.full(n, -np.inf), np.full(n, MAX_PRICE * 100.0)
    price = prices
    for index, (rule_lower, rule_upper) in enumerate(bounds):
        active = np.isfinite(rule_lower) | np.isfinite(rule_upper)
        is_empty = rule_lower > rule_upper
        wants_higher = rule_lower > feasible_upper
        wants_lower = rule_upper < feasible_lower
        conflict = active & (is_empty | wants_higher | wants_lower)
        keep = active & ~conflict
        pull_up, pull_down = conflict & ~is_empty & wants_higher, conflict & ~is_empty & wants_lower
        feasible_lower, feasible_upper = (
            np.where(
                keep,
                np.maximum(feasible_lower, rule_lower),
                np.where(pull_up, feasible_upper, feasible_lower),
            ),
            np.where(
                keep,
                np.minimum(feasible_upper, rule_upper),
                np.where(pull_down, feasible_lower, feasible_upper),
            ),
        )
        before[index] = price
        price = np.minimum(np.maximum(price, feasible_lower / 100.0), feasible_upper / 100.0)
        after[index] = price
        lower[index], upper[index] = rule_lower, rule_upper
        allowed_lower[index], allowed_upper[index] = feasible_lower, feasible_upper
        is_active[index], is_conflict[index] = active, conflict

    rounding = GuardrailRule.ROUNDING - 1
    cents, has_ending = round_in_interval(
        price * 100.0, feasible_lower, feasible_upper, config.ending_cents, config.rounding_mode
    )
    final = cents / 100.0
    lower[rounding], upper[rounding] = feasible_lower, feasible_upper
    allowed_lower[rounding], allowed_upper[rounding] = feasible_lower, feasible_upper
    is_active[rounding] = True
    is_conflict[rounding] = bool(config.price_endings) & ~has_ending
    before[rounding], after[rounding] = price, final
    return GuardrailTrace(
        proposed=prices,
        lower_cents=lower,
        upper_cents=upper,
        allowed_lower_cents=allowed_lower,
        allowed_upper_cents=allowed_upper,
        is_active=is_active,
        is_conflict=is_conflict,
        price_before=before,
        price_after=after,
        prices=final,
        needs_approval=_needs_approval(final, columns, config),
    )


def approval_needed(
    new_price: np.ndarray, current_price: np.ndarray, threshold_pct: float | None
) -> np.ndarray:
    """Whether ``|new - current| > threshold_pct % of current``, elementwise.

    Written without a division, so a current price of 0 needs approval for any change.
    """
    new_price, current_price = np.asarray(new_price), np.asarray(current_price)
    if threshold_pct is None:
        return np.zeros(np.broadcast(new_price, current_price).shape, dtype=bool)
    return np.abs(new_price - current_price) * 100.0 > threshold_pct * current_price


def _needs_approval(
    prices: np.ndarray, columns: dict[str, np.ndarray], config: GuardrailConfig
) -> np.ndarray:
    previous = columns["previous_price"]
    current = np.where(np.isnan(previous), columns["list_price"], previous)
    return approval_needed(prices, current, config.approval_threshold_pct)


def _clamp_bounds(
    columns: dict[str, np.ndarray], config: GuardrailConfig
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(lower, upper)`` in whole cents (``-inf``/``inf``: unbounded) of rules 1-6."""
    list_price = columns["list_price"]
    absent = np.full(len(list_price), np.nan)

    def band(base: np.ndarray, below_pct: float | None, above_pct: float | None) -> tuple:
        lower = absent if below_pct is None else base * (1.0 - below_pct / 100.0)
        upper = absent if above_pct is None else base * (1.0 + above_pct / 100.0)
        return lower, upper

    floor = columns["unit_cost"] * (1.0 + config.min_margin_pct / 100.0)
    ceiling = columns["ceiling_price"]
    if config.max_markup_over_list_pct is not None:
        ceiling = np.fmin(ceiling, list_price * (1.0 + config.max_markup_over_list_pct / 100.0))
    deviation = config.max_personal_deviation_pct
    personal_list = np.where(columns["is_personalized"], list_price, np.nan)
    change = config.max_change_per_period_pct
    if config.is_ladder_enabled:
        gap = config.ladder_min_gap_pct / 100.0
        ladder = (columns["ladder_lower"] * (1.0 + gap), columns["ladder_upper"] * (1.0 - gap))
    else:
        ladder = (absent, absent)
    amounts = [
        (floor, absent),
        (absent, ceiling),
        band(personal_list, deviation, deviation),
        band(columns["previous_price"], change, change),
        band(
            columns["competitor_price"], config.competitor_floor_pct, config.competitor_ceiling_pct
        ),
        ladder,
    ]
    bounds = []
    for lower, upper in amounts:
        lower_cents, upper_cents = ceil_cents(lower), floor_cents(upper)
        lower_cents = np.where(np.isnan(lower_cents), -np.inf, lower_cents)
        upper_cents = np.where(np.isnan(upper_cents), np.inf, upper_cents)
        bounds.append((lower_cents, upper_cents))
    bounds[0] = (np.maximum(bounds[0][0], 1.0), bounds[0][1])  # never below one cent
    return bounds


def _columns(contexts: Mapping[str, ArrayLike] | pd.DataFrame, n: int) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
        if name not in contexts:
            if name in REQUIRED_COLUMNS:
                raise GuardrailError(f'price contexts: missing required column "{name}"')
            columns[name] = np.full(n, np.nan)
            continue
        values = np.asarray(contexts[name], dtype=np.float64)
        if values.shape != (n,):
            raise GuardrailError(
                f'price contexts, column "{name}": expected shape ({n},) like the proposed '
                f"prices, got {values.shape}"
            )
        columns[name] = _amounts(name, values, optional=name in OPTIONAL_COLUMNS)
    if "is_personalized" in contexts:
        flags = np.asarray(contexts["is_personalized"])
        if flags.shape != (n,) or flags.dtype != bool:
            raise GuardrailError(
                'price contexts, column "is_personalized": expected booleans of shape '
                f"({n},), got {flags.dtype} {flags.shape}"
            )
        columns["is_personalized"] = flags
    else:
        columns["is_personalized"] = np.zeros(n, dtype=bool)
    return columns


def _amounts(
    name: str, values: np.ndarray, *, optional: bool, upper: float = MAX_AMOUNT
) -> np.ndarray:
    """``values`` if every one is a valid amount (NaN allowed when ``optional``)."""
    with np.errstate(invalid="ignore"):
        is_bad = ~((values >= 0) & (values <= upper))
    if optional:
        is_bad &= ~np.isnan(values)
    if is_bad.any():
        row = int(np.flatnonzero(is_bad.ravel())[0])
        raise GuardrailError(
            f'"{name}", row {row}: expected a finite amount in [0, {upper:g}] '
            f"(shop currency, gross), got {float(values.ravel()[row])!r}"
        )
    return values


__all__ = [
    "MAX_AMOUNT",
    "MAX_PRICE",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "BatchGuardrailResult",
    "GuardrailTrace",
    "apply_guardrails_batch",
    "approval_needed",
    "trace_guardrails",
]
