"""Rationales from hand-built states, decision records and guardrail results."""

from __future__ import annotations

import numpy as np
import pytest

from pricegraph.pricing.guardrails.apply import PriceContext, apply_guardrails, explain_guardrails
from pricegraph.pricing.guardrails.config import GuardrailConfig, GuardrailRule
from pricegraph.pricing.policy import LevelDecision, QuoteState
from pricegraph.pricing.quotes.explain import (
    PendingApproval,
    SegmentProfile,
    period_sentence,
    rationale,
)
from pricegraph.pricing.quotes.inputs import ProductFacts

STATE = QuoteState("C1", "P1", "CAT1", "loyal", 3, 20.0, 17.0, 0.92, 0.96)
PRODUCT = ProductFacts("P1", "CAT1", 20.0, 17.0, False, 46.0, 20.0, 19.2, 18.0)
CONFIG = GuardrailConfig()


def _result(proposed: float, **context):
    return apply_guardrails(proposed, PriceContext("P1", 20.0, 17.0, **context), CONFIG)


def _record(**changes) -> LevelDecision:
    base = dict(
        zone="list", zone_multiplier=1.0, segment_multiplier=0.92, personal_adjustment=-0.02,
        is_personalized=True, levels="full", period=3, requested_period=3, category="bags",
        category_stock_ratio=0.85, category_competitor_ratio=0.97, priced_segments=("loyal",),
        segment_slopes=(4.27,), micro_slope=4.27, micro_scale=0.5,
    )  # fmt: skip
    return LevelDecision(**{**base, **changes})  # type: ignore[arg-type]


def test_rationale_states_the_numbers_of_the_record() -> None:
    decision = _record()
    result = _result(decision.proposed_price(20.0), is_personalized=True)
    text = rationale(STATE, decision, result, product=PRODUCT, segment=SegmentProfile("loyal"))
    assert text.startswith("Plan period 3. Zone 'list' (1.00 \u00d7 list) for category 'bags'")
    assert "stock at 85 % of the season's start, competitor prices at 97 % of list" in text
    assert (
        "Segment multiplier \u22128.0 % from the plan of the customer's segment 'loyal' "
        "(estimated price slope 4.27)." in text
    )
    assert "Personal adjustment \u22122.0 % (personal level, gate 0.5; inputs: price slope " in text
    assert (
        "4.27 of the customer's segment, no customer-specific input (no customer signal: "
        "the segment's slope), the product's cost, stock and planned price" in text
    )
    signal = dict(customer_signal="graph state", customer_ratio=0.8, customer_slope=3.42,
                  customer_slope_low=3.0, customer_slope_high=3.9)  # fmt: skip
    text = rationale(STATE, _record(**signal), result, product=PRODUCT)
    assert (
        "this customer's estimated price slope 3.42 (interval 3.00 to 3.90, 0.80 x its "
        "segment's) from its graph state" in text
    )
    assert "Guardrails: floor: raised by" in text
    assert "to keep the 10% minimum margin over cost 17.00" in text


def test_clamped_period_fallback_segment_and_gated_micro() -> None:
    state = QuoteState("C1", "P1", "CAT1", "SEG-v1-2", 48, 20.0, 12.0)
    decision = _record(
        period=11, requested_period=48, priced_segments=("loyal", "bargain"),
        segment_slopes=(4.27, 0.86), segment_multiplier=1.033, personal_adjustment=0.0,
        is_personalized=False, micro_scale=0.0,
    )  # fmt: skip
    text = rationale(
        state, decision, _result(20.66), segment=SegmentProfile("SEG-v1-2", "big spenders")
    )
    assert "Plan period 11 (the quote's period 48 lies past the plan's last, so its nearest" in text
    early = period_sentence(_record(period=0, requested_period=-3))
    assert early == (
        "Plan period 0 (the quote's period -3 lies before the plan's first, so its nearest "
        "period is used)."
    )
    assert (
        "Segment multiplier +3.3 %, the mean of the plans of segments 'loyal' (estimated "
        "price slope 4.27), 'bargain' (estimated price slope 0.86): the customer's segment "
        "'big spenders' is not one the policy was trained on." in text
    )
    assert "Not personalised: the personal level is off (gate 0" in text
    assert "elasticity" not in text and "sensitive" not in text


def test_list_policy_unknown_category_pending_and_estimated_cost() -> None:
    product = ProductFacts("P1", "", 20.0, 19.0, True, None, 20.0, None, None)
    state = QuoteState("C1", "P1", "", None, 0, 20.0, 19.0)
    listed = rationale(
        state, LevelDecision("list", 1.0, levels="list"), _result(20.0), product=product
    )
    assert (
        listed
        == "Zone 'list' (1.00 \u00d7 list): list price, no trained pricing policy is in use. Not personalised. "
        "Cost: estimated at 19.00 (95 % of list; none stored)."
    )
    decision = _record(category=None, priced_segments=(), segment_slopes=(), micro_scale=None,
                       personal_adjustment=0.0, is_personalized=False, segment_multiplier=1.0)  # fmt: skip
    result = apply_guardrails(10.0, PriceContext("P1", 20.0, 19.0), CONFIG)
    text = rationale(
        state, decision, result, product=product, pending=PendingApproval("a1", 20.0, 26.0)
    )
    assert "the product's category 'none' is not one the policy prices" in text
    assert "No segment multiplier: the product is not in the policy's plan." in text
    assert text.endswith("Cost: estimated at 19.00 (95 % of list; none stored).")
    assert "a change to 26.00 (+30.0 %) waits for approval" in text


def test_conflicts_are_named_rule_by_rule() -> None:
    config = GuardrailConfig(min_margin_pct=50, competitor_floor_pct=10, competitor_ceiling_pct=0)
    result = apply_guardrails(10.0, PriceContext("P1", 20.0, 15.0, competitor_price=12.0), config)
    assert result.price == 22.5 and result.conflicting_rules == (GuardrailRule.COMPETITOR_BAND,)
    text = rationale(STATE, LevelDecision("list", 1.0), result)
    assert "competitor band: overruled, its range [10.80, 12.00] does not meet" in text


@pytest.mark.parametrize("ending", [(), (0.99,)])
def test_a_batch_explains_each_row_as_the_single_call(ending: tuple[float, ...]) -> None:
    config = GuardrailConfig(max_change_per_period_pct=10, price_endings=ending,
                             is_ladder_enabled=True, ladder_min_gap_pct=5)  # fmt: skip
    cases = [
        (10.0, {}), (40.0, {}), (19.0, {"is_personalized": True}),
        (25.0, {"previous_price": 20.0}), (30.0, {"ladder_upper": 24.0}),
        (5.0, {"ladder_lower": 18.0, "ladder_upper": 18.5}), (26.0, {"ceiling_price": 22.0}),
    ]  # fmt: skip
    contexts = [PriceContext("P1", 20.0, 15.0, **context) for _, context in cases]
    batch = explain_guardrails(np.array([p for p, _ in cases]), contexts, config)
    for (proposed, _), context, ours in zip(cases, contexts, batch, strict=True):
        theirs = apply_guardrails(proposed, context, config)
        assert ours == theirs
