"""LightGCN and the encoder under the protocol of :mod:`pricegraph.gnn.compare`.

A learned model picks its number of epochs (and, for the encoder, any setting of
a grid) by early stopping on the validation window, trained on the purchases
before it; the chosen setting is refitted up to the test window for exactly that
many epochs and ranks the test window once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from pricegraph.gnn.compare import MethodRun
from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.lightgcn import LightGCNConfig, TrainResult, train_lightgcn
from pricegraph.gnn.metrics import evaluate_ranking, rank_customers
from pricegraph.gnn.split import Split
from pricegraph.gnn.train import EncoderConfig, EncoderResult, train_encoder

OnEpoch = Callable[[str, dict[str, float]], None]
"""``on_epoch(stage, row)``: progress of a training run (``tuning``, ``refit``)."""


def lightgcn_run(
    snapshot: GraphSnapshot, split: Split, config: LightGCNConfig, *, k: int = 20
) -> tuple[MethodRun, TrainResult]:
    """LightGCN tuned on validation (epochs), refitted, tested once.

    Returns:
        The run (``params``: ``epochs``) and the validation training (its curve).
    """
    started = time.perf_counter()
    tuned = train_lightgcn(
        split.train_edge_index,
        snapshot.num_customers,
        snapshot.num_products,
        config,
        validation=split.val,
    )
    val_scores = tuned.scores()
    val = evaluate_ranking(val_scores, split.val, k=k)
    tune_s = time.perf_counter() - started
    started = time.perf_counter()
    refit = train_lightgcn(
        split.test.history_edge_index,
        snapshot.num_customers,
        snapshot.num_products,
        config,
        epochs=max(tuned.best_epoch, 1),
    )
    fit_s = time.perf_counter() - started
    test_scores = refit.scores()
    test = rank_customers(test_scores, split.test, k=k)
    params = {"epochs": max(tuned.best_epoch, 1)}
    run = MethodRun("lightgcn", params, val, test, fit_s, tune_s, "", val_scores, test_scores)
    return run, tuned


def encoder_run(
    snapshot: GraphSnapshot,
    split: Split,
    config: EncoderConfig,
    *,
    grid: Sequence[dict[str, Any]] = ({},),
    k: int = 20,
    on_epoch: OnEpoch | None = None,
) -> tuple[MethodRun, EncoderResult]:
    """The encoder tuned on validation (epochs and ``grid``), refitted, tested once.

    Args:
        snapshot: The exported graph (product ``x`` = text vectors).
        split: Its temporal split.
        config: Base settings.
        grid: Replacements of ``config`` fields to try, e.g. ``[{"prior_hidden": 0},
            {"prior_hidden": 32}]``. (default: the base settings only)
        k: Cut-off. (default: ``20``)
        on_epoch: Progress callback.

    Returns:
        The run (``params``: the chosen replacements and ``epochs``) and the
        validation training of the chosen setting (its curve).
    """
    if not grid:
        raise ValueError("encoder_run: grid is empty, expected at least one setting")

    def report(stage: str) -> Callable[[dict[str, float]], None] | None:
        return None if on_epoch is None else (lambda row: on_epoch(stage, row))

    started = time.perf_counter()
    best: tuple[Any, ...] | None = None
    for params in grid:
        tuned = train_encoder(
            snapshot,
            replace(config, **params),
            cutoff_s=split.train_end_s,
            validation=split.val,
            on_epoch=report("tuning"),
        )
        scores = tuned.scores()
        val = evaluate_ranking(scores, split.val, k=k)
        if best is None or (val.recall, val.ndcg) > (best[1].recall, best[1].ndcg):
            best = (dict(params), val, scores, tuned)
    assert best is not None
    params, val, val_scores, tuned = best
    tune_s = time.perf_counter() - started
    started = time.perf_counter()
    refit = train_encoder(
        snapshot,
        replace(config, **params),
        cutoff_s=split.test.start_s,
        epochs=max(tuned.best_epoch, 1),
        on_epoch=report("refit"),
    )
    fit_s = time.perf_counter() - started
    test_scores = refit.scores()
    test = rank_customers(test_scores, split.test, k=k)
    chosen = params | {"epochs": max(tuned.best_epoch, 1)}
    run = MethodRun("encoder", chosen, val, test, fit_s, tune_s, "", val_scores, test_scores)
    return run, tuned


__all__ = ["OnEpoch", "encoder_run", "lightgcn_run"]
