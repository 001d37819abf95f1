"""Benchmark: the personalisation headroom of synthetic worlds, a fact of each world.

For each world seed, within-segment spread of price sensitivity (``beta_log_sd``) and
stock ratio (``inventory_scale``), the world's true market is built
(``customers_per_segment`` representative customers per segment) and its certified
oracle is solved twice on expected demand inside ``0.5 .. 1.5 x list``: one price per
segment, and one price per representative customer
(:func:`~pricegraph.pricing.evaluation.headroom.personalisation_headroom`). The headroom is the
second profit over the first, minus one: what a perfect personal level could add over
a perfect segment level. ``--link`` is ``beta_tier_link``: how much a customer's
sensitivity shows in the brand tiers it favours (0 for the default world).

Prints one row per setting and the mean over seeds with its 95 % CI (n/a from one
seed); writes ``bench/out/headroom.json`` and ``headroom.png``.

Usage: ``python bench/bench_headroom.py [--seeds 7 2027] [--spreads 0.3 0.6 1.0]
[--stock 0.1 1.0] [--link 1.5] [--products 300] [--tiny]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.progress import Progress

from pricegraph.pricing.evaluation.compare import format_ci95, mean_ci95
from pricegraph.pricing.evaluation.headroom import personalisation_headroom
from pricegraph.pricing.market.builders import GroundTruthMarketConfig, market_from_world_dir
from pricegraph.pricing.market.simulator import PriceBounds, SimulatorConfig
from pricegraph.synthetic import WorldConfig, generate_world, write_world


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--seeds", type=int, nargs="+", default=[7, 2027])
    add("--spreads", type=float, nargs="+", default=[0.3, 0.6, 1.0])
    add("--stock", type=float, nargs="+", default=[0.1, 1.0])
    add("--link", type=float, default=1.5, help="beta_tier_link of the worlds (0: default)")
    add("--products", type=int, default=300)
    add("--customers", type=int, default=2000)
    add("--customers-per-segment", type=int, default=32)
    add("--periods", type=int, default=12)
    add("--tiny", action="store_true", help="tiny worlds (smoke test)")
    add("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if args.tiny:
        args.seeds, args.spreads, args.stock = args.seeds[:1], [0.3, 1.0], [1.0]
        args.products, args.customers, args.customers_per_segment, args.periods = 30, 200, 4, 4
    return args


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    settings = [(s, sd, k) for s in args.seeds for sd in args.spreads for k in args.stock]
    with tempfile.TemporaryDirectory(prefix="pricegraph-headroom-") as tmp, Progress() as bar:
        task = bar.add_task("oracles", total=len(settings))
        for seed, spread, scale in settings:
            folder = Path(tmp) / f"w{seed}-{spread}"
            if not folder.exists():
                config = WorldConfig(
                    seed=seed, n_customers=args.customers, n_products=args.products,
                    beta_log_sd=spread, beta_tier_link=args.link,
                )  # fmt: skip
                write_world(generate_world(config), folder)
            market = market_from_world_dir(
                folder,
                config=GroundTruthMarketConfig(
                    inventory_scale=scale, customers_per_segment=args.customers_per_segment,
                    num_periods=args.periods,
                ),
            )  # fmt: skip
            started = time.perf_counter()
            sim = SimulatorConfig(horizon_periods=args.periods)
            room = personalisation_headroom(market, PriceBounds.around_list(market), sim)
            rows.append(
                {"seed": seed, "beta_log_sd": spread, "stock_ratio": scale,
                 "segment_oracle": room.segment_profit, "group_oracle": room.group_profit,
                 "headroom_pct": room.pct, "solve_s": time.perf_counter() - started}
            )  # fmt: skip
            bar.advance(task)
    print(f"\nheadroom = group-level oracle / segment-level oracle - 1 (link {args.link:g})")
    print(f"{'seed':>6} {'beta_log_sd':>11} {'stock':>6} {'segment oracle':>15} "
          f"{'group oracle':>13} {'headroom %':>11}")  # fmt: skip
    for row in rows:
        print(
            f"{row['seed']:>6} {row['beta_log_sd']:>11.2f} {row['stock_ratio']:>6.2f} "
            f"{row['segment_oracle']:>15,.0f} {row['group_oracle']:>13,.0f} "
            f"{row['headroom_pct']:>11.2f}"
        )
    summary = []
    print(f"\nmean over {len(args.seeds)} world seed(s), 95 % CI (n/a from one seed)")
    for spread in args.spreads:
        for scale in args.stock:
            values = np.array(
                [r["headroom_pct"] for r in rows
                 if r["beta_log_sd"] == spread and r["stock_ratio"] == scale]
            )  # fmt: skip
            mean, half = mean_ci95(values)
            summary.append({"beta_log_sd": spread, "stock_ratio": scale, "headroom_pct": mean,
                            "headroom_pct_ci95": half, "n": int(values.size)})  # fmt: skip
            print(f"  beta_log_sd {spread:.2f}, stock {scale:.2f}: {mean:.2f} ± "
                  f"{format_ci95(half, 2)} %")  # fmt: skip
    plot(summary, args)
    report = {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows,
              "summary": summary}  # fmt: skip
    (args.out / "headroom.json").write_text(json.dumps(report, indent=2) + "\n")


def plot(summary: list[dict], args: argparse.Namespace) -> Path:
    """Headroom against the within-segment spread, one line per stock ratio (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for scale in args.stock:
        part = [s for s in summary if s["stock_ratio"] == scale]
        x = [s["beta_log_sd"] for s in part]
        y = [s["headroom_pct"] for s in part]
        err = [0.0 if np.isnan(s["headroom_pct_ci95"]) else s["headroom_pct_ci95"] for s in part]
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=f"stock ratio {scale:g}")
    ax.set_xlabel("within-segment spread of price sensitivity (beta_log_sd)")
    ax.set_ylabel("headroom, % over segment oracle")
    ax.set_title(f"Personalisation headroom (link {args.link:g})", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = args.out / "headroom.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
