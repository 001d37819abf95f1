"""The encoder's training loop: next-purchase targets, time windows that see only
their past, and a model that learns communities deterministically."""

from __future__ import annotations

import pytest
import torch

from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.train import (
    EncoderConfig,
    next_purchase_pairs,
    train_encoder,
    training_tasks,
)

DAY_S = 86_400


def test_next_purchase_pairs_leave_out_repurchases(community: GraphSnapshot) -> None:
    snapshot = community
    pairs = next_purchase_pairs(snapshot, 100 * DAY_S, 128 * DAY_S)
    edge_index, time_s = snapshot.edge_index(), snapshot.edge_time()
    earlier = {tuple(p) for p in edge_index[:, time_s < 100 * DAY_S].T.tolist()}
    inside = {
        tuple(p) for p in edge_index[:, (time_s >= 100 * DAY_S) & (time_s < 128 * DAY_S)].T.tolist()
    }
    assert {tuple(p) for p in pairs.T.tolist()} == inside - earlier


def test_training_windows_see_only_their_past(
    community: GraphSnapshot, small_config: EncoderConfig
) -> None:
    snapshot = community
    tasks = training_tasks(snapshot, 200 * DAY_S, small_config)
    assert len(tasks) == 5
    for window, task in enumerate(tasks, start=1):
        start_s = 200 * DAY_S - window * 28 * DAY_S
        seen = task.inputs.adj_t["customer", "purchased", "product"].to_dense()
        before = snapshot.edge_index()[:, snapshot.edge_time() < start_s]
        assert int((seen > 0).sum()) == torch.unique(before, dim=1).shape[1]


def test_encoder_learns_communities_and_is_deterministic(
    community: GraphSnapshot, small_config: EncoderConfig
) -> None:
    snapshot = community
    result = train_encoder(snapshot, small_config, cutoff_s=200 * DAY_S)
    scores = result.scores()(torch.arange(40))
    own = torch.cat([scores[:20, :6], scores[20:, 6:12]]).mean()
    other = torch.cat([scores[:20, 6:12], scores[20:, :6]]).mean()
    assert own > other + 0.5
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    again = train_encoder(snapshot, small_config, cutoff_s=200 * DAY_S).scores()(torch.arange(40))
    assert torch.equal(scores, again)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"id_dropout": 1.0}, "id_dropout"),
        ({"recency_half_life_days": 0}, "recency_half_life_days"),
    ],
)
def test_config_rejects_bad_values(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        EncoderConfig(**kwargs)
