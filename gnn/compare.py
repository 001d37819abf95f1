"""Compare recommenders under one honest protocol: tune on validation, test once.

For every method of one temporal split:

1. each setting of its grid (EASE^R's :math:`\\lambda`, ALS's factors and
   regularisation, the recent-neighbour half-life, ...) is fitted on the
   *validation* history and ranked on the validation window; learned models
   (LightGCN, the encoder) pick their epoch there by early stopping;
2. the best setting by validation recall@k (NDCG@k breaks ties) is refitted on the
   test history (train + validation purchases) and ranks the test window once,
   keeping one recall and NDCG per test customer (:class:`MethodRun`);
3. :mod:`pricegraph.gnn.verdict` adds percentile bootstrap intervals over test
   customers and says a method *beats* another only when the paired interval of
   their difference excludes zero.

The method that serves is the validation winner (:func:`validation_winner`): the
test window never chooses anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    viewed_scores,
)
from pricegraph.gnn.data import CARTED, PURCHASED, VIEWED, GraphSnapshot
from pricegraph.gnn.metrics import (
    CustomerMetrics,
    RankingResult,
    ScoreFn,
    evaluate_ranking,
    rank_customers,
)
from pricegraph.gnn.split import CustomerItems, EvalWindow, Split

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
    viewed_half_life_days: tuple[float, ...] = (3.0, 14.0, 60.0)
    """Half-lives of the recently-viewed baseline tried on validation."""
    encoder_prior_hidden: tuple[int, ...] = (0, 32)
    """Hidden units of the encoder's product-activity prior tried on validation
    (``EncoderConfig.prior_hidden``; ``0`` = linear)."""
    hybrid_weights: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
    """Weights of the encoder in the encoder + EASE^R hybrid tried on validation."""
    rerank_sources: tuple[str, ...] = (
        "ease",
        "recent_neighbors",
        "popularity",
        "popularity_7d",
        "item_knn",
        "als",
        "text",
        "viewed",
    )
    """Baselines whose candidates and scores the re-rankers read (:mod:`pricegraph.gnn.rerank`);
    ``text`` only where products have text vectors, ``viewed`` only where the graph
    has views or carts."""
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
        cold: Test metrics on cold-start products only (:func:`cold_start_ranking`),
            ``None`` until computed or when no test customer bought one.
        serve: For stacked runs (:func:`~pricegraph.gnn.learned_runs.rerank_run`):
            given its sources fitted on every purchase (by name), the scores that
            serve; not saved.
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
    cold: CustomerMetrics | None = None
    serve: Callable[[Mapping[str, ScoreFn]], ScoreFn] | None = field(default=None, repr=False)


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


@dataclass(frozen=True)
class Baseline:
    """A baseline: how to fit it on a window's history, and its grid of settings."""

    build: Builder
    grid: tuple[dict[str, Any], ...] = ({},)
    note: str = ""


def baselines(snapshot: GraphSnapshot, config: CompareConfig) -> dict[str, Baseline]:
    """Every non-neural baseline by name, in table order.

    ``random``, ``popularity``, ``popularity_7d``, ``item_knn``, ``text`` (when
    products have text vectors), ``viewed`` (when the graph has views or carts),
    ``recent_neighbors``, ``als``, ``ease``.
    """
    num_customers, num_products = snapshot.num_customers, snapshot.num_products
    purchases, purchase_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    product = snapshot.data["product"]
    bought = int(torch.unique(purchases[1]).numel())
    methods = {
        "random": Baseline(lambda s, w, p: random_scores(num_products, seed=config.seed)),
        "popularity": Baseline(
            lambda s, w, p: popularity_scores(w.history_edge_index, num_products)
        ),
        "popularity_7d": Baseline(
            lambda s, w, p: recent_popularity_scores(purchases, purchase_s, num_products, w.start_s)
        ),
        "item_knn": Baseline(
            lambda s, w, p: item_knn_scores(w.history_edge_index, num_customers, num_products)
        ),
    }
    if bool(product.has_text.any()):
        methods["text"] = Baseline(
            lambda s, w, p: text_scores(
                w.history_edge_index, product.x, product.has_text, num_customers
            )
        )
    edge_types = snapshot.data.edge_types
    browsing = [t for t in (VIEWED, CARTED) if t in edge_types and snapshot.edge_time(t).numel()]
    if browsing:
        browsing_index = torch.cat([snapshot.edge_index(t) for t in browsing], dim=1)
        browsing_s = torch.cat([snapshot.edge_time(t) for t in browsing])
        methods["viewed"] = Baseline(
            lambda s, w, p: viewed_scores(
                browsing_index,
                browsing_s,
                w.history_edge_index,
                num_customers,
                num_products,
                w.start_s,
                **p,
            ),
            tuple({"half_life_days": h} for h in config.viewed_half_life_days),
        )
    methods["recent_neighbors"] = Baseline(
        lambda s, w, p: recent_neighbour_scores(
            purchases,
            purchase_s,
            num_customers,
            num_products,
            w.start_s,
            num_neighbors=config.recent_neighbors,
            **p,
        ),
        tuple({"half_life_days": h} for h in config.recent_half_life_days),
    )
    methods["als"] = Baseline(
        lambda s, w, p: als_scores(
            w.history_edge_index,
            num_customers,
            num_products,
            iterations=config.als_iterations,
            seed=config.seed,
            **p,
        ),
        tuple({"factors": f, "regularization": r, "alpha": a} for f, r, a in config.als_grid),
    )
    methods["ease"] = Baseline(
        lambda s, w, p: ease_scores(
            w.history_edge_index,
            num_customers,
            num_products,
            max_products=config.ease_max_products,
            **p,
        ),
        tuple({"l2": l2} for l2 in config.ease_l2),
        f"the {config.ease_max_products} most bought of {bought} products"
        if bought > config.ease_max_products
        else "",
    )
    return methods


def baseline_runs(
    snapshot: GraphSnapshot,
    split: Split,
    config: CompareConfig,
    on_method: Callable[[str], None] | None = None,
) -> list[MethodRun]:
    """Tune and test every baseline of :func:`baselines` on ``split``, in its order."""
    runs = []
    for name, baseline in baselines(snapshot, config).items():
        if on_method is not None:
            on_method(name)
        runs.append(
            tune_and_test(
                name,
                baseline.build,
                baseline.grid,
                snapshot,
                split,
                k=config.k,
                note=baseline.note,
            )
        )
    return runs


def cold_start_ranking(
    scores: ScoreFn, window: EvalWindow, num_products: int, *, k: int = 20, seed: int = 0
) -> CustomerMetrics | None:
    """Recall@k and NDCG@k among *cold-start* products: never bought before the window.

    The candidates are the cold products only (the others score ``-inf``), and the
    positives are the cold products each customer bought in the window; customers
    without one are left out. Item models fitted on purchases (EASE^R, item-kNN,
    popularity) have nothing to rank them by; models that read text can. Tied
    scores are broken at random (``seed``), so a method that gives every cold
    product the same score ranks them like ``random``.

    Returns:
        Per-customer metrics, or ``None`` when no evaluated customer bought a cold product.
    """
    is_cold = torch.ones(num_products, dtype=torch.bool)
    is_cold[window.history_edge_index[1]] = False
    pairs = window.positives.pairs(window.customer_index)
    customers, products = window.customer_index[pairs[0]], pairs[1]
    keep = is_cold[products]
    if not bool(keep.any()):
        return None
    num_customers = window.positives.num_customers
    positives = CustomerItems.from_edge_index(
        torch.stack([customers[keep], products[keep]]), num_customers
    )
    cold_window = EvalWindow(
        window.start_s,
        window.end_s,
        torch.unique(customers[keep]),
        positives,
        window.history,
        window.history_edge_index,
    )
    minus_inf = torch.tensor(float("-inf"))
    generator = torch.Generator().manual_seed(seed)

    def cold_scores(batch: Tensor) -> Tensor:
        # Ties (a method that cannot score a cold product gives them all one value)
        # are broken at random, not by product index: jitter of 1e-5 of the row's scale.
        values = scores(batch).to(torch.float32)
        scale = values.masked_fill(~torch.isfinite(values), 0).abs().amax(1, keepdim=True)
        jitter = torch.rand(values.shape, generator=generator) * 1e-5 * scale.clamp(min=1.0)
        return torch.where(is_cold, values + jitter, minus_inf)

    return rank_customers(cold_scores, cold_window, k=k)


def serving_window(snapshot: GraphSnapshot) -> EvalWindow:
    """A window after the last purchase whose history is every purchase: what a
    :data:`Builder` is fitted on to serve (it ranks nobody)."""
    purchases, purchase_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    end_s = int(purchase_s.max()) + 1 if purchase_s.numel() else 0
    history = CustomerItems.from_edge_index(purchases, snapshot.num_customers)
    nobody = CustomerItems.from_edge_index(purchases[:, :0], snapshot.num_customers)
    return EvalWindow(end_s, end_s, torch.zeros(0, dtype=torch.long), nobody, history, purchases)


def validation_winner(runs: Sequence[MethodRun]) -> MethodRun:
    """The run with the best validation recall@k (NDCG@k breaks ties; first wins ties)."""
    best: MethodRun | None = None
    for run in runs:
        if best is None or _better(run.val, best.val):
            best = run
    if best is None:
        raise ValueError("validation_winner: no runs")
    return best


__all__ = [
    "Baseline",
    "Builder",
    "CompareConfig",
    "MethodRun",
    "baseline_runs",
    "baselines",
    "blend",
    "cold_start_ranking",
    "hybrid_run",
    "serving_window",
    "tune_and_test",
    "validation_winner",
]
