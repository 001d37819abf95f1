"""Protected attributes and their proxies are refused as personalization inputs."""

from __future__ import annotations

import pytest

from pricegraph.errors import GuardrailError
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.guardrails.fairness import (
    ProtectedInput,
    check_personalization_inputs,
    find_protected_inputs,
)

CONFIG = GuardrailConfig()


@pytest.mark.parametrize(
    ("feature", "attribute", "is_proxy"),
    [
        ("gender", "gender", False),
        ("customer_gender", "gender", False),
        ("Customer-Gender", "gender", False),
        ("age_years", "age", False),
        ("ageBand", "age", False),
        ("age2", "age", False),
        ("customerDOB", "dob", False),
        ("date_of_birth", "date_of_birth", False),
        ("dateOfBirth", "date_of_birth", False),
        ("dateofbirth", "date_of_birth", False),
        ("marital_status_code", "marital_status", False),
        ("zip_code", "zip", True),
        ("zipcode", "zip_code", True),  # zip_code written together
        ("ZIPCode", "zip", True),
        ("billing_postcode", "postcode", True),
        ("first_name_embedding", "first_name", True),
        ("firstName", "first_name", True),
        ("salutation", "salutation", True),
    ],
)
def test_finds_protected_attributes_and_proxies(
    feature: str, attribute: str, is_proxy: bool
) -> None:
    assert find_protected_inputs([feature], CONFIG) == (
        ProtectedInput(feature, attribute, is_proxy),
    )


@pytest.mark.parametrize(
    "feature",
    [
        "page_views",
        "average_basket",
        "usage_days",
        "storage_gb",
        "segment_id",
        "recency_days",
        "trace_id",
        "agent",
        "price_elasticity",
    ],
)
def test_ignores_names_that_merely_contain_a_listed_word(feature: str) -> None:
    assert find_protected_inputs([feature], CONFIG) == ()


def test_check_lists_every_offender() -> None:
    features = ["recency_days", "customer_gender", "age_years", "zip_code", "basket_value"]
    with pytest.raises(GuardrailError) as caught:
        check_personalization_inputs(features, CONFIG)
    assert str(caught.value) == (
        "personalization inputs must not include protected attributes or their proxies; "
        "found 3: 'customer_gender' (gender), 'age_years' (age), 'zip_code' (proxy: zip)"
    )


def test_check_passes_clean_inputs_and_follows_the_config() -> None:
    check_personalization_inputs(["recency_days", "segment_embedding"], CONFIG)
    check_personalization_inputs([], CONFIG)
    relaxed = CONFIG.updated(proxy_attributes=())
    check_personalization_inputs(["product_title", "zip_code"], relaxed)
    strict = CONFIG.updated(protected_attributes=("loyalty tier",))
    with pytest.raises(GuardrailError, match="'loyaltyTierScore' \\(loyalty tier\\)"):
        check_personalization_inputs(["loyaltyTierScore"], strict)
