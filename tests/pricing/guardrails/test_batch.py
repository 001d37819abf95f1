"""The vectorised guardrails: same prices as the scalar call, masks, columns and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegraph.errors import GuardrailError
from pricegraph.pricing.guardrails.apply import PriceContext, apply_guardrails, context_columns
from pricegraph.pricing.guardrails.batch import apply_guardrails_batch, trace_guardrails
from pricegraph.pricing.guardrails.config import GuardrailConfig, GuardrailRule, rules_in_mask

R = GuardrailRule


def random_batch(seed: int, n: int) -> tuple[np.ndarray, list[PriceContext]]:
    """``n`` random contexts around list prices of 1-500, a third of each optional unset."""
    rng = np.random.default_rng(seed)
    list_price = np.round(rng.uniform(1, 500, n), 2)

    def optional(low: float, high: float) -> list[float | None]:
        values = np.round(list_price * rng.uniform(low, high, n), 2)
        return [
            None if drop else float(v)
            for v, drop in zip(values, rng.random(n) < 1 / 3, strict=True)
        ]

    cost, previous, competitor = (
        list_price * rng.uniform(0.3, 1.1, n),
        optional(0.8, 1.2),
        optional(0.7, 1.3),
    )
    lower, upper, ceiling = optional(0.5, 1.0), optional(1.0, 1.6), optional(0.9, 1.5)
    contexts = [
        PriceContext(
            product_id=f"p{i}",
            list_price=float(list_price[i]),
            unit_cost=float(cost[i]),
            previous_price=previous[i],
            competitor_price=competitor[i],
            ladder_lower=lower[i],
            ladder_upper=upper[i],
            ceiling_price=ceiling[i],
            is_personalized=bool(rng.random() < 0.5),
        )
        for i in range(n)
    ]
    return list_price * rng.uniform(0.2, 2.5, n), contexts


CONFIG = GuardrailConfig(
    min_margin_pct=15,
    max_change_per_period_pct=10,
    competitor_floor_pct=5,
    competitor_ceiling_pct=10,
    is_ladder_enabled=True,
    ladder_min_gap_pct=2,
    price_endings=(0.49, 0.95, 0.99),
)


@pytest.mark.parametrize("mode", ["nearest", "down", "up"])
def test_batch_of_1000_equals_scalar(mode: str) -> None:
    config = CONFIG.updated(rounding_mode=mode)
    proposed, contexts = random_batch(seed=3, n=1000)
    batch = apply_guardrails_batch(proposed, context_columns(contexts), config)
    scalar = [
        apply_guardrails(float(p), c, config) for p, c in zip(proposed, contexts, strict=True)
    ]
    np.testing.assert_array_equal(batch.prices, [r.price for r in scalar])
    assert [rules_in_mask(m) for m in batch.bound_mask] == [r.bound_rules for r in scalar]
    assert [rules_in_mask(m) for m in batch.conflict_mask] == [r.conflicting_rules for r in scalar]
    np.testing.assert_array_equal(batch.needs_approval, [r.needs_approval for r in scalar])
    # The random batch reaches every rule, and some conflicts.
    assert np.bitwise_or.reduce(batch.bound_mask) == sum(rule.bit for rule in R)
    assert batch.conflict_mask.any()


def test_dataframe_with_missing_optional_columns() -> None:
    frame = pd.DataFrame(
        {
            "product_id": ["a", "b", "c"],
            "list_price": [100.0, 100.0, 20.0],
            "unit_cost": [82.0, 10.0, 10.0],
            "competitor_price": [np.nan, 90.0, np.nan],
        }
    )
    config = GuardrailConfig(min_margin_pct=20, competitor_ceiling_pct=0)
    result = apply_guardrails_batch(np.array([90.0, 95.0, 19.999]), frame, config)
    np.testing.assert_array_equal(result.prices, [98.40, 90.0, 20.0])
    assert result.bound_mask.tolist() == [R.FLOOR.bit, R.COMPETITOR_BAND.bit, R.ROUNDING.bit]
    assert result.conflict_mask.tolist() == [0, 0, 0]
    assert result.needs_approval.tolist() == [False, False, False]


def test_trace_keeps_every_step() -> None:
    columns = {"list_price": [100.0], "unit_cost": [82.0], "ceiling_price": [90.0]}
    trace = trace_guardrails([95.0], columns, GuardrailConfig(min_margin_pct=20))
    floor, ceiling = R.FLOOR - 1, R.CEILING - 1
    assert trace.lower_cents[floor, 0] == 9840
    assert trace.upper_cents[ceiling, 0] == 9000
    assert trace.is_conflict[:, 0].tolist() == [False, True, False, False, False, False, False]
    assert trace.price_after[:, 0].tolist() == [98.4] * 7
    assert (trace.allowed_lower_cents[ceiling, 0], trace.allowed_upper_cents[ceiling, 0]) == (
        9840,
        9840,
    )


def test_rules_in_mask_decodes_bits() -> None:
    assert rules_in_mask(0) == ()
    assert rules_in_mask(R.FLOOR.bit | R.ROUNDING.bit) == (R.FLOOR, R.ROUNDING)
    assert R.COMPETITOR_BAND.bit == 16
    assert R.COMPETITOR_BAND.label == "competitor band"


def test_errors_name_column_row_and_value() -> None:
    columns = {"list_price": [10.0, 10.0], "unit_cost": [1.0, -2.0]}
    with pytest.raises(GuardrailError, match=r'"unit_cost", row 1: .*got -2.0'):
        apply_guardrails_batch([5.0, 5.0], columns, GuardrailConfig())
    with pytest.raises(GuardrailError, match=r'"proposed_price", row 0: .*got nan'):
        apply_guardrails_batch(
            [np.nan, 5.0], {"list_price": [10.0] * 2, "unit_cost": [1.0] * 2}, GuardrailConfig()
        )
    with pytest.raises(GuardrailError, match='missing required column "unit_cost"'):
        apply_guardrails_batch([5.0], {"list_price": [10.0]}, GuardrailConfig())
    with pytest.raises(GuardrailError, match=r'column "list_price": expected shape \(2,\)'):
        apply_guardrails_batch(
            [5.0, 5.0], {"list_price": [10.0], "unit_cost": [1.0]}, GuardrailConfig()
        )
    with pytest.raises(GuardrailError, match='column "is_personalized": expected booleans'):
        apply_guardrails_batch(
            [5.0],
            {"list_price": [10.0], "unit_cost": [1.0], "is_personalized": [1]},
            GuardrailConfig(),
        )
    with pytest.raises(GuardrailError, match=r"expected shape \[n\]"):
        apply_guardrails_batch(5.0, {"list_price": [10.0], "unit_cost": [1.0]}, GuardrailConfig())


def test_empty_batch() -> None:
    result = apply_guardrails_batch(
        np.array([]), {"list_price": [], "unit_cost": []}, GuardrailConfig()
    )
    assert result.prices.shape == (0,)
    assert result.bound_mask.shape == (0,)
