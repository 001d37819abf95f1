"""``pricegraph train-gnn``: train the graph encoder, compare it, publish its vectors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ...errors import ConfigError
from ._common import (
    app,
    check_device,
    clear_errors,
    console,
    frame_table,
    load_settings,
    open_store,
)
from .embed import open_vectors

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress

    from ...gnn.recs_comparison import Comparison
    from ...gnn.service import GnnRunConfig, GnnRunReport
    from ..settings import Settings


def comparison_frame(comparison: Comparison, k: int) -> pd.DataFrame:
    """The comparison table as text columns: means with intervals, validation, fit."""
    import pandas as pd

    table = comparison.table
    rows = []
    for method, row in table.iterrows():
        rows.append(
            {
                "method": method,
                f"recall@{k}": f"{row[f'recall@{k}']:.4f} [{row[f'recall@{k}_low']:.4f}, "
                f"{row[f'recall@{k}_high']:.4f}]",
                f"ndcg@{k}": f"{row[f'ndcg@{k}']:.4f} [{row[f'ndcg@{k}_low']:.4f}, "
                f"{row[f'ndcg@{k}_high']:.4f}]",
                f"val recall@{k}": f"{row[f'val_recall@{k}']:.4f}",
                f"cold-start recall@{k}": f"{row[f'cold_recall@{k}']:.4f}"
                if row["cold_customers"]
                else "-",
                "fit s": f"{row['fit_s']:.1f}",
                "chosen on validation": row["params"]
                + (f" ({row['note']})" if row["note"] else ""),
            }
        )
    return pd.DataFrame(rows)


def run_train_gnn(
    settings: Settings, config: GnnRunConfig, out_dir: Path, progress: Progress | None = None
) -> GnnRunReport:
    """Train, evaluate, checkpoint and publish; prints the metrics table."""
    from ...embeddings.pipeline import collection_specs
    from ...gnn.recs_comparison import NEURAL
    from ...gnn.service import ENCODER_METHOD, train_gnn
    from ...loaders.service import new_progress

    specs = collection_specs(
        settings.vectors.collection_prefix,
        settings.embeddings.dimension,
        settings.vectors.graph_dim,
    )
    progress = progress or new_progress()
    tasks: dict[str, int] = {}

    def on_epoch(stage: str, row: dict[str, float]) -> None:
        is_lightgcn = stage.startswith("lightgcn")
        name = stage if is_lightgcn else f"encoder {stage}"
        if stage not in tasks:
            total = (config.lightgcn if is_lightgcn else config.encoder).max_epochs
            tasks[stage] = progress.add_task(name, total=total)
        note = f" val recall {row['val_recall']:.4f}" if "val_recall" in row else ""
        progress.update(
            tasks[stage],
            advance=1,
            description=f"{name} (loss {row['loss']:.4f}{note})",
        )

    methods: list[int] = []

    def on_method(method: str) -> None:
        if not methods:
            methods.append(progress.add_task("comparing recommenders", total=None))
        progress.update(methods[0], advance=1, description=f"comparing recommenders: {method}")

    with open_store(settings) as store, open_vectors(settings) as vectors, progress:
        report = train_gnn(
            store,
            vectors,
            specs,
            config,
            out_dir=out_dir,
            settings=settings.describe(),
            on_epoch=on_epoch,
            on_method=on_method,
        )
    if report.comparison is not None:
        console.print(
            frame_table(
                comparison_frame(report.comparison, config.k),
                title=f"Test window, top {config.k}: mean [95 % bootstrap interval over "
                "test customers]; every setting chosen on the validation window; cold-start: "
                "among products never bought before the test window",
            )
        )
        for line in report.comparison.summary_lines():
            console.print(line)
    served = report.checkpoint.served_by
    if served not in NEURAL:
        console.print(f"recommendations are served by {served}, a baseline that won on validation")
    elif served != ENCODER_METHOD:
        console.print(f"recommendations are served by {served}, the validation winner")
    console.print(
        f"model {report.checkpoint.model_version} (snapshot {report.checkpoint.snapshot_id}, "
        f"{report.best_epoch} epochs): {report.checkpoint_path}"
    )
    console.print(f"graph vectors written: {report.vectors_written}")
    if report.plot_path is not None:
        console.print(f"learning curves: {report.plot_path}")
    return report


@app.command("train-gnn")
@clear_errors
def train_gnn_command(
    max_epochs: Annotated[
        int, typer.Option(min=1, help="Most epochs of the encoder (early stopping).")
    ] = 30,
    lightgcn_epochs: Annotated[
        int, typer.Option(min=1, help="Most epochs of the LightGCN baseline (early stopping).")
    ] = 60,
    evaluate: Annotated[
        bool, typer.Option(help="Tune on validation and compare with the baselines first.")
    ] = True,
    device: Annotated[
        str | None, typer.Option(help="auto, cpu, cuda or cuda:N (default: settings.device).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: settings.seed).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Checkpoint folder (default <data_dir>/models/encoder).")
    ] = None,
) -> None:
    """Train the heterogeneous graph encoder and write the customer and product
    `graph` vectors.

    Needs `pricegraph embed` first (products' text vectors are its input). With
    --evaluate (the default) it is compared on the last 28 days with popularity,
    item-kNN, text similarity, recently viewed (where the graph has views or carts),
    recent neighbours, ALS, EASE^R, LightGCN, an encoder + EASE^R blend and two
    re-rankers, each tuned on the 28 days before; the table and the verdicts go
    into the checkpoint and the validation winner serves.
    """
    from ...gnn.lightgcn import LightGCNConfig
    from ...gnn.service import GnnRunConfig
    from ...gnn.train import EncoderConfig

    settings = load_settings()
    check_device(device or settings.device, "train-gnn options")
    try:
        encoder = replace(
            EncoderConfig(),
            max_epochs=max_epochs,
            device=device or settings.device,
            seed=settings.seed if seed is None else seed,
            embedding_dim=settings.vectors.graph_dim,
        )
    except ValueError as exc:
        raise ConfigError(f"train-gnn options: {exc}") from None
    lightgcn = replace(LightGCNConfig(), max_epochs=lightgcn_epochs)
    config = GnnRunConfig(encoder=encoder, evaluate=evaluate, lightgcn=lightgcn)
    run_train_gnn(settings, config, out or settings.data_dir / "models" / "encoder")


@app.command("export-graph")
@clear_errors
def export_graph_command(
    path: Annotated[Path, typer.Argument(help="Snapshot file to write (torch.save).")],
) -> None:
    """Export the graph with product text vectors as a PyG snapshot file, the input
    of distributed training: `torchrun --nproc_per_node N -m pricegraph.gnn.ddp
    --snapshot PATH --out DIR`."""
    from ...embeddings.pipeline import collection_specs
    from ...gnn.data import export_hetero
    from ...gnn.ddp import save_snapshot
    from ...gnn.service import product_text_features

    settings = load_settings()
    specs = collection_specs(
        settings.vectors.collection_prefix,
        settings.embeddings.dimension,
        settings.vectors.graph_dim,
    )
    with open_store(settings) as store, open_vectors(settings) as vectors:
        products = store.node_frame("Product")["id"].astype(str).tolist()
        features = product_text_features(vectors, specs["products"].name, products)
        if not features:
            raise ConfigError("no product text vectors: run 'pricegraph embed' first")
        dim = len(next(iter(features.values())))
        snapshot = export_hetero(store, product_features=features, feature_dim=dim)
    save_snapshot(snapshot, path)
    console.print(
        f"snapshot {snapshot.snapshot_id}: {snapshot.num_customers} customers, "
        f"{snapshot.num_products} products -> {path}"
    )
