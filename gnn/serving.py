"""Serve the validation winner: refit it on every purchase and store its ranked lists.

``train-gnn`` compares every recommender (:mod:`pricegraph.gnn.recs_comparison`);
the one with the best validation recall serves. The encoder always trains on
everything (its vectors are the pricing state); when another method won, it is
refitted on every purchase with the setting validation chose, and its top
``num_ranked`` products per customer (products the customer bought excluded) go
into the checkpoint, so ``recommend`` and the GraphQL ``recommendations`` field
rank with the winner without refitting it. No I/O happens here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from pricegraph.gnn.compare import CompareConfig, MethodRun, baselines, blend, serving_window
from pricegraph.gnn.data import PURCHASED, GraphSnapshot
from pricegraph.gnn.lightgcn import LightGCNConfig, train_lightgcn
from pricegraph.gnn.metrics import ScoreFn
from pricegraph.gnn.recs_comparison import ENCODER, HYBRID
from pricegraph.gnn.split import CustomerItems
from pricegraph.gnn.train import EncoderResult


def winner_scores(
    snapshot: GraphSnapshot,
    winner: MethodRun,
    encoder: EncoderResult,
    *,
    compare: CompareConfig,
    lightgcn: LightGCNConfig,
) -> ScoreFn:
    """The winner refitted on every purchase of ``snapshot``.

    Args:
        snapshot: The exported graph.
        winner: The validation winner's run (its ``name`` and ``params``).
        encoder: The encoder trained on everything (used by ``encoder``, the blend
            and ``encoder+rerank``).
        compare: The settings the baselines were compared with.
        lightgcn: The LightGCN settings.
    """
    if winner.name == ENCODER:
        return encoder.scores()
    window = serving_window(snapshot)
    if winner.serve is not None:  # a re-ranker: its sources refitted on every purchase
        builders = baselines(snapshot, compare)
        sources = {
            name: encoder.scores()
            if name == ENCODER
            else builders[name].build(snapshot, window, dict(params))
            for name, params in winner.params["sources"].items()
        }
        return winner.serve(sources)
    if winner.name == HYBRID:
        ease = baselines(snapshot, compare)["ease"].build(
            snapshot, window, {"l2": winner.params["ease_l2"]}
        )
        return blend(encoder.scores(), ease, float(winner.params["weight"]))
    if winner.name == "lightgcn":
        result = train_lightgcn(
            window.history_edge_index,
            snapshot.num_customers,
            snapshot.num_products,
            lightgcn,
            epochs=int(winner.params["epochs"]),
        )
        return result.scores()
    return baselines(snapshot, compare)[winner.name].build(snapshot, window, dict(winner.params))


def ranked_lists(
    scores: ScoreFn, history: CustomerItems, num_ranked: int, *, batch_size: int = 1024
) -> tuple[Tensor, Tensor]:
    """Top ``num_ranked`` products of every customer, bought products excluded.

    Returns:
        int32 ``[num_customers, n]`` product positions, best first, and float32
        ``[num_customers, n]`` their scores, ``n = min(num_ranked, num_products)``.
    """
    if num_ranked < 1:
        raise ValueError(f"num_ranked: expected >= 1, got {num_ranked}")
    tops, values = [], []
    for batch in torch.arange(history.num_customers).split(batch_size):
        batch_scores = scores(batch).to(torch.float32).clone()
        pairs = history.pairs(batch)
        batch_scores[pairs[0], pairs[1]] = float("-inf")
        best = torch.topk(batch_scores, min(num_ranked, batch_scores.shape[1]), dim=1)
        tops.append(best.indices.to(torch.int32))
        values.append(best.values)
    return torch.cat(tops), torch.cat(values)


def serving_record(
    snapshot: GraphSnapshot,
    winner: MethodRun,
    encoder: EncoderResult,
    *,
    compare: CompareConfig,
    lightgcn: LightGCNConfig,
    num_ranked: int = 100,
) -> dict[str, Any]:
    """What the checkpoint says about serving: ``method``, ``params``, validation
    ``val_recall`` / ``val_ndcg`` and, unless the encoder won, ``top_products`` and
    ``top_scores`` of :func:`ranked_lists`."""
    record: dict[str, Any] = {
        "method": winner.name,
        "params": {key: value for key, value in winner.params.items()},
        "val_recall": float(winner.val.recall),
        "val_ndcg": float(winner.val.ndcg),
    }
    if winner.name != ENCODER:
        scores = winner_scores(snapshot, winner, encoder, compare=compare, lightgcn=lightgcn)
        history = CustomerItems.from_edge_index(
            snapshot.edge_index(PURCHASED), snapshot.num_customers
        )
        top, values = ranked_lists(scores, history, num_ranked)
        finite = torch.isfinite(values)
        record["top_products"] = torch.where(finite, top, torch.full_like(top, -1))
        record["top_scores"] = torch.where(finite, values, torch.zeros_like(values))
    return record


def winner_first_scores(
    encoder_scores: np.ndarray, top_products: np.ndarray, top_scores: np.ndarray
) -> np.ndarray:
    """Scores of one customer that rank the winner's list first, then the rest.

    Listed products keep the winner's scores; every other product scores below
    the lowest of them, ordered by the encoder's scores (so a longer list than
    stored, or bought products with ``include_bought``, still has an order).

    Args:
        encoder_scores: float32 ``[num_products]``.
        top_products: int ``[n]`` product positions, ``-1`` = empty slot.
        top_scores: float32 ``[n]``.

    Returns:
        float32 ``[num_products]``.
    """
    listed = top_products >= 0
    products, values = top_products[listed], top_scores[listed]
    spread = float(np.ptp(encoder_scores)) if encoder_scores.size else 0.0
    order = (encoder_scores.max() - encoder_scores) / (spread + 1e-12) if spread else 0.0
    floor = float(values.min()) if values.size else 0.0
    out = (floor - 1.0 - order).astype(np.float32) * np.ones_like(encoder_scores)
    out[products] = values
    return out


__all__ = ["ranked_lists", "serving_record", "winner_first_scores", "winner_scores"]
