"""Tests of ``build_quote_service`` and ``load_policy``: saved guardrails, the policy, vectors,
and no silent fallback to list price."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from support.quotes import COLLECTIONS, NOW, DeepDiscountPolicy, World

from pricegraph.embeddings.pipeline import collection_specs
from pricegraph.errors import ConfigError
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.guardrails.store import save_guardrails
from pricegraph.pricing.policy import ListPricePolicy
from pricegraph.pricing.quotes.factory import (
    build_quote_service,
    graph_vectors,
    load_policy,
    open_recorders,
)


def test_no_trained_policy_warns_and_quotes_at_list_price(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pricing = PricingConfig().resolved(tmp_path)
    with caplog.at_level(logging.WARNING, logger="pricegraph.pricing"):
        policy = load_policy(pricing)
    assert isinstance(policy, ListPricePolicy) and policy.version == "list-price"
    [record] = [r for r in caplog.records if r.name == "pricegraph.pricing"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert str(tmp_path / "models" / "pricing" / "latest") in message
    assert "quotes use list prices" in message and "pricegraph train-pricing" in message


@pytest.mark.parametrize("make", ["nothing", "empty folder", "file"])
def test_a_configured_policy_that_is_not_there_is_an_error_naming_it(
    tmp_path: Path, make: str
) -> None:
    path = tmp_path / "models" / "pricing" / "mine"
    if make == "empty folder":
        path.mkdir(parents=True)
    elif make == "file":
        path.parent.mkdir(parents=True)
        path.write_text("not a checkpoint")
    pricing = PricingConfig(policy_path=Path("models/pricing/mine")).resolved(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_policy(pricing)
    message = str(caught.value)
    assert f"pricing.policy_path={path}" in message and "\n" not in message
    assert "PRICEGRAPH_PRICING__POLICY_PATH" in message


def test_the_service_applies_saved_guardrails_and_uses_graph_vectors(
    world: World, tmp_path: Path
) -> None:
    pricing = PricingConfig().resolved(tmp_path)
    saved = GuardrailConfig().updated(min_margin_pct=21.0)
    save_guardrails(pricing.guardrails_path, saved, "ops-desk")
    service = build_quote_service(
        world.store,
        world.vectors,
        pricing,
        collections=COLLECTIONS,
        policy=DeepDiscountPolicy(),
        clock=lambda: NOW,
    )
    assert service.config.guardrails.min_margin_pct == 21.0
    assert service.model_versions["policy"] == "deep-discount-1"
    assert service.model_versions["encoder"] == "enc-test"
    quote = service.quote(world.customers[0], world.products[0], requested_by="test")
    assert quote.ts == NOW and quote.is_personalized  # the customer's vector was read


def test_without_embedded_collections_quotes_go_without_vectors(
    world: World, tmp_path: Path
) -> None:
    empty = {kind: spec.name for kind, spec in collection_specs("none_", 384, 8).items()}
    assert graph_vectors(world.vectors, empty) is None
    assert graph_vectors(None, COLLECTIONS) is None
    assert graph_vectors(world.vectors, COLLECTIONS) is world.vectors
    service = build_quote_service(
        world.store,
        world.vectors,
        PricingConfig().resolved(tmp_path),
        collections=empty,
        policy=DeepDiscountPolicy(),
        clock=lambda: NOW,
    )
    assert service.model_versions["encoder"] == "none"
    quote = service.quote(world.customers[0], world.products[0], requested_by="test")
    assert not quote.is_personalized


def test_recorders_share_the_configured_file(tmp_path: Path) -> None:
    pricing = PricingConfig().resolved(tmp_path)
    audit, approvals = open_recorders(pricing)
    try:
        assert audit.count() == 0 and approvals.pending() == []
        assert pricing.audit_path.is_file()
    finally:
        audit.close()
        approvals.close()
