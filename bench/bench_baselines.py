"""Benchmark: the memory-hungry steps of the recommendation baselines, against the
straightforward formulas in the same run.

* ``item_similarity`` (item-kNN, and customer-kNN behind ``recent_neighbors``): the
  shipped one computes the cosine similarity 1,024 rows at a time and keeps each
  row's best; the formula computes the whole sparse product first.
* ``ease_weights`` (EASE^R): the shipped one inverts the Gram matrix in place
  (``scipy.linalg.inv(overwrite_a=True)``) up to ``IN_PLACE_MAX_BYTES`` (1 GiB, 11,585
  items; above, ``numpy.linalg.inv``); the formula is ``numpy.linalg.inv`` and a new
  matrix per step.

Each runs in a fresh process on the same purchases (heavy-tailed product choice,
``bench_gnn.synthetic_snapshot``); the printout gives seconds, peak resident memory
above the process's peak before the step, the ratios shipped / formula, and
whether both give the same result.

Usage: ``python bench/bench_baselines.py [--customers 34000] [--products 100000]
[--purchases 1500000] [--ease-items 5000]``.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def similarity_formula(interactions: sp.csr_array, num_neighbors: int) -> sp.csr_array:
    """Cosine similarity as one sparse product, then each row's best (the reference)."""
    norms = np.sqrt(np.asarray(interactions.sum(axis=0), dtype=np.float64)).ravel()
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    normalized = (interactions @ sp.diags_array(inverse.astype(np.float32))).tocsc()
    similarity = sp.csr_array((normalized.T @ normalized).astype(np.float32))
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    rows, cols, values = [], [], []
    for start in range(0, similarity.shape[0], 1024):
        block = similarity[start : start + 1024].toarray()
        keep = min(num_neighbors, block.shape[1])
        top = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        top_values = np.take_along_axis(block, top, axis=1)
        nonzero = top_values > 0
        rows.append(np.nonzero(nonzero)[0] + start)
        cols.append(top[nonzero])
        values.append(top_values[nonzero])
    return sp.csr_array(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=similarity.shape,
    )


def ease_formula(interactions: sp.csr_array, l2: float) -> np.ndarray:
    """EASE^R's closed form with numpy's inverse and a new matrix per step."""
    gram = (interactions.T @ interactions).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += l2
    precision = np.linalg.inv(gram)
    weights = precision / -np.diag(precision)[None, :]
    weights[np.diag_indices_from(weights)] = 0.0
    return weights.astype(np.float32)


def _child(args: argparse.Namespace, case: str, version: str, queue) -> None:
    from bench_gnn import synthetic_snapshot

    from pricegraph.gnn.baselines import ease_weights, interaction_matrix, item_similarity

    snapshot = synthetic_snapshot(
        args.customers, args.products, args.purchases, days=365, seed=args.seed
    )
    purchases = interaction_matrix(snapshot.edge_index(), snapshot.num_customers, args.products)
    if case == "ease":
        counts = np.asarray(purchases.sum(axis=0)).ravel()
        top = np.sort(np.argsort(-counts, kind="stable")[: args.ease_items])
        matrix, options = sp.csr_array(purchases[:, top]), {"l2": 200.0}
        function = ease_weights if version == "shipped" else ease_formula
    else:
        matrix = sp.csr_array(purchases.T) if case == "customer similarity" else purchases
        options = {"num_neighbors": 100 if case == "customer similarity" else 50}
        function = item_similarity if version == "shipped" else similarity_formula
    before = _peak_mib()
    started = time.perf_counter()
    result = function(matrix, **options)
    seconds = time.perf_counter() - started
    if sp.issparse(result):
        result.sort_indices()
        parts = (result.indptr, result.indices, result.data)
    else:
        parts = (np.round(result, 6),)
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(p).tobytes() for p in parts))
    queue.put((seconds, _peak_mib() - before, digest.hexdigest()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=34_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_500_000)
    parser.add_argument("--ease-items", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    print(
        f"{args.customers:,} customers, {args.products:,} products, {args.purchases:,} "
        f"purchases; EASE^R on the {args.ease_items:,} most bought"
    )
    print(f"{'step':<22} {'version':<8} {'seconds':>8} {'peak MiB':>9}  same result")
    for case in ("customer similarity", "item similarity", "ease"):
        rows = {}
        for version in ("formula", "shipped"):
            queue = context.Queue()
            process = context.Process(target=_child, args=(args, case, version, queue))
            process.start()
            rows[version] = queue.get()
            process.join()
        same = "yes" if rows["shipped"][2] == rows["formula"][2] else "no"
        for version in ("formula", "shipped"):
            seconds, peak, _ = rows[version]
            print(f"{case:<22} {version:<8} {seconds:>8.1f} {peak:>9,.0f}  {same}")
        (s1, m1, _), (s0, m0, _) = rows["shipped"], rows["formula"]
        print(f"{'':<22} {'ratio':<8} {s1 / s0:>7.2f}x {m1 / max(m0, 1):>8.2f}x")


if __name__ == "__main__":
    main()
