"""Benchmark: similarity search on real text vectors, embedded default (Qdrant Edge).

Two catalogs, embedded through the real pipeline: the Online Retail products
(about 3,900) and a synthetic world of 50,000 products. For each: top-10
latency p50/p99 over random product queries, without and with a filter (a top
category and a price ceiling), and recall@10 against exact numpy search under
the same filter. Targets on the embedded default: filtered top-10 p50 <= 5 ms
at 50k, recall@10 >= 0.95.

Usage: ``python bench/bench_search.py [--products 50000] [--queries 200] [--skip-retail]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import Progress

from pricegraph.embeddings.config import EmbeddingConfig
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.encoder import SentenceEncoder
from pricegraph.embeddings.pipeline import (
    LazyEncoder,
    collection_specs,
    product_items,
    sync_collection,
)
from pricegraph.embeddings.similarity import ProductFilter
from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.loaders.online_retail import load_online_retail
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)


def measure(
    name: str, graph: GraphStore, work: Path, encoder: SentenceEncoder, queries: int
) -> dict:
    """Embed the graph's products into a fresh Edge store and time searches."""
    items = product_items(graph)
    spec = collection_specs("bench_", EmbeddingConfig().dimension, 64)["products"]
    store = EdgeVectorStore(work / f"vectors-{name}")
    started = time.perf_counter()
    with Progress() as progress:
        sync_collection(store, spec, items, LazyEncoder(lambda: encoder, "bench"), progress)
    embed_s = time.perf_counter() - started
    keys = items["key"].tolist()
    found = store.vectors(spec.name, keys, "text")
    matrix = np.vstack([found[k] for k in keys])
    payload = pd.DataFrame(list(items["payload"]))
    roots = payload["categories"].map(lambda c: c[-1] if c else None)
    top_root = roots.value_counts().index[0] if roots.notna().any() else None
    ceiling = float(np.nanquantile(payload["price"].astype(float), 0.5))
    where = ProductFilter(category=top_root, max_price=ceiling)
    passes = ((roots == top_root) if top_root else pd.Series(True, index=payload.index)) & (
        payload["price"].astype(float) <= ceiling
    )
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(keys), queries)
    row = {
        "catalog": name,
        "products": len(keys),
        "embed_s": round(embed_s, 1),
        "filter_keeps": f"{passes.mean():.0%}",
    }
    for label, search_filter, allowed in (
        ("plain", None, np.ones(len(keys), bool)),
        ("filtered", where.to_search_filter(), passes.to_numpy()),
    ):
        latencies, recalls = [], []
        for i in picks:
            started = time.perf_counter()
            hits = store.search(spec.name, matrix[i], limit=10, where=search_filter)
            latencies.append((time.perf_counter() - started) * 1000)
            scores = np.where(allowed, matrix @ matrix[i], -np.inf)
            exact = {keys[j] for j in np.argsort(-scores)[:10] if np.isfinite(scores[j])}
            if exact:
                recalls.append(len(exact & {h.key for h in hits}) / len(exact))
        row[f"{label}_p50_ms"] = round(float(np.percentile(latencies, 50)), 2)
        row[f"{label}_p99_ms"] = round(float(np.percentile(latencies, 99)), 2)
        row[f"{label}_recall@10"] = round(float(np.mean(recalls)), 3)
    store.close()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-retail", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pricegraph-search-"))
    encoder = SentenceEncoder(device="cpu", batch_size=64)
    rows = []
    try:
        if not args.skip_retail and args.file.exists():
            graph = make_graph_store(GraphConfig(path=work / "retail", buffer_pool_mb=1024))
            load_online_retail(graph, args.file, rejects_dir=work, progress=Progress(disable=True))
            rows.append(measure("online_retail", graph, work, encoder, args.queries))
            graph.close()
        config = WorldConfig(
            seed=1,
            n_products=args.products,
            n_customers=200,
            n_brands=min(120, args.products),
            n_days=7,
        )
        mapping = write_world(generate_world(config), work / "world", file_format="parquet")
        graph = make_graph_store(GraphConfig(path=work / "synthetic", buffer_pool_mb=1024))
        load_files(graph, read_mapping(mapping), rejects_dir=work, progress=Progress(disable=True))
        rows.append(measure(f"synthetic_{args.products}", graph, work, encoder, args.queries))
        graph.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = pd.DataFrame(rows).set_index("catalog").T
    print(table.to_string())


if __name__ == "__main__":
    main()
