"""GNN data export, temporal evaluation protocol and baselines.

Customer segments live in :mod:`pricegraph.segments`.

The public names below are imported on first use (:func:`pricegraph.lazy_exports`):
``import pricegraph.gnn.split`` does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegraph import lazy_exports

if TYPE_CHECKING:
    from .baselines import item_knn_scores, popularity_scores, random_scores, text_scores
    from .data import GraphSnapshot, export_hetero
    from .evaluate import baseline_scores, evaluate_baselines, print_baselines
    from .lightgcn import LightGCNConfig, TrainResult, train_lightgcn
    from .metrics import RankingResult, ScoreFn, evaluate_ranking
    from .split import CustomerItems, EvalWindow, Split, message_passing_data, temporal_split

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".baselines": ("item_knn_scores", "popularity_scores", "random_scores", "text_scores"),
        ".data": ("GraphSnapshot", "export_hetero"),
        ".evaluate": ("baseline_scores", "evaluate_baselines", "print_baselines"),
        ".lightgcn": ("LightGCNConfig", "TrainResult", "train_lightgcn"),
        ".metrics": ("RankingResult", "ScoreFn", "evaluate_ranking"),
        ".split": (
            "CustomerItems",
            "EvalWindow",
            "Split",
            "message_passing_data",
            "temporal_split",
        ),
    },
)

__all__ = [
    "CustomerItems",
    "EvalWindow",
    "GraphSnapshot",
    "LightGCNConfig",
    "RankingResult",
    "ScoreFn",
    "Split",
    "TrainResult",
    "baseline_scores",
    "evaluate_baselines",
    "evaluate_ranking",
    "export_hetero",
    "item_knn_scores",
    "message_passing_data",
    "popularity_scores",
    "print_baselines",
    "random_scores",
    "temporal_split",
    "text_scores",
    "train_lightgcn",
]
