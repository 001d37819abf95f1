"""The quote service on a small synthetic world in the embedded stores."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.quotes import (
    NOW,
    DeepDiscountPolicy,
    World,
    make_service,
)

from pricegraph.errors import ConfigError, GuardrailError, ModelError, NotFoundError
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.guardrails.memory import PriceMemory
from pricegraph.pricing.policy import LevelDecision, ListPricePolicy, QuoteState
from pricegraph.pricing.quotes.audit import AuditLog
from pricegraph.pricing.quotes.service import QuoteService


def test_quotes_stay_inside_every_guardrail(world: World) -> None:
    service = make_service(world, approval_threshold_pct=None)
    pairs = [(c, p) for c in world.customers[:10] for p in world.products]
    nodes = {p: world.store.get_node("Product", p) for p in world.products}
    for quote in service.quote_batch(pairs, requested_by="test"):
        node = nodes[quote.product_id]
        floor = math.ceil(round(node["cost"] * 1.10 * 100, 6)) / 100
        assert quote.price >= floor - 1e-9
        assert quote.price <= node["list_price"] * 1.30 + 1e-9
        assert round(quote.price * 100) == pytest.approx(quote.price * 100)
        if quote.is_personalized and not quote.conflicts:
            assert abs(quote.price - quote.list_price) <= 0.15 * quote.list_price + 0.01
        assert quote.model_versions == {"policy": "deep-discount-1", "encoder": "enc-test"}


def test_rationale_names_multipliers_and_bound_rule(world: World) -> None:
    quote = make_service(world).quote(world.customers[0], world.products[0], requested_by="t")
    assert quote.rationale.startswith("Zone 'clearance' (0.40 \u00d7 list).")
    assert "Segment multiplier \u22128.0 %." in quote.rationale
    assert quote.bound_rules and "Guardrails: floor: raised by" in quote.rationale
    assert quote.decision.zone == "clearance" and quote.proposed_price < quote.guarded_price
    assert quote.is_personalized == ("Personalised by \u22122.0 %." in quote.rationale)
    assert "elasticity" not in quote.rationale


def test_batch_equals_single_quotes(world: World) -> None:
    service = make_service(world, approval_threshold_pct=None)
    pairs = [(c, p) for c in world.customers[:5] for p in world.products[:4]]
    batch = service.quote_batch(pairs, requested_by="t")
    for (customer, product), quote in zip(pairs, batch, strict=True):
        single = service.quote(customer, product, requested_by="t")
        assert single.output() == quote.output()


def test_list_price_policy_and_reference_price(world: World) -> None:
    memory = PriceMemory().record(world.products[0], datetime(2025, 4, 20, tzinfo=UTC), 1.0)
    service = QuoteService(
        world.store,
        None,
        ListPricePolicy(),
        PricingConfig(),
        price_memory=memory,
        clock=lambda: NOW,
    )
    quote = service.quote(world.customers[0], world.products[0], requested_by="t")
    assert quote.decision.zone == "list" and not quote.is_personalized
    assert quote.reference_price == 1.0 and quote.announced_discount_pct == 0.0
    assert quote.rationale.startswith("Zone 'list' (1.00 \u00d7 list): list price, no trained")
    assert quote.model_versions == {"policy": "list-price", "encoder": "none"}


@pytest.mark.parametrize(
    ("customer", "product", "kind"), [("NOPE", None, "customer"), (None, "NOPE", "product")]
)
def test_unknown_ids_raise_not_found(world: World, customer, product, kind) -> None:
    service = make_service(world)
    with pytest.raises(NotFoundError) as info:
        service.quote(
            customer or world.customers[0], product or world.products[0], requested_by="t"
        )
    assert (info.value.kind, info.value.key) == (kind, "NOPE")


def test_protected_policy_input_is_refused(world: World) -> None:
    class GenderPolicy(DeepDiscountPolicy):
        feature_names = ("customer_gender", "zipCode")

    with pytest.raises(GuardrailError, match=r"customer_gender.*gender.*zipCode"):
        make_service(world, GenderPolicy())


def test_bad_policies_are_refused(world: World) -> None:
    class Broken:
        version = "broken"

        def decide_many(self, states: list[QuoteState]) -> list[LevelDecision]:
            return [LevelDecision("list", -1.0) for _ in states]

    with pytest.raises(ModelError, match="expected a finite multiplier > 0"):
        make_service(world, Broken()).quote(world.customers[0], world.products[0], requested_by="t")
    with pytest.raises(ConfigError, match="QuotePolicy"):
        make_service(world, object())


def test_batch_is_recorded_in_one_insert(world: World, tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.sqlite") as audit:
        service = make_service(world, audit=audit)
        pairs = [(c, world.products[0]) for c in world.customers[:7]]
        quotes = service.quote_batch(pairs, requested_by="key-1")
        assert audit.count() == 7 and audit.count(product_id=world.products[0]) == 7
        assert [r.quote_id for r in audit.query()] == [q.quote_id for q in quotes]
