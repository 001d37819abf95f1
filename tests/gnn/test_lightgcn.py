"""LightGCN: normalisation, learning a two-community toy graph, determinism."""

from __future__ import annotations

import torch

from pricegraph.gnn.lightgcn import LightGCNConfig, normalized_adjacency, train_lightgcn


def _two_communities() -> tuple[torch.Tensor, int, int]:
    """Customers 0-9 buy products 0-4, customers 10-19 buy products 5-9; each customer
    misses one product of its own community."""
    edges = []
    for customer in range(20):
        group = range(0, 5) if customer < 10 else range(5, 10)
        skipped = group[customer % 5]
        edges += [(customer, product) for product in group if product != skipped]
    return torch.tensor(edges).T.contiguous(), 20, 10


def test_adjacency_is_symmetric_and_normalised() -> None:
    edge_index = torch.tensor([[0, 0, 1], [0, 1, 1]])
    dense = normalized_adjacency(edge_index, 2, 2).to_dense()
    assert torch.allclose(dense, dense.T)
    # customer 0 (degree 2) - product 0 (degree 1): 1 / sqrt(2 * 1)
    assert torch.isclose(dense[0, 2], torch.tensor(2.0**-0.5))
    assert dense[1, 2] == 0 and dense[0, 0] == 0


def test_learns_the_communities() -> None:
    edge_index, customers, products = _two_communities()
    config = LightGCNConfig(
        embedding_dim=16, num_layers=2, lr=0.05, batch_size=32, max_epochs=60, seed=1
    )
    result = train_lightgcn(edge_index, customers, products, config)
    scores = result.scores()(torch.arange(customers))
    for customer in range(customers):
        group = range(0, 5) if customer < 10 else range(5, 10)
        missing = group[customer % 5]
        other = [p for p in range(10) if p not in group]
        assert scores[customer, missing] > scores[customer, other].max()
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_same_seed_same_embeddings() -> None:
    edge_index, customers, products = _two_communities()
    config = LightGCNConfig(embedding_dim=8, num_layers=2, batch_size=16, max_epochs=3)
    first = train_lightgcn(edge_index, customers, products, config).scores()(torch.arange(3))
    again = train_lightgcn(edge_index, customers, products, config).scores()(torch.arange(3))
    assert torch.equal(first, again)


def test_early_stopping_keeps_the_best_validation_model() -> None:
    from pricegraph.gnn.metrics import evaluate_ranking
    from pricegraph.gnn.split import CustomerItems, EvalWindow

    edge_index, customers, products = _two_communities()
    missing = torch.tensor(
        [[c, (0 if c < 10 else 5) + c % 5] for c in range(customers)]
    ).T.contiguous()
    window = EvalWindow(
        start_s=0,
        end_s=1,
        customer_index=torch.arange(customers),
        positives=CustomerItems.from_edge_index(missing, customers),
        history=CustomerItems.from_edge_index(edge_index, customers),
        history_edge_index=edge_index,
    )
    config = LightGCNConfig(
        embedding_dim=16,
        num_layers=2,
        lr=0.05,
        batch_size=32,
        max_epochs=40,
        eval_every=2,
        patience=3,
        k=1,
        seed=1,
    )
    seen: list[dict[str, float]] = []
    result = train_lightgcn(
        edge_index, customers, products, config, validation=window, on_epoch=seen.append
    )
    assert seen == result.history  # progress gets every epoch's row as it ends
    recalls = [row["val_recall"] for row in result.history if "val_recall" in row]
    best = max(recalls)
    assert result.best_epoch in [row["epoch"] for row in result.history if "val_recall" in row]
    assert evaluate_ranking(result.scores(), window, k=1).recall == best
    assert best == 1.0  # the one unseen product of its own community ranks first
