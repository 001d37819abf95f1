"""GNN data export, temporal evaluation protocol, baselines and customer segments."""

from pricegraph.gnn.baselines import (
    item_knn_scores,
    popularity_scores,
    random_scores,
    text_scores,
)
from pricegraph.gnn.data import GraphSnapshot, export_hetero
from pricegraph.gnn.evaluate import baseline_scores, evaluate_baselines, print_baselines
from pricegraph.gnn.lightgcn import LightGCNConfig, TrainResult, train_lightgcn
from pricegraph.gnn.metrics import RankingResult, ScoreFn, evaluate_ranking
from pricegraph.gnn.segment_plot import plot_segments
from pricegraph.gnn.segments import (
    SegmentConfig,
    SegmentResult,
    adjusted_rand,
    build_segments,
    write_segments,
)
from pricegraph.gnn.split import (
    CustomerItems,
    EvalWindow,
    Split,
    message_passing_data,
    temporal_split,
)

__all__ = [
    "CustomerItems",
    "EvalWindow",
    "GraphSnapshot",
    "LightGCNConfig",
    "RankingResult",
    "ScoreFn",
    "SegmentConfig",
    "SegmentResult",
    "Split",
    "TrainResult",
    "adjusted_rand",
    "baseline_scores",
    "build_segments",
    "evaluate_baselines",
    "evaluate_ranking",
    "export_hetero",
    "item_knn_scores",
    "message_passing_data",
    "plot_segments",
    "popularity_scores",
    "print_baselines",
    "random_scores",
    "temporal_split",
    "text_scores",
    "train_lightgcn",
    "write_segments",
]
