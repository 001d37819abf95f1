"""Activity features of products and customers, by hand."""

from __future__ import annotations

import math

import pytest
import torch

from pricegraph.gnn.features import customer_activity, product_activity

DAY_S = 86_400


def test_product_activity_by_hand() -> None:
    edge_index = torch.tensor([[0, 1, 1, 0], [0, 0, 1, 2]])
    time_s = torch.tensor([1, 95, 99, 100]) * DAY_S  # the last one is at the cut-off
    features = product_activity(edge_index, time_s, 4, cutoff_s=100 * DAY_S)
    assert features.shape == (4, 7)
    # product 0: one sale in the last 7 days (day 95), two in all time; the max count is 2
    # (the scale is max(log1p(max count), 1), so a max count of 1 gives log1p(1))
    assert features[0, 0] == pytest.approx(math.log1p(1))
    assert features[0, 3] == pytest.approx(1.0)
    assert features[0, 4] == pytest.approx(math.log1p(5) / math.log1p(3650))
    assert features[0, 5] == pytest.approx(math.log1p(99) / math.log1p(3650))
    # product 2 sold only at the cut-off, product 3 never: both look unsold
    for product in (2, 3):
        assert features[product].tolist() == pytest.approx([0, 0, 0, 0, 1, 1, 1])
    customers = customer_activity(edge_index, time_s, 3, cutoff_s=100 * DAY_S)
    assert customers[2, 3] == 1.0 and customers[0, 3] == 0.0
    assert customers[1, 2] == pytest.approx(math.log1p(1) / math.log1p(3650))
