"""Benchmark: the hierarchical pricing policy against the oracle and the baselines.

Two markets. (1) The synthetic world (``WorldConfig(seed=7)`` written to a temp
folder, stock scaled by ``--inventory-scale`` so that it binds). (2) A simulator
built from the demand model fitted on the Online Retail data (as
``bench_demand.py`` reads it): the top ``--retail-products`` products by revenue
with a negative elasticity at list price, wrapped as a ``DemandCurve`` (the fitted
intercepts, elasticities, curvature and calendar effects of the ``--periods`` weeks
from ``--retail-start``; other products at list price) and matched to a logit market
by ``market_from_demand``. The data has no costs nor stock: unit cost is
``0.5 x list price`` and stock is ``--retail-stock-ratio`` times the season's
expected units at list price (both assumptions). Skipped, with a message, when
the file is absent.

The hierarchy is trained with ``train_pricing`` once per ``--train-seeds``, its micro
gate chosen on the same world's other representative customers (sample seed + 1;
the Online Retail market has no customers to hold out and gates on itself); every
policy then plays the same seeds in two environments. **Expected demand**
(``is_stochastic=False``, the headline): one episode per training seed, CI over
training seeds (n/a with one). The oracle row is ``solve_oracle``'s plan.
**Stochastic** (Poisson, ``--eval-seeds`` episodes, common random numbers): the
oracle plays its expected-demand plan open loop, so another policy can beat it
on the same draws (> 100 % of the "open-loop oracle"). In both, profit is also
given in % of the dual bound (``profit_pct_bound``, :func:`season_profit_bound`),
an upper bound on every policy's expected profit.
**Expected, as deployed**: the same, with every price through the quote service's
default guardrails (floor 1.1 x cost, ceiling 1.3 x list, list +- 15 % where the
personal level moved the price, a change of more than 20 % kept at the current price
for one period until approved; ``pricing.evaluation.deployed``) and the oracle solved
inside that floor and ceiling (no approvals); profit in % of that oracle's dual bound.
The row "oracle plan, as deployed" is that oracle's plan through the same guardrails
and approval rule: what the rule itself leaves of the oracle's profit. Under that table,
each as-deployed row's share of guarded prices sent for approval, in the season's
opening period (priced from list) and in the later periods.
Rows: the hierarchy (gated micro, micro ungated, macro + meso, macro only),
static list, cost plus 100 %, competitor match, myopic on the estimated and on
the true model. Columns: profit in % of the dual bound, profit, revenue, units
in % of the oracle (paired), each with its 95 % CI (n/a from fewer than 2 runs),
leftover in % of initial stock, profit uplift over static list; a note under a
table says why any figure tops 100 %. The myopic check: with unlimited stock
myopic on the true model must equal the oracle.
Writes ``bench/out/pricing.json`` and ``pricing_<market>_<env>.png``.

Usage: ``python bench/bench_pricing.py [--train-seeds 1] [--eval-seeds 10] [--tiny]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pricegraph.pricing.evaluation.baselines import (
    CompetitorMatchPolicy,
    CostPlusPolicy,
    MyopicPolicy,
    PricingPolicy,
    StaticListPolicy,
)
from pricegraph.pricing.evaluation.compare import (
    compare_policies,
    format_ci95,
    mean_ci95,
    oracle_label,
    plot_profit_vs_oracle,
    reference_notes,
    run_episode,
)
from pricegraph.pricing.evaluation.deployed import deployed_bounds, deployed_policies
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.market.builders import (
    GroundTruthMarketConfig,
    market_from_demand,
    market_from_world_dir,
)
from pricegraph.pricing.market.from_store import FittedDemandCurve
from pricegraph.pricing.market.model import MarketModel
from pricegraph.pricing.market.oracle import OraclePolicy, season_profit_bound, solve_oracle
from pricegraph.pricing.market.simulator import MarketEnv, PriceBounds, SimulatorConfig
from pricegraph.pricing.policies.macro import MacroConfig
from pricegraph.pricing.policies.meso import MesoConfig
from pricegraph.pricing.policies.micro import MicroConfig
from pricegraph.pricing.policies.training import EVAL_SEED_START, PricingTrainConfig, train_pricing
from pricegraph.synthetic import WorldConfig, generate_world, write_world

DEFAULT_FILE = (
    Path(__file__).resolve().parents[2] / "shared/data/online_retail/online_retail.csv.gz"
)
RETAIL_COST_RATIO = 0.5
"""Unit cost over list price on Online Retail (the data has no costs: an assumption,
a 50 % gross margin at list price, usual for gift retail). At 0.6 with elasticities
near -1.6 the unconstrained optimum lies above the 1.5 x list ceiling for most
products, every good policy prices at the ceiling and the market separates nothing."""
PCT_METRICS = ("profit", "revenue", "units", "leftover_units")
GUARDRAILS = GuardrailConfig()
"""The guardrails quotes apply by default: the "as deployed" rows."""
DEPLOYED = "expected, as deployed"
"""Name of the as-deployed environment (expected demand) in the tables."""


def synthetic_market(args: argparse.Namespace) -> tuple[MarketModel, MarketModel, dict]:
    """The synthetic world's true market (written to and read from a temp folder)."""
    world_config = WorldConfig(
        seed=args.world_seed, n_products=args.n_products, n_customers=args.n_customers
    )
    market_config = GroundTruthMarketConfig(
        customers_per_segment=args.customers_per_segment,
        num_periods=args.periods,
        inventory_scale=args.inventory_scale,
    )
    work = Path(tempfile.mkdtemp(prefix="pricegraph-pricing-"))
    try:
        write_world(generate_world(world_config), work)
        market = market_from_world_dir(work, config=market_config)
        other = replace(market_config, seed=market_config.seed + 1)
        validation = market_from_world_dir(work, config=other)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return market, validation, {"world": asdict(world_config), "market": asdict(market_config)}


def retail_market(args: argparse.Namespace) -> tuple[MarketModel, dict]:
    """The Online Retail market: fitted demand of the top products (module docstring)."""
    from pricegraph.loaders.online_retail import read_online_retail, to_canonical
    from pricegraph.pricing.demand.fit import fit_demand
    from pricegraph.pricing.demand.panel import build_panel, calendar_features

    frames, _ = to_canonical(read_online_retail(args.retail_file))
    panel = build_panel(frames["events"], catalog=frames["products"])
    model = fit_demand(panel)
    est = model.estimates.set_index("product_id")
    revenue = panel.groupby("product_id")["revenue"].sum().sort_values(ascending=False)
    is_elastic = est["elasticity"].reindex(revenue.index) < 0
    chosen = revenue.index[is_elastic.to_numpy()][: args.retail_products].to_numpy(object)
    weeks = pd.Series(pd.date_range(args.retail_start, periods=args.periods, freq="7D"))
    curve = FittedDemandCurve(model, chosen, calendar_features(weeks))
    list_price = est.loc[chosen, "list_price"].to_numpy(float)
    season = sum(curve.units(np.arange(chosen.size), list_price, t) for t in range(args.periods))
    stock = np.maximum(np.round(args.retail_stock_ratio * season), 1.0)
    market = market_from_demand(
        curve, list_price=list_price, unit_cost=RETAIL_COST_RATIO * list_price,
        num_periods=args.periods, initial_inventory=stock,
    )  # fmt: skip
    market = replace(market, product_ids=tuple(str(p) for p in chosen))
    meta = {
        "products": int(chosen.size),
        "dropped_non_negative_elasticity": int((~is_elastic.iloc[: chosen.size]).sum()),
        "elasticity_at_list": est.loc[chosen, "elasticity"].describe().to_dict(),
        "season_units_at_list": float(season.sum()),
        "stock_units": float(stock.sum()),
        "unit_cost_ratio": RETAIL_COST_RATIO,
        "weeks": [str(w.date()) for w in weeks],
    }
    return market, meta


def policies(result, market: MarketModel, env: MarketEnv, oracle: OraclePolicy) -> list:
    """Every row of the tables, for one trained hierarchy."""
    hier, low, high = result.policy, env.price_low, env.price_high
    horizon, start = env.config.horizon_periods, env.config.start_period
    return [
        oracle,
        hier.with_levels("full", "hierarchical (full)"),
        hier.with_micro(hier.micro.with_scale(1.0)).with_levels("full", "full, micro ungated"),
        hier.with_levels("macro+meso", "macro + meso"),
        hier.with_levels("macro", "macro only"),
        StaticListPolicy(market),
        CostPlusPolicy(market, markup_pct=100.0, low=low, high=high),
        CompetitorMatchPolicy(market, low=low, high=high),
        MyopicPolicy(hier.meso.estimated, low, high, horizon, start, name="myopic (estimated)"),
        MyopicPolicy(market, low, high, horizon, start, name="myopic (true model)"),
    ]


def summarise(per_seed: pd.DataFrame, stock_units: float, profit_bound: float) -> pd.DataFrame:
    """Per policy: metric means and, paired per replicate ``rep``, % of oracle and uplift.

    Leftover stock is also given in % of the initial (finite) stock, ``leftover_pct_stock``:
    a % of the oracle's leftover is unstable when the oracle sells out. Profit is
    also given in % of ``profit_bound`` (``profit_pct_bound``, currency in, percent out).
    """
    by = {name: part.set_index("rep") for name, part in per_seed.groupby("policy", sort=False)}
    oracle, static = by["oracle"], by["static list"]
    rows = []
    for name, own in by.items():
        row: dict = {"policy": name, "n": len(own)}
        for metric in PCT_METRICS:
            row[f"{metric}_mean"] = float(own[metric].mean())
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = 100 * own[metric] / oracle[metric].reindex(own.index)
            pct = pct.replace([np.inf, -np.inf], np.nan).to_numpy(float)
            row[f"{metric}_pct"], row[f"{metric}_pct_ci95"] = mean_ci95(pct)
        bound_pct = 100 * own["profit"].to_numpy(float) / profit_bound
        row["profit_pct_bound"], row["profit_pct_bound_ci95"] = mean_ci95(bound_pct)
        left = 100 * own["leftover_units"].to_numpy(float) / max(stock_units, 1e-9)
        row["leftover_pct_stock"], row["leftover_pct_stock_ci95"] = mean_ci95(left)
        uplift = 100 * (own["profit"] / static["profit"].reindex(own.index) - 1)
        row["uplift_pct"], row["uplift_pct_ci95"] = mean_ci95(uplift.to_numpy(float))
        rows.append(row)
    return pd.DataFrame(rows)


def print_table(title: str, summary: pd.DataFrame, *, is_stochastic: bool) -> None:
    """Print one summary table (percentages with 95 % CI half-widths) and its notes."""
    oracle = oracle_label(is_stochastic)
    print(f"\n{title}: profit % of dual bound; profit, revenue, units % of {oracle} (paired)")
    head = f"{'policy':22} {'profit % bound':>15} {'profit %':>14} {'revenue %':>14}"
    print(f"{head} {'units %':>14} {'left % stock':>15} {'uplift vs list %':>17} {'profit':>12}")
    keys = ("profit_pct_bound", "profit_pct", "revenue_pct", "units_pct", "leftover_pct_stock",
            "uplift_pct")  # fmt: skip
    for _, row in summary.iterrows():
        cells = [f"{row[k]:7.1f} ±{format_ci95(row[f'{k}_ci95']):>5}" for k in keys]
        print(
            f"{row['policy']:22} {cells[0]:>15} {cells[1]:>14} {cells[2]:>14} {cells[3]:>14}"
            f" {cells[4]:>15} {cells[5]:>17} {row['profit_mean']:12,.0f}"
        )
    oracle_pct = {m: f"{m}_pct" for m in ("profit", "revenue", "units")}
    runs = int(summary["n"].min())
    for note in reference_notes(
        summary, is_stochastic=is_stochastic, num_runs=runs, oracle_pct=oracle_pct
    ):
        print(f"  {note}")


def evaluate_market(
    label: str,
    market: MarketModel,
    config: PricingTrainConfig,
    args: argparse.Namespace,
    validation: MarketModel | None = None,
) -> tuple[dict, list[MarketModel]]:
    """Train the hierarchy per training seed and evaluate every row in both envs; the
    micro gate plays on ``validation`` (other representative customers; ``None``: the
    market itself).

    Returns:
        The report, and the demand model estimated by each training seed.
    """
    bounds = PriceBounds.around_list(market, low=config.bound_low, high=config.bound_high)
    envs = {
        "expected": replace(config.simulator, is_stochastic=False),
        "stochastic": replace(config.simulator, is_stochastic=True),
    }
    started = time.perf_counter()
    expected_env = MarketEnv(market, bounds, envs["expected"])
    plan = solve_oracle(expected_env)
    oracle = OraclePolicy(plan)
    oracle_s = time.perf_counter() - started
    oracle_report = {
        "oracle_profit": run_episode(expected_env, oracle, 0)["profit"],
        "dual_bound": plan.dual_bound,
        "profit_bound": season_profit_bound(plan, expected_env),
        "gap_pct": 100 * (1 - plan.expected_profit / plan.dual_bound),
    }
    print(
        f"\n{label}: oracle {oracle_report['oracle_profit']:,.0f} (expected demand);"
        f" dual upper bound {plan.dual_bound:,.0f}, gap {oracle_report['gap_pct']:.2f} %;"
        f" solved in {oracle_s:.1f} s"
    )
    deployed_env = MarketEnv(market, deployed_bounds(market, GUARDRAILS), envs["expected"])
    deployed_plan = solve_oracle(deployed_env)
    deployed_oracle = OraclePolicy(deployed_plan)
    oracle_report["as_deployed"] = {
        "oracle_profit": run_episode(deployed_env, deployed_oracle, 0)["profit"],
        "profit_bound": season_profit_bound(deployed_plan, deployed_env),
        "guardrails": GUARDRAILS.model_dump(mode="json"),
    }
    print(
        f"{label}, as deployed (floor {1 + GUARDRAILS.min_margin_pct / 100:g} x cost, ceiling "
        f"{1 + GUARDRAILS.max_markup_over_list_pct / 100:g} x list, personal band "
        f"+-{GUARDRAILS.max_personal_deviation_pct:g} %, changes over "
        f"{GUARDRAILS.approval_threshold_pct:g} % wait one period for approval; the oracle "
        f"without approvals): oracle {oracle_report['as_deployed']['oracle_profit']:,.0f} "
        "(expected demand)"
    )
    eval_seeds = list(range(EVAL_SEED_START, EVAL_SEED_START + args.eval_seeds))
    per_seed: dict[str, list[pd.DataFrame]] = {name: [] for name in (*envs, DEPLOYED)}
    training, train_s, estimates = [], [], []
    approvals: dict[str, list[dict[int, tuple[int, int]]]] = {}  # as deployed, per seed
    for k in range(args.train_seeds):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="pricegraph-pricing-ckpt-") as out_dir:
            result = train_pricing(
                market, replace(config, seed=k), Path(out_dir), validation_market=validation
            )
        train_s.append(time.perf_counter() - started)
        estimates.append(result.policy.meso.estimated)
        training.append(
            {"seed": k, "micro_scale": result.policy.micro.scale, "timings_s": result.timings_s,
             "micro_validation_profit": result.micro_validation}
        )  # fmt: skip
        rows = policies(result, market, expected_env, oracle)
        for name, sim in envs.items():
            seeds = [0] if name == "expected" else eval_seeds

            def env_factory(sim: SimulatorConfig = sim) -> MarketEnv:
                return MarketEnv(market, bounds, sim)

            frame, _ = compare_policies(env_factory, rows, seeds)
            frame["train_seed"] = k
            frame["rep"] = frame["seed"] if name == "stochastic" else k
            frame["rep"] = frame["train_seed"].astype(str) + "/" + frame["rep"].astype(str)
            per_seed[name].append(frame)
        # as deployed: the quote guardrails on every row, the oracle inside their bounds
        oracle_row, *others = policies(result, market, deployed_env, deployed_oracle)
        guarded = deployed_policies(oracle_row, others, market, GUARDRAILS)
        frame, _ = compare_policies(
            lambda: MarketEnv(market, deployed_env.bounds, envs["expected"]), guarded, [0]
        )
        frame["train_seed"], frame["rep"] = k, f"{k}/0"
        per_seed[DEPLOYED].append(frame)
        for policy in guarded[1:]:
            approvals.setdefault(policy.name, []).append(policy.approval_requests)
    tables, plots = {}, {}
    for name in (*envs, DEPLOYED):
        stock = float(np.nansum(np.where(np.isfinite(market.initial_inventory),
                                         market.initial_inventory, 0.0)))  # fmt: skip
        frame = pd.concat(per_seed[name], ignore_index=True)
        bound = oracle_report["profit_bound"]
        if name == DEPLOYED:
            bound = oracle_report["as_deployed"]["profit_bound"]
        summary = summarise(frame, stock, bound)
        tables[name] = summary
        is_stochastic = name == "stochastic"
        what = "episodes x train seeds" if is_stochastic else "one episode per training seed"
        title = f"{label}, {name.replace(', as deployed', ' demand, as deployed')}"
        title += f"{'' if name == DEPLOYED else ' demand'} (95 % CI over {what})"
        print_table(title, summary, is_stochastic=is_stochastic)
        if is_stochastic:  # the open-loop oracle is no ceiling under Poisson demand
            column, reference = "profit_pct_bound", "dual bound"
        else:
            column, reference = "profit_pct", "oracle"
        path = args.out / f"pricing_{label}_{name.replace(', ', '_').replace(' ', '_')}.png"
        title = f"{label}: {name} demand"
        plot = plot_profit_vs_oracle(summary, path, title, column=column, reference=reference)
        plots[name] = str(plot)
    approval_share = print_approvals(label, approvals)
    report = {
        "market": {"products": market.num_products, "segments": market.num_segments,
                   "categories": market.num_categories, "periods": market.num_periods,
                   "stock_units": float(np.nansum(market.initial_inventory)), **market.meta},
        "oracle": oracle_report,
        "oracle_solve_s": oracle_s,
        "train_s": train_s,
        "training": training,
        "eval_seeds": eval_seeds,
        "tables": {name: table.to_dict(orient="records") for name, table in tables.items()},
        "per_seed": {n: pd.concat(f).to_dict(orient="records") for n, f in per_seed.items()},
        "plots": plots,
        "approval_requests_pct": approval_share,
    }  # fmt: skip
    return report, estimates


def print_approvals(label: str, approvals: dict[str, list[dict[int, tuple[int, int]]]]) -> dict:
    """Print, per as-deployed row, the share of its guarded prices that needed approval
    in the season's opening period and in the later ones (all training seeds); return
    them (percent)."""
    shares = {}
    print(f"\n{label}, as deployed: prices sent for approval (a change over "
          f"{GUARDRAILS.approval_threshold_pct:g} % of the current price)")  # fmt: skip
    for name, runs in approvals.items():
        opening = np.sum([run.get(0, (0, 0)) for run in runs], axis=0)
        later = np.sum([v for run in runs for t, v in run.items() if t > 0] or [(0, 0)], axis=0)
        pct = [100 * sent / seen if seen else float("nan") for sent, seen in (opening, later)]
        shares[name] = {"opening_period": pct[0], "later_periods": pct[1]}
        print(f"  {name:<34} opening period {pct[0]:5.1f} %, later periods {pct[1]:5.2f} %")
    return shares


def myopic_check(
    market: MarketModel, config: PricingTrainConfig, estimates: list[MarketModel]
) -> dict:
    """Myopic over the oracle with unlimited stock, expected demand.

    With no binding stock the oracle's problem separates by period, so myopic on
    the true model must reach 100 %: a check that the baseline is the myopic optimum,
    not a bug. Myopic on each seed's estimated model measures the estimation error alone.
    """
    unlimited = replace(market, initial_inventory=np.full(market.num_products, np.inf))
    bounds = PriceBounds.around_list(unlimited, low=config.bound_low, high=config.bound_high)
    sim = replace(config.simulator, is_stochastic=False)
    env = MarketEnv(unlimited, bounds, sim)
    low, high, horizon = env.price_low, env.price_high, sim.horizon_periods
    rows: list[PricingPolicy] = [
        OraclePolicy(solve_oracle(env)),
        MyopicPolicy(unlimited, low, high, horizon, name="myopic (true model)"),
    ]
    rows += [
        MyopicPolicy(model, low, high, horizon, name=f"myopic (estimated, seed {k})")
        for k, model in enumerate(estimates)
    ]
    _, summary = compare_policies(lambda: env, rows, [0])
    pct = summary.set_index("policy")["profit_pct_oracle"]
    estimated = [float(pct[row.name]) for row in rows[2:]]
    print(
        f"\nmyopic check (unlimited stock, expected demand): myopic on the true model"
        f" {pct['myopic (true model)']:.2f} % of oracle; on the estimated model"
        f" {', '.join(f'{v:.1f}' for v in estimated)} %"
    )
    return {
        "unlimited_stock_myopic_pct_oracle": float(pct["myopic (true model)"]),
        "unlimited_stock_myopic_estimated_pct_oracle": estimated,
    }


def train_config(args: argparse.Namespace) -> PricingTrainConfig:
    """The training budget of the bench (``--tiny``: smallest that runs)."""
    sim = SimulatorConfig(horizon_periods=args.periods)
    if args.tiny:
        return PricingTrainConfig(
            simulator=sim, macro=MacroConfig(total_timesteps=48, n_steps=24, batch_size=12,
            n_epochs=1), meso=MesoConfig(explore_episodes=4),
            micro=MicroConfig(total_timesteps=60, learning_starts=20),
            micro_validation_episodes=1, eval_episodes=0, device="cpu",
        )  # fmt: skip
    return PricingTrainConfig(
        simulator=sim,
        macro=MacroConfig(total_timesteps=args.macro_steps),
        meso=MesoConfig(explore_episodes=args.explore_episodes),
        micro=MicroConfig(total_timesteps=args.micro_steps),
        micro_validation_episodes=args.validation_episodes,
        eval_episodes=0,  # the bench evaluates itself
        device="cpu",
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--world-seed", type=int, default=7)
    add("--n-products", type=int, default=600)
    add("--n-customers", type=int, default=2000)
    add("--customers-per-segment", type=int, default=64)
    add("--periods", type=int, default=12)
    add("--inventory-scale", type=float, default=0.1)
    add("--train-seeds", type=int, default=1, help="hierarchies trained (CI in expected env)")
    add("--eval-seeds", type=int, default=10, help="stochastic episodes per trained hierarchy")
    add("--macro-steps", type=int, default=3000)
    add("--micro-steps", type=int, default=MicroConfig().total_timesteps)
    add("--explore-episodes", type=int, default=60)
    add("--validation-episodes", type=int, default=3, help="simulator episodes of the micro gate")
    add("--retail-file", type=Path, default=DEFAULT_FILE)
    add("--retail-products", type=int, default=60)
    add("--retail-start", default="2011-09-05", help="Monday of the season's first week")
    add("--retail-stock-ratio", type=float, default=0.5)
    add("--skip-retail", action="store_true")
    add("--tiny", action="store_true", help="tiny world and budgets (smoke test)")
    add("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if args.tiny:
        args.n_products, args.n_customers, args.customers_per_segment = 30, 200, 4
        args.periods, args.eval_seeds, args.retail_products = 4, 2, 8
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)  # small MLPs on shared CPUs: one thread is fastest
    args.out.mkdir(parents=True, exist_ok=True)
    config = train_config(args)
    result: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "config": asdict(config)}
    started = time.perf_counter()
    market, validation, meta = synthetic_market(args)
    report, estimates = evaluate_market("synthetic", market, config, args, validation)
    report["myopic_check"] = myopic_check(market, config, estimates)
    result["synthetic"] = {**report, **meta}
    result["synthetic"]["total_s"] = time.perf_counter() - started
    if args.skip_retail:
        result["online_retail"] = {"skipped": "--skip-retail"}
    elif not args.retail_file.is_file():
        print(f"\nOnline Retail skipped: {args.retail_file} not found")
        result["online_retail"] = {"skipped": f"{args.retail_file} not found"}
    else:
        started = time.perf_counter()
        market, meta = retail_market(args)
        print(
            f"\nOnline Retail market: {meta['products']} products, stock {meta['stock_units']:.0f}"
        )
        evaluated, _ = evaluate_market("online_retail", market, config, args)
        total_s = time.perf_counter() - started
        result["online_retail"] = {**evaluated, "data": meta, "total_s": total_s}
    (args.out / "pricing.json").write_text(json.dumps(result, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
