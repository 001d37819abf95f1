"""Fixtures of the encoder tests: a two-community graph and a small, fast configuration."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.recs import purchase_snapshot

from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.train import EncoderConfig

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
    x = torch.from_numpy(rng.normal(size=(13, TEXT_DIM)).astype(np.float32)) * 0.1
    x[:6, 0] += 1.0
    x[6:12, 1] += 1.0
    x[12, 0] += 1.0  # the unsold product reads like community A
    return purchase_snapshot(rows, 40, x, f"toy{seed}")


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
