"""A two-community toy purchase world for the recommendation comparison tests."""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import HeteroData

from pricegraph.gnn.compare import CompareConfig, baselines
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
    x = torch.from_numpy(rng.normal(size=(24, 8)).astype(np.float32)) * 0.1
    x[:12, 0] += 1.0
    x[12:, 1] += 1.0
    return purchase_snapshot(rows, 120, x, f"world{seed}")


def purchase_snapshot(
    rows: list[tuple[int, int, int]], num_customers: int, x: torch.Tensor, name: str
) -> GraphSnapshot:
    """A snapshot of ``(customer, product, day)`` purchases: ``x`` the products' text
    vectors (every product has text), ids ``c0..``/``p0..`` zero-padded to one width."""
    edge_index = torch.tensor([[c for c, _, _ in rows], [p for _, p, _ in rows]])
    time_s = torch.tensor([d * DAY_S for _, _, d in rows])
    num_products = x.shape[0]
    data = HeteroData()
    data["customer"].num_nodes, data["product"].num_nodes = num_customers, num_products
    data["customer"].is_anonymous = torch.zeros(num_customers, dtype=torch.bool)
    data["product"].x, data["product"].has_text = x, torch.ones(num_products, dtype=torch.bool)
    for source, rel, target, index in (
        ("customer", "purchased", "product", edge_index),
        ("product", "rev_purchased", "customer", edge_index.flip(0)),
    ):
        data[source, rel, target].edge_index = index
        data[source, rel, target].time = time_s
    ids = {
        kind: np.array([f"{kind[0]}{i:0{len(str(n - 1))}d}" for i in range(n)], dtype=object)
        for kind, n in (("customer", num_customers), ("product", num_products))
    }
    return GraphSnapshot(data, ids, name)


SNAPSHOT = toy_world()
SPLIT = temporal_split(SNAPSHOT, test_days=28, val_days=28)
SOURCES = [name for name in FAST.rerank_sources if name in baselines(SNAPSHOT, FAST)]
"""The re-rankers' sources on the toy world (no ``viewed``: it has no views)."""


__all__ = ["DAY_S", "FAST", "SNAPSHOT", "SOURCES", "SPLIT", "purchase_snapshot", "toy_world"]
