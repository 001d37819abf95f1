"""Benchmark: train-gnn's comparison of recommenders at catalogue scale, one method at a time.

Builds the synthetic purchase graph of ``bench_gnn.py`` (``--customers``,
``--products``, ``--purchases`` over 365 days, random unit text vectors) and runs
:func:`~pricegraph.gnn.service.evaluate_encoder`, the comparison ``train-gnn`` runs
unless ``--no-evaluate``: every baseline tuned on the validation window and tested
once, LightGCN, the encoder (``--epochs``), the re-rankers. Prints, as each method
starts, the seconds since the start and the process's peak resident memory so far
(``ru_maxrss``), then each method's seconds and share of the whole run, and the
test recall@20 table.

Usage: ``python bench/bench_compare_scale.py [--customers 34000] [--products 100000]
[--purchases 1500000] [--epochs 3] [--lightgcn-epochs 3]``.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gnn import synthetic_snapshot

from pricegraph.gnn.lightgcn import LightGCNConfig
from pricegraph.gnn.service import GnnRunConfig, evaluate_encoder
from pricegraph.gnn.train import EncoderConfig


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=34_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_500_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lightgcn-epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    marks: list[tuple[str, float]] = []

    def mark(name: str) -> None:
        now = time.perf_counter() - started
        marks.append((name, now))
        print(f"[{now:8.1f} s, peak {_peak_mib():8,.0f} MiB] {name}", flush=True)

    snapshot = synthetic_snapshot(
        args.customers, args.products, args.purchases, days=365, seed=args.seed
    )
    mark("snapshot built")
    config = GnnRunConfig(
        encoder=replace(EncoderConfig(), max_epochs=args.epochs),
        lightgcn=replace(LightGCNConfig(), max_epochs=args.lightgcn_epochs),
    )
    comparison = evaluate_encoder(
        snapshot,
        config,
        on_epoch=lambda stage, row: mark(f"  {stage} epoch {row.get('epoch')}"),
        on_method=lambda name: mark(f"method {name}"),
    )
    mark("done")
    total = marks[-1][1] - marks[0][1]
    methods = [(n, t) for n, t in marks if n.startswith("method ") or n == "done"]
    print(
        f"\n{args.customers:,} customers, {args.products:,} products, {args.purchases:,} "
        f"purchases: comparison {total:,.0f} s, peak {_peak_mib():,.0f} MiB"
    )
    for (name, start), (_, end) in itertools.pairwise(methods):
        print(f"  {name[7:]:<24} {end - start:8.1f} s  {(end - start) / total:6.1%}")
    columns = [c for c in ("recall@20", "ndcg@20") if c in comparison.table.columns]
    print(f"\ntest window ({comparison.winner} won on validation):")
    print(comparison.table[columns].round(4).to_string())


if __name__ == "__main__":
    main()
