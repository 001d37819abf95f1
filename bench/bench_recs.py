"""Benchmark: recommendation quality and training speed on the Online Retail data.

The LightGCN protocol on a temporal split (last 28 days test, 14 before them
validation): all-ranking over all products, history excluded, recall@20 and
NDCG@20 averaged over test customers. Baselines measured in the same run:
random, popularity, item-item co-purchase kNN (and text similarity with
``--text``). LightGCN early-stops on validation recall, then is refitted on
train + validation for the best number of epochs. Prints the table and seconds
per epoch; writes ``bench/out/recs.json`` and a learning curve PNG.

Usage: ``python bench/bench_recs.py [--file PATH] [--max-epochs N] [--text]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from rich.progress import Progress

from pricegraph.gnn import evaluate_baselines, evaluate_ranking, export_hetero, temporal_split
from pricegraph.gnn.lightgcn import LightGCNConfig, train_lightgcn
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders.online_retail import load_online_retail

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--text", action="store_true", help="also the text-only baseline")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pricegraph-recs-"))
    try:
        store = make_graph_store(GraphConfig(path=work / "graph", buffer_pool_mb=1024))
        load_online_retail(store, args.file, rejects_dir=work, progress=Progress(disable=True))
        features = None
        if args.text:
            from pricegraph.embeddings.encoder import SentenceEncoder

            products = store.node_frame("Product")
            vectors = SentenceEncoder().encode(products["name"].fillna("").tolist())
            features = dict(zip(products["id"], vectors, strict=True))
        started = time.perf_counter()
        snapshot = export_hetero(store, product_features=features)
        export_s = time.perf_counter() - started
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    split = temporal_split(snapshot)
    table = evaluate_baselines(snapshot, split)
    config = LightGCNConfig(max_epochs=args.max_epochs)
    started = time.perf_counter()
    tuned = train_lightgcn(
        split.train_edge_index,
        snapshot.num_customers,
        snapshot.num_products,
        config,
        validation=split.val,
    )
    epoch_s = (time.perf_counter() - started) / len(tuned.history)
    refit = train_lightgcn(
        split.test.history_edge_index,
        snapshot.num_customers,
        snapshot.num_products,
        config,
        epochs=tuned.best_epoch,
    )
    result = evaluate_ranking(refit.scores(), split.test, k=20)
    table.loc["lightgcn"] = [result.recall, result.ndcg, result.num_customers]
    print(table.round(4).to_string())
    print(
        f"export {export_s:.2f} s; LightGCN {epoch_s:.2f} s per epoch on CPU, "
        f"best epoch {tuned.best_epoch}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recs.json").write_text(
        json.dumps(
            {
                "table": table.reset_index().to_dict("records"),
                "export_s": export_s,
                "seconds_per_epoch": epoch_s,
                "best_epoch": tuned.best_epoch,
                "history": tuned.history,
                "config": tuned.config,
            },
            indent=2,
            default=float,
        ),
        encoding="utf-8",
    )
    fig, ax = plt.subplots(figsize=(7, 3.5))
    epochs = [row["epoch"] for row in tuned.history]
    ax.plot(epochs, [row["loss"] for row in tuned.history], label="BPR loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    checks = [row for row in tuned.history if "val_recall" in row]
    twin = ax.twinx()
    twin.plot(
        [r["epoch"] for r in checks],
        [r["val_recall"] for r in checks],
        "o-",
        color="C1",
        label="validation recall@20",
    )
    twin.set_ylabel("recall@20")
    fig.legend(loc="upper center", ncol=2)
    fig.tight_layout()
    fig.savefig(args.out / "lightgcn_learning_curve.png", dpi=110)


if __name__ == "__main__":
    main()
