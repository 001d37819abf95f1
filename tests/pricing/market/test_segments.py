"""A world's market regrouped by graph segments: same demand, the graph's segment names."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pricegraph.errors import ConfigError
from pricegraph.pricing.market.builders import GroundTruthMarketConfig, market_from_ground_truth
from pricegraph.pricing.market.segments import UNSEGMENTED, regroup_by_segments
from pricegraph.synthetic import WorldConfig, generate_world


def test_regrouping_keeps_every_groups_demand_and_names_the_graph_segments() -> None:
    world = generate_world(WorldConfig(seed=5, n_brands=8, n_customers=80, n_products=20,
                                       n_days=120))  # fmt: skip
    market = market_from_ground_truth(
        world.truth, config=GroundTruthMarketConfig(customers_per_segment=6, num_periods=4)
    )
    customers = market.meta["group_customer_ids"]
    segment_of = {c: f"SEG-v1-{i % 3}" for i, c in enumerate(customers[:-2])}  # 2 have none
    regrouped = regroup_by_segments(market, segment_of)
    assert regrouped.segment_names == ("SEG-v1-0", "SEG-v1-1", "SEG-v1-2", UNSEGMENTED)
    assert np.all(np.diff(regrouped.group_segment) >= 0)
    labels = [regrouped.segment_names[s] for s in regrouped.group_segment]
    for customer, label in zip(regrouped.meta["group_customer_ids"], labels, strict=True):
        assert label == segment_of.get(customer, UNSEGMENTED)
    prices = market.list_price * np.linspace(0.8, 1.2, market.num_products)
    for period in range(4):
        before = market.expected_units(
            np.broadcast_to(prices, (market.num_groups, prices.size)), period
        )
        after = regrouped.expected_units(
            np.broadcast_to(prices, (market.num_groups, prices.size)), period
        )
        np.testing.assert_allclose(after.sum(axis=0), before.sum(axis=0), rtol=1e-12)
    assert regrouped.group_weight.sum() == pytest.approx(market.group_weight.sum())
    with pytest.raises(ConfigError, match="group_customer_ids"):
        regroup_by_segments(replace(regrouped, meta={}), segment_of)
