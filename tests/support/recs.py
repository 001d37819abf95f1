"""A two-community toy purchase world for the recommendation comparison tests."""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import HeteroData

from pricegraph.gnn.compare import CompareConfig
from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.split import temporal_split

DAY_S = 86_400
FAST = CompareConfig(
    k=5,
    ease_l2=(1.0, 50.0),
    als_grid=((4, 0.05, 10.0),),
    als_iterations=5,
    recent_half_life_days=(7.0, 90.0),
    num_resamples=200,
)


def toy_world(seed: int = 0) -> GraphSnapshot:
    """120 customers, 24 products over 200 days: customers 0-59 buy from products
    0-11, 60-119 from 12-23, 10 purchases each; product 23 is also a fad bought by
    everyone in the last 40 days. Text vectors carry the community."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(120):
        first = 0 if customer < 60 else 12
        for _ in range(10):
            rows.append((customer, first + int(rng.integers(0, 12)), int(rng.integers(0, 200))))
        if rng.random() < 0.5:
            rows.append((customer, 23, int(rng.integers(160, 200))))
    edge_index = torch.tensor([[c for c, _, _ in rows], [p for _, p, _ in rows]])
    time_s = torch.tensor([d * DAY_S for _, _, d in rows])
    data = HeteroData()
    data["customer"].num_nodes, data["product"].num_nodes = 120, 24
    data["customer"].is_anonymous = torch.zeros(120, dtype=torch.bool)
    x = torch.from_numpy(rng.normal(size=(24, 8)).astype(np.float32)) * 0.1
    x[:12, 0] += 1.0
    x[12:, 1] += 1.0
    data["product"].x, data["product"].has_text = x, torch.ones(24, dtype=torch.bool)
    data["customer", "purchased", "product"].edge_index = edge_index
    data["customer", "purchased", "product"].time = time_s
    data["product", "rev_purchased", "customer"].edge_index = edge_index.flip(0)
    data["product", "rev_purchased", "customer"].time = time_s
    ids = {
        "customer": np.array([f"c{i:03d}" for i in range(120)], dtype=object),
        "product": np.array([f"p{i:02d}" for i in range(24)], dtype=object),
    }
    return GraphSnapshot(data, ids, f"world{seed}")


SNAPSHOT = toy_world()
SPLIT = temporal_split(SNAPSHOT, test_days=28, val_days=28)


__all__ = ["DAY_S", "FAST", "SNAPSHOT", "SPLIT", "toy_world"]
