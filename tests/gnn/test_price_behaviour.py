"""The customers' price behaviour features (``gnn.features.customer_price_behaviour``)."""

from __future__ import annotations

import math

import pytest
import torch

from pricegraph.gnn.features import NUM_BEHAVIOUR_FEATURES, customer_price_behaviour, price_level

DAY_S = 86_400


def test_price_level_is_log_price_over_the_category_median() -> None:
    list_price = torch.tensor([10.0, 20.0, 40.0, 5.0, float("nan")], dtype=torch.float64)
    category = torch.tensor([0, 0, 0, 1, 1])
    level = price_level(list_price, category)
    assert level[:4].tolist() == pytest.approx([math.log(0.5), 0.0, math.log(2.0), 0.0])
    assert math.isnan(float(level[4]))


def test_behaviour_columns_rank_customers_and_ignore_the_future() -> None:
    # Products 0 (cheap) and 1 (dear) of one category, brands 0 and 1.
    list_price = torch.tensor([10.0, 40.0], dtype=torch.float64)
    category, brand = torch.tensor([0, 0]), torch.tensor([0, 1])
    # Customer 0 buys the cheap product at half price; customer 1 the dear one at list;
    # customer 2 buys nothing before the cut-off (a purchase after it must not count).
    purchases = torch.tensor([[0, 1, 2], [0, 1, 1]])
    purchase_time = torch.tensor([1, 1, 20]) * DAY_S
    unit_price = torch.tensor([5.0, 40.0, 1.0], dtype=torch.float64)
    # Customer 0 views both brands on two days; customer 1 only brand 1,
    # twice on one day.
    views = torch.tensor([[0, 0, 0, 1, 1], [0, 1, 0, 1, 1]])
    view_time = torch.tensor([1, 1, 2, 1, 1]) * DAY_S
    out = customer_price_behaviour(
        purchases, purchase_time, unit_price, views, view_time, list_price, category, brand,
        num_customers=3, cutoff_s=10 * DAY_S,
    )  # fmt: skip
    assert out.shape == (3, NUM_BEHAVIOUR_FEATURES) and out.dtype == torch.float32
    paid, bought_level, viewed_level, concentration, per_day, conversion = out.T
    # Two customers with a value: standardised to -1/sqrt(2) and +1/sqrt(2); none -> 0.
    half = 1 / math.sqrt(2)
    assert paid.tolist() == pytest.approx([-half, half, 0.0], abs=1e-6)  # deep markdown first
    assert bought_level.tolist() == pytest.approx([-half, half, 0.0], abs=1e-6)
    assert viewed_level.tolist() == pytest.approx([-half, half, 0.0], abs=1e-6)
    assert concentration.tolist() == pytest.approx([-half, half, 0.0], abs=1e-6)  # 5/9 < 1
    assert per_day.tolist() == pytest.approx([-half, half, 0.0], abs=1e-6)  # 1.5 < 2 a day
    assert conversion.tolist() == pytest.approx([-half, half, 0.0], abs=1e-6)  # 2/4 < 2/3
