"""Every recommender on one temporal split, with intervals, verdicts and the winner.

What ``pricegraph train-gnn`` and ``bench/bench_recs.py`` run: the baselines of
:func:`~pricegraph.gnn.compare.baseline_runs`, LightGCN, the encoder, the
encoder + EASE^R blend and two stacked re-rankers (:mod:`pricegraph.gnn.rerank`):
``rerank`` over the baselines of ``CompareConfig.rerank_sources`` and
``encoder+rerank`` over them and the encoder. Each is tuned on the validation
window only and tested once (:mod:`pricegraph.gnn.compare`). The validation
winner is what serves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pricegraph.gnn.compare import (
    CompareConfig,
    MethodRun,
    baseline_runs,
    baselines,
    cold_start_ranking,
    hybrid_run,
    validation_winner,
)
from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.learned_runs import (
    OnEpoch,
    encoder_refit,
    encoder_run,
    lightgcn_run,
    rerank_run,
)
from pricegraph.gnn.lightgcn import LightGCNConfig
from pricegraph.gnn.metrics import ScoreFn
from pricegraph.gnn.rerank import RerankConfig
from pricegraph.gnn.split import EvalWindow, Split
from pricegraph.gnn.train import EncoderConfig
from pricegraph.gnn.verdict import Verdict, comparison_table, verdict

ENCODER = "encoder"
HYBRID = "encoder+ease"
RERANK = "rerank"
"""The re-ranker over the baselines alone (what the encoder adds is the difference)."""
ENCODER_RERANK = "encoder+rerank"
"""The re-ranker over the baselines and the encoder."""
NEURAL = ("lightgcn", ENCODER, HYBRID, RERANK, ENCODER_RERANK)
"""Learned rows; every other row is a baseline."""
OURS = (ENCODER, HYBRID, RERANK, ENCODER_RERANK)
"""The project's own models, each compared with the best baseline."""


@dataclass
class Comparison:
    """The result of :func:`compare_recommenders`.

    Attributes:
        runs: Every method's run, in table order.
        table: :func:`~pricegraph.gnn.compare.comparison_table` of ``runs``.
        winner: Name of the validation winner (what serves).
        verdicts: The winner against every other method, and the encoder against
            the best baseline on validation (when the winner is not the encoder).
        encoder_epochs: Epochs the encoder chose on validation.
        curves: Learning curves: ``tuning`` (encoder) and ``lightgcn``.
    """

    runs: list[MethodRun]
    table: pd.DataFrame
    winner: str
    verdicts: list[Verdict]
    encoder_epochs: int
    curves: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    def run(self, name: str) -> MethodRun:
        """The run named ``name``."""
        for run in self.runs:
            if run.name == name:
                return run
        raise KeyError(f"no method {name!r}; methods: {[run.name for run in self.runs]}")

    def best_baseline(self) -> MethodRun:
        """The non-learned method with the best validation recall."""
        return validation_winner([run for run in self.runs if run.name not in NEURAL])

    def summary_lines(self) -> list[str]:
        """What ``train-gnn`` prints under the table."""
        winner = self.run(self.winner)
        kind = "a baseline" if self.winner not in NEURAL else "a learned model"
        lines = [
            f"validation winner: {self.winner} ({kind}; validation recall "
            f"{winner.val.recall:.4f}, NDCG {winner.val.ndcg:.4f}): it serves"
        ]
        lines += [str(item) for item in self.verdicts]
        return lines


def compare_recommenders(
    snapshot: GraphSnapshot,
    split: Split,
    *,
    compare: CompareConfig | None = None,
    lightgcn: LightGCNConfig | None = None,
    encoder: EncoderConfig | None = None,
    encoder_grid: Sequence[dict[str, Any]] | None = None,
    rerank: RerankConfig | None = None,
    with_lightgcn: bool = True,
    on_epoch: OnEpoch | None = None,
    on_method: Callable[[str], None] | None = None,
) -> Comparison:
    """Tune every method on ``split.val``, test each once on ``split.test``.

    Args:
        snapshot: The exported graph (product ``x`` = text vectors).
        split: Its temporal split (one origin).
        compare: Baseline grids and bootstrap settings. (default: ``CompareConfig()``)
        lightgcn: LightGCN settings. (default: ``LightGCNConfig()``)
        encoder: Encoder settings; ``None`` = ``EncoderConfig()``.
        encoder_grid: Encoder settings tried on validation (see
            :func:`~pricegraph.gnn.learned_runs.encoder_run`). (default: each
            ``prior_hidden`` of ``compare.encoder_prior_hidden``)
        rerank: Re-ranker settings. (default: ``RerankConfig()``)
        with_lightgcn: ``False`` leaves LightGCN out (the slowest row; quick runs of
            the benchmark only). (default: ``True``)
        on_epoch: Encoder and LightGCN progress, ``(stage, row)`` after each epoch.
        on_method: Called with each method's name before it runs.
    """
    compare = compare or CompareConfig()
    k = compare.k

    def starting(name: str) -> None:
        if on_method is not None:
            on_method(name)

    runs = baseline_runs(snapshot, split, compare, on_method)
    curves: dict[str, list[dict[str, float]]] = {}
    if with_lightgcn:
        starting("lightgcn")
        lightgcn_result, lightgcn_tuned = lightgcn_run(
            snapshot, split, lightgcn or LightGCNConfig(), k=k, on_epoch=on_epoch
        )
        runs.append(lightgcn_result)
        curves["lightgcn"] = lightgcn_tuned.history
    starting(ENCODER)
    encoder_result, encoder_tuned = encoder_run(
        snapshot,
        split,
        encoder or EncoderConfig(),
        grid=encoder_grid or [{"prior_hidden": h} for h in compare.encoder_prior_hidden],
        k=k,
        on_epoch=on_epoch,
    )
    runs.append(encoder_result)
    starting(HYBRID)
    ease = next(run for run in runs if run.name == "ease")
    hybrid = hybrid_run(HYBRID, encoder_result, ease, split, compare.hybrid_weights, k=k)
    hybrid.params |= {"ease_l2": ease.params["l2"], "epochs": encoder_result.params["epochs"]}
    runs.append(hybrid)
    runs += _rerank_runs(
        snapshot, split, runs, compare, rerank or RerankConfig(), encoder, starting
    )
    for run in runs:
        if run.test_scores is not None:
            run.cold = cold_start_ranking(run.test_scores, split.test, snapshot.num_products, k=k)
    winner = validation_winner(runs)
    verdicts = [verdict(winner, run, compare) for run in runs if run is not winner]
    baselines = [run for run in runs if run.name not in NEURAL]
    best_baseline = validation_winner(baselines)
    if winner is not encoder_result:
        verdicts.append(verdict(encoder_result, best_baseline, compare))
    return Comparison(
        runs=runs,
        table=comparison_table(runs, compare),
        winner=winner.name,
        verdicts=verdicts,
        encoder_epochs=int(encoder_result.params["epochs"]),
        curves={"tuning": encoder_tuned.history, **curves},
    )


def _rerank_runs(
    snapshot: GraphSnapshot,
    split: Split,
    runs: list[MethodRun],
    compare: CompareConfig,
    config: RerankConfig,
    encoder: EncoderConfig | None,
    starting: Callable[[str], None],
) -> list[MethodRun]:
    """``rerank`` and ``encoder+rerank``; the sources' refits before validation are shared."""
    by_name = {run.name: run for run in runs}
    sources = [by_name[name] for name in compare.rerank_sources if name in by_name]
    builders = baselines(snapshot, compare)
    fitted: dict[tuple[str, int], ScoreFn] = {}

    def refit_of(run: MethodRun) -> Callable[[EvalWindow], ScoreFn]:
        if run.name == ENCODER:
            fit = encoder_refit(snapshot, encoder or EncoderConfig(), run)
        else:
            build = builders[run.name].build

            def fit(window: EvalWindow) -> ScoreFn:
                return build(snapshot, window, dict(run.params))

        def refit(window: EvalWindow) -> ScoreFn:
            key = (run.name, window.start_s)
            if key not in fitted:
                fitted[key] = fit(window)
            return fitted[key]

        return refit

    refits = {run.name: refit_of(run) for run in [*sources, by_name[ENCODER]]}
    out = []
    for name, chosen in ((RERANK, sources), (ENCODER_RERANK, [*sources, by_name[ENCODER]])):
        starting(name)
        out.append(rerank_run(name, snapshot, split, chosen, refits, config, k=compare.k))
    return out


__all__ = [
    "ENCODER",
    "ENCODER_RERANK",
    "HYBRID",
    "NEURAL",
    "OURS",
    "RERANK",
    "Comparison",
    "compare_recommenders",
]
