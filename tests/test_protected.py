"""The shared names of protected attributes, proxies and demographics, and their matching."""

from __future__ import annotations

import pandas as pd

from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.guardrails.fairness import find_protected_inputs
from pricegraph.protected import (
    DEFAULT_PROTECTED_ATTRIBUTES,
    demographic_terms,
    find_protected_names,
    flagged_attributes,
    texts_with_demographics,
)


def test_names_match_word_by_word() -> None:
    hits = find_protected_names(["customer_gender", "zipCode", "page_views", "average_basket"])
    assert [(h.feature, h.attribute, h.is_proxy) for h in hits] == [
        ("customer_gender", "gender", False),
        ("zipCode", "zip", True),
    ]


def test_pricing_checks_the_same_lists() -> None:
    config = GuardrailConfig()
    assert config.protected_attributes == DEFAULT_PROTECTED_ATTRIBUTES
    names = ["DOB", "postcode", "basket_value"]
    assert find_protected_inputs(names, config) == find_protected_names(names)


def test_attributes_are_flagged_as_protected_proxy_or_demographic() -> None:
    assert flagged_attributes(["age_band", "post_code", "household_income", "loyalty_tier"]) == {
        "age_band": "age (protected)",
        "post_code": "postcode (proxy)",
        "household_income": "income (demographic)",
    }


def test_texts_that_state_a_demographic() -> None:
    assert demographic_terms("AGE_DESC: 45-54; married") == ["married", "age"]
    texts = pd.Series(["likes tea", "household income 50-74K", None], index=["a", "b", "c"])
    found = texts_with_demographics(texts)
    assert list(found.index) == ["b"] and found["b"] == ["income"]
