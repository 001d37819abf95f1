"""Compare recommenders under one honest protocol: tune on validation, test once.

For every method of one temporal split:

1. each setting of its grid (EASE^R's :math:`\\lambda`, ALS's factors and
   regularisation, the recent-neighbour half-life, ...) is fitted on the
   *validation* history and ranked on the validation window; learned models
   (LightGCN, the encoder) pick their epoch there by early stopping;
2. the best setting by validation recall@k (NDCG@k breaks ties) is refitted on the
   test history (train + validation purchases) and ranks the test window once,
   keeping one recall and NDCG per test customer (:class:`MethodRun`);
3. :func:`comparison_table` adds percentile bootstrap intervals over test
   customers, and :func:`verdict` says a method *beats* another only when the
   paired interval of their difference excludes zero.

The method that serves is the validation winner (:func:`validation_winner`): the
test window never chooses anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from pricegraph.gnn.baselines import (
    als_scores,
    ease_scores,
    item_knn_scores,
    popularity_scores,
    random_scores,
    recent_neighbour_scores,
    recent_popularity_scores,
    text_scores,
)
from pricegraph.gnn.bootstrap import Interval, bootstrap_difference, bootstrap_mean
from pricegraph.gnn.data import PURCHASED, GraphSnapshot
from pricegraph.gnn.metrics import (
    CustomerMetrics,
    RankingResult,
    ScoreFn,
    evaluate_ranking,
    rank_customers,
)
from pricegraph.gnn.split import EvalWindow, Split

Builder = Callable[[GraphSnapshot, EvalWindow, dict[str, Any]], ScoreFn]
"""``build(snapshot, window, params)``: a score function fitted on ``window``'s history."""


@dataclass(frozen=True)
class CompareConfig:
    """The baselines' search grids and the bootstrap settings; saved with the results."""

    k: int = 20
    """Cut-off of recall@k and NDCG@k (validation choice and test)."""
    ease_l2: tuple[float, ...] = (50.0, 200.0, 500.0, 2000.0)
    """EASE^R ridge weights tried on validation."""
    ease_max_products: int = 20_000
    """Largest catalogue EASE^R models (the most bought products above it)."""
    als_grid: tuple[tuple[int, float, float], ...] = ((64, 0.05, 10.0), (128, 1.0, 10.0))
    """ALS ``(factors, regularization, alpha)`` settings tried on validation."""
    als_iterations: int = 15
    """ALS sweeps."""
    recent_half_life_days: tuple[float, ...] = (7.0, 28.0, 90.0)
    """Half-lives of the recent-neighbour baseline tried on validation."""
    recent_neighbors: int = 100
    """Neighbours per customer of the recent-neighbour baseline."""
    hybrid_weights: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
    """Weights of the encoder in the encoder + EASE^R hybrid tried on validation."""
    num_resamples: int = 1000
    """Bootstrap resamples of the test customers."""
    level: float = 0.95
    """Coverage of the bootstrap intervals."""
    seed: int = 0
    """Seed of the random baseline, ALS and the bootstrap."""


@dataclass
class MethodRun:
    """One method tuned on validation and tested once.

    Attributes:
        name: Row name (``ease``, ``als``, ``encoder``, ...).
        params: The setting chosen on validation (``epochs`` for learned models).
        val: Validation means of that setting.
        test: Test recall and NDCG per test customer.
        fit_s: Seconds of the refit on the test history (fit, not ranking).
        tune_s: Seconds of the whole validation search.
        note: What the reader must know (e.g. a truncated catalogue).
        val_scores: The validation-fitted scores (for hybrids); not saved.
        test_scores: The test-fitted scores; not saved.
    """

    name: str
    params: dict[str, Any]
    val: RankingResult
    test: CustomerMetrics
    fit_s: float
    tune_s: float
    note: str = ""
    val_scores: ScoreFn | None = field(default=None, repr=False)
    test_scores: ScoreFn | None = field(default=None, repr=False)


def _better(first: RankingResult, second: RankingResult | None) -> bool:
    return second is None or (first.recall, first.ndcg) > (second.recall, second.ndcg)


def tune_and_test(
    name: str,
    build: Builder,
    grid: Sequence[dict[str, Any]],
    snapshot: GraphSnapshot,
    split: Split,
    *,
    k: int = 20,
    note: str = "",
) -> MethodRun:
    """Pick the best of ``grid`` on validation, refit it, rank the test window once.

    Args:
        name: Row name.
        build: Fits a score function on a window's history with one setting.
        grid: Settings to try (at least one; ``[{}]`` for a method without any).
        snapshot: The exported graph.
        split: Its temporal split.
        k: Cut-off. (default: ``20``)
        note: Copied into the run.
    """
    if not grid:
        raise ValueError(f"{name}: the grid of settings is empty, expected at least one")
    started = time.perf_counter()
    best_params, best, best_scores = dict(grid[0]), None, None
    for params in grid:
        scores = build(snapshot, split.val, dict(params))
        result = evaluate_ranking(scores, split.val, k=k)
        if _better(result, best):
            best_params, best, best_scores = dict(params), result, scores
    tune_s = time.perf_counter() - started
    started = time.perf_counter()
    test_scores = build(snapshot, split.test, best_params)
    fit_s = time.perf_counter() - started
    test = rank_customers(test_scores, split.test, k=k)
    assert best is not None
    return MethodRun(name, best_params, best, test, fit_s, tune_s, note, best_scores, test_scores)


def _standardized(scores: Tensor) -> Tensor:
    """Row-wise z-scores of float ``[batch, num_products]`` (constant rows -> 0)."""
    scores = scores.to(torch.float32)
    finite = torch.where(torch.isfinite(scores), scores, torch.nan)
    mean = finite.nanmean(dim=1, keepdim=True)
    spread = (finite - mean).pow(2).nanmean(dim=1, keepdim=True).sqrt().clamp(min=1e-12)
    return torch.nan_to_num((finite - mean) / spread, nan=-1e6)


def blend(first: ScoreFn, second: ScoreFn, weight: float) -> ScoreFn:
    r"""``weight`` :math:`\cdot z(s_1) + (1 - \text{weight}) \cdot z(s_2)`, with row-wise
    z-scores :math:`z` so that models on different scales mix."""
    if not 0 <= weight <= 1:
        raise ValueError(f"blend weight: expected in [0, 1], got {weight}")

    def scores(customer_index: Tensor) -> Tensor:
        return weight * _standardized(first(customer_index)) + (1 - weight) * _standardized(
            second(customer_index)
        )

    return scores


def hybrid_run(
    name: str,
    first: MethodRun,
    second: MethodRun,
    split: Split,
    weights: Sequence[float],
    *,
    k: int = 20,
) -> MethodRun:
    """Blend two tuned runs (:func:`blend`); the weight of ``first`` is chosen on validation."""
    parts = (first.val_scores, first.test_scores, second.val_scores, second.test_scores)
    if any(part is None for part in parts) or not weights:
        raise ValueError(f"{name}: both runs need their score functions and weights a value")
    val_first, test_first, val_second, test_second = parts
    assert val_first and test_first and val_second and test_second

    def build(_: GraphSnapshot, window: EvalWindow, params: dict[str, Any]) -> ScoreFn:
        if window is split.val:
            return blend(val_first, val_second, params["weight"])
        return blend(test_first, test_second, params["weight"])

    run = tune_and_test(
        name,
        build,
        [{"weight": float(weight)} for weight in weights],
        None,  # type: ignore[arg-type]  # the blend needs no snapshot
        split,
        k=k,
        note=f"weight of {first.name}; {second.name} has the rest",
    )
    run.fit_s += first.fit_s + second.fit_s
    return run


def baseline_runs(
    snapshot: GraphSnapshot,
    split: Split,
    config: CompareConfig,
    on_method: Callable[[str], None] | None = None,
) -> list[MethodRun]:
    """Tune and test every non-neural baseline on ``split``.

    Methods, in order: ``random``, ``popularity``, ``popularity_7d``, ``item_knn``,
    ``text`` (when products have text vectors), ``recent_neighbors``, ``als``,
    ``ease``.
    """
    num_customers, num_products = snapshot.num_customers, snapshot.num_products
    purchases, purchase_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    product = snapshot.data["product"]
    bought = int(torch.unique(split.test.history_edge_index[1]).numel())
    ease_note = (
        f"the {config.ease_max_products} most bought of {bought} products"
        if bought > config.ease_max_products
        else ""
    )
    methods: list[tuple[str, Builder, list[dict[str, Any]], str]] = [
        ("random", lambda s, w, p: random_scores(num_products, seed=config.seed), [{}], ""),
        (
            "popularity",
            lambda s, w, p: popularity_scores(w.history_edge_index, num_products),
            [{}],
            "",
        ),
        (
            "popularity_7d",
            lambda s, w, p: recent_popularity_scores(
                purchases, purchase_s, num_products, w.start_s
            ),
            [{}],
            "",
        ),
        (
            "item_knn",
            lambda s, w, p: item_knn_scores(w.history_edge_index, num_customers, num_products),
            [{}],
            "",
        ),
    ]
    if bool(product.has_text.any()):
        methods.append(
            (
                "text",
                lambda s, w, p: text_scores(
                    w.history_edge_index, product.x, product.has_text, num_customers
                ),
                [{}],
                "",
            )
        )
    methods += [
        (
            "recent_neighbors",
            lambda s, w, p: recent_neighbour_scores(
                purchases,
                purchase_s,
                num_customers,
                num_products,
                w.start_s,
                num_neighbors=config.recent_neighbors,
                **p,
            ),
            [{"half_life_days": h} for h in config.recent_half_life_days],
            "",
        ),
        (
            "als",
            lambda s, w, p: als_scores(
                w.history_edge_index,
                num_customers,
                num_products,
                iterations=config.als_iterations,
                seed=config.seed,
                **p,
            ),
            [{"factors": f, "regularization": r, "alpha": a} for f, r, a in config.als_grid],
            "",
        ),
        (
            "ease",
            lambda s, w, p: ease_scores(
                w.history_edge_index,
                num_customers,
                num_products,
                max_products=config.ease_max_products,
                **p,
            ),
            [{"l2": l2} for l2 in config.ease_l2],
            ease_note,
        ),
    ]
    runs = []
    for name, build, grid, note in methods:
        if on_method is not None:
            on_method(name)
        runs.append(tune_and_test(name, build, grid, snapshot, split, k=config.k, note=note))
    return runs


def validation_winner(runs: Sequence[MethodRun]) -> MethodRun:
    """The run with the best validation recall@k (NDCG@k breaks ties; first wins ties)."""
    best: MethodRun | None = None
    for run in runs:
        if best is None or _better(run.val, best.val):
            best = run
    if best is None:
        raise ValueError("validation_winner: no runs")
    return best


def _interval_columns(prefix: str, interval: Interval) -> dict[str, float]:
    return {prefix: interval.mean, f"{prefix}_low": interval.low, f"{prefix}_high": interval.high}


def comparison_table(runs: Sequence[MethodRun], config: CompareConfig) -> pd.DataFrame:
    """One row per method (index ``method``).

    Columns: ``recall@k`` with ``recall@k_low`` / ``recall@k_high`` (bootstrap
    interval over test customers), the same for ``ndcg@k``, ``customers``,
    ``val_recall@k``, ``val_ndcg@k``, ``fit_s``, ``params`` (the setting chosen on
    validation, as text) and ``note``.
    """
    k, rows = config.k, []
    for run in runs:
        options = {"num_resamples": config.num_resamples, "level": config.level}
        recall = bootstrap_mean(run.test.recall, seed=config.seed, **options)
        ndcg = bootstrap_mean(run.test.ndcg, seed=config.seed, **options)
        rows.append(
            {"method": run.name}
            | _interval_columns(f"recall@{k}", recall)
            | _interval_columns(f"ndcg@{k}", ndcg)
            | {
                "customers": int(run.test.recall.size),
                f"val_recall@{k}": run.val.recall,
                f"val_ndcg@{k}": run.val.ndcg,
                "fit_s": run.fit_s,
                "params": ", ".join(f"{key}={value}" for key, value in run.params.items()),
                "note": run.note,
            }
        )
    return pd.DataFrame(rows).set_index("method")


@dataclass(frozen=True)
class Verdict:
    """Paired comparison of two methods on the same test customers.

    Attributes:
        first: The method said to beat or not.
        second: The method compared with.
        differences: Metric name (``recall@k``, ``ndcg@k``) -> interval of
            ``first - second``.
    """

    first: str
    second: str
    differences: dict[str, Interval]

    def beats(self, metric: str) -> bool:
        """``first`` beats ``second`` on ``metric``: the difference interval is above zero."""
        return self.differences[metric].low > 0

    def __str__(self) -> str:
        parts = []
        for metric, interval in self.differences.items():
            if interval.low > 0:
                word = "beats"
            elif interval.high < 0:
                word = "loses to"
            else:
                word = "no difference from"
            parts.append(
                f"{metric} {word} {self.second} ({interval.mean:+.4f} "
                f"[{interval.low:+.4f}, {interval.high:+.4f}])"
            )
        return f"{self.first}: " + "; ".join(parts)


def verdict(first: MethodRun, second: MethodRun, config: CompareConfig) -> Verdict:
    """Paired bootstrap intervals of ``first - second`` in recall@k and NDCG@k."""
    if not np.array_equal(first.test.customer_index, second.test.customer_index):
        raise ValueError(f"{first.name} and {second.name} were ranked for different test customers")
    options = {"num_resamples": config.num_resamples, "level": config.level, "seed": config.seed}
    return Verdict(
        first.name,
        second.name,
        {
            f"recall@{config.k}": bootstrap_difference(
                first.test.recall, second.test.recall, **options
            ),
            f"ndcg@{config.k}": bootstrap_difference(first.test.ndcg, second.test.ndcg, **options),
        },
    )


__all__ = [
    "Builder",
    "CompareConfig",
    "MethodRun",
    "Verdict",
    "baseline_runs",
    "blend",
    "comparison_table",
    "hybrid_run",
    "tune_and_test",
    "validation_winner",
    "verdict",
]
