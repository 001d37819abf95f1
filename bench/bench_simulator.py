"""Benchmark: the market simulator, the oracle and the non-learned pricing baselines.

Generates the default synthetic world (``WorldConfig(seed=...)``) into a temp
folder, builds its true market from the written ground truth (representative
customers per segment, weekly periods, stock scaled by ``--inventory-scale`` so
that it binds), solves the oracle and plays the oracle and every baseline on the
same seeds (stochastic Poisson demand, common random numbers). Prints profit per
policy in % of the dual bound (``season_profit_bound``, an upper bound on every
policy's expected profit) and, with revenue and units, in % of the open-loop
oracle on the same draws (which another policy can beat under Poisson demand; a
note says so), each mean with its 95 % CI (n/a from one episode), the oracle's
expected profit and dual bound, timings (market build, oracle solve, env steps/s) and a
calibration check (expected vs generated purchases at the world's own prices).
Writes ``bench/out/simulator.json`` and ``bench/out/simulator_profit.png``.

Usage: ``python bench/bench_simulator.py [--episodes N] [--n-products N] [--n-customers N]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from pricegraph.pricing.evaluation.baselines import (
    CompetitorMatchPolicy,
    CostPlusPolicy,
    MyopicPolicy,
    StaticListPolicy,
)
from pricegraph.pricing.evaluation.compare import (
    compare_policies,
    format_ci95,
    plot_profit_vs_oracle,
    reference_notes,
)
from pricegraph.pricing.market.builders import GroundTruthMarketConfig, market_from_world_dir
from pricegraph.pricing.market.model import MarketModel
from pricegraph.pricing.market.oracle import OraclePolicy, season_profit_bound, solve_oracle
from pricegraph.pricing.market.simulator import MarketEnv, PriceBounds, SimulatorConfig
from pricegraph.synthetic import WorldConfig, generate_world, write_world
from pricegraph.synthetic.prices import daily_price_matrix


def _calibration(world, market: MarketModel, config: GroundTruthMarketConfig) -> dict:
    """Expected units at the world's own prices vs units bought in the generated events."""
    own, _ = daily_price_matrix(
        world.prices, world.truth.products["product_id"], world.config.start, world.config.n_days
    )
    events = world.events[world.events["event_type"] == "purchase"]
    day = (events["ts"] - pd.Timestamp(world.config.start, tz="UTC")).dt.days - config.start_day
    period = (day // config.period_days).to_numpy()
    rows = []
    for t in range(market.num_periods):
        first = config.start_day + t * config.period_days
        prices = own[:, first : first + config.period_days].mean(axis=1)
        expected = market.expected_outcome(prices, t).total_units
        rows.append((expected, float(events["qty"].to_numpy()[period == t].sum())))
    expected, generated = np.array(rows).T
    return {
        "expected_units": float(expected.sum()),
        "generated_units": float(generated.sum()),
        "ratio": float(expected.sum() / max(generated.sum(), 1.0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world-seed", type=int, default=7)
    parser.add_argument("--n-products", type=int, default=600)
    parser.add_argument("--n-customers", type=int, default=2000)
    parser.add_argument("--customers-per-segment", type=int, default=64)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--inventory-scale", type=float, default=0.1)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--steps", type=int, default=600, help="env steps timed")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()

    world_config = WorldConfig(
        seed=args.world_seed, n_products=args.n_products, n_customers=args.n_customers
    )
    market_config = GroundTruthMarketConfig(
        customers_per_segment=args.customers_per_segment,
        num_periods=args.periods,
        inventory_scale=args.inventory_scale,
    )
    sim_config = SimulatorConfig(horizon_periods=args.periods)
    work = Path(tempfile.mkdtemp(prefix="pricegraph-sim-"))
    try:
        world = generate_world(world_config)
        write_world(world, work)
        started = time.perf_counter()
        market = market_from_world_dir(work, config=market_config)
        build_s = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bounds = PriceBounds.around_list(market, low=0.5, high=1.5)

    def env_factory() -> MarketEnv:
        return MarketEnv(market, bounds, sim_config)

    env = env_factory()
    plan = solve_oracle(env)
    low, high = env.price_low, env.price_high
    policies = [
        OraclePolicy(plan),
        MyopicPolicy(market, low, high, args.periods, name="myopic (true model)"),
        MyopicPolicy(
            market, low, high, args.periods, is_per_segment=False, name="myopic (one price)"
        ),
        StaticListPolicy(market),
        CostPlusPolicy(market, markup_pct=100.0, low=low, high=high),
        CompetitorMatchPolicy(market, low=low, high=high),
    ]
    seeds = list(range(args.episodes))
    bound = season_profit_bound(plan, env)
    per_seed, summary = compare_policies(env_factory, policies, seeds, profit_bound=bound)
    deterministic = MarketEnv(market, bounds, SimulatorConfig(args.periods, is_stochastic=False))
    _, expected = compare_policies(lambda: deterministic, policies, [0], profit_bound=bound)

    rng = np.random.default_rng(0)
    env.reset(seed=0)
    started = time.perf_counter()
    for _ in range(args.steps):
        action = rng.uniform(0.5, 1.5, size=env.action_space.shape).astype(np.float32)
        *_, is_done, _, _ = env.step(action)
        if is_done:
            env.reset()
    steps_per_s = args.steps / (time.perf_counter() - started)
    calibration = _calibration(world, market, market_config)

    print(
        f"market: {market.num_products} products, {market.num_groups} groups"
        f" ({market.num_segments} segments), {market.num_periods} periods of"
        f" {market.period_days} days, stock {np.nansum(market.initial_inventory):.0f} units"
    )
    print("profit % of dual bound; profit, revenue, units % of open-loop oracle (paired);"
          " expected %: profit % of oracle under expected demand")  # fmt: skip
    print(f"{'policy':22} {'profit % bound':>16} {'profit % open-loop oracle':>26}"
          f" {'revenue %':>10} {'units %':>8} {'profit':>12} {'leftover':>9}"
          f" {'expected %':>11}")  # fmt: skip
    for (_, row), (_, det) in zip(summary.iterrows(), expected.iterrows(), strict=True):
        print(
            f"{row['policy']:22} {row['profit_pct_bound']:8.1f}"
            f" ± {format_ci95(row['profit_pct_bound_ci95']):>5}"
            f" {row['profit_pct_oracle']:18.1f} ± {format_ci95(row['profit_pct_oracle_ci95']):>5}"
            f" {row['revenue_pct_oracle']:10.1f} {row['units_pct_oracle']:8.1f}"
            f" {row['profit_mean']:12,.0f} {row['leftover_units_mean']:9.0f}"
            f" {det['profit_pct_oracle']:11.1f}"
        )
    for note in reference_notes(summary, is_stochastic=True, num_runs=len(seeds)):
        print(f"  {note}")
    over = reference_notes(expected, is_stochastic=False, num_runs=1)[1:]
    for note in over:  # the expected % column's figures above 100 %
        print(f"  expected %: {note}")
    print(f"oracle_expected_profit  {plan.expected_profit:,.0f}")
    print(f"profit_bound            {bound:,.0f}")
    print(f"market_build_s          {build_s:.2f}")
    print(f"oracle_solve_s          {plan.solve_seconds:.2f}")
    print(f"env_steps_per_s         {steps_per_s:.0f}")
    print(f"calibration_ratio       {calibration['ratio']:.3f} (expected / generated units)")

    args.out.mkdir(parents=True, exist_ok=True)
    png = plot_profit_vs_oracle(
        summary,
        args.out / "simulator_profit.png",
        "Synthetic world, Poisson demand",
        column="profit_pct_bound",
        reference="dual bound",
    )
    result = {
        "world": asdict(world_config),
        "market": asdict(market_config),
        "simulator": asdict(sim_config),
        "seeds": seeds,
        "summary": summary.to_dict(orient="records"),
        "expected_profit_pct_oracle": dict(
            zip(expected["policy"], expected["profit_pct_oracle"], strict=True)
        ),
        "per_seed": per_seed.to_dict(orient="records"),
        "oracle_expected_profit": plan.expected_profit,
        "profit_bound": bound,
        "oracle_binding_products": int((plan.shadow_price > 0).sum()),
        "market_build_s": build_s,
        "oracle_solve_s": plan.solve_seconds,
        "env_steps_per_s": steps_per_s,
        "calibration": calibration,
        "plot": str(png),
    }
    (args.out / "simulator.json").write_text(json.dumps(result, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
