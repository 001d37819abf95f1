"""Benchmark: what the personal level earns per customer, by the customer state it reads.

For each synthetic world (seed x ``beta_log_sd`` x ``beta_tier_link``) the pipeline of
``bench_sensitivity.py`` runs (generate, load, embed, train the encoder, graph
segments, exposures from the graph). The world's true market is grouped by the graph
segments (as ``train-pricing`` does) and the hierarchy is trained three times, with
the same seed, differing only in the customer signal of the personal level:
``none`` (every customer at its segment's slope), ``graph`` (the customer sensitivity
model on the graph vectors, what ``train-pricing`` deploys), ``text`` (the same
model on the text vectors; an ablation, quotes read graph vectors) and, with
``--states``, ``true`` (the model on the world's hidden log sensitivity: what a
perfect state would allow, a reference). Each is played per
representative customer, expected demand, through the deployed guardrails
(:func:`~pricegraph.pricing.policies.personal.personal_evaluation`): the world's headroom
(group oracle over segment oracle), the headroom inside the deployed personal band
(the group oracle moving the segment oracle's prices only as a personal price may)
and the share of each the personal level captures (full over macro + meso, priced
per customer), with the gate chosen on other representative customers of the same
world (sample seed + 1), expected demand.
The mean over worlds gets a t interval (n/a from one world).

Prints one table; writes ``bench/out/personal.json``.

World seeds 7 and 101 were used to develop the gate, the band's headroom, micro's
training budget and its plan-relative slope
(:func:`~pricegraph.pricing.policies.micro.personal_slope`); the defaults report on others.

Worlds can run in separate processes (``--seeds 11 --out out/a``, ``--seeds 303 --out
out/b``) and be reported together: ``--merge out/a/personal.json out/b/personal.json``.
Beside each state's capture, the table gives the paired difference of the graph
signal's capture to each other state's, per world and its mean over worlds.

Usage: ``python bench/bench_personal.py [--seeds 11 303] [--spreads 0.3] [--links 0]
[--customers 1000] [--products 300] [--tiny] [--merge FILE ...]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from bench_sensitivity import run_pipeline, world_configs
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from pricegraph.errors import DataValidationError
from pricegraph.pricing.customers.sensitivity import fit_sensitivity
from pricegraph.pricing.customers.states import behaviour_basis
from pricegraph.pricing.evaluation.compare import format_ci95, mean_ci95
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.market.builders import GroundTruthMarketConfig, market_from_world_dir
from pricegraph.pricing.market.segments import regroup_by_segments
from pricegraph.pricing.market.simulator import SimulatorConfig
from pricegraph.pricing.policies.macro import MacroConfig
from pricegraph.pricing.policies.meso import MesoConfig
from pricegraph.pricing.policies.micro import MicroConfig
from pricegraph.pricing.policies.personal import group_signal, personal_evaluation
from pricegraph.pricing.policies.training import PricingTrainConfig, train_pricing
from pricegraph.synthetic import WorldConfig

STATES = ("none", "graph", "text", "true")
"""``true``: the world's hidden sensitivity itself as the state, a reference no shop has."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--seeds", type=int, nargs="+", default=[11, 303])
    add("--spreads", type=float, nargs="+", default=[0.3], help="beta_log_sd values")
    add("--links", type=float, nargs="+", default=[0.0], help="beta_tier_link values")
    add("--customers", type=int, default=1000)
    add("--products", type=int, default=300)
    add("--days", type=int, default=180)
    add("--epochs", type=int, default=30, help="encoder epochs")
    add("--stock", type=float, default=1.0, help="inventory_scale of the market")
    add("--customers-per-segment", type=int, default=32)
    add("--steps", type=int, default=3000, help="PPO timesteps")
    add("--micro-steps", type=int, default=MicroConfig().total_timesteps, help="TD3 timesteps")
    add("--states", nargs="+", choices=STATES, default=list(STATES[:3]))
    add("--tiny", action="store_true", help="tiny worlds and budgets (smoke test)")
    add("--out", type=Path, default=Path("bench/out"))
    add("--merge", type=Path, nargs="+", help="report the rows of these personal.json files")
    args = parser.parse_args()
    if args.tiny:
        args.seeds, args.spreads, args.links = args.seeds[:1], [0.6], [1.5]
        args.customers, args.products, args.days, args.epochs = 300, 40, 120, 3
        args.customers_per_segment, args.steps, args.micro_steps = 6, 200, 200
    return args


def train_config(args: argparse.Namespace) -> PricingTrainConfig:
    """Default settings, smaller budgets with ``--tiny``; no comparison table."""
    config = PricingTrainConfig(
        market=GroundTruthMarketConfig(
            inventory_scale=args.stock, customers_per_segment=args.customers_per_segment
        ),
        macro=replace(MacroConfig(), total_timesteps=args.steps),
        micro=replace(MicroConfig(), total_timesteps=args.micro_steps),
        eval_episodes=0,
        device="cpu",
    )
    if args.tiny:
        config = replace(
            config,
            simulator=SimulatorConfig(horizon_periods=4),
            macro=MacroConfig(total_timesteps=96, n_steps=48, batch_size=24, n_epochs=2),
            meso=MesoConfig(explore_episodes=10),
            micro=MicroConfig(total_timesteps=200, learning_starts=50),
        )
    return config


def world_rows(config: WorldConfig, args: argparse.Namespace, folder: Path) -> list[dict]:
    """Train and evaluate the three signals on one world."""
    world, states, table, segment_of = run_pipeline(config, folder, args.epochs)
    truth = world.truth.customers.set_index("customer_id")["beta"]
    states["true"] = np.log(truth).to_frame("log_beta")
    train = train_config(args)
    samples = (train.market, replace(train.market, seed=train.market.seed + 1))
    market, validation = (
        market_from_world_dir(folder / "world", config=sample) for sample in samples
    )
    if len(segment_of):
        market = regroup_by_segments(market, segment_of.to_dict())
        validation = regroup_by_segments(validation, segment_of.to_dict())
    guardrails = GuardrailConfig()
    rows = []
    for state in args.states:
        model, vectors = None, None
        if state != "none":
            basis = None
            if state == "graph":
                basis = behaviour_basis(folder / "models" / "latest.pt", states[state].shape[1])
            try:
                model = fit_sensitivity(table, states[state], state, basis=basis)
            except (DataValidationError, KeyError) as exc:
                print(f"{state}: {exc}")
                continue
            vectors = dict(zip(states[state].index, states[state].to_numpy(), strict=True))
        started = time.perf_counter()
        result = train_pricing(
            market, train, folder / f"policy-{state}", sensitivity=model,
            customer_vectors=vectors, validation_market=validation,
        )  # fmt: skip
        personal = result.personal  # train_pricing evaluates it when there is a signal
        if not personal:
            ratio = np.ones(market.num_groups)
            personal = personal_evaluation(
                result.policy, market, ratio, train.simulator, guardrails
            )
        ratio = (
            np.ones(market.num_groups) if model is None else group_signal(market, model, vectors)[1]
        )
        rows.append(
            {"seed": config.seed, "beta_log_sd": config.beta_log_sd,
             "beta_tier_link": config.beta_tier_link, "state": state,
             "gate": result.policy.micro.scale, "ratio_sd": float(np.std(ratio)),
             "seconds": time.perf_counter() - started, **personal}
        )  # fmt: skip
    return rows


def report(rows: list[dict], out: Path) -> None:
    """Print the table of ``rows`` and write ``out/personal.json``."""
    frame = pd.DataFrame(rows)
    table = Table(title="Personal level per customer, expected demand, as deployed")
    columns = ("beta_log_sd", "beta_tier_link", "state", "headroom %, world (per world)",
               "headroom %, band", "captured % of band (per world)",
               "captured % of band, mean (95 % CI)", "graph minus this state, points",
               "captured % of world", "gate")  # fmt: skip
    for column in columns:
        table.add_column(column)
    summary = []
    for (sd, link, state), group in frame.groupby(
        ["beta_log_sd", "beta_tier_link", "state"], sort=False
    ):
        mean, half = mean_ci95(group["captured_pct"].to_numpy(float))
        versus, diff, diff_half = "", float("nan"), float("nan")
        graph = frame[
            (frame["state"] == "graph") & (frame["beta_log_sd"] == sd)
            & (frame["beta_tier_link"] == link)
        ].set_index("seed")["captured_pct"]  # fmt: skip
        own = group.set_index("seed")["captured_pct"]
        paired = (graph - own).dropna()
        if state != "graph" and len(paired):
            diff, diff_half = mean_ci95(paired.to_numpy(float))
            per_world = ", ".join(f"{d:+.0f}" for d in paired)
            versus = f"{per_world}; {diff:+.0f} ± {format_ci95(diff_half, 0)}"
        table.add_row(
            f"{sd:g}", f"{link:g}", state,
            ", ".join(f"{h:+.2f}" for h in group["headroom_pct"]),
            ", ".join(f"{h:+.2f}" for h in group["band_headroom_pct"]),
            ", ".join(f"{c:.0f}" for c in group["captured_pct"]),
            f"{mean:.0f} ± {format_ci95(half, 0)}", versus,
            ", ".join(f"{c:.1f}" for c in group["captured_world_pct"]),
            ", ".join(f"{g:g}" for g in group["gate"]),
        )  # fmt: skip
        summary.append({"beta_log_sd": sd, "beta_tier_link": link, "state": state,
                        "captured_mean": mean, "captured_ci95": half, "n": len(group),
                        "graph_minus_mean": diff, "graph_minus_ci95": diff_half})  # fmt: skip
    Console().print(table)
    out.mkdir(parents=True, exist_ok=True)
    (out / "personal.json").write_text(
        json.dumps({"rows": rows, "summary": summary}, indent=2, default=float) + "\n"
    )
    print(f"wrote {out / 'personal.json'}")


def main() -> None:
    args = parse_args()
    if args.merge:
        rows = [row for path in args.merge for row in json.loads(path.read_text())["rows"]]
        report(rows, args.out)
        return
    torch.set_num_threads(1)
    rows: list[dict] = []
    configs = world_configs(args)
    with Progress() as progress:
        task = progress.add_task("worlds", total=len(configs))
        for config in configs:
            with tempfile.TemporaryDirectory() as folder:
                rows += world_rows(config, args, Path(folder))
            progress.advance(task)
    report(rows, args.out)


if __name__ == "__main__":
    main()
