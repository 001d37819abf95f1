"""Benchmark: the vector stores on synthetic clustered 384-d vectors.

Measures, through the ``VectorStore`` protocol (so the figures include our own
conversions and checks), for each backend and number of points N:

* upsert throughput (calls of 1,000 points, each ending durable) and
  ``optimize()`` time;
* top-10 search latency p50/p99 over 200 queries, without and with a payload
  filter (category any-of 4 of 20, categories independent of clusters: keeps
  ~20% of points, the hard case for a filtered graph walk);
* recall@10 of each against numpy exact search;
* ``payloads(["content_hash"])`` over every point (incremental re-embedding).

Backends: the Edge store before ``optimize()`` (exact brute force) and after it,
at N = 4,000 and 50,000; qdrant-client's local mode at 4,000 only by default
(``--local-sizes``): it evaluates filters in Python, upserts a few hundred points/s
on disk and warns above 20k points, so 50k would take minutes per phase. Only what
the run measured is printed. At 50k, Edge also re-optimizes after a 1% update and
reopens.

Usage: ``python bench/bench_vectors.py [--edge-sizes 4000 50000] [--local-sizes 4000]
[--queries 200] [--noise 2.0] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pricegraph.embeddings.base import CollectionSpec, SearchFilter, VectorPoint, VectorStore
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.qdrant_store import QdrantVectorStore

DIM = 384
NUM_CATEGORIES = 20
CATEGORIES_PER_FILTER = 4
UPSERT_CALL = 1_000
SPEC = CollectionSpec(
    name="products",
    vector_sizes={"text": DIM},
    payload_indexes={"category": "keyword", "brand": "keyword", "price": "float"},
)


def clustered(
    num_points: int, num_clusters: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around random unit centres: ``float32 [num_points, DIM]`` and the centres.

    ``noise`` is the norm of the Gaussian offset relative to the centre (2.0 gives
    a mean cosine to the centre of about 0.45, like product texts of one kind).
    """
    centres = rng.normal(size=(num_clusters, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = rng.integers(0, num_clusters, size=num_points)
    x = centres[labels] + rng.normal(size=(num_points, DIM)) * noise / np.sqrt(DIM)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), centres


def around(centres: np.ndarray, count: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """``count`` new unit vectors from the same clusters (queries)."""
    picked = centres[rng.integers(0, len(centres), size=count)]
    x = picked + rng.normal(size=(count, DIM)) * noise / np.sqrt(DIM)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_top10(x: np.ndarray, query: np.ndarray, mask: np.ndarray | None) -> set[int]:
    """Row numbers of the exact top 10 by cosine (rows are unit vectors)."""
    scores = x @ query
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return set(np.argpartition(-scores, 10)[:10].tolist())


def latencies(fn: Callable[[int], list], count: int) -> tuple[list[float], list[list]]:
    """Milliseconds of ``fn(j)`` for j < count (after 5 warm-up calls), and the results."""
    for j in range(min(5, count)):
        fn(j)
    times, results = [], []
    for j in range(count):
        started = time.perf_counter()
        results.append(fn(j))
        times.append((time.perf_counter() - started) * 1000)
    return times, results


class World:
    """N points with payloads, queries, filters and the exact answers."""

    def __init__(self, num_points: int, num_queries: int, noise: float, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.x, centres = clustered(num_points, max(20, num_points // 250), noise, rng)
        self.queries = around(centres, num_queries, noise, rng)
        self.category = rng.integers(0, NUM_CATEGORIES, size=num_points)
        self.keys = [f"P{i:06d}" for i in range(num_points)]
        self.points = [
            VectorPoint(
                key=key,
                vectors={"text": self.x[i]},
                payload={
                    "category": [f"c{self.category[i]}"],
                    "brand": f"b{i % 50}",
                    "price": float(i % 500),
                    "content_hash": f"{i:016x}",
                },
            )
            for i, key in enumerate(self.keys)
        ]
        self.filters, self.masks = [], []
        for j in range(num_queries):
            chosen = [(j + k) % NUM_CATEGORIES for k in range(CATEGORIES_PER_FILTER)]
            self.filters.append(SearchFilter(equals={"category": [f"c{c}" for c in chosen]}))
            self.masks.append(np.isin(self.category, chosen))
        self.kept_pct = 100 * float(np.mean([m.mean() for m in self.masks]))
        self.truth = [exact_top10(self.x, q, None) for q in self.queries]
        self.truth_filtered = [
            exact_top10(self.x, q, m) for q, m in zip(self.queries, self.masks, strict=True)
        ]
        self.mean_best_cosine = float(np.mean(np.sort(self.x @ self.queries.T, axis=0)[-1]))


def recall(results: list[list], truth: list[set[int]]) -> float:
    """Mean share of the exact top 10 found."""
    found = [
        len({int(item.key[1:]) for item in hits} & expected) / 10
        for hits, expected in zip(results, truth, strict=True)
    ]
    return float(np.mean(found))


def search_row(store: VectorStore, world: World) -> dict[str, float]:
    """Latency and recall of top-10 searches, plain and filtered."""
    count = len(world.queries)
    plain_ms, plain = latencies(lambda j: store.search("products", world.queries[j]), count)
    filt_ms, filt = latencies(
        lambda j: store.search("products", world.queries[j], where=world.filters[j]), count
    )
    return {
        "top10_p50_ms": float(np.percentile(plain_ms, 50)),
        "top10_p99_ms": float(np.percentile(plain_ms, 99)),
        "recall_at_10": recall(plain, world.truth),
        "filtered_p50_ms": float(np.percentile(filt_ms, 50)),
        "filtered_p99_ms": float(np.percentile(filt_ms, 99)),
        "filtered_recall_at_10": recall(filt, world.truth_filtered),
    }


def write(store: VectorStore, world: World) -> float:
    """Upsert every point in calls of UPSERT_CALL; points/s."""
    store.ensure_collection(SPEC)
    started = time.perf_counter()
    for start in range(0, len(world.points), UPSERT_CALL):
        store.upsert("products", world.points[start : start + UPSERT_CALL])
    return len(world.points) / (time.perf_counter() - started)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_edge(world: World, folder: Path, store_args: dict) -> list[dict]:
    """Edge before and after optimize (and, at 50k, re-optimize after 1% and reopen)."""
    n = len(world.points)
    store = EdgeVectorStore(folder, **store_args)
    rows = []
    upsert_rate = write(store, world)
    rows.append(
        {"backend": "edge", "phase": "before optimize (exact)", "n": n} | search_row(store, world)
    )
    rows[-1]["upsert_points_per_s"] = upsert_rate
    optimize_s = timed(lambda: store.optimize("products"))
    payloads_s = timed(lambda: store.payloads("products", ["content_hash"]))
    rows.append(
        {"backend": "edge", "phase": "after optimize", "n": n, "optimize_s": optimize_s}
        | search_row(store, world)
        | {"payloads_s": payloads_s}
    )
    changed = world.points[: max(1, n // 100)]
    rows[-1]["update_1pct_s"] = timed(lambda: store.upsert("products", changed))
    rows[-1]["reoptimize_after_1pct_s"] = timed(lambda: store.optimize("products"))
    store.close()
    started = time.perf_counter()
    reopened = EdgeVectorStore(folder, **store_args)
    assert reopened.count("products") == n
    rows[-1]["reopen_s"] = time.perf_counter() - started
    reopened.close()
    return rows


def bench_local(world: World, folder: Path) -> list[dict]:
    """qdrant-client local mode on disk (optimize is a no-op there)."""
    from qdrant_client import QdrantClient

    store = QdrantVectorStore(QdrantClient(path=str(folder)))
    upsert_rate = write(store, world)
    row = {"backend": "qdrant-local", "phase": "on disk", "n": len(world.points)}
    row |= {"upsert_points_per_s": upsert_rate} | search_row(store, world)
    row["payloads_s"] = timed(lambda: store.payloads("products", ["content_hash"]))
    store.close()
    return [row]


COLUMNS = [
    ("backend", "backend", "{}"),
    ("phase", "phase", "{}"),
    ("n", "N", "{:,}"),
    ("upsert_points_per_s", "upsert/s", "{:,.0f}"),
    ("optimize_s", "optimize s", "{:.1f}"),
    ("top10_p50_ms", "p50 ms", "{:.2f}"),
    ("top10_p99_ms", "p99 ms", "{:.2f}"),
    ("recall_at_10", "recall", "{:.3f}"),
    ("filtered_p50_ms", "filt p50", "{:.2f}"),
    ("filtered_p99_ms", "filt p99", "{:.2f}"),
    ("filtered_recall_at_10", "filt recall", "{:.3f}"),
    ("payloads_s", "payloads s", "{:.2f}"),
]


def table(rows: list[dict]) -> str:
    """The rows as a fixed-width text table."""
    cells = [[title for _, title, _ in COLUMNS]]
    for row in rows:
        cells.append([fmt.format(row[key]) if key in row else "-" for key, _, fmt in COLUMNS])
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            c.rjust(w) if i > 1 else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in cells
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edge-sizes", type=int, nargs="*", default=[4_000, 50_000])
    parser.add_argument("--local-sizes", type=int, nargs="*", default=[4_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--noise", type=float, default=2.0)
    for option in ("--search-ef", "--hnsw-m", "--ef-construct", "--full-scan-max-points"):
        parser.add_argument(option, type=int, default=None, help="(default: the store's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    names = ("search_ef", "hnsw_m", "ef_construct", "full_scan_max_points")
    store_args = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    rows: list[dict] = []
    extras: dict[str, dict] = {}
    work = Path(tempfile.mkdtemp(prefix="pricegraph-bench-vectors-"))
    edge_repr = repr(EdgeVectorStore(work, **store_args)).replace(str(work), "...")
    try:
        for n in sorted(set(args.edge_sizes) | set(args.local_sizes)):
            world = World(n, args.queries, args.noise, args.seed)
            extras[str(n)] = {
                "filter_keeps_pct": round(world.kept_pct, 1),
                "mean_best_cosine_query_to_points": round(world.mean_best_cosine, 3),
            }
            print(f"N={n:,}: filter keeps {world.kept_pct:.1f}% of points", flush=True)
            if n in args.edge_sizes:
                rows += bench_edge(world, work / f"edge-{n}", store_args)
            if n in args.local_sizes:
                rows += bench_local(world, work / f"local-{n}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{DIM}-d vectors, noise {args.noise}, {edge_repr}\n")
    print(table(rows))
    for row in rows:
        for key in ("update_1pct_s", "reoptimize_after_1pct_s", "reopen_s"):
            if key in row:
                print(f"edge N={row['n']:,}: {key} = {row[key]:.2f}")
    skipped = sorted(set(args.edge_sizes) - set(args.local_sizes))
    if skipped:
        print(
            f"qdrant-client local mode is not run at N={', '.join(f'{n:,}' for n in skipped)}: "
            "it evaluates filters in Python and upserts on disk at a few hundred points/s "
            "(its figures at the sizes run are in the table)."
        )
    big = [
        r
        for r in rows
        if r["backend"] == "edge" and r["phase"] == "after optimize" and r["n"] >= 50_000
    ]
    for row in big:
        met = (
            row["filtered_p50_ms"] <= 5
            and row["filtered_recall_at_10"] >= 0.95
            and row["recall_at_10"] >= 0.95
        )
        verdict = "met" if met else "NOT met"
        print(f"target at N={row['n']:,} (filtered p50 <= 5 ms, recall@10 >= 0.95): {verdict}")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"dim": DIM, "noise": args.noise, "edge": edge_repr, "worlds": extras, "rows": rows}
    (args.out / "bench_vectors.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
