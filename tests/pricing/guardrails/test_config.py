"""Guardrail settings: defaults, validation messages that name the field, immutability."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pricegraph.errors import ConfigError
from pricegraph.pricing.guardrails.config import (
    DEFAULT_PROTECTED_ATTRIBUTES,
    GuardrailConfig,
    guardrail_config_from,
)


def test_defaults() -> None:
    config = GuardrailConfig()
    assert config.max_personal_deviation_pct == 15.0
    assert config.max_change_per_period_pct is None
    assert config.price_endings == ()
    assert config.rounding_mode == "nearest"
    assert {"gender", "age", "date_of_birth", "ethnicity", "pregnancy"} <= set(
        DEFAULT_PROTECTED_ATTRIBUTES
    )
    assert {"postcode", "zip", "first_name", "title", "salutation"} <= set(config.proxy_attributes)


def test_endings_are_sorted_whole_cents() -> None:
    config = GuardrailConfig(price_endings=(0.99, 0.9, 0.95))
    assert config.price_endings == (0.9, 0.95, 0.99)
    assert config.ending_cents == (90, 95, 99)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"min_margin_pct": -1},
            "pricing.guardrails.min_margin_pct: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            {"max_personal_deviation_pct": 150},
            "pricing.guardrails.max_personal_deviation_pct: Input should be less than or equal to 100 (got 150)",
        ),
        (
            {"min_margin_pct": float("nan")},
            "pricing.guardrails.min_margin_pct: Input should be a finite number",
        ),
        (
            {"price_endings": (0.955,)},
            "pricing.guardrails.price_endings: Value error, expected whole cents such as 0.95, got 0.955",
        ),
        ({"price_endings": (1.5,)}, "expected each ending in [0, 0.99], got 1.5"),
        ({"price_endings": (0.9, 0.90)}, "ending 0.9 is given twice"),
        (
            {"rounding_mode": "sideways"},
            "pricing.guardrails.rounding_mode: Input should be 'nearest', 'down' or 'up'",
        ),
        (
            {"proxy_attributes": ("zip", "--")},
            "expected attribute names with letters or digits, got '--'",
        ),
        (
            {"max_margin_pct": 5},
            "pricing.guardrails.max_margin_pct: Extra inputs are not permitted (got 5)",
        ),
    ],
)
def test_updated_names_the_field(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        GuardrailConfig().updated(**changes)
    assert message in str(caught.value)
    assert str(caught.value).startswith("invalid guardrail settings: ")


def test_updated_returns_a_new_config_and_keeps_the_old() -> None:
    config = GuardrailConfig()
    changed = config.updated(max_change_per_period_pct=10, price_endings=(0.99,))
    assert changed.max_change_per_period_pct == 10
    assert changed.price_endings == (0.99,)
    assert config.max_change_per_period_pct is None
    assert guardrail_config_from(changed.model_dump()) == changed


def test_frozen() -> None:
    config = GuardrailConfig()
    with pytest.raises(ValidationError, match="frozen"):
        config.min_margin_pct = 0  # type: ignore[misc]


def test_a_floor_above_the_ceiling_is_refused_naming_both_fields() -> None:
    with pytest.raises(ConfigError) as info:
        guardrail_config_from({"min_margin_pct": 1000, "max_markup_over_list_pct": 0})
    message = str(info.value)
    assert "min_margin_pct (1000)" in message and "max_markup_over_list_pct (0)" in message
    assert guardrail_config_from({"min_margin_pct": 150, "max_markup_over_list_pct": 30})
    with pytest.raises(ConfigError, match="approval_threshold_pct"):
        guardrail_config_from({"approval_threshold_pct": 1e308})
