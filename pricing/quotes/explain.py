"""Rationales of quotes, written from the decision record (pure functions, no I/O).

A rationale states only numbers the decision used: the plan period (and the clamping
of the quote's period into the plan), the zone with the macro inputs of the product's
category, the segment multiplier with the segment(s) whose plan set it and their
estimated price slopes, the personal adjustment with the inputs of the personal level,
and every guardrail that moved the price or was overruled, rule by rule, in the words
of the one explanation engine (:func:`~pricegraph.pricing.guardrails.apply.explain_guardrails`).
Amounts are gross, in the shop currency, with two decimals; percentages carry a sign,
e.g. ``−8.0 %``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..guardrails.config import GuardrailRule
from ..guardrails.result import GuardrailResult
from ..policy import LevelDecision, QuoteState
from .inputs import ProductFacts

HIERARCHY_LEVELS = ("macro", "macro+meso", "full")
"""The ``levels`` of a hierarchical policy's decision records."""


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
    is_filed: bool = True
    """``False``: the change needs approval but this request may not file it (a reader's
    quote), so nothing waits in the queue."""


def pct(fraction: float, digits: int = 1) -> str:
    """``0.033`` as ``"+3.3 %"`` (a true minus sign, ``±`` for zero)."""
    value = 100.0 * fraction
    sign = "+" if value > 0 else ("\u2212" if value < 0 else "\u00b1")
    return f"{sign}{abs(value):.{digits}f} %"


def period_sentence(decision: LevelDecision) -> str:
    """The plan period used, naming a clamped quote period; ``""`` without a plan."""
    if decision.period is None:
        return ""
    text = f"Plan period {decision.period}"
    requested = decision.requested_period
    if requested is not None and requested != decision.period:
        where = "before the plan's first" if requested < decision.period else "past the plan's last"
        text += f" (the quote's period {requested} lies {where}, so its nearest period is used)"
    return text + "."


def zone_sentence(decision: LevelDecision, state: QuoteState) -> str:
    """The macro zone and the inputs of the product's category it was chosen with."""
    zone = f"Zone '{decision.zone}' ({decision.zone_multiplier:.2f} \u00d7 list)"
    if decision.levels == "list":
        return f"{zone}: list price, no trained pricing policy is in use."
    if decision.levels not in HIERARCHY_LEVELS:
        return f"{zone}."
    if decision.category is None:
        category = state.category_id or "none"
        return f"{zone}: the product's category '{category}' is not one the policy prices."
    stock = decision.category_stock_ratio or 0.0
    competitor = decision.category_competitor_ratio or 0.0
    return (
        f"{zone} for category '{decision.category}' (macro inputs: stock at "
        f"{100 * stock:.0f} % of the season's start, competitor prices at "
        f"{100 * competitor:.0f} % of list)."
    )


def segment_sentence(
    decision: LevelDecision, state: QuoteState, segment: SegmentProfile | None
) -> str:
    """The segment multiplier and the plan(s) it came from; ``""`` when meso was off."""
    if decision.levels not in HIERARCHY_LEVELS:
        if decision.segment_multiplier == 1.0:
            return ""
        return f"Segment multiplier {pct(decision.segment_multiplier - 1.0)}."
    if decision.levels == "macro":
        return ""
    if not decision.priced_segments:
        return "No segment multiplier: the product is not in the policy's plan."
    multiplier = f"Segment multiplier {pct(decision.segment_multiplier - 1.0)}"
    slopes = [
        f"'{name}' (estimated price slope {slope:.2f})"
        for name, slope in zip(decision.priced_segments, decision.segment_slopes, strict=True)
    ]
    if len(slopes) == 1 and state.segment_id == decision.priced_segments[0]:
        return f"{multiplier} from the plan of the customer's segment {slopes[0]}."
    if state.segment_id is None:
        why = "the customer is not segmented"
    else:
        label = segment.name if segment is not None and segment.name else state.segment_id
        why = f"the customer's segment '{label}' is not one the policy was trained on"
    return f"{multiplier}, the mean of the plans of segments {', '.join(slopes)}: {why}."


def personal_sentence(decision: LevelDecision) -> str:
    """The personal adjustment and the inputs behind it (the disclosure flag's reason)."""
    if decision.levels not in HIERARCHY_LEVELS:
        if decision.is_personalized:
            return f"Personalised by {pct(decision.personal_adjustment)}."
        return "Not personalised."
    if decision.micro_scale is None:
        if decision.levels == "full":
            return "Not personalised: the product is not in the policy's plan."
        return "Not personalised."
    if decision.micro_scale == 0.0:
        return "Not personalised: the personal level is off (gate 0, chosen on validation)."
    if decision.personal_adjustment == 0.0:
        return "Not personalised: the personal level kept the price."
    whose = "the customer's segment" if len(decision.priced_segments) == 1 else "the segments"
    return (
        f"Personal adjustment {pct(decision.personal_adjustment)} (personal level, gate "
        f"{decision.micro_scale:g}; inputs: price slope {decision.micro_slope or 0.0:.2f} of "
        f"{whose}, {customer_sentence(decision)}, the product's cost, stock and planned "
        "price)."
    )


def customer_sentence(decision: LevelDecision) -> str:
    """What the personal level read of the customer, from the decision record."""
    signal = decision.customer_signal
    if signal is None or decision.customer_slope is None:
        reason = signal.removeprefix("fallback: ") if signal else "no customer signal"
        return f"no customer-specific input ({reason}: the segment's slope)"
    return (
        f"this customer's estimated price slope {decision.customer_slope:.2f} "
        f"(interval {decision.customer_slope_low:.2f} to {decision.customer_slope_high:.2f}, "
        f"{decision.customer_ratio:.2f} x its segment's) from its {signal}"
    )


def guardrail_sentence(
    result: GuardrailResult,
    product: ProductFacts | None = None,
    pending: PendingApproval | None = None,
) -> str:
    """Every guardrail that moved the price (rounding to cents aside) or was overruled,
    in the explanation engine's words, and a pending approval; ``""`` when nothing."""
    parts = [
        binding.describe()
        for binding in result.bindings
        if binding.rule != GuardrailRule.ROUNDING
        or any(c.rule == GuardrailRule.ROUNDING for c in result.conflicts)
    ]
    parts += [conflict.describe() for conflict in result.conflicts]
    if pending is not None:
        change = (
            pending.proposed_price / pending.current_price - 1.0 if pending.current_price else 0.0
        )
        waits = "waits for approval" if pending.is_filed else "needs an approval this request "
        waits += "" if pending.is_filed else "may not file"
        parts.append(
            f"a change to {pending.proposed_price:.2f} ({pct(change)}) {waits}, "
            f"so the current price {pending.current_price:.2f} stands"
        )
    return ("Guardrails: " + "; ".join(parts) + ".") if parts else ""


def cost_sentence(product: ProductFacts | None) -> str:
    """``"Cost: estimated at 12.00 (60 % of list; none stored)."``: the floor and the
    margins rest on an assumed cost; ``""`` when the catalog has the cost."""
    if product is None or not product.is_cost_estimated or not product.list_price:
        return ""
    return (
        f"Cost: estimated at {product.unit_cost:.2f} "
        f"({100 * product.unit_cost / product.list_price:.0f} % of list; none stored)."
    )


def rationale(
    state: QuoteState,
    decision: LevelDecision,
    result: GuardrailResult,
    *,
    product: ProductFacts | None = None,
    segment: SegmentProfile | None = None,
    pending: PendingApproval | None = None,
) -> str:
    """The quote's rationale from its decision record (see the module docstring)."""
    sentences = [
        period_sentence(decision),
        zone_sentence(decision, state),
        segment_sentence(decision, state, segment),
        personal_sentence(decision),
        guardrail_sentence(result, product, pending),
        cost_sentence(product),
    ]
    return " ".join(s for s in sentences if s)


__all__ = [
    "PendingApproval",
    "SegmentProfile",
    "cost_sentence",
    "guardrail_sentence",
    "pct",
    "period_sentence",
    "personal_sentence",
    "rationale",
    "segment_sentence",
    "zone_sentence",
]
