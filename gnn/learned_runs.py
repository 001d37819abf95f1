"""LightGCN, the encoder and the re-ranker under the protocol of :mod:`pricegraph.gnn.compare`.

A learned model picks its number of epochs (and, for the encoder, any setting of
a grid) by early stopping on the validation window, trained on the purchases
before it; the chosen setting is refitted up to the test window for exactly that
many epochs and ranks the test window once.

The re-ranker (:mod:`pricegraph.gnn.rerank`) learns from a *labelled* window:
the one just before validation for its validation score (its sources refitted
before that window), the validation window itself for the test (sources fitted
before validation), and the test window for serving (sources fitted on every
purchase). Each step only reads purchases before the window it ranks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pricegraph.gnn.compare import MethodRun
from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.lightgcn import LightGCNConfig, TrainResult, train_lightgcn
from pricegraph.gnn.metrics import ScoreFn, evaluate_ranking, rank_customers
from pricegraph.gnn.rerank import RerankConfig, fit_reranker, rerank_inputs, reranked_scores
from pricegraph.gnn.split import EvalWindow, Split, window_before
from pricegraph.gnn.train import EncoderConfig, EncoderResult, train_encoder

OnEpoch = Callable[[str, dict[str, float]], None]
"""``on_epoch(stage, row)``: progress of a training run (``tuning``, ``refit``)."""


def lightgcn_run(
    snapshot: GraphSnapshot,
    split: Split,
    config: LightGCNConfig,
    *,
    k: int = 20,
    on_epoch: OnEpoch | None = None,
) -> tuple[MethodRun, TrainResult]:
    """LightGCN tuned on validation (epochs), refitted, tested once.

    ``on_epoch`` gets ``("lightgcn validation", row)`` and ``("lightgcn refit", row)``
    after each epoch.

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
        on_epoch=None if on_epoch is None else (lambda row: on_epoch("lightgcn validation", row)),
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
        on_epoch=None if on_epoch is None else (lambda row: on_epoch("lightgcn refit", row)),
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


def encoder_refit(
    snapshot: GraphSnapshot, config: EncoderConfig, run: MethodRun
) -> Callable[[EvalWindow], ScoreFn]:
    """Refit the encoder's chosen setting (``run.params``) before any window."""
    params = {key: value for key, value in run.params.items() if key != "epochs"}

    def refit(window: EvalWindow) -> ScoreFn:
        result = train_encoder(
            snapshot,
            replace(config, **params),
            cutoff_s=window.start_s,
            epochs=int(run.params["epochs"]),
        )
        return result.scores()

    return refit


def rerank_run(
    name: str,
    snapshot: GraphSnapshot,
    split: Split,
    sources: Sequence[MethodRun],
    refit: Mapping[str, Callable[[EvalWindow], ScoreFn]],
    config: RerankConfig,
    *,
    k: int = 20,
) -> MethodRun:
    """The re-ranker over tuned ``sources``, validated and tested once.

    Args:
        name: Row name.
        snapshot: The exported graph.
        split: Its temporal split.
        sources: Tuned runs (with their score functions) whose candidates and
            scores the re-ranker reads, in feature order.
        refit: Source name -> fits that source's chosen setting on the history of a
            window (used for the labelled windows before validation).
        config: Re-ranker settings.
        k: Cut-off. (default: ``20``)

    The trees learn from the ``config.labelled_windows`` windows before the one
    they rank: before validation with every source refitted before each window
    (``refit``), before the test from validation and the windows before it, and to
    serve from the test window and those before it. When there is too little
    history before validation to refit the sources, the note says so and the
    validation score is the first source's.

    Returns:
        The run; ``params``: each source's setting and the candidates per source;
        ``serve`` ranks with sources fitted on every purchase.
    """
    if not sources:
        raise ValueError(f"{name}: expected at least one source run")
    names = [run.name for run in sources]
    Labelled = list[tuple[EvalWindow, dict[str, ScoreFn]]]

    def stacked(labelled: Labelled, after: dict[str, ScoreFn], cutoff_s: int) -> ScoreFn:
        examples = [
            (rerank_inputs(snapshot, window.start_s, before, config), window)
            for window, before in labelled
        ]
        model = fit_reranker(examples, config)
        if model is None:  # nothing bought among the candidates: the first source ranks
            return next(iter(after.values()))
        return reranked_scores(model, rerank_inputs(snapshot, cutoff_s, after, config), config)

    started = time.perf_counter()
    val_sources = {run.name: _scores(run.val_scores, run.name) for run in sources}
    note = f"gradient-boosted re-ranker over {', '.join(names)}"
    earlier: Labelled = []  # the windows before validation, latest first
    try:
        window = split.val
        for _ in range(config.labelled_windows):
            window = window_before(snapshot, window)
            earlier.append((window, {source: refit[source](window) for source in names}))
    except ValueError as exc:  # too little history before validation to learn from
        note += f"; {len(earlier)} labelled window(s) before validation: {exc}"
    if earlier:
        val_scores = stacked(earlier, val_sources, split.val.start_s)
    else:
        val_scores = val_sources[names[0]]
        note += f"; validated as {names[0]} alone"
    val = evaluate_ranking(val_scores, split.val, k=k)
    tune_s = time.perf_counter() - started
    started = time.perf_counter()
    test_sources = {run.name: _scores(run.test_scores, run.name) for run in sources}
    before_test: Labelled = [(split.val, val_sources), *earlier]
    test_scores = stacked(before_test[: config.labelled_windows], test_sources, split.test.start_s)
    fit_s = time.perf_counter() - started + sum(run.fit_s for run in sources)
    test = rank_customers(test_scores, split.test, k=k)

    def serve(everything: Mapping[str, ScoreFn]) -> ScoreFn:
        ordered = {source: everything[source] for source in names}
        cutoff_s = int(snapshot.edge_time().max()) + 1
        labelled = [(split.test, test_sources), *before_test][: config.labelled_windows]
        return stacked(labelled, ordered, cutoff_s)

    params = {"sources": {run.name: dict(run.params) for run in sources}}
    params["candidates"] = config.candidates
    run = MethodRun(name, params, val, test, fit_s, tune_s, note, val_scores, test_scores)
    run.serve = serve
    return run


def _scores(scores: ScoreFn | None, name: str) -> ScoreFn:
    if scores is None:
        raise ValueError(f"rerank_run: source {name!r} has no score functions")
    return scores


__all__ = ["OnEpoch", "encoder_refit", "encoder_run", "lightgcn_run", "rerank_run"]
