"""Benchmark: every recommender over rolling origins, with bootstrap intervals.

Data sets:

* ``online-retail``: the UCI Online Retail file, loaded into a temporary embedded
  store; product texts are the product names embedded with the packaged
  all-MiniLM-L6-v2. Origins: the test window ends at the last purchase, and
  ``--step-days`` (28) and twice that earlier (``--origins`` of them, 3 by
  default), so three disjoint 28-day test windows.
* ``world-<seed>``: the project's synthetic luxury-fashion world
  (:func:`pricegraph.synthetic.generate_world`, ``--world-customers`` customers,
  ``--world-products`` products, ``--world-days`` days) for each seed of
  ``--worlds`` (two by default), loaded and embedded the same way; one origin
  each (the last purchase).

Per origin the code ``pricegraph train-gnn`` runs
(:func:`pricegraph.gnn.recs_comparison.compare_recommenders`): every method tuned
on the 28-day validation window before the test window only, refitted and tested
once on the 28-day test window; all-ranking recall@20 and NDCG@20, history
excluded. Printed per origin: each method's test mean with its 95 % bootstrap
interval over test customers, validation recall, the chosen setting and the
seconds of the refit; the validation winner and the paired verdicts. Then, per
data set, the mean over its origins with a stratified bootstrap interval
(customers resampled within each origin), and each of the project's models (the
encoder, the encoder + EASE^R blend, the re-ranker without and with the encoder)
against the best baseline (by mean validation recall): the ratio of the means and the
interval of the difference; and the re-ranker with the encoder against the one
without it (what the encoder adds as a source). Each origin's per-customer results are pickled to
``--out`` (``<data>-origin<i>.pkl``), so origins can run in parallel processes
(``--origin-index``) and be summarized together (``--merge-only``); the summary
goes to ``recs.json`` there, and a bar plot of every method's means and
intervals to ``<data>-recs.png``. LightGCN, the slowest row, can run in processes of its
own (``--lightgcn-only`` writes ``<data>-lightgcn<i>.pkl``, the rest run with
``--no-lightgcn``); the merge puts it back into its origin's table.

Usage: ``python bench/bench_recs.py [--data online-retail world] [--origins 3]
[--origin-index I ...] [--merge-only] [--no-lightgcn | --lightgcn-only] [--max-epochs 30]
[--threads 1] [--out bench/out]``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from rich.progress import Progress

from pricegraph.embeddings.encoder import SentenceEncoder
from pricegraph.gnn import export_hetero
from pricegraph.gnn.bootstrap import Interval, bootstrap_strata
from pricegraph.gnn.compare import (
    CompareConfig,
    MethodRun,
    cold_start_ranking,
    validation_winner,
)
from pricegraph.gnn.data import PURCHASED, GraphSnapshot
from pricegraph.gnn.learned_runs import lightgcn_run
from pricegraph.gnn.lightgcn import LightGCNConfig
from pricegraph.gnn.recs_comparison import (
    ENCODER_RERANK,
    NEURAL,
    OURS,
    RERANK,
    Comparison,
    compare_recommenders,
)
from pricegraph.gnn.split import SECONDS_PER_DAY, temporal_split
from pricegraph.gnn.train import EncoderConfig
from pricegraph.gnn.verdict import comparison_table
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.loaders.online_retail import load_online_retail
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)
TEST_DAYS = VAL_DAYS = 28


def _snapshot(load: Any, work: Path) -> GraphSnapshot:
    """Load with ``load(store)`` into a temporary store; export with name vectors."""
    store = make_graph_store(GraphConfig(path=work / "graph", buffer_pool_mb=1024))
    try:
        load(store)
        products = store.node_frame("Product")
        vectors = SentenceEncoder().encode(products["name"].fillna("").astype(str).tolist())
        features = dict(zip(products["id"], vectors, strict=True))
        return export_hetero(store, product_features=features)
    finally:
        store.close()


def online_retail(path: Path) -> GraphSnapshot:
    work = Path(tempfile.mkdtemp(prefix="pricegraph-recs-"))
    try:
        return _snapshot(
            lambda store: load_online_retail(
                store, path, rejects_dir=work, progress=Progress(disable=True)
            ),
            work,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def world(seed: int, customers: int, products: int, days: int) -> GraphSnapshot:
    work = Path(tempfile.mkdtemp(prefix="pricegraph-recs-world-"))
    try:
        config = WorldConfig(seed=seed, n_customers=customers, n_products=products, n_days=days)
        write_world(generate_world(config), work / "world")
        mapping = read_mapping(work / "world" / "mapping.toml")
        return _snapshot(lambda store: load_files(store, mapping, rejects_dir=work), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _print_origin(name: str, comparison: Comparison) -> None:
    table = comparison.table
    lines = []
    for method, row in table.iterrows():
        lines.append(
            f"  {method:<17} recall@20 {row['recall@20']:.4f} [{row['recall@20_low']:.4f}, "
            f"{row['recall@20_high']:.4f}]  ndcg@20 {row['ndcg@20']:.4f} "
            f"[{row['ndcg@20_low']:.4f}, {row['ndcg@20_high']:.4f}]  val recall "
            f"{row['val_recall@20']:.4f}  cold-start recall "
            + (f"{row['cold_recall@20']:.4f}" if row["cold_customers"] else "-")
            + f"  fit {row['fit_s']:7.1f} s  {row['params']}"
            + (f"  ({row['note']})" if row["note"] else "")
        )
    customers = int(table["customers"].iloc[0])
    print(f"\n{name}: {customers} test customers", flush=True)
    print("\n".join(lines))
    print("\n".join(f"  {line}" for line in comparison.summary_lines()), flush=True)


def summarize(name: str, comparisons: list[Comparison], config: CompareConfig) -> dict:
    """Mean over origins with stratified intervals; encoder and hybrid vs best baseline."""
    methods = [run.name for run in comparisons[0].runs]
    rows, summary, cold = [], {}, {}
    for method in methods:
        runs = [c.run(method) for c in comparisons]
        recall = bootstrap_strata([r.test.recall for r in runs], seed=config.seed)
        ndcg = bootstrap_strata([r.test.ndcg for r in runs], seed=config.seed)
        val = sum(r.val.recall for r in runs) / len(runs)
        fit_s = sum(r.fit_s for r in runs) / len(runs)
        colds = [r.cold.recall for r in runs if r.cold is not None]
        summary[method] = {
            "recall": recall.__dict__,
            "ndcg": ndcg.__dict__,
            "val_recall": val,
            "fit_s": fit_s,
            "cold_recall": bootstrap_strata(colds, seed=config.seed).__dict__ if colds else None,
        }
        rows.append((method, recall, ndcg, val, fit_s))
        cold[method] = colds
    print(f"\n{name}: mean over {len(comparisons)} origin(s), 95 % stratified bootstrap")
    for method, recall, ndcg, val, fit_s in rows:
        print(
            f"  {method:<17} recall@20 {recall}  ndcg@20 {ndcg}  val recall {val:.4f}  "
            f"fit {fit_s:7.1f} s  cold-start recall@20 "
            + (str(bootstrap_strata(c, seed=config.seed)) if (c := cold[method]) else "-")
        )
    baselines = [m for m in methods if m not in NEURAL]
    best = max(baselines, key=lambda m: summary[m]["val_recall"])
    for ours in OURS:
        parts = []
        paired_cold = [
            (c.run(ours).cold, c.run(best).cold)
            for c in comparisons
            if c.run(ours).cold is not None and c.run(best).cold is not None
        ]
        for metric in ("recall", "ndcg"):
            firsts = [getattr(c.run(ours).test, metric) for c in comparisons]
            seconds = [getattr(c.run(best).test, metric) for c in comparisons]
            difference = bootstrap_strata(firsts, seconds, seed=config.seed)
            ratio = summary[ours][metric]["mean"] / max(summary[best][metric]["mean"], 1e-12)
            parts.append(f"{metric}@20 {ratio:.3f}x, {_verdict(difference)}")
            summary[ours][f"{metric}_vs_{best}"] = {"ratio": ratio, **difference.__dict__}
        if paired_cold:  # the same customers (buyers of cold products) in both
            firsts = [first.recall for first, _ in paired_cold]
            seconds = [second.recall for _, second in paired_cold]
            difference = bootstrap_strata(firsts, seconds, seed=config.seed)
            parts.append(f"cold-start recall@20 {_verdict(difference)}")
            summary[ours][f"cold_recall_vs_{best}"] = difference.__dict__
        print(f"  {ours} vs best baseline {best}: " + "; ".join(parts))
    if {RERANK, ENCODER_RERANK} <= set(methods):  # the encoder as one more source
        parts = []
        for metric in ("recall", "ndcg"):
            firsts = [getattr(c.run(ENCODER_RERANK).test, metric) for c in comparisons]
            seconds = [getattr(c.run(RERANK).test, metric) for c in comparisons]
            difference = bootstrap_strata(firsts, seconds, seed=config.seed)
            parts.append(f"{metric}@20 {_verdict(difference)}")
            summary[ENCODER_RERANK][f"{metric}_vs_{RERANK}"] = difference.__dict__
        print(f"  {ENCODER_RERANK} vs {RERANK} (what the encoder adds): " + "; ".join(parts))
    winners = [validation_winner(c.runs).name for c in comparisons]
    print(f"  validation winners per origin: {', '.join(winners)}", flush=True)
    return {"methods": summary, "best_baseline": best, "winners": winners}


def _word(difference: Interval) -> str:
    """What a paired interval of a difference says."""
    if difference.low > 0:
        return "beats"
    return "loses" if difference.high < 0 else "no difference"


def _verdict(difference: Interval) -> str:
    """``beats (+0.0276 [+0.0227, +0.0326])``: the word and the paired interval."""
    return (
        f"{_word(difference)} ({difference.mean:+.4f} "
        f"[{difference.low:+.4f}, {difference.high:+.4f}])"
    )


def _stripped(runs: list[MethodRun]) -> list[MethodRun]:
    """The runs without their score functions (picklable, small)."""
    return [replace(run, val_scores=None, test_scores=None, serve=None) for run in runs]


def _reloaded(runs: list[MethodRun], config: CompareConfig) -> Comparison:
    winner = validation_winner(runs).name
    return Comparison(runs, comparison_table(runs, config), winner, [], 0)


def run_origins(
    name: str, snapshot: GraphSnapshot, origins: list[int], step_days: int, args: argparse.Namespace
) -> None:
    """Run the comparison at each origin; each origin's runs are pickled to ``--out``."""
    config = CompareConfig()
    encoder = EncoderConfig(device="cpu", max_epochs=args.max_epochs)
    last_s = int(snapshot.edge_time(PURCHASED).max()) + 1
    for origin in origins:
        end_s = last_s - origin * step_days * SECONDS_PER_DAY
        split = temporal_split(snapshot, test_days=TEST_DAYS, val_days=VAL_DAYS, end_s=end_s)
        started = time.perf_counter()
        if args.lightgcn_only:
            run, _ = lightgcn_run(snapshot, split, LightGCNConfig(), k=config.k)
            assert run.test_scores is not None
            run.cold = cold_start_ranking(
                run.test_scores, split.test, snapshot.num_products, k=config.k
            )
            print(
                f"{name} origin {origin}: lightgcn recall@20 {run.test.recall.mean():.4f}, "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
            args.out.mkdir(parents=True, exist_ok=True)
            record = {"end_s": end_s, "runs": _stripped([run])}
            (args.out / f"{name}-lightgcn{origin}.pkl").write_bytes(pickle.dumps(record))
            continue
        comparison = compare_recommenders(
            snapshot,
            split,
            compare=config,
            encoder=encoder,
            with_lightgcn=not args.no_lightgcn,
            on_method=lambda method, at=origin: print(f"{name} origin {at}: {method}", flush=True),
        )
        label = f"{name} origin {origin} (test ends {pd.Timestamp(end_s, unit='s'):%Y-%m-%d})"
        _print_origin(f"{label}, {time.perf_counter() - started:.0f} s", comparison)
        args.out.mkdir(parents=True, exist_ok=True)
        record = {"end_s": end_s, "runs": _stripped(comparison.runs)}
        (args.out / f"{name}-origin{origin}.pkl").write_bytes(pickle.dumps(record))


def merge(name: str, args: argparse.Namespace) -> None:
    """Summarize every pickled origin of ``name`` in ``--out`` and write ``recs.json``."""
    config = CompareConfig()
    paths = sorted(args.out.glob(f"{name}-origin*.pkl"))
    if not paths:
        return
    records = [pickle.loads(path.read_bytes()) for path in paths]
    for path, record in zip(paths, records, strict=True):  # LightGCN run on its own
        separate = path.with_name(path.name.replace("-origin", "-lightgcn"))
        names = [run.name for run in record["runs"]]
        if separate.exists() and "lightgcn" not in names:
            lightgcn = pickle.loads(separate.read_bytes())
            if lightgcn["end_s"] != record["end_s"]:
                raise ValueError(f"{separate}: another origin than {path}")
            record["runs"].insert(names.index("encoder"), lightgcn["runs"][0])
    comparisons = [_reloaded(record["runs"], config) for record in records]
    per_origin = [
        {
            "end_s": record["end_s"],
            "table": comparison.table.reset_index().to_dict("records"),
            "winner": comparison.winner,
        }
        for record, comparison in zip(records, comparisons, strict=True)
    ]
    summary = summarize(name, comparisons, config)
    _write(args.out, name, {"origins": per_origin, "summary": summary})
    print(f"  plot: {plot_summary(name, summary, len(comparisons), args.out / f'{name}-recs.png')}")


def plot_summary(name: str, summary: dict, num_origins: int, path: Path) -> Path:
    """Bars of every method's mean recall@20 and NDCG@20 over the origins with their
    95 % stratified bootstrap intervals; the best baseline on validation in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(summary["methods"])
    figure, axes = plt.subplots(1, 2, figsize=(11, 0.35 * len(methods) + 1.5), sharey=True)
    for axis, metric in zip(axes, ("recall", "ndcg"), strict=True):
        stats = [summary["methods"][m][metric] for m in methods]
        means = [s["mean"] for s in stats]
        errors = [[s["mean"] - s["low"] for s in stats], [s["high"] - s["mean"] for s in stats]]
        colours = [
            "tab:grey"
            if m == summary["best_baseline"]
            else "tab:orange"
            if m in OURS
            else "tab:blue"
            for m in methods
        ]
        axis.barh(methods, means, xerr=errors, color=colours, capsize=2)
        axis.set_xlabel(f"{'recall' if metric == 'recall' else 'NDCG'}@20 (95 % interval)")
        axis.invert_yaxis()
    figure.suptitle(
        f"{name}, mean over {num_origins} origin(s); orange: the project's models, "
        "grey: the best baseline on validation",
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _write(out: Path, name: str, result: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "recs.json"
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    results[name] = result
    path.write_text(json.dumps(results, indent=2, default=float), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["online-retail", "world"])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--origins", type=int, default=3)
    parser.add_argument("--step-days", type=int, default=28)
    parser.add_argument(
        "--origin-index", type=int, nargs="+", help="run only these origins (parallel runs)"
    )
    parser.add_argument(
        "--merge-only", action="store_true", help="summarize the origins already in --out"
    )
    parser.add_argument("--worlds", type=int, nargs="+", default=[11, 303])
    parser.add_argument("--world-customers", type=int, default=2000)
    parser.add_argument("--world-products", type=int, default=600)
    parser.add_argument("--world-days", type=int, default=180)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument(
        "--no-lightgcn",
        action="store_true",
        help="leave LightGCN out (quick runs; said in the output)",
    )
    parser.add_argument(
        "--lightgcn-only",
        action="store_true",
        help="run LightGCN alone (<data>-lightgcn<i>.pkl); merged into the origin's table",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 on shared cores)")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"windows: test {TEST_DAYS} days, validation {VAL_DAYS} days before it", flush=True)
    if args.no_lightgcn:
        print("LightGCN left out of this run (--no-lightgcn)", flush=True)
    names = []
    if "online-retail" in args.data:
        names.append("online-retail")
        if not args.merge_only:
            snapshot = online_retail(args.file)
            indices = args.origin_index or list(range(args.origins))
            run_origins("online-retail", snapshot, indices, args.step_days, args)
    if "world" in args.data:
        for seed in args.worlds:
            names.append(f"world-{seed}")
            if not args.merge_only:
                snapshot = world(seed, args.world_customers, args.world_products, args.world_days)
                run_origins(f"world-{seed}", snapshot, [0], args.step_days, args)
    for name in names:
        merge(name, args)


if __name__ == "__main__":
    main()
