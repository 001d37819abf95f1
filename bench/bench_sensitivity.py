"""Benchmark: which customer state recovers customers' true price sensitivity.

For each synthetic world (seed x ``beta_log_sd`` x ``beta_tier_link``) the whole
pipeline runs as a user runs it, on the embedded stores in a temporary folder:
generate, load, ``embed`` (all-MiniLM-L6-v2, Qdrant Edge), ``train-gnn`` (no
evaluation), ``segments`` (on the graph vectors). Exposures are read from the graph
(views priced by the price points in force, purchases of the same day:
:func:`~pricegraph.pricing.customers.states.exposures_from_store`), and the
customer-conditioned slope (:mod:`pricegraph.pricing.customers.sensitivity`) is fitted
once per state block: ``graph`` (read through the encoder's price-behaviour head, as
``train-pricing`` does), ``text``, ``rfm``, ``segment``. Each fit's estimates
are compared with the world's true :math:`\\beta_c` by Spearman's rank correlation
over the known customers, with a bootstrap 95 % interval over customers (200
resamples); the mean over worlds gets a t interval (n/a from one world). The
``latent segment`` row is a reference the system never sees: the same model on a
one-hot of the world's hidden segments.

Prints one table and writes ``bench/out/sensitivity.json`` and ``sensitivity.png``.

World seeds 7 and 2027 were used to develop the method (the encoder's behaviour
features and head, 2 state components); the defaults report on others.

Usage: ``python bench/bench_sensitivity.py [--seeds 11 101] [--spreads 0.3]
[--links 0 1.5] [--customers 1000] [--products 200] [--tiny]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from scipy.stats import spearmanr

from pricegraph.embeddings.config import EmbeddingConfig, VectorConfig
from pricegraph.embeddings.pipeline import collection_specs
from pricegraph.embeddings.service import embed_catalog
from pricegraph.embeddings.vector_factory import make_vector_store
from pricegraph.errors import DataValidationError
from pricegraph.gnn.service import GnnRunConfig, train_gnn
from pricegraph.gnn.train import EncoderConfig
from pricegraph.graph.config import GraphConfig
from pricegraph.graph.factory import make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.pricing.customers.sensitivity import fit_sensitivity
from pricegraph.pricing.customers.states import (
    behaviour_basis,
    customer_states,
    exposures_from_store,
)
from pricegraph.pricing.evaluation.compare import format_ci95, mean_ci95
from pricegraph.pricing.snapshot import customer_segments
from pricegraph.segments.clustering import SegmentConfig, build_segments, write_segments
from pricegraph.synthetic import World, WorldConfig, generate_world, write_world

LATENT = "latent segment"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--seeds", type=int, nargs="+", default=[11, 101])
    add("--spreads", type=float, nargs="+", default=[0.3], help="beta_log_sd values")
    add("--links", type=float, nargs="+", default=[0.0, 1.5], help="beta_tier_link values")
    add("--customers", type=int, default=1000)
    add("--products", type=int, default=200)
    add("--days", type=int, default=180)
    add("--epochs", type=int, default=30, help="encoder epochs")
    add("--tiny", action="store_true", help="tiny worlds (smoke test)")
    add("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if args.tiny:
        args.seeds, args.spreads, args.links = args.seeds[:1], [0.6], [1.5]
        args.customers, args.products, args.days, args.epochs = 300, 60, 120, 3
    return args


def world_configs(args: argparse.Namespace) -> list[WorldConfig]:
    """One world per ``beta_log_sd`` x ``beta_tier_link`` x seed, sized by ``args``."""
    return [
        replace(
            WorldConfig(),
            seed=seed,
            n_customers=args.customers,
            n_products=args.products,
            n_days=args.days,
            beta_log_sd=sd,
            beta_tier_link=link,
        )
        for sd in args.spreads
        for link in args.links
        for seed in args.seeds
    ]


def bootstrap_ci(estimate: np.ndarray, truth: np.ndarray, rng: np.random.Generator) -> float:
    """Half-width of the 95 % percentile interval of Spearman's rho over customers."""
    n = len(truth)
    draws = [
        spearmanr(estimate[idx], truth[idx])[0]
        for idx in (rng.integers(0, n, n) for _ in range(200))
    ]
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float((high - low) / 2)


def run_pipeline(
    config: WorldConfig, folder: Path, epochs: int
) -> tuple[World, dict[str, pd.DataFrame], pd.DataFrame, pd.Series]:
    """Generate, load, embed, train the encoder and segment one world in ``folder``.

    Returns:
        The world, its customer states (:func:`customer_states`), the exposures read
        from the graph and each customer's graph segment.
    """
    world = generate_world(config)
    write_world(world, folder / "world")
    store = make_graph_store(GraphConfig(path=folder / "graph", buffer_pool_mb=256))
    vectors = make_vector_store(VectorConfig(path=folder / "vectors"))
    try:
        load_files(store, read_mapping(folder / "world" / "mapping.toml"), rejects_dir=folder)
        embedding, vector_config = EmbeddingConfig(), VectorConfig(path=folder / "vectors")
        embed_catalog(store, vectors, embedding=embedding, vector_config=vector_config)
        specs = collection_specs(
            vector_config.collection_prefix, embedding.dimension, vector_config.graph_dim
        )
        encoder = EncoderConfig(max_epochs=epochs)
        gnn = GnnRunConfig(encoder=encoder, evaluate=False)
        train_gnn(store, vectors, specs, gnn, out_dir=folder / "models")
        segment_config = SegmentConfig(using="graph")
        segments = build_segments(store, vectors, specs["customers"].name, segment_config)
        write_segments(store, segments)
        states = customer_states(store, vectors, specs["customers"].name)
        table = exposures_from_store(store)
        segment_of = customer_segments(store)
    finally:
        store.close()
        vectors.close()
    return world, states, table, segment_of


def world_rhos(config: WorldConfig, args: argparse.Namespace, folder: Path) -> dict[str, tuple]:
    """Run the pipeline on one world; state -> (rho, bootstrap half-width, seconds)."""
    world, states, table, _ = run_pipeline(config, folder, args.epochs)
    truth = world.truth.customers.set_index("customer_id")["beta"]
    states[LATENT] = pd.get_dummies(
        world.truth.customers.set_index("customer_id")["segment_id"]
    ).astype(float)
    rng = np.random.default_rng(config.seed)
    out = {}
    encoder = folder / "models" / "latest.pt"
    for name, state in states.items():
        started = time.perf_counter()
        basis = behaviour_basis(encoder, state.shape[1]) if name == "graph" else None
        try:
            model = fit_sensitivity(table, state, name, basis=basis)
        except DataValidationError as exc:
            print(f"{name}: {exc}")
            continue
        keys = truth.index
        slope = model.estimate(state.reindex(keys).to_numpy(float))[0]
        rho = float(spearmanr(slope, truth.to_numpy())[0])
        out[name] = (rho, bootstrap_ci(slope, truth.to_numpy(), rng), time.perf_counter() - started)
    return out


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    rows = []
    configs = world_configs(args)
    with Progress() as progress:
        task = progress.add_task("worlds", total=len(configs))
        for config in configs:
            seed, sd, link = config.seed, config.beta_log_sd, config.beta_tier_link
            started = time.perf_counter()
            with tempfile.TemporaryDirectory() as folder:
                rhos = world_rhos(config, args, Path(folder))
            for state, (rho, half, seconds) in rhos.items():
                rows.append(
                    {"seed": seed, "beta_log_sd": sd, "beta_tier_link": link, "state": state,
                     "rho": rho, "rho_ci95": half, "fit_s": seconds}
                )  # fmt: skip
            progress.console.print(
                f"world seed {seed}, sd {sd}, link {link}: {time.perf_counter() - started:.0f} s"
            )
            progress.advance(task)
    frame = pd.DataFrame(rows)
    table = Table(title="Spearman(estimated, true customer price sensitivity)")
    for column in ("beta_log_sd", "beta_tier_link", "state", "per world (95 % bootstrap)",
                   "mean over worlds (95 % CI)", "fit s"):  # fmt: skip
        table.add_column(column)
    summary = []
    for (sd, link, state), group in frame.groupby(
        ["beta_log_sd", "beta_tier_link", "state"], sort=False
    ):
        mean, half = mean_ci95(group["rho"].to_numpy())
        per_world = ", ".join(
            f"{r:.2f}±{h:.2f}" for r, h in zip(group["rho"], group["rho_ci95"], strict=True)
        )
        table.add_row(
            f"{sd:g}", f"{link:g}", state, per_world, f"{mean:.3f} ± {format_ci95(half, 3)}",
            f"{group['fit_s'].mean():.1f}",
        )  # fmt: skip
        summary.append({"beta_log_sd": sd, "beta_tier_link": link, "state": state,
                        "mean": mean, "ci95": half, "n": len(group)})  # fmt: skip
    Console().print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sensitivity.json").write_text(
        json.dumps({"rows": rows, "summary": summary}, indent=2, default=float) + "\n"
    )
    plot(pd.DataFrame(summary), args.out / "sensitivity.png")
    print(f"wrote {args.out / 'sensitivity.json'} and {args.out / 'sensitivity.png'}")


def plot(summary: pd.DataFrame, path: Path) -> None:
    """Bars of the mean rho per state, one panel per world setting."""
    settings = summary[["beta_log_sd", "beta_tier_link"]].drop_duplicates().to_numpy()
    fig, axes = plt.subplots(1, len(settings), figsize=(4.5 * len(settings), 3.5), squeeze=False)
    for ax, (sd, link) in zip(axes[0], settings, strict=True):
        part = summary[(summary["beta_log_sd"] == sd) & (summary["beta_tier_link"] == link)]
        errors = np.nan_to_num(part["ci95"].to_numpy(float))
        ax.bar(part["state"], part["mean"], yerr=errors, capsize=3)
        ax.set_title(f"beta_log_sd {sd:g}, tier link {link:g}")
        ax.set_ylabel("Spearman rho")
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
