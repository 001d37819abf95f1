"""Quote states from the embedded graph and vector stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from support.quotes import COLLECTIONS, NOW, World

from pricegraph.errors import GuardrailError, NotFoundError
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.policy import Season
from pricegraph.pricing.quotes.inputs import input_from_dict, input_to_dict, vector_hash
from pricegraph.pricing.quotes.state import (
    QUOTE_STATE_FEATURES,
    StateBuilder,
    own_prices,
    period_of,
)


def _builder(world: World, **kwargs) -> StateBuilder:
    return StateBuilder(
        world.store, world.vectors, PricingConfig(), collections=COLLECTIONS, **kwargs
    )


def test_batch_and_single_reads_give_the_same_inputs(world: World) -> None:
    builder = _builder(world)
    fresh = _builder(world, cache_ttl_s=0)  # reads the store for every request
    pairs = [(c, p) for c in world.customers[:3] for p in world.products]
    bulk = builder.build(pairs, NOW)
    for pair, item in zip(pairs, bulk, strict=True):
        (single,) = builder.build([pair], NOW)
        assert input_to_dict(fresh.build([pair], NOW)[0]) == input_to_dict(item)
        assert input_to_dict(single) == input_to_dict(item)
        np.testing.assert_array_equal(single.state.customer_vector, item.state.customer_vector)
    item = bulk[0]
    node = world.store.get_node("Product", item.state.product_id)
    assert item.state.list_price == node["list_price"] and item.state.unit_cost == node["cost"]
    assert (
        item.state.customer_vector.shape == (8,) and item.state.customer_vector.dtype == np.float32
    )
    assert item.state.period == period_of(NOW, 7) == 16
    assert item.customer.segment_id.startswith("SEG-v1-") and item.customer.segment_name
    assert any(i.product.competitor_price is not None for i in bulk)
    assert all(0.0 <= i.state.competitor_price_ratio < 3 for i in bulk)


def test_a_policy_s_season_sets_the_quote_period(world: World) -> None:
    pair = [(world.customers[0], world.products[0])]
    started = _builder(world, season=Season((NOW - timedelta(days=20)).date(), 7))
    assert started.build(pair, NOW)[0].state.period == 2
    coming = _builder(world, season=Season((NOW + timedelta(days=1)).date(), 7))
    assert coming.build(pair, NOW)[0].state.period == -1  # before it: the policy clamps


def test_season_periods_count_utc_days_from_the_first() -> None:
    season = Season(date(2011, 12, 12), 7)
    assert season.period_of(datetime(2011, 12, 12, tzinfo=UTC)) == 0
    assert season.period_of(datetime(2011, 12, 18, 23, 59, tzinfo=UTC)) == 0
    assert season.period_of(datetime(2011, 12, 19, tzinfo=UTC)) == 1
    assert season.period_of(datetime(2011, 12, 11, 23, tzinfo=UTC)) == -1
    paris = timezone(timedelta(hours=2))
    assert season.period_of(datetime(2011, 12, 12, 0, 30, tzinfo=paris)) == -1  # UTC: the 11th
    assert season.period_of(datetime(2011, 12, 26)) == 2  # naive: UTC
    assert Season(date(2011, 12, 12), 1).period_of(datetime(2012, 1, 1, tzinfo=UTC)) == 20


def test_inputs_round_trip_without_vectors(world: World) -> None:
    (item,) = _builder(world).build([(world.customers[0], world.products[0])], NOW)
    data = input_to_dict(item)
    assert data["state"]["customer_vector_hash"] == vector_hash(item.state.customer_vector)
    vectors = {
        "customer_vector": item.state.customer_vector,
        "product_vector": item.state.product_vector,
    }
    again = input_from_dict(data, vectors, item.state.market)
    assert again.product == item.product and again.customer == item.customer
    assert input_to_dict(again) == data
    assert data["state"]["market_digest"] == item.state.market.digest


def test_without_vector_store_and_with_period_stock(world: World) -> None:
    product = world.products[0]
    stock = world.store.get_node("Product", product)["stock_units"]
    builder = StateBuilder(
        world.store, None, PricingConfig(), period_start_stock={product: 2 * stock}
    )
    (item,) = builder.build([(world.customers[0], product)], NOW)
    assert item.state.customer_vector is None and item.state.inventory_ratio == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("pair", "kind"), [(("C-404", None), "customer"), ((None, "P-404"), "product")]
)
def test_unknown_ids(world: World, pair, kind) -> None:
    customer = pair[0] or world.customers[0]
    product = pair[1] or world.products[0]
    with pytest.raises(NotFoundError, match=f"{kind} '{pair[0] or pair[1]}' not found") as info:
        _builder(world).build([(customer, product)], NOW)
    assert info.value.kind == kind


def test_protected_feature_names_are_refused(world: World) -> None:
    assert "days_since_last_purchase" in QUOTE_STATE_FEATURES
    with pytest.raises(GuardrailError, match="'date_of_birth' \\(date_of_birth\\)"):
        _builder(world, feature_names=("date_of_birth",))
    config = PricingConfig(guardrails=GuardrailConfig(protected_attributes=("period",)))
    with pytest.raises(GuardrailError, match="'period'"):
        StateBuilder(world.store, None, config)


def test_own_prices_by_hand() -> None:
    points = pd.DataFrame(
        {
            "kind": ["list", "markdown", "markdown", "competitor"],
            "price": [100.0, 70.0, 80.0, 50.0],
            "valid_from": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-04-10", "2025-01-01"]),
            "valid_to": pd.to_datetime([None, "2025-03-20", "2025-05-01", None]),
        }
    )
    at = datetime(2025, 4, 15, tzinfo=UTC)
    assert own_prices(points, at) == (80.0, 70.0)  # 70 until 20 March, within 30 days
    assert own_prices(points, datetime(2025, 5, 30, tzinfo=UTC)) == (100.0, 80.0)
    assert own_prices(points, datetime(2025, 7, 1, tzinfo=UTC)) == (100.0, 100.0)
    assert own_prices(points, datetime(2024, 7, 1)) == (None, None)


def test_snapshot_is_cached_until_invalidated(world: World) -> None:
    product = world.products[2]
    later = datetime(2025, 6, 1, tzinfo=UTC)  # after NOW: other tests are unaffected
    cached, fresh = _builder(world, cache_ttl_s=None), _builder(world, cache_ttl_s=0)
    (before,) = cached.build([(world.customers[0], product)], later)
    markdown = pd.DataFrame(
        {
            "id": [f"PP-{product}-markdown-test"],
            "product_id": [product],
            "price": [0.5 * before.product.list_price],
            "currency": ["EUR"],
            "kind": ["markdown"],
            "valid_from": pd.to_datetime(["2025-05-20"]),
            "valid_to": pd.to_datetime([None]),
            "source": ["test"],
        }
    )
    world.store.upsert_nodes("PricePoint", markdown)
    world.store.upsert_edges(
        "HAS_PRICE", pd.DataFrame({"source": [product], "target": markdown["id"]})
    )
    pair = (world.customers[0], product)
    assert cached.build([pair], later)[0].product == before.product  # still the snapshot
    assert fresh.build([pair], later)[0].product.current_price == markdown["price"][0]
    cached.invalidate()
    (after,) = cached.build([pair], later)
    assert after.product.current_price == markdown["price"][0]
    assert after.product.lowest_price_30d == markdown["price"][0]
    assert before.product.current_price != after.product.current_price


def test_own_prices_ties_and_open_points() -> None:
    points = pd.DataFrame(
        {
            "kind": ["list", "list", "markdown", "markdown"],
            "price": [100.0, 90.0, 60.0, 65.0],
            "valid_from": pd.to_datetime(["2025-01-01", "2025-01-01", None, "2025-06-01"]),
            "valid_to": pd.to_datetime([None, None, None, "2025-06-10"]),
        }
    )
    # equal (kind, start): the later row wins; a markdown without a start is never in force
    assert own_prices(points, datetime(2025, 3, 1, tzinfo=UTC)) == (90.0, 90.0)
    assert own_prices(points, datetime(2025, 6, 5, tzinfo=UTC)) == (65.0, 65.0)
    assert own_prices(points, datetime(2025, 6, 20, tzinfo=UTC)) == (90.0, 65.0)
    assert own_prices(points.iloc[:0], datetime(2025, 6, 20, tzinfo=UTC)) == (None, None)
