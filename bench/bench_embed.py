"""Benchmark: the embedding pipeline's throughput against a bare ``encode`` of the same texts.

On the Online Retail product texts (about 3,900), in one run: a bare
``SentenceTransformer.encode`` (batch 64, normalised) is the baseline; the
pipeline run reads the products from the graph, builds texts and payloads,
hashes, encodes and writes to a fresh Qdrant Edge collection. Target: pipeline
texts/s >= 0.9 x the baseline. A second pipeline run over the unchanged catalog
shows the incremental path (no model work). Figures print as a table.

Usage: ``python bench/bench_embed.py [--file PATH] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rich.progress import Progress

from pricegraph.embeddings.config import EmbeddingConfig
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.encoder import SentenceEncoder, default_model_path
from pricegraph.embeddings.pipeline import (
    LazyEncoder,
    collection_specs,
    product_items,
    sync_collection,
)
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders.online_retail import load_online_retail

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pricegraph-embed-"))
    try:
        graph = make_graph_store(GraphConfig(path=work / "graph", buffer_pool_mb=1024))
        load_online_retail(graph, args.file, rejects_dir=work, progress=Progress(disable=True))
        texts = product_items(graph)["text"].tolist()
        from sentence_transformers import SentenceTransformer

        bare = SentenceTransformer(str(default_model_path()), device="cpu")
        encoder = SentenceEncoder(device="cpu", batch_size=64)
        bare.encode(texts[:64])  # warm both up
        encoder.encode(texts[:64])
        spec = collection_specs("bench_", EmbeddingConfig().dimension, 64)["products"]
        baseline, pipeline = [], []
        for attempt in range(args.repeat):
            started = time.perf_counter()
            bare.encode(texts, batch_size=64, normalize_embeddings=True)
            baseline.append(time.perf_counter() - started)
            vectors = EdgeVectorStore(work / f"vectors{attempt}")
            lazy = LazyEncoder(lambda: encoder, "bench")
            started = time.perf_counter()
            with Progress(disable=True) as progress:
                report = sync_collection(vectors, spec, product_items(graph), lazy, progress)
            pipeline.append(time.perf_counter() - started)
            assert report.encoded == len(texts)
            started = time.perf_counter()
            with Progress(disable=True) as progress:
                again = sync_collection(vectors, spec, product_items(graph), lazy, progress)
            rerun = time.perf_counter() - started
            vectors.close()
        graph.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base_s, pipe_s = statistics.median(baseline), statistics.median(pipeline)
    rows = {
        "texts": len(texts),
        "bare_encode_s": round(base_s, 2),
        "bare_texts_per_s": round(len(texts) / base_s, 1),
        "pipeline_s": round(pipe_s, 2),
        "pipeline_texts_per_s": round(len(texts) / pipe_s, 1),
        "pipeline_to_bare_ratio": round(base_s / pipe_s, 3),
        "rerun_unchanged_s": round(rerun, 2),
        "rerun_encoded": again.encoded,
    }
    width = max(map(len, rows))
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")
    print("target (ratio >= 0.9):", "met" if base_s / pipe_s >= 0.9 else "NOT met")


if __name__ == "__main__":
    main()
