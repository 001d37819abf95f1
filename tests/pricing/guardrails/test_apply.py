"""Hard pricing guardrails: each rule, precedence and conflicts, and properties for any input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricegraph.errors import GuardrailError
from pricegraph.pricing.guardrails.apply import (
    PriceContext,
    apply_guardrails,
    context_columns,
    needs_approval,
)
from pricegraph.pricing.guardrails.batch import MAX_PRICE, apply_guardrails_batch
from pricegraph.pricing.guardrails.config import (
    REFERENCE_COST_RATIO,
    GuardrailConfig,
    GuardrailRule,
    rules_in_mask,
)
from pricegraph.pricing.guardrails.result import GuardrailResult
from pricegraph.pricing.guardrails.rounding import ceil_cents, floor_cents

R = GuardrailRule

# Every optional rule off, so that each example exercises one rule.
BARE = GuardrailConfig(
    min_margin_pct=0,
    max_markup_over_list_pct=None,
    max_personal_deviation_pct=None,
    approval_threshold_pct=None,
)


def ctx(**overrides: object) -> PriceContext:
    values: dict[str, object] = {"product_id": "p1", "list_price": 100.0, "unit_cost": 50.0}
    return PriceContext(**{**values, **overrides})  # type: ignore[arg-type]


def only(result: GuardrailResult) -> tuple[float, float, float, float]:
    """(bound, before, after, delta) of the single binding."""
    (binding,) = result.bindings
    return binding.bound, binding.price_before, binding.price_after, binding.delta


# --- one rule at a time -------------------------------------------------------------------


def test_floor_raises_to_cost_plus_margin() -> None:
    config = BARE.updated(min_margin_pct=20)
    result = apply_guardrails(94.30, ctx(unit_cost=82.0), config)
    assert result.price == 98.40
    assert result.bound_rules == (R.FLOOR,)
    bound, before, after, delta = only(result)
    assert (bound, before, after) == (98.40, 94.30, 98.40)
    assert delta == pytest.approx(4.10)
    assert result.bindings[0].delta_pct == pytest.approx(4.10 / 94.30 * 100)
    assert result.describe() == (
        "floor: raised by 4.10 to 98.40, to keep the 20% minimum margin over cost 82.00",
    )


def test_floor_is_at_least_one_cent() -> None:
    result = apply_guardrails(0.0, ctx(unit_cost=0.0), BARE)
    assert result.price == 0.01
    assert result.bindings[0].delta_pct is None
    assert result.describe() == ("floor: raised by 0.01 to 0.01, to stay at least 0.01",)


def test_ceiling_from_markup_over_list() -> None:
    result = apply_guardrails(150.0, ctx(), BARE.updated(max_markup_over_list_pct=30))
    assert result.price == 130.0
    assert only(result) == (130.0, 150.0, 130.0, -20.0)
    assert result.describe() == (
        "ceiling: lowered by 20.00 to 130.00, to the 30% maximum markup over list price 100.00",
    )


def test_ceiling_takes_the_lower_of_markup_and_product_ceiling() -> None:
    config = BARE.updated(max_markup_over_list_pct=30)
    result = apply_guardrails(150.0, ctx(ceiling_price=119.5), config)
    assert result.price == 119.5
    assert "product's price ceiling 119.50" in result.describe()[0]


@pytest.mark.parametrize(("proposed", "expected"), [(130.0, 115.0), (70.0, 85.0), (110.0, 110.0)])
def test_personal_deviation_band_for_personalized_prices(proposed: float, expected: float) -> None:
    config = BARE.updated(max_personal_deviation_pct=15)
    result = apply_guardrails(proposed, ctx(is_personalized=True), config)
    assert result.price == expected
    assert result.is_personalized
    assert result.bound_rules == ((R.PERSONAL_DEVIATION,) if proposed != expected else ())


def test_personal_deviation_ignores_prices_that_are_not_personalized() -> None:
    config = BARE.updated(max_personal_deviation_pct=15)
    result = apply_guardrails(130.0, ctx(is_personalized=False), config)
    assert result.price == 130.0
    assert not result.is_personalized


def test_change_per_period() -> None:
    config = BARE.updated(max_change_per_period_pct=10)
    result = apply_guardrails(120.0, ctx(previous_price=90.0), config)
    assert result.price == 99.0
    assert only(result) == (99.0, 120.0, 99.0, -21.0)
    assert "at most 10% from the previous price 90.00" in result.describe()[0]
    assert apply_guardrails(70.0, ctx(previous_price=90.0), config).price == 81.0
    assert apply_guardrails(70.0, ctx(), config).price == 70.0  # no previous price: inactive


def test_competitor_band() -> None:
    config = BARE.updated(competitor_floor_pct=5, competitor_ceiling_pct=10)
    assert apply_guardrails(80.0, ctx(competitor_price=90.0), config).price == 85.5
    high = apply_guardrails(120.0, ctx(competitor_price=90.0), config)
    assert high.price == 99.0
    assert high.describe() == (
        "competitor band: lowered by 21.00 to 99.00, to stay at most 10% above the cheapest "
        "competitor price 90.00",
    )
    one_sided = BARE.updated(competitor_ceiling_pct=0)
    assert apply_guardrails(80.0, ctx(competitor_price=90.0), one_sided).price == 80.0
    assert apply_guardrails(95.0, ctx(competitor_price=90.0), one_sided).price == 90.0


def test_ladder_only_when_enabled_and_with_gap() -> None:
    context = ctx(ladder_lower=80.0, ladder_upper=120.0)
    assert apply_guardrails(70.0, context, BARE).price == 70.0
    config = BARE.updated(is_ladder_enabled=True, ladder_min_gap_pct=5)
    low = apply_guardrails(70.0, context, config)
    assert low.price == 84.0
    assert low.describe() == (
        "ladder: raised by 14.00 to 84.00, to stay above by at least 5% the cheaper ladder "
        "neighbour at 80.00",
    )
    assert apply_guardrails(130.0, context, config).price == 114.0
    assert apply_guardrails(130.0, ctx(ladder_lower=80.0), config).price == 130.0


@pytest.mark.parametrize(
    ("proposed", "mode", "expected"),
    [
        (98.40, "nearest", 98.50),
        (98.20, "nearest", 97.99),
        (98.40, "down", 97.99),
        (98.40, "up", 98.50),
        (98.99, "down", 98.99),
        (98.99, "up", 98.99),
    ],
)
def test_rounding_endings(proposed: float, mode: str, expected: float) -> None:
    config = BARE.updated(price_endings=(0.50, 0.99), rounding_mode=mode)
    result = apply_guardrails(proposed, ctx(), config)
    assert result.price == expected
    if proposed != expected:
        assert result.bound_rules == (R.ROUNDING,)


def test_rounding_tie_goes_to_the_lower_price() -> None:
    config = BARE.updated(price_endings=(0.0, 0.5))
    assert apply_guardrails(98.25, ctx(), config).price == 98.0
    assert apply_guardrails(98.26, ctx(), config).price == 98.5


def test_rounding_to_cents_without_endings() -> None:
    result = apply_guardrails(10.004, ctx(list_price=10.0, unit_cost=1.0), BARE)
    assert result.price == 10.0
    assert result.describe() == ("rounding: lowered by less than 0.01 to 10.00, to whole cents",)
    assert apply_guardrails(10.006, ctx(list_price=10.0, unit_cost=1.0), BARE).price == 10.01


def test_rounding_never_leaves_the_allowed_interval() -> None:
    # Floor 98.40, ceiling 98.80: the nearest .99 ending (98.99) lies above; 97.99 below.
    config = BARE.updated(min_margin_pct=20, price_endings=(0.99,))
    result = apply_guardrails(98.95, ctx(unit_cost=82.0, ceiling_price=98.8), config)
    assert result.price == 98.80
    assert result.conflicting_rules == (R.ROUNDING,)
    assert result.describe()[-1] == (
        "rounding: no allowed ending (.99) fits in [98.40, 98.80]; rounded to whole cents"
    )
    # down prefers 97.99, outside the floor: takes the ending above instead.
    down = BARE.updated(min_margin_pct=20, price_endings=(0.50,), rounding_mode="down")
    assert apply_guardrails(98.45, ctx(unit_cost=82.0), down).price == 98.50


# --- precedence and conflicts ---------------------------------------------------------------


def test_floor_above_ceiling_keeps_the_floor() -> None:
    config = BARE.updated(min_margin_pct=20, max_markup_over_list_pct=0)
    context = ctx(list_price=90.0, unit_cost=82.0)
    result = apply_guardrails(90.0, context, config)
    assert result.price == 98.40
    assert result.bound_rules == (R.FLOOR,)
    assert result.conflicting_rules == (R.CEILING,)
    (conflict,) = result.conflicts
    assert (conflict.lower, conflict.upper) == (None, 90.0)
    assert (conflict.allowed_lower, conflict.allowed_upper) == (98.40, None)
    assert conflict.describe() == (
        "ceiling: overruled, its range (..., 90.00] does not meet [98.40, ...) "
        "left by the higher rules"
    )
    # From above, the overruled ceiling still pulls the price down to the floor.
    high = apply_guardrails(150.0, context, config)
    assert high.price == 98.40
    assert high.bound_rules == (R.CEILING,)
    assert high.conflicting_rules == (R.CEILING,)
    assert high.describe()[0] == (
        "ceiling: lowered by 51.60 to 98.40, as close to 90.00 as the higher rules allow "
        "(to the 0% maximum markup over list price 90.00)"
    )


def test_lower_rules_yield_to_higher_ones() -> None:
    config = BARE.updated(
        min_margin_pct=10,
        max_markup_over_list_pct=20,
        max_change_per_period_pct=5,
        competitor_floor_pct=0,
        competitor_ceiling_pct=0,
        is_ladder_enabled=True,
    )
    # floor+ceiling allow [55, 120]; change [95, 105]; ladder (100, 101) is kept then.
    context = ctx(previous_price=100.0, ladder_lower=100.0, ladder_upper=101)
    result = apply_guardrails(60.0, context, config)
    assert result.price == 100.0
    assert result.bound_rules == (R.CHANGE_PER_PERIOD, R.LADDER)
    assert [b.price_after for b in result.bindings] == [95.0, 100.0]
    # A competitor at 80 is out of reach: the price goes to 95, the end nearest to it,
    # and the ladder, now out of reach too, is overruled.
    context = ctx(previous_price=100.0, competitor_price=80.0, ladder_lower=100.0, ladder_upper=101)
    result = apply_guardrails(104.0, context, config)
    assert result.price == 95.0
    assert result.bound_rules == (R.COMPETITOR_BAND,)
    assert result.conflicting_rules == (R.COMPETITOR_BAND, R.LADDER)


def test_rule_with_no_whole_cent_inside_is_a_conflict() -> None:
    config = BARE.updated(is_ladder_enabled=True)
    result = apply_guardrails(60.0, ctx(ladder_lower=10.001, ladder_upper=10.009), config)
    assert result.price == 60.0
    assert result.conflicting_rules == (R.LADDER,)
    assert "holds no whole-cent price" in result.conflicts[0].describe()


def test_default_config_end_to_end() -> None:
    config = GuardrailConfig(price_endings=(0.95,))
    context = ctx(unit_cost=60.0, previous_price=100.0, lowest_price_30d=99.0, is_personalized=True)
    result = apply_guardrails(40.0, context, config)
    assert result.price == 85.95  # floor 66, then the personal band [85, 115], then .95
    assert result.bound_rules == (R.FLOOR, R.PERSONAL_DEVIATION, R.ROUNDING)
    assert [b.price_after for b in result.bindings] == [66.0, 85.0, 85.95]
    assert result.is_personalized
    assert not result.needs_approval  # -14.05 % against 100 < 20 %
    assert result.reference_price == 99.0
    assert result.announced_discount_pct == 13.1  # (99 - 85.95) / 99 = 13.18 %, rounded down


# --- approval and validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "current", "threshold", "expected"),
    [
        (120.0, 100.0, 20.0, False),
        (120.01, 100.0, 20.0, True),
        (79.0, 100.0, 20.0, True),
        (5.0, 0.0, 20.0, True),
        (0.0, 0.0, 20.0, False),
        (500.0, 100.0, None, False),
    ],
)
def test_needs_approval(
    new: float, current: float, threshold: float | None, expected: bool
) -> None:
    assert needs_approval(new, current, BARE.updated(approval_threshold_pct=threshold)) is expected


def test_approval_against_previous_price_else_list_price() -> None:
    config = BARE.updated(approval_threshold_pct=10)
    assert apply_guardrails(115.0, ctx(previous_price=110.0), config).needs_approval is False
    assert apply_guardrails(115.0, ctx(), config).needs_approval is True


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, "cheap"])
def test_invalid_amounts_are_refused_with_field_and_value(bad: object) -> None:
    with pytest.raises(GuardrailError, match=r"product 'p1', field \"unit_cost\".*got"):
        ctx(unit_cost=bad)
    with pytest.raises(GuardrailError, match=r"proposed_price of product 'p1'.*got"):
        apply_guardrails(bad, ctx(), BARE)  # type: ignore[arg-type]
    with pytest.raises(GuardrailError, match="current_price"):
        needs_approval(1.0, bad, BARE)  # type: ignore[arg-type]


def test_too_large_amounts_are_refused() -> None:
    with pytest.raises(
        GuardrailError,
        match=r"field \"list_price\": expected a finite amount in \[0, 1e\+09\].*got 2000000000.0",
    ):
        ctx(list_price=2e9)
    with pytest.raises(GuardrailError, match=r"in \[0, 1e\+12\].*got 2000000000000.0"):
        apply_guardrails(2e12, ctx(), BARE)


def test_is_personalized_must_be_a_bool() -> None:
    with pytest.raises(GuardrailError, match="is_personalized"):
        ctx(is_personalized="yes")


# --- properties for any input ---------------------------------------------------------------

amounts = st.one_of(
    st.floats(min_value=0, max_value=1e9),
    st.sampled_from([0.0, 1e-9, 0.004, 0.005, 0.01, 0.99, 1.0, 98.4, 1e9]),
)
proposals = amounts | st.floats(min_value=0, max_value=MAX_PRICE)
factors = st.floats(min_value=0, max_value=3)
percents = st.floats(min_value=0, max_value=100)


@st.composite
def contexts(draw: st.DrawFn) -> PriceContext:
    base = draw(amounts)

    def near() -> float:
        return min(base * draw(factors), 1e9)

    def maybe() -> float | None:
        return draw(st.one_of(st.none(), st.builds(near)))

    return PriceContext(
        product_id="p",
        list_price=base,
        unit_cost=near(),
        previous_price=maybe(),
        competitor_price=maybe(),
        ladder_lower=maybe(),
        ladder_upper=maybe(),
        ceiling_price=maybe(),
        lowest_price_30d=maybe(),
        is_personalized=draw(st.booleans()),
    )


def _consistent(values: dict) -> bool:
    """The floor/ceiling consistency that GuardrailConfig refuses to break."""
    markup = values["max_markup_over_list_pct"]
    margin = values["min_margin_pct"]
    return markup is None or (1 + margin / 100) * REFERENCE_COST_RATIO <= 1 + markup / 100


configs = (
    st.builds(
        dict,
        min_margin_pct=st.floats(min_value=0, max_value=1000),
        max_markup_over_list_pct=st.none() | st.floats(min_value=0, max_value=1000),
        max_personal_deviation_pct=st.none() | percents,
        max_change_per_period_pct=st.none() | st.floats(min_value=0, max_value=1000),
        competitor_floor_pct=st.none() | percents,
        competitor_ceiling_pct=st.none() | st.floats(min_value=0, max_value=1000),
        is_ladder_enabled=st.booleans(),
        ladder_min_gap_pct=st.floats(min_value=0, max_value=50),
        price_endings=st.sets(st.sampled_from([0.0, 0.5, 0.9, 0.95, 0.99]), max_size=3).map(tuple),
        rounding_mode=st.sampled_from(["nearest", "down", "up"]),
        approval_threshold_pct=st.none() | st.floats(min_value=0, max_value=100),
    )
    .filter(_consistent)
    .map(lambda values: GuardrailConfig(**values))
)


def rule_intervals(
    context: PriceContext, config: GuardrailConfig
) -> dict[GuardrailRule, tuple[float, float]]:
    """Each active rule's interval, written straight from the issue text (the oracle)."""
    inf = math.inf
    c = context
    intervals = {R.FLOOR: (max(c.unit_cost * (1 + config.min_margin_pct / 100), 0.01), inf)}
    ceilings = [c.ceiling_price] if c.ceiling_price is not None else []
    if config.max_markup_over_list_pct is not None:
        ceilings.append(c.list_price * (1 + config.max_markup_over_list_pct / 100))
    if ceilings:
        intervals[R.CEILING] = (-inf, min(ceilings))
    if config.max_personal_deviation_pct is not None and c.is_personalized:
        d = config.max_personal_deviation_pct / 100
        intervals[R.PERSONAL_DEVIATION] = (c.list_price * (1 - d), c.list_price * (1 + d))
    if config.max_change_per_period_pct is not None and c.previous_price is not None:
        d = config.max_change_per_period_pct / 100
        intervals[R.CHANGE_PER_PERIOD] = (c.previous_price * (1 - d), c.previous_price * (1 + d))
    if c.competitor_price is not None and (
        config.competitor_floor_pct is not None or config.competitor_ceiling_pct is not None
    ):
        low, high = config.competitor_floor_pct, config.competitor_ceiling_pct
        intervals[R.COMPETITOR_BAND] = (
            -inf if low is None else c.competitor_price * (1 - low / 100),
            inf if high is None else c.competitor_price * (1 + high / 100),
        )
    if config.is_ladder_enabled and (c.ladder_lower is not None or c.ladder_upper is not None):
        gap = config.ladder_min_gap_pct / 100
        intervals[R.LADDER] = (
            -inf if c.ladder_lower is None else c.ladder_lower * (1 + gap),
            inf if c.ladder_upper is None else c.ladder_upper * (1 - gap),
        )
    return intervals


def slack(amount: float) -> float:
    """Float noise allowed when comparing a price with a bound."""
    return 1e-8 + 1e-12 * abs(amount)


def check_result(result: GuardrailResult, context: PriceContext, config: GuardrailConfig) -> None:
    price = result.price
    assert math.isfinite(price)
    assert round(price * 100) / 100 == price, "not whole cents"
    assert 0.01 <= price <= MAX_PRICE
    cents = round(price * 100)
    intervals = rule_intervals(context, config)
    assert R.FLOOR not in result.conflicting_rules
    assert set(result.conflicting_rules) | set(result.bound_rules) <= {*intervals, R.ROUNDING}
    # Walk the rules as the module doc says, in whole cents, and check every one.
    allowed_low, allowed_high = -math.inf, MAX_PRICE * 100
    for rule, (low, high) in intervals.items():
        low_cents, high_cents = float(ceil_cents(low)), float(floor_cents(high))
        if rule == R.FLOOR:
            low_cents = max(low_cents, 1.0)
        if rule not in result.conflicting_rules:
            assert low_cents <= cents <= high_cents, (rule, low, high, price)
            allowed_low, allowed_high = max(allowed_low, low_cents), min(allowed_high, high_cents)
            continue
        assert low_cents > high_cents or low_cents > allowed_high or high_cents < allowed_low
        if low_cents <= high_cents:  # overruled: pulled to the nearest end
            if low_cents > allowed_high:
                allowed_low = allowed_high
            else:
                allowed_high = allowed_low
    assert allowed_low <= cents <= allowed_high
    # The floor over cost, without our cent arithmetic.
    floor = context.unit_cost * (1 + config.min_margin_pct / 100)
    assert price >= floor - slack(floor)
    if config.price_endings and R.ROUNDING not in result.conflicting_rules:
        assert cents % 100 in config.ending_cents
    current = context.previous_price if context.previous_price is not None else context.list_price
    assert result.needs_approval == needs_approval(price, current, config)


@settings(max_examples=300, deadline=None)
@given(context=contexts(), config=configs, proposed=proposals)
def test_any_output_satisfies_every_rule_not_in_conflict(
    context: PriceContext, config: GuardrailConfig, proposed: float
) -> None:
    result = apply_guardrails(proposed, context, config)
    check_result(result, context, config)
    again = apply_guardrails(result.price, context, config)
    assert again.price == result.price, "not idempotent"


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(st.tuples(contexts(), proposals), min_size=1, max_size=12),
    config=configs,
)
def test_batch_equals_scalar(
    rows: list[tuple[PriceContext, float]], config: GuardrailConfig
) -> None:
    batch = apply_guardrails_batch(
        np.array([proposed for _, proposed in rows]),
        context_columns([context for context, _ in rows]),
        config,
    )
    for index, (context, proposed) in enumerate(rows):
        scalar = apply_guardrails(proposed, context, config)
        assert batch.prices[index] == scalar.price
        assert rules_in_mask(batch.bound_mask[index]) == scalar.bound_rules
        assert rules_in_mask(batch.conflict_mask[index]) == scalar.conflicting_rules
        assert bool(batch.needs_approval[index]) == scalar.needs_approval
