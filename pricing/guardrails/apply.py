"""Hard pricing guardrails: applied after every pricing policy, never bypassed.

A proposed price is brought inside these rules, in this fixed precedence (1 is highest):

1. **Floor**: never below ``unit_cost * (1 + min_margin_pct / 100)``, nor below 0.01.
2. **Ceiling**: never above ``list_price * (1 + max_markup_over_list_pct / 100)``,
   nor above the product's own ``ceiling_price``.
3. **Personal deviation**: a personalized price stays within
   ``+-max_personal_deviation_pct`` of the list price (default 15 %).
4. **Change per period**: within ``+-max_change_per_period_pct`` of the previous
   period's price.
5. **Competitor band**: at most ``competitor_floor_pct`` below and
   ``competitor_ceiling_pct`` above the cheapest competitor price.
6. **Ladder**: between the cheaper and the dearer neighbour in the price ladder of the
   brand/category, at least ``ladder_min_gap_pct`` away from each.
7. **Rounding**: whole cents, with an allowed ending (.90/.95/.99) where one fits.

Each of rules 1-6 is an interval of whole-cent prices. Going down the list, each
interval is intersected with what the rules above it left. When it does not meet that
interval the rule is a *conflict*, recorded in ``GuardrailResult.conflicts``: the
higher rules win, and the interval shrinks to its end nearest the rule, so a floor
above the ceiling gives exactly the floor. A rule whose own interval holds no whole
cent (ladder neighbours 10.001 and 10.009) is a conflict that is skipped. A rule whose
inputs are not configured or not given (no previous price, say) is inactive. The
price is the proposed price clamped to the final interval; the clamps go rule by
rule, and each one that moves the price is recorded as a
:class:`~.result.RuleBinding`.
Rounding (7) never leaves the interval: when no allowed ending fits, the price goes
to the nearest cent inside and the rounding is recorded as a conflict. No price
exceeds ``MAX_PRICE`` (1e12), the largest proposed price accepted.

The result also says whether the price was personalized, because that must be
disclosed to the customer (Directive 2011/83/EU, Art. 6(1)(ea)). It gives the reduction
that may be announced against the lowest price of the last 30 days (see
:mod:`~.memory`) and whether the change waits for human
approval. Amounts are floats, gross, in the shop currency; prices come out in whole
cents. The arithmetic lives in :mod:`~.batch`, shared
with the batch call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from ...errors import GuardrailError
from .batch import (
    MAX_AMOUNT,
    MAX_PRICE,
    OPTIONAL_COLUMNS,
    GuardrailTrace,
    approval_needed,
    trace_guardrails,
)
from .config import GuardrailConfig, GuardrailRule
from .memory import announced_discount
from .result import GuardrailResult, RuleBinding, RuleConflict
from .rounding import floor_cents


@dataclass(frozen=True)
class PriceContext:
    """What the guardrails need to know about one product when pricing it.

    Amounts are gross, in the shop currency, finite and in ``[0, 1e9]``; ``None`` means
    not known, which switches off the rules that need the amount.

    Attributes:
        product_id: The product's id (for messages).
        list_price: The regular, non-personalized price.
        unit_cost: Cost of one unit, on the same gross basis as the prices.
        previous_price: The price in force now, set in the previous period.
        competitor_price: The cheapest competitor's price for the same product.
        ladder_lower: Price of the cheaper neighbour in the brand/category ladder.
        ladder_upper: Price of the dearer neighbour in the brand/category ladder.
        ceiling_price: An absolute ceiling for this product (e.g. the RRP).
        lowest_price_30d: The lowest price of the previous 30 days.
        is_personalized: Whether the proposed price was set for one customer or segment.
    """

    product_id: str
    list_price: float
    unit_cost: float
    previous_price: float | None = None
    competitor_price: float | None = None
    ladder_lower: float | None = None
    ladder_upper: float | None = None
    ceiling_price: float | None = None
    lowest_price_30d: float | None = None
    is_personalized: bool = False

    def __post_init__(self) -> None:
        for name in ("list_price", "unit_cost", *OPTIONAL_COLUMNS):
            value = getattr(self, name)
            if value is None and name in OPTIONAL_COLUMNS:
                continue
            where = f'price context of product {self.product_id!r}, field "{name}"'
            object.__setattr__(self, name, _amount(value, where))
        if not isinstance(self.is_personalized, bool | np.bool_):
            raise GuardrailError(
                f'price context of product {self.product_id!r}, field "is_personalized": '
                f"expected a bool, got {self.is_personalized!r}"
            )
        object.__setattr__(self, "is_personalized", bool(self.is_personalized))


def apply_guardrails(
    proposed_price: float, context: PriceContext, config: GuardrailConfig
) -> GuardrailResult:
    """Bring ``proposed_price`` inside the guardrails (pure; precedence in the module doc).

    :func:`explain_guardrails` of a batch of one.

    Args:
        proposed_price: The policy's price, gross, in the shop currency.
        context: The product's costs, reference prices and neighbours.
        config: The guardrail settings.

    Returns:
        The price, with the rules that bound it and the ones that conflicted.

    Raises:
        GuardrailError: ``proposed_price`` is NaN, infinite, negative or above 1e12.
    """
    where = f"proposed_price of product {context.product_id!r}"
    proposed = _amount(proposed_price, where, upper=MAX_PRICE)
    return explain_guardrails(np.array([proposed]), [context], config)[0]


def explain_guardrails(
    proposed: np.ndarray, contexts: Sequence[PriceContext], config: GuardrailConfig
) -> list[GuardrailResult]:
    """Guardrail a batch in one vectorised call and explain every rule that bound or
    conflicted: the one explanation engine of quotes, the CLI, the API and the audit log.

    The prices, masks and approval flags are those of
    :func:`~.batch.apply_guardrails_batch`; the per-rule
    steps of :func:`~.batch.trace_guardrails` give each
    binding's bound and delta, and each conflict's ranges.

    Args:
        proposed: Proposed prices, ``[n]``, gross in the shop currency.
        contexts: One context per price.
        config: The guardrail settings.

    Raises:
        GuardrailError: An amount is invalid (the message names the column and row).
    """
    trace = trace_guardrails(proposed, context_columns(contexts), config)
    bindings: list[list[RuleBinding]] = [[] for _ in contexts]
    conflicts: list[list[RuleConflict]] = [[] for _ in contexts]
    for row, at in zip(*np.nonzero(trace.is_conflict), strict=True):
        rule = GuardrailRule(int(row) + 1)
        lower, upper = float(trace.lower_cents[row, at]), float(trace.upper_cents[row, at])
        if row > 0:
            allowed = (
                trace.allowed_lower_cents[row - 1, at],
                trace.allowed_upper_cents[row - 1, at],
            )
        else:
            allowed = (-math.inf, MAX_PRICE * 100.0)
        allowed_lower, allowed_upper = float(allowed[0]), float(allowed[1])
        reason = _conflict_reason(rule, lower, upper, allowed_lower, allowed_upper, config)
        conflicts[at].append(
            RuleConflict(
                rule,
                *_money_or_none(lower, upper),
                *_money_or_none(allowed_lower, allowed_upper),
                reason,
            )
        )
    for row, at in zip(*np.nonzero(trace.is_bound), strict=True):
        rule = GuardrailRule(int(row) + 1)
        is_conflict = bool(trace.is_conflict[row, at])
        bindings[at].append(_binding(rule, trace, int(at), contexts[at], config, is_conflict))
    results = []
    for at, context in enumerate(contexts):
        price = float(trace.prices[at])
        reference, discount = None, None
        if context.lowest_price_30d is not None:
            reference, discount = announced_discount(price, context.lowest_price_30d)
        results.append(
            GuardrailResult(
                product_id=context.product_id,
                price=price,
                proposed_price=float(trace.proposed[at]),
                bindings=tuple(bindings[at]),
                conflicts=tuple(conflicts[at]),
                is_personalized=context.is_personalized,
                needs_approval=bool(trace.needs_approval[at]),
                reference_price=reference,
                announced_discount_pct=discount,
            )
        )
    return results


def needs_approval(new_price: float, current_price: float, config: GuardrailConfig) -> bool:
    """Whether moving from ``current_price`` to ``new_price`` waits for human approval.

    True when ``|new - current|`` exceeds ``approval_threshold_pct`` percent of
    ``current_price`` (any change from a current price of 0); never when the threshold
    is ``None``.

    Raises:
        GuardrailError: An amount is NaN, infinite or negative.
    """
    new = _amount(new_price, "new_price", upper=math.inf)
    current = _amount(current_price, "current_price", upper=math.inf)
    return bool(
        approval_needed(np.float64(new), np.float64(current), config.approval_threshold_pct)
    )


def context_columns(contexts: Sequence[PriceContext]) -> dict[str, np.ndarray]:
    """Columns for :func:`~.batch.apply_guardrails_batch`.

    Returns:
        One array of length ``len(contexts)`` per field; ``None`` becomes NaN.
    """
    columns: dict[str, np.ndarray] = {}
    for spec in fields(PriceContext):
        values = [getattr(context, spec.name) for context in contexts]
        if spec.name == "product_id":
            columns[spec.name] = np.array(values, dtype=object)
        elif spec.name == "is_personalized":
            columns[spec.name] = np.array(values, dtype=bool)
        else:
            columns[spec.name] = np.array(
                [np.nan if value is None else value for value in values], dtype=np.float64
            )
    return columns


def _binding(
    rule: GuardrailRule,
    trace: GuardrailTrace,
    at: int,
    context: PriceContext,
    config: GuardrailConfig,
    is_conflict: bool,
) -> RuleBinding:
    row = rule - 1
    before, after = float(trace.price_before[row, at]), float(trace.price_after[row, at])
    is_raised = after > before
    if rule == GuardrailRule.ROUNDING:
        bound = after
    else:
        bound = float((trace.lower_cents if is_raised else trace.upper_cents)[row, at]) / 100
    reason = _reason(rule, is_raised, bound, context, config)
    if is_conflict and rule != GuardrailRule.ROUNDING:
        reason = f"as close to {bound:.2f} as the higher rules allow ({reason})"
    return RuleBinding(rule, bound, before, after, reason)


def _reason(
    rule: GuardrailRule,
    is_raised: bool,
    bound: float,
    context: PriceContext,
    config: GuardrailConfig,
) -> str:
    if rule == GuardrailRule.FLOOR:
        if bound == 0.01 and context.unit_cost * (1 + config.min_margin_pct / 100) < 0.01:
            return "to stay at least 0.01"
        return (
            f"to keep the {config.min_margin_pct:g}% minimum margin "
            f"over cost {context.unit_cost:.2f}"
        )
    if rule == GuardrailRule.CEILING:
        ceiling = context.ceiling_price
        if ceiling is not None and float(floor_cents(ceiling)) / 100 == bound:
            return f"to the product's price ceiling {ceiling:.2f}"
        return (
            f"to the {config.max_markup_over_list_pct:g}% maximum markup "
            f"over list price {context.list_price:.2f}"
        )
    if rule == GuardrailRule.PERSONAL_DEVIATION:
        return (
            f"to keep a personalized price within +-{config.max_personal_deviation_pct:g}% "
            f"of list price {context.list_price:.2f}"
        )
    if rule == GuardrailRule.CHANGE_PER_PERIOD:
        return (
            f"to change at most {config.max_change_per_period_pct:g}% "
            f"from the previous price {context.previous_price:.2f}"
        )
    if rule == GuardrailRule.COMPETITOR_BAND:
        side = config.competitor_floor_pct if is_raised else config.competitor_ceiling_pct
        direction = "below" if is_raised else "above"
        return (
            f"to stay at most {side:g}% {direction} "
            f"the cheapest competitor price {context.competitor_price:.2f}"
        )
    if rule == GuardrailRule.LADDER:
        gap = f" by at least {config.ladder_min_gap_pct:g}%" if config.ladder_min_gap_pct else ""
        if is_raised:
            return f"to stay above{gap} the cheaper ladder neighbour at {context.ladder_lower:.2f}"
        return f"to stay below{gap} the dearer ladder neighbour at {context.ladder_upper:.2f}"
    cents = round(bound * 100) % 100
    if config.price_endings and cents in config.ending_cents:
        return f"for the .{cents:02d} price ending"
    return "to whole cents"


def _conflict_reason(
    rule: GuardrailRule,
    lower: float,
    upper: float,
    allowed_lower: float,
    allowed_upper: float,
    config: GuardrailConfig,
) -> str:
    allowed = _interval(allowed_lower, allowed_upper)
    if rule == GuardrailRule.ROUNDING:
        endings = ", ".join(f".{cents:02d}" for cents in config.ending_cents)
        return f"no allowed ending ({endings}) fits in {allowed}; rounded to whole cents"
    if lower > upper:
        return f"skipped, its range {_interval(lower, upper)} holds no whole-cent price"
    return (
        f"overruled, its range {_interval(lower, upper)} does not meet {allowed} "
        "left by the higher rules"
    )


def _interval(lower_cents: float, upper_cents: float) -> str:
    lower, upper = _money_or_none(lower_cents, upper_cents)
    left = "(..." if lower is None else f"[{lower:.2f}"
    right = "...)" if upper is None else f"{upper:.2f}]"
    return f"{left}, {right}"


def _money_or_none(lower_cents: float, upper_cents: float) -> tuple[float | None, float | None]:
    """Bounds in cents as amounts; ``None`` for an open side (the ``MAX_PRICE`` cap too)."""
    return (
        None if math.isinf(lower_cents) else lower_cents / 100,
        None if upper_cents >= MAX_PRICE * 100 else upper_cents / 100,
    )


def _amount(value: float, where: str, upper: float = MAX_AMOUNT) -> float:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise GuardrailError(f"{where}: expected a number, got {value!r}") from None
    if not (math.isfinite(amount) and 0 <= amount <= upper):
        raise GuardrailError(
            f"{where}: expected a finite amount in [0, {upper:g}] "
            f"(shop currency, gross), got {value!r}"
        )
    return amount


__all__ = [
    "PriceContext",
    "apply_guardrails",
    "context_columns",
    "explain_guardrails",
    "needs_approval",
]
