"""Rationales from hand-built states, decisions and guardrail results."""

from __future__ import annotations

import numpy as np
import pytest

from pricegraph.pricing.explain import (
    ElasticityEstimate,
    PendingApproval,
    SegmentProfile,
    explain_guardrails,
    rationale,
    sensitivity_label,
)
from pricegraph.pricing.guardrail_config import GuardrailConfig, GuardrailRule
from pricegraph.pricing.guardrails import PriceContext, apply_guardrails
from pricegraph.pricing.policy import LevelDecision, QuoteState
from pricegraph.pricing.state import ProductFacts

STATE = QuoteState("C1", "P1", "CAT1", "SEG-v1-2", 17, 20.0, 17.0, 0.92, 0.96)
PRODUCT = ProductFacts("P1", "CAT1", 20.0, 17.0, False, 46.0, 20.0, 19.2, 18.0)
CONFIG = GuardrailConfig()


def _results(proposed: float, **context):
    contexts = [PriceContext("P1", 20.0, 17.0, **context)]
    return explain_guardrails(np.array([proposed]), contexts, CONFIG)[0]


def test_rationale_example() -> None:
    decision = LevelDecision("list", 1.0, 0.92, -0.02, is_personalized=True)
    result = _results(decision.proposed_price(20.0), is_personalized=True)
    text = rationale(
        STATE,
        decision,
        result,
        product=PRODUCT,
        config=CONFIG,
        elasticity=ElasticityEstimate(-2.3, 412, "product"),
        segment=SegmentProfile("SEG-v1-2", "bargain hunters"),
    )
    print(text)
    assert text.startswith("Zone 'list' (1.00 \u00d7 list); segment 'bargain hunters' ")
    assert "elasticity \u22122.3 estimated from 412 weeks, price sensitive" in text
    assert "\u22128 % segment multiplier" in text
    assert "Stock is high (92 % left) and the cheapest competitor is 4 % below list." in text
    assert "Personalised by \u22122.0 % (within \u00b115 %)." in text
    assert (
        "Floor rule raised the price by" in text and "10 % minimum margin over cost 17.00" in text
    )
    assert text.count(". ") == 3  # four sentences


@pytest.mark.parametrize(
    ("proposed", "context"),
    [(10.0, {}), (40.0, {}), (19.0, {"is_personalized": True}), (25.0, {"previous_price": 20.0})],
)
def test_explained_prices_equal_the_guardrails(proposed: float, context: dict) -> None:
    config = GuardrailConfig(max_change_per_period_pct=10, price_endings=(0.99,))
    ours = explain_guardrails(
        np.array([proposed]), [PriceContext("P1", 20.0, 15.0, **context)], config
    )[0]
    theirs = apply_guardrails(proposed, PriceContext("P1", 20.0, 15.0, **context), config)
    assert ours.price == theirs.price and ours.bound_rules == theirs.bound_rules
    assert ours.needs_approval == theirs.needs_approval
    assert [b.delta for b in ours.bindings] == [b.delta for b in theirs.bindings]


def test_unsegmented_unknown_market_and_pending() -> None:
    product = ProductFacts("P1", "", 20.0, 12.0, True, None, 20.0, None, None)
    state = QuoteState("C1", "P1", "", None, 0, 20.0, 12.0)
    result = _results(26.0)
    pending = PendingApproval("a1", 20.0, 26.0)
    text = rationale(
        state,
        LevelDecision("premium", 1.3),
        result,
        product=product,
        config=CONFIG,
        pending=pending,
    )
    assert "customer not segmented (no elasticity estimate)" in text
    assert "Stock is unknown and no competitor price is known" in text
    assert "cost estimated at 60 % of list" in text and "Not personalised." in text
    assert "A change to 26.00 (+30.0 %) waits for approval" in text
    assert result.bound_rules == (GuardrailRule.ROUNDING,) or result.bound_rules == ()


@pytest.mark.parametrize(
    ("value", "label"),
    [(-3.0, "very price sensitive"), (-2.0, "price sensitive"), (-0.5, "little price sensitive")],
)
def test_sensitivity_label(value: float, label: str) -> None:
    assert sensitivity_label(value) == label
