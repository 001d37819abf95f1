"""Quotes with a trained hierarchy: rationales state the decision record's numbers, and the
guardrails in force (ladder from the graph, the catalogue's ceiling) are those of
``apply_guardrails`` for the same context."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from support.pricing_rl import TINY, tiny_env, tiny_market
from support.quotes import COLLECTIONS, NOW, World

from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.guardrails.apply import PriceContext, apply_guardrails
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.policies.hierarchy import HierarchicalPolicy
from pricegraph.pricing.policies.meso import MesoConfig, MesoPlanner
from pricegraph.pricing.policies.training import train_pricing
from pricegraph.pricing.quotes.service import Quote, QuoteService

MINUS = "\u2212"
GUARDRAILS = GuardrailConfig(
    is_ladder_enabled=True, ladder_min_gap_pct=5.0, approval_threshold_pct=None
)


@pytest.fixture(scope="module")
def policy(world: World, tmp_path_factory: pytest.TempPathFactory) -> HierarchicalPolicy:
    """The tiny market's trained hierarchy, put on six of the world's products and two of
    its graph segments (the third segment is one the policy does not know)."""
    trained = train_pricing(tiny_market(inventory=30.0), TINY, tmp_path_factory.mktemp("p"))
    segments = sorted(set(world.store.node_frame("Segment")["id"]))
    public = replace(
        trained.policy.public,
        product_ids=tuple(world.products[:6]),
        segment_names=tuple(segments[:2]),
    )
    micro = trained.policy.micro.with_scale(1.0)
    return HierarchicalPolicy(trained.policy.macro, trained.policy.meso, micro, public, "hier-t")


@pytest.fixture(scope="module")
def quotes(world: World, policy: HierarchicalPolicy) -> tuple[QuoteService, list[Quote]]:
    world.store.upsert_nodes(
        "Product", pd.DataFrame({"id": [world.products[1]], "max_price": [100.0]})
    )
    service = QuoteService(
        world.store, world.vectors, policy, PricingConfig(guardrails=GUARDRAILS),
        collections=COLLECTIONS, clock=lambda: NOW,
    )  # fmt: skip
    pairs = [(c, p) for c in world.customers[:15] for p in world.products]
    return service, service.quote_batch(pairs, requested_by="t")


def _signed(sign: str, value: str) -> float:
    return -float(value) if sign == MINUS else float(value)


def test_every_number_of_a_rationale_is_the_decision_records(quotes) -> None:
    _, batch = quotes
    seen = {"clamped": 0, "own": 0, "mean": 0, "personal": 0, "unknown": 0}
    for quote in batch:
        d, text = quote.decision, quote.rationale
        assert "elasticity" not in text
        period = re.search(
            r"Plan period (\d+)( \(the quote's period (-?\d+) lies (before|past))?", text
        )
        assert period and int(period[1]) == d.period
        if d.requested_period != d.period:
            assert int(period[3]) == d.requested_period
            seen["clamped"] += 1
        zone = re.search(r"Zone '([^']+)' \(([\d.]+) \u00d7 list\)", text)
        assert zone and zone[1] == d.zone and float(zone[2]) == round(d.zone_multiplier, 2)
        if d.priced_segments == ():
            assert "the product is not in the policy's plan" in text
            assert d.segment_multiplier == 1.0 and not quote.is_personalized
            seen["unknown"] += 1
            continue
        inputs = re.search(r"stock at (\d+) % of the season's start, competitor prices at "
                           r"(\d+) % of list", text)  # fmt: skip
        assert inputs and int(inputs[1]) == round(100 * d.category_stock_ratio)
        assert int(inputs[2]) == round(100 * d.category_competitor_ratio)
        multiplier = re.search(r"Segment multiplier ([+\u2212\u00b1])([\d.]+) %", text)
        assert multiplier
        assert _signed(multiplier[1], multiplier[2]) == pytest.approx(
            100 * (d.segment_multiplier - 1), abs=0.05
        )
        slopes = re.findall(r"'([^']+)' \(estimated price slope ([\d.]+)\)", text)
        assert [name for name, _ in slopes] == list(d.priced_segments)
        assert [float(s) for _, s in slopes] == [round(s, 2) for s in d.segment_slopes]
        seen["own" if len(slopes) == 1 else "mean"] += 1
        personal = re.search(r"Personal adjustment ([+\u2212])([\d.]+) %", text)
        assert quote.is_personalized == (personal is not None) == (d.personal_adjustment != 0)
        if personal:
            seen["personal"] += 1
            assert _signed(personal[1], personal[2]) == pytest.approx(
                100 * d.personal_adjustment, abs=0.05
            )
            used = re.search(r"gate ([\d.]+); inputs: price slope ([\d.]+) of", text)
            assert used and float(used[1]) == d.micro_scale
            assert float(used[2]) == round(d.micro_slope, 2)
        for rule in quote.bound_rules:
            if rule.name != "rounding":
                verb = "raised" if rule.delta > 0 else "lowered"
                assert f"{rule.name}: {verb} by {abs(rule.delta):.2f}" in text
    assert seen["own"] and seen["mean"] and seen["unknown"] and seen["clamped"]


def test_quoted_guardrails_equal_apply_guardrails_on_the_same_context(quotes) -> None:
    service, batch = quotes
    items = service.builder.build([(q.customer_id, q.product_id) for q in batch], NOW)
    laddered, ceilings = 0, 0
    for quote, item in zip(batch, items, strict=True):
        facts = item.product
        context = PriceContext(
            facts.product_id, facts.list_price, facts.unit_cost,
            previous_price=facts.current_price, competitor_price=facts.competitor_price,
            ladder_lower=facts.ladder_lower, ladder_upper=facts.ladder_upper,
            ceiling_price=facts.ceiling_price, lowest_price_30d=facts.lowest_price_30d,
            is_personalized=quote.decision.is_personalized,
        )  # fmt: skip
        alone = apply_guardrails(quote.proposed_price, context, GUARDRAILS)
        assert alone.price == quote.price == quote.guarded_price
        assert [(b.rule.label, b.delta, b.reason) for b in alone.bindings] == [
            (b.name, b.delta, b.reason) for b in quote.bound_rules
        ]
        assert [c.describe() for c in alone.conflicts] == list(quote.conflicts)
        laddered += facts.ladder_lower is not None or facts.ladder_upper is not None
        if quote.product_id == batch[1].product_id:  # the catalogue's ceiling (max_price)
            assert facts.ceiling_price == 100.0 and quote.price <= 100.0
            ceilings += quote.proposed_price > 100.0
            if quote.proposed_price > 100.0:
                assert "ceiling: lowered by" in quote.rationale
                assert "to the product's price ceiling 100.00" in quote.rationale
    assert laddered > 0 and ceilings > 0
    assert any(
        "ladder" in [b.name for b in q.bound_rules] or any("ladder" in c for c in q.conflicts)
        for q in batch
    )


def test_replay_of_a_recorded_quote_matches(quotes, tmp_path: Path) -> None:
    service, batch = quotes
    quote = batch[3]
    from pricegraph.pricing.quotes.audit import AuditLog

    with AuditLog(tmp_path / "a.sqlite") as audit:
        recording = QuoteService(
            service.builder.store, service.builder.vectors, service.policy, service.config,
            audit=audit, collections=COLLECTIONS, clock=lambda: NOW,
        )  # fmt: skip
        again = recording.quote(quote.customer_id, quote.product_id, requested_by="t")
        (record,) = audit.query(customer_id=quote.customer_id, product_id=quote.product_id)
        output, differences = recording.recompute(record.inputs)
    assert differences == []
    assert output["price"] == again.price == quote.price
    assert output["rationale"] == again.rationale == quote.rationale


def test_the_service_decides_inside_the_personal_band_in_force(world: World, policy) -> None:
    """The guardrails in force (settings or setGuardrails) may narrow the band the policy
    was trained with; the service's policy decides inside the band in force (what that
    does to the levels: tests/pricing/policies/test_hierarchy.py)."""
    narrow = GUARDRAILS.model_copy(update={"max_personal_deviation_pct": 5.0})
    service = QuoteService(
        world.store, world.vectors, policy, PricingConfig(guardrails=narrow),
        collections=COLLECTIONS, clock=lambda: NOW,
    )  # fmt: skip
    assert service.policy.public.personal_band == 0.05 and policy.public.personal_band == 0.15
    same = QuoteService(world.store, world.vectors, policy, PricingConfig(guardrails=GUARDRAILS))
    assert same.policy is policy  # the band it was trained with: nothing to change


def test_a_refresh_ahead_solves_the_re_plan_before_the_swap(world: World, policy) -> None:
    """Stock changed and the snapshot expired: the background refresh solves the meso
    re-plan from the new stock before it swaps the snapshot in, so the next quote does
    not solve it, and decides as a service that reads the store on every request."""
    market = tiny_market(beta=2.5, inventory=30.0)  # price-sensitive: stock moves the plan
    planner = MesoPlanner(market, tiny_env(market, is_stochastic=False), MesoConfig())
    steep = HierarchicalPolicy(policy.macro, planner, policy.micro, policy.public, "hier-s")
    service = QuoteService(
        world.store, world.vectors, steep, PricingConfig(guardrails=GUARDRAILS),
        collections=COLLECTIONS, clock=lambda: NOW,
    )  # fmt: skip
    ticks = [0.0]
    service.builder.cache.monotonic = lambda: ticks[0]
    pairs = [(c, p) for c in world.customers[:3] for p in world.products[:6]]
    service.quote_batch(pairs, requested_by="t")
    solved = len(planner._replans)  # the re-plan of the stock on hand (period 3 of 4)
    assert solved == 1
    products = world.store.node_frame("Product").set_index("id").loc[world.products[:6]]
    stock = pd.DataFrame({"id": products.index, "stock_units": products["stock_units"]})
    world.store.upsert_nodes("Product", stock.assign(stock_units=stock["stock_units"] // 2 + 1))
    try:
        ticks[0] = 61.0  # past the 60 s TTL
        service.quote_batch(pairs, requested_by="t")  # the snapshot in hand: no new solve
        assert service.builder.cache.wait_for_refresh(30)
        assert len(planner._replans) == solved + 1  # the refresh solved the new stock's
        after = service.quote_batch(pairs, requested_by="t")
        assert len(planner._replans) == solved + 1  # ... and the quote did not solve again
        fresh = QuoteService(
            world.store, world.vectors, steep, PricingConfig(guardrails=GUARDRAILS),
            collections=COLLECTIONS, clock=lambda: NOW, store_cache_ttl_s=0,
        )  # fmt: skip
        reread = fresh.quote_batch(pairs, requested_by="t")
        assert [(q.price, q.decision) for q in after] == [(q.price, q.decision) for q in reread]
        assert len(planner._replans) == solved + 1
    finally:
        world.store.upsert_nodes("Product", stock)
