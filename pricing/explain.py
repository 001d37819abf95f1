"""Short human-readable rationales of quotes (pure functions, no I/O).

A rationale has two to four sentences: the zone and segment decision with the
segment's estimated elasticity; the market (stock, cheapest competitor, an
estimated cost); the personal adjustment with its bound; and what the guardrails or a
pending approval did to the price. Amounts are gross, in the shop currency, printed
with two decimals; percentages with a sign, e.g. ``-8 %``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .demand import DemandModel
from .guardrail_config import GuardrailConfig, GuardrailRule
from .guardrail_result import GuardrailResult, RuleBinding, RuleConflict
from .guardrails import PriceContext
from .guardrails_batch import trace_guardrails
from .policy import LevelDecision, QuoteState
from .price_memory import announced_discount
from .state import ProductFacts


@dataclass(frozen=True)
class ElasticityEstimate:
    """A product's own-price elasticity as the demand model estimated it."""

    value: float
    """Elasticity (unitless, ``< 0`` for normal goods)."""
    n_obs: int
    """Weekly observations behind the estimate."""
    source: str
    """``product`` (own estimate) or ``pooled`` (the category/segment pool)."""


@dataclass(frozen=True)
class SegmentProfile:
    """The customer's segment as stored on its ``Segment`` node."""

    segment_id: str
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class PendingApproval:
    """A price change of the product that waits for human approval."""

    approval_id: str
    current_price: float
    proposed_price: float


def sensitivity_label(elasticity: float) -> str:
    """``very price sensitive`` (<= -2.5), ``price sensitive`` (<= -1.5), else ``little ...``."""
    if elasticity <= -2.5:
        return "very price sensitive"
    if elasticity <= -1.5:
        return "price sensitive"
    return "little price sensitive"


def _pct(fraction: float, digits: int = 0) -> str:
    value = 100.0 * fraction
    sign = "+" if value > 0 else ("\u2212" if value < 0 else "\u00b1")
    return f"{sign}{abs(value):.{digits}f} %"


def decision_sentence(
    decision: LevelDecision,
    segment: SegmentProfile | None,
    elasticity: ElasticityEstimate | None,
) -> str:
    """The zone and the segment multiplier, with the segment and its elasticity."""
    zone = f"Zone '{decision.zone}' ({decision.zone_multiplier:.2f} \u00d7 list)"
    if elasticity is not None:
        how = "estimated" if elasticity.source == "product" else "pooled"
        facts = (
            f"product elasticity {_signed(elasticity.value)} {how} from "
            f"{elasticity.n_obs} weeks, {sensitivity_label(elasticity.value)}"
        )
    else:
        facts = "no elasticity estimate"
    if segment is None:
        who = f"customer not segmented ({facts})"
    else:
        who = f"segment '{segment.name or segment.segment_id}' ({facts})"
    return f"{zone}; {who}: {_pct(decision.segment_multiplier - 1.0)} segment multiplier."


def market_sentence(state: QuoteState, product: ProductFacts) -> str:
    """Stock, the cheapest competitor against list, and whether the cost was estimated."""
    if state.inventory_ratio != 1.0:
        level = (
            "high"
            if state.inventory_ratio >= 0.66
            else "low"
            if state.inventory_ratio < 0.33
            else "medium"
        )
        stock = f"Stock is {level} ({100 * state.inventory_ratio:.0f} % left)"
    elif product.stock_units is not None:
        stock = f"Stock is {product.stock_units:.0f} units"
    else:
        stock = "Stock is unknown"
    if product.competitor_price is None:
        market = "no competitor price is known"
    else:
        gap = state.competitor_price_ratio - 1.0
        where = "below" if gap < 0 else "above"
        market = (
            f"the cheapest competitor is {100 * abs(gap):.0f} % {where} list"
            if abs(gap) >= 0.005
            else "the cheapest competitor matches list"
        )
    cost = (
        f"; cost estimated at {100 * product.unit_cost / product.list_price:.0f} % of list "
        "(none stored)"
        if product.is_cost_estimated and product.list_price > 0
        else ""
    )
    return f"{stock} and {market}{cost}."


def personal_sentence(decision: LevelDecision, config: GuardrailConfig) -> str:
    """The personal adjustment and its bound (the disclosure flag's reason)."""
    if not decision.is_personalized:
        return "Not personalised."
    bound = config.max_personal_deviation_pct
    within = f" (within \u00b1{bound:g} %)" if bound is not None else ""
    return f"Personalised by {_pct(decision.personal_adjustment, 1)}{within}."


def guardrail_sentence(result: GuardrailResult, pending: PendingApproval | None = None) -> str:
    """What the guardrails (rounding aside) or a pending approval did; ``""`` when nothing."""
    parts = [
        f"{b.rule.label.capitalize()} rule {'raised' if b.delta > 0 else 'lowered'} the price "
        f"by {abs(b.delta):.2f} {b.reason}"
        for b in result.bindings
        if b.rule != GuardrailRule.ROUNDING
    ]
    parts += [
        f"{c.rule.label.capitalize()} rule overruled by higher rules" for c in result.conflicts
    ]
    if pending is not None:
        change = (
            pending.proposed_price / pending.current_price - 1.0 if pending.current_price else 0.0
        )
        parts.append(
            f"A change to {pending.proposed_price:.2f} ({_pct(change, 1)}) waits for approval, "
            f"so the current price {pending.current_price:.2f} stands"
        )
    return ("; ".join(parts) + ".") if parts else ""


def rationale(
    state: QuoteState,
    decision: LevelDecision,
    result: GuardrailResult,
    *,
    product: ProductFacts,
    config: GuardrailConfig,
    elasticity: ElasticityEstimate | None = None,
    segment: SegmentProfile | None = None,
    pending: PendingApproval | None = None,
) -> str:
    """The quote's rationale, two to four sentences (see the module docstring)."""
    sentences = [
        decision_sentence(decision, segment, elasticity),
        market_sentence(state, product),
        personal_sentence(decision, config),
        guardrail_sentence(result, pending),
    ]
    return " ".join(s for s in sentences if s)


def binding_reason(
    rule: GuardrailRule, is_raised: bool, context: PriceContext, config: GuardrailConfig
) -> str:
    """Why ``rule`` moved the price, e.g. ``"to keep the 10 % minimum margin over cost 8.00"``."""
    if rule == GuardrailRule.FLOOR:
        margin = config.min_margin_pct
        return f"to keep the {margin:g} % minimum margin over cost {context.unit_cost:.2f}"
    if rule == GuardrailRule.CEILING:
        return f"to the ceiling over list price {context.list_price:.2f}"
    if rule == GuardrailRule.PERSONAL_DEVIATION:
        return (
            f"to keep a personalised price within \u00b1{config.max_personal_deviation_pct:g} % "
            f"of list price {context.list_price:.2f}"
        )
    if rule == GuardrailRule.CHANGE_PER_PERIOD:
        return (
            f"to change at most {config.max_change_per_period_pct:g} % "
            f"from the current price {context.previous_price or 0.0:.2f}"
        )
    if rule == GuardrailRule.COMPETITOR_BAND:
        side = "below" if is_raised else "above"
        competitor = context.competitor_price or 0.0
        return f"to stay within its band {side} the cheapest competitor ({competitor:.2f})"
    if rule == GuardrailRule.LADDER:
        return "to keep its place in the brand/category price ladder"
    return "to whole cents or an allowed price ending"


def explain_guardrails(
    proposed: np.ndarray, contexts: Sequence[PriceContext], config: GuardrailConfig
) -> list[GuardrailResult]:
    """Guardrail a batch in one vectorised call and explain every rule that bound.

    The prices, masks and approval flags are those of
    :func:`~pricegraph.pricing.guardrails_batch.apply_guardrails_batch`; the per-rule
    steps of :func:`~pricegraph.pricing.guardrails_batch.trace_guardrails` give each
    binding's delta, explained by :func:`binding_reason`.

    Args:
        proposed: Proposed prices, ``[n]``, gross in the shop currency.
        contexts: One context per price.
        config: The guardrail settings.

    Raises:
        GuardrailError: An amount is invalid (the message names the column and row).
    """
    nan = float("nan")
    columns = {
        name: np.array([nan if getattr(c, name) is None else getattr(c, name) for c in contexts])
        for name in (
            "list_price",
            "unit_cost",
            "previous_price",
            "competitor_price",
            "lowest_price_30d",
        )
    }
    columns["is_personalized"] = np.array([c.is_personalized for c in contexts], dtype=bool)
    trace = trace_guardrails(proposed, columns, config)
    bindings: list[list[RuleBinding]] = [[] for _ in contexts]
    conflicts: list[list[RuleConflict]] = [[] for _ in contexts]
    for index, at in zip(*np.nonzero(trace.is_bound), strict=True):
        rule = GuardrailRule(int(index) + 1)
        before, after = float(trace.price_before[index, at]), float(trace.price_after[index, at])
        reason = binding_reason(rule, after > before, contexts[at], config)
        bindings[at].append(RuleBinding(rule, after, before, after, reason))
    for index, at in zip(*np.nonzero(trace.is_conflict), strict=True):
        bounds = [_money(trace.lower_cents[index, at]), _money(trace.upper_cents[index, at])]
        allowed = [
            _money(trace.allowed_lower_cents[index, at]),
            _money(trace.allowed_upper_cents[index, at]),
        ]
        conflicts[at].append(
            RuleConflict(
                GuardrailRule(int(index) + 1), *bounds, *allowed, "overruled by higher rules"
            )
        )
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


def _money(cents: float) -> float | None:
    return None if math.isinf(cents) or cents >= 1e14 else float(cents) / 100.0


def elasticity_table(demand: DemandModel | None) -> dict[tuple[str, str], ElasticityEstimate]:
    """(product, segment) -> the elasticity at list price (as ``demand.elasticity(p)``)."""
    if demand is None:
        return {}
    e = demand.estimates
    return {
        (str(p), str(s)): ElasticityEstimate(float(v), int(n), str(src))
        for p, s, v, n, src in zip(
            e["product_id"], e["segment"], e["elasticity"], e["n_obs"], e["source"], strict=True
        )
    }


def _signed(value: float) -> str:
    return f"\u2212{abs(value):.1f}" if value < 0 else f"{value:.1f}"


__all__ = [
    "ElasticityEstimate",
    "PendingApproval",
    "SegmentProfile",
    "binding_reason",
    "decision_sentence",
    "elasticity_table",
    "explain_guardrails",
    "guardrail_sentence",
    "market_sentence",
    "personal_sentence",
    "rationale",
    "sensitivity_label",
]
