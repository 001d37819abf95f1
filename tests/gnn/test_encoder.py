"""Activity features, the heterogeneous encoder, its training loop and checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from pricegraph.errors import ModelError
from pricegraph.gnn.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint
from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.features import customer_activity, product_activity
from pricegraph.gnn.train import (
    EncoderConfig,
    build_inputs,
    next_purchase_pairs,
    train_encoder,
    training_tasks,
)

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


def test_next_purchase_pairs_leave_out_repurchases() -> None:
    snapshot = _community_snapshot()
    pairs = next_purchase_pairs(snapshot, 100 * DAY_S, 128 * DAY_S)
    edge_index, time_s = snapshot.edge_index(), snapshot.edge_time()
    earlier = {tuple(p) for p in edge_index[:, time_s < 100 * DAY_S].T.tolist()}
    inside = {
        tuple(p) for p in edge_index[:, (time_s >= 100 * DAY_S) & (time_s < 128 * DAY_S)].T.tolist()
    }
    assert {tuple(p) for p in pairs.T.tolist()} == inside - earlier


def test_training_windows_see_only_their_past() -> None:
    snapshot = _community_snapshot()
    tasks = training_tasks(snapshot, 200 * DAY_S, SMALL)
    assert len(tasks) == 5
    for window, task in enumerate(tasks, start=1):
        start_s = 200 * DAY_S - window * 28 * DAY_S
        seen = task.inputs.adj_t["customer", "purchased", "product"].to_dense()
        before = snapshot.edge_index()[:, snapshot.edge_time() < start_s]
        assert int((seen > 0).sum()) == torch.unique(before, dim=1).shape[1]


def test_encoder_learns_communities_and_is_deterministic() -> None:
    snapshot = _community_snapshot()
    result = train_encoder(snapshot, SMALL, cutoff_s=200 * DAY_S)
    scores = result.scores()(torch.arange(40))
    own = torch.cat([scores[:20, :6], scores[20:, 6:12]]).mean()
    other = torch.cat([scores[:20, 6:12], scores[20:, :6]]).mean()
    assert own > other + 0.5
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    again = train_encoder(snapshot, SMALL, cutoff_s=200 * DAY_S).scores()(torch.arange(40))
    assert torch.equal(scores, again)


def test_checkpoint_round_trip_and_cold_start(tmp_path: Path) -> None:
    snapshot = _community_snapshot()
    result = train_encoder(snapshot, SMALL, cutoff_s=200 * DAY_S)
    checkpoint = make_checkpoint(
        result,
        snapshot_id=snapshot.snapshot_id,
        node_ids=dict(snapshot.node_ids),
        metrics=[{"method": "encoder", "recall@20": 0.5}],
    )
    assert checkpoint.model_version.startswith("encoder-")
    path = save_checkpoint(checkpoint, tmp_path / "enc.pt")
    loaded = load_checkpoint(path)
    assert loaded.model_version == checkpoint.model_version
    assert loaded.snapshot_id == "toy0" and loaded.metrics[0]["recall@20"] == 0.5
    assert list(loaded.node_ids["product"]) == list(snapshot.node_ids["product"])
    model = loaded.build_model()
    inputs = build_inputs(snapshot, 200 * DAY_S)
    with torch.no_grad():
        rebuilt = model(inputs)
    vectors = result.embeddings()
    assert torch.allclose(rebuilt["customer"], vectors["customer"], atol=1e-5)
    # Product 12 was never sold: its in-graph vector is what its text alone gives.
    from_text = loaded.product_from_text()(snapshot.data["product"].x[12:13])
    assert torch.allclose(from_text[0], vectors["product"][12], atol=1e-5)
    # ... and community A's customers, whose products read alike, like it more than B's.
    scores = vectors["customer"] @ from_text[0]
    assert scores[:20].mean() > scores[20:].mean()
    with pytest.raises(ModelError, match=r"\[n, 16\]"):
        loaded.product_from_text()(torch.zeros(1, 5))


def test_bad_checkpoint_file_is_a_model_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.pt"
    torch.save({"format_version": 99}, path)
    with pytest.raises(ModelError, match=r"format_version 2.*train-gnn"):
        load_checkpoint(path)
    with pytest.raises(ModelError, match="cannot read"):
        load_checkpoint(tmp_path / "missing.pt")


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


class _Payload:
    """An object whose unpickling would run code: a checkpoint must never hold one."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("unpickled",))


def test_checkpoint_with_other_objects_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "objects.pt"
    torch.save({"format_version": 2, "extra": _Payload()}, path)
    with pytest.raises(ModelError, match=r"objects\.pt: cannot read .*weights_only"):
        load_checkpoint(path)
    assert "unpickled" not in capsys.readouterr().out
