"""Result records: deltas, percentages and the sentences that explain them."""

from __future__ import annotations

import pytest

from pricegraph.pricing.guardrails.config import GuardrailRule
from pricegraph.pricing.guardrails.result import GuardrailResult, RuleBinding, RuleConflict

FLOOR = RuleBinding(
    GuardrailRule.FLOOR, 98.4, 94.3, 98.4, "to keep the 20% minimum margin over cost 82.00"
)
ROUNDING = RuleBinding(GuardrailRule.ROUNDING, 98.9, 98.4, 98.9, "for the .90 price ending")
CEILING = RuleConflict(GuardrailRule.CEILING, None, 97.0, 98.4, None, "overruled, its range ...")


def test_binding_delta_and_sentence() -> None:
    assert FLOOR.delta == pytest.approx(4.1)
    assert FLOOR.delta_pct == pytest.approx(4.3478, abs=1e-4)
    assert FLOOR.describe() == (
        "floor: raised by 4.10 to 98.40, to keep the 20% minimum margin over cost 82.00"
    )
    lowered = RuleBinding(GuardrailRule.ROUNDING, 10.0, 10.004, 10.0, "to whole cents")
    assert lowered.describe() == "rounding: lowered by less than 0.01 to 10.00, to whole cents"


def test_result_lists_rules_and_sentences_in_order() -> None:
    result = GuardrailResult(
        product_id="p1",
        price=98.9,
        proposed_price=94.3,
        bindings=(FLOOR, ROUNDING),
        conflicts=(CEILING,),
        is_personalized=False,
        needs_approval=False,
        reference_price=None,
        announced_discount_pct=None,
    )
    assert result.bound_rules == (GuardrailRule.FLOOR, GuardrailRule.ROUNDING)
    assert result.conflicting_rules == (GuardrailRule.CEILING,)
    assert result.describe() == (
        FLOOR.describe(),
        "rounding: raised by 0.50 to 98.90, for the .90 price ending",
        "ceiling: overruled, its range ...",
    )
