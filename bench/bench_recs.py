"""Benchmark: recommendation quality and training speed on the Online Retail data.

The LightGCN protocol on a temporal split (the windows of
:class:`~pricegraph.gnn.service.GnnRunConfig`: the last ``test_days`` = 28 days test, the
``val_days`` = 28 before them validation; both printed and written with the results):
all-ranking over all products, history excluded, recall@20 and
NDCG@20 averaged over test customers. Everything is measured in the same run by
the code ``pricegraph train-gnn`` runs (:func:`pricegraph.gnn.service.evaluate_encoder`):
random, popularity, popularity of the last 7 days, item-item co-purchase kNN,
text similarity, LightGCN and the shipped encoder (tuned on validation, refitted
up to the test window). Product texts are the product names, embedded with the
packaged all-MiniLM-L6-v2. Prints the table and seconds per epoch; writes
``bench/out/recs.json`` and a learning-curve PNG.

Usage: ``python bench/bench_recs.py [--file PATH] [--max-epochs N]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.progress import Progress

from pricegraph.embeddings.encoder import SentenceEncoder
from pricegraph.gnn import export_hetero
from pricegraph.gnn.learning_curve import plot_learning_curves
from pricegraph.gnn.service import GnnRunConfig, evaluate_encoder
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders.online_retail import load_online_retail

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pricegraph-recs-"))
    try:
        store = make_graph_store(GraphConfig(path=work / "graph", buffer_pool_mb=1024))
        load_online_retail(store, args.file, rejects_dir=work, progress=Progress(disable=True))
        products = store.node_frame("Product")
        vectors = SentenceEncoder().encode(products["name"].fillna("").tolist())
        features = dict(zip(products["id"], vectors, strict=True))
        started = time.perf_counter()
        snapshot = export_hetero(store, product_features=features)
        export_s = time.perf_counter() - started
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = GnnRunConfig()
    config = replace(base, encoder=replace(base.encoder, max_epochs=args.max_epochs, device="cpu"))
    rows: list[tuple[str, dict[str, float]]] = []
    started = time.perf_counter()
    table, best_epoch, curves = evaluate_encoder(
        snapshot, config, on_epoch=lambda stage, row: rows.append((stage, row))
    )
    total_s = time.perf_counter() - started
    print(table.round(4).to_string())
    encoder_s = [row["seconds"] for stage, row in rows]
    lightgcn_epochs = len(curves["lightgcn"])
    print(
        f"export {export_s:.2f} s; encoder {sum(encoder_s) / len(encoder_s):.2f} s per epoch "
        f"(CPU, {len(encoder_s)} epochs in tuning + refit), best epoch {best_epoch}; "
        f"LightGCN {lightgcn_epochs} tuning epochs; whole evaluation {total_s:.0f} s"
    )
    beaten = [
        column
        for column in ("recall@20", "ndcg@20")
        if bool((table.loc["encoder", column] > table.drop(index="encoder")[column]).all())
    ]
    print(f"encoder beats every baseline on: {', '.join(beaten) or 'nothing'}")
    print(f"windows: test {config.test_days} days, validation {config.val_days} days")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recs.json").write_text(
        json.dumps(
            {
                "table": table.reset_index().to_dict("records"),
                "export_s": export_s,
                "encoder_seconds_per_epoch": sum(encoder_s) / len(encoder_s),
                "best_epoch": best_epoch,
                "beaten": beaten,
                "test_days": config.test_days,
                "val_days": config.val_days,
                "curves": curves,
                "config": config.encoder.__dict__,
            },
            indent=2,
            default=float,
        ),
        encoding="utf-8",
    )
    plot_learning_curves(curves, args.out / "recs_learning_curves.png")


if __name__ == "__main__":
    main()
