"""Fixtures of the encoder tests: a two-community graph and a small, fast configuration."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.train import EncoderConfig

DAY_S = 86_400
TEXT_DIM = 16


def _community_snapshot(seed: int = 0) -> GraphSnapshot:
    """40 customers, 12 products (+ product 12 never sold); customers 0-19 buy from
    products 0-5, 20-39 from 6-11, over 200 days. Text vectors carry the community."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(40):
        group = range(0, 6) if customer < 20 else range(6, 12)
        for _ in range(8):
            rows.append((customer, int(rng.choice(list(group))), int(rng.integers(0, 200))))
    edge_index = torch.tensor([[c for c, _, _ in rows], [p for _, p, _ in rows]])
    time_s = torch.tensor([d * DAY_S for _, _, d in rows])
    data = HeteroData()
    data["customer"].num_nodes, data["product"].num_nodes = 40, 13
    data["customer"].is_anonymous = torch.zeros(40, dtype=torch.bool)
    x = torch.from_numpy(rng.normal(size=(13, TEXT_DIM)).astype(np.float32)) * 0.1
    x[:6, 0] += 1.0
    x[6:12, 1] += 1.0
    x[12, 0] += 1.0  # the unsold product reads like community A
    data["product"].x, data["product"].has_text = x, torch.ones(13, dtype=torch.bool)
    data["customer", "purchased", "product"].edge_index = edge_index
    data["customer", "purchased", "product"].time = time_s
    data["product", "rev_purchased", "customer"].edge_index = edge_index.flip(0)
    data["product", "rev_purchased", "customer"].time = time_s
    ids = {
        "customer": np.array([f"c{i:02d}" for i in range(40)], dtype=object),
        "product": np.array([f"p{i:02d}" for i in range(13)], dtype=object),
    }
    return GraphSnapshot(data, ids, f"toy{seed}")


SMALL = EncoderConfig(
    embedding_dim=16,
    batch_size=256,
    lr=0.02,
    max_epochs=8,
    target_days=28,
    num_windows=5,
    steps_per_epoch=10,
    device="cpu",
    seed=3,
)


@pytest.fixture
def community() -> GraphSnapshot:
    """:func:`_community_snapshot` with seed 0 (ids ``toy0``)."""
    return _community_snapshot()


@pytest.fixture
def small_config() -> EncoderConfig:
    """16-dimensional vectors, 8 epochs of 10 steps, five 28-day windows, CPU, seed 3."""
    return SMALL
