"""Benchmark: demand model and weekly forecasts on the Online Retail data.

Builds the product x week panel (from the CSV through the adapter, or with
``--store`` from a temporary embedded graph store loaded with it), holds out the
last ``--horizon`` weeks, and prints WAPE and bias of the boosting forecast, the
demand model and the naive baselines (last value, trailing mean, seasonal mean)
measured in the same run, the distribution of the elasticities and timings.
Writes ``bench/out/demand.json``, ``demand_forecast.png`` and
``demand_elasticity.png``.

Usage: ``python bench/bench_demand.py [--file PATH] [--horizon 8] [--store]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from rich.console import Console
from rich.progress import Progress

from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders.online_retail import load_online_retail, read_online_retail, to_canonical
from pricegraph.pricing.demand.forecast import ForecastConfig, evaluate_forecasts
from pricegraph.pricing.demand.panel import build_panel, panel_from_store

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)


def _panel(path: Path, use_store: bool):
    """The weekly panel, from the CSV or through a temporary embedded store."""
    if not use_store:
        frames, _ = to_canonical(read_online_retail(path))
        return build_panel(frames["events"], catalog=frames["products"])
    work = Path(tempfile.mkdtemp(prefix="pricegraph-demand-"))
    try:
        store = make_graph_store(GraphConfig(path=work / "graph", buffer_pool_mb=1024))
        with Progress() as progress:
            load_online_retail(store, path, rejects_dir=work, progress=progress)
        panel = panel_from_store(store)
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return panel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--horizon", type=int, default=8)
    parser.add_argument("--store", action="store_true", help="go through the embedded store")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    console = Console()
    started = time.perf_counter()
    with console.status("building the weekly panel"):
        panel = _panel(args.file, args.store)
    panel_s = time.perf_counter() - started
    config = ForecastConfig(horizon_weeks=args.horizon)
    started = time.perf_counter()
    with console.status("fitting the demand model and forecasting"):
        result = evaluate_forecasts(panel, config)
    forecast_s = time.perf_counter() - started
    table, model = result.table, result.model
    summary = model.summary()
    est = model.estimates
    console.print(table.round(3).to_string(index=False))
    console.print(
        f"series {summary['series']}: per-product {summary['per_product']}, pooled "
        f"{summary['pooled']}; median elasticity {summary['median_elasticity']:.2f}, share "
        f"negative (raw) {summary['share_negative_raw']:.3f}, "
        f"clipped {summary['share_clipped']:.3f}; cross kept in "
        f"{summary['groups_with_cross']} of {summary['groups']} groups"
    )
    console.print(f"panel {panel_s:.1f} s ({len(panel)} rows); fit + forecast {forecast_s:.1f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    quantiles = est["elasticity"].quantile([0.05, 0.25, 0.5, 0.75, 0.95])
    (args.out / "demand.json").write_text(
        json.dumps(
            {
                "table": table.to_dict("records"),
                "elasticity": summary
                | {"quantiles": {str(q): float(v) for q, v in quantiles.items()}},
                "groups": model.groups.to_dict("records"),
                "calendar": model.calendar,
                "panel_rows": len(panel),
                "excluded_new_series": result.excluded_new_series,
                "panel_s": panel_s,
                "fit_forecast_s": forecast_s,
                "config": asdict(config),
                "demand_config": asdict(model.config),
            },
            indent=2,
            default=float,
        ),
        encoding="utf-8",
    )
    weekly = result.predictions.groupby("week")[
        ["units", "gbm", "demand_model", "last_value", "trailing_mean", "seasonal_mean"]
    ].sum()
    fig, ax = plt.subplots(figsize=(8, 4))
    history = panel.groupby("week")["units"].sum()
    ax.plot(history.index, history.to_numpy(), color="black", label="actual")
    for method in weekly.columns[1:]:
        ax.plot(weekly.index, weekly[method].to_numpy(), label=method)
    ax.set_ylabel("units per week (all products)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "demand_forecast.png", dpi=120)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for source, part in est.groupby("source"):
        ax.hist(part["elasticity"], bins=60, alpha=0.6, label=f"{source} ({len(part)})")
    ax.set_xlabel("own-price elasticity at list price")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "demand_elasticity.png", dpi=120)


if __name__ == "__main__":
    main()
