"""Evaluate the baseline recommenders of :mod:`pricegraph.gnn.baselines` on a split."""

from __future__ import annotations

import pandas as pd

from pricegraph.gnn.baselines import (
    item_knn_scores,
    popularity_scores,
    random_scores,
    recent_popularity_scores,
    text_scores,
)
from pricegraph.gnn.data import PURCHASED, GraphSnapshot
from pricegraph.gnn.metrics import ScoreFn, evaluate_ranking
from pricegraph.gnn.split import Part, Split


def baseline_scores(
    snapshot: GraphSnapshot, split: Split, *, part: Part = "test", seed: int = 0
) -> dict[str, ScoreFn]:
    """The baseline score functions fitted on the history of one window.

    ``text`` is included only when some product has a text vector.

    Args:
        snapshot: The exported graph (product ``x`` / ``has_text`` for ``text``).
        split: The temporal split of ``snapshot``.
        part: Window the baselines are fitted for: ``"val"`` (train history) or
            ``"test"`` (train + validation history). (default: ``"test"``)
        seed: Seed of the ``random`` baseline. (default: ``0``)

    Returns:
        Method name -> score function, in the order ``random, popularity,
        popularity_7d`` (purchases of the last 7 days before the window), ``item_knn,
        text``.
    """
    history = split.window(part).history_edge_index
    num_customers, num_products = snapshot.num_customers, snapshot.num_products
    methods: dict[str, ScoreFn] = {
        "random": random_scores(num_products, seed=seed),
        "popularity": popularity_scores(history, num_products),
        "popularity_7d": recent_popularity_scores(
            snapshot.edge_index(PURCHASED),
            snapshot.edge_time(PURCHASED),
            num_products,
            split.window(part).start_s,
        ),
        "item_knn": item_knn_scores(history, num_customers, num_products),
    }
    product = snapshot.data["product"]
    if bool(product.has_text.any()):
        methods["text"] = text_scores(history, product.x, product.has_text, num_customers)
    return methods


def evaluate_baselines(
    snapshot: GraphSnapshot,
    split: Split,
    k: int = 20,
    *,
    part: Part = "test",
    seed: int = 0,
) -> pd.DataFrame:
    """Recall@k and NDCG@k of every baseline on one window.

    Args:
        snapshot: The exported graph.
        split: The temporal split of ``snapshot``.
        k: Cut-off. (default: ``20``)
        part: ``"val"`` or ``"test"``. (default: ``"test"``)
        seed: Seed of the ``random`` baseline. (default: ``0``)

    Returns:
        One row per method (index ``method``), columns ``recall@k``, ``ndcg@k``
        and ``customers`` (how many were averaged over).
    """
    if split.snapshot_id != snapshot.snapshot_id:
        raise ValueError(
            f"split.snapshot_id={split.snapshot_id} does not match "
            f"snapshot.snapshot_id={snapshot.snapshot_id}: split this snapshot again"
        )
    window = split.window(part)
    rows = []
    for method, scores in baseline_scores(snapshot, split, part=part, seed=seed).items():
        result = evaluate_ranking(scores, window, k=k)
        rows.append(
            {
                "method": method,
                f"recall@{k}": result.recall,
                f"ndcg@{k}": result.ndcg,
                "customers": result.num_customers,
            }
        )
    return pd.DataFrame(rows).set_index("method")


def print_baselines(table: pd.DataFrame) -> None:
    """Print a table from :func:`evaluate_baselines` with four decimals."""
    print(table.to_string(float_format=lambda value: f"{value:.4f}"))


__all__ = ["baseline_scores", "evaluate_baselines", "print_baselines"]
