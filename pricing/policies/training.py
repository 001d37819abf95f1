"""Train the hierarchical pricing policy and measure it against the oracle and baselines.

One screen, top to bottom: config -> market and env -> meso (explore, fit the
demand model, plan) -> macro ``learn`` (PPO) -> micro ``learn`` (TD3) -> micro gate
(the scale on micro's adjustment with the best *simulator* profit as deployed,
through the quote guardrails, expected demand by default, on a validation market:
the same world with other representative customers; 0 turns micro off) -> evaluation
of the hierarchy, its ablations (macro only, macro+meso), the oracle and the
baselines (static list, cost plus, competitor match, myopic optimum of the
*estimated* model) on the same seeded episodes, twice: "unconstrained" inside the
training bounds, and "as deployed" through the quote service's guardrails with the
oracle solved inside them (:func:`evaluate_as_deployed`) -> plots, tables, checkpoint.
Evaluation seeds start at 10 000, apart from every training seed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rich.progress import Progress

from ...seeding import seed_everything
from ..customers.sensitivity import SensitivityModel
from ..evaluation.baselines import (
    CompetitorMatchPolicy,
    CostPlusPolicy,
    MyopicPolicy,
    PricingPolicy,
    StaticListPolicy,
)
from ..evaluation.compare import (
    compare_policies,
    plot_profit_vs_oracle,
)
from ..evaluation.deployed import GuardedPolicy, deployed_bounds, deployed_policies
from ..guardrails.config import GuardrailConfig
from ..market.builders import GroundTruthMarketConfig, market_from_world_dir
from ..market.model import MarketModel
from ..market.oracle import OraclePolicy, season_profit_bound, solve_oracle
from ..market.public import PublicMarket
from ..market.simulator import MarketEnv, PriceBounds, SimulatorConfig
from .hierarchy import HierarchicalPolicy
from .macro import MacroConfig, MacroPolicy, train_macro
from .meso import MesoConfig, MesoPlanner, explore, fit_market
from .micro import MicroCells, MicroConfig, MicroPolicy, train_micro
from .personal import PerCustomerPolicy, choose_micro_scale, group_signal, personal_evaluation

LATEST = "latest"
"""Name of the link to the newest checkpoint inside the output folder."""
EVAL_SEED_START = 10_000
"""First evaluation episode seed."""
VALIDATION_SEED_START = 5_000
"""First validation episode seed (the micro gate), apart from training and evaluation."""


@dataclass(frozen=True)
class PricingTrainConfig:
    """Everything a pricing run depends on (saved in the checkpoint manifest)."""

    market: GroundTruthMarketConfig = field(
        default_factory=lambda: GroundTruthMarketConfig(inventory_scale=0.1)
    )
    """How a world folder becomes the true market (ignored when a market is given)."""
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    """Horizon, demand noise and inventory values of the simulated seasons."""
    bound_low: float = 0.5
    """Price floor as a multiple of list price (raised to unit cost)."""
    bound_high: float = 1.5
    """Price ceiling as a multiple of list price."""
    macro: MacroConfig = field(default_factory=MacroConfig)
    """PPO zone learner."""
    meso: MesoConfig = field(default_factory=MesoConfig)
    """Exploration, demand fit and planning."""
    micro: MicroConfig = field(default_factory=MicroConfig)
    """TD3 personal adjustment learner."""
    micro_validation_episodes: int = 5
    """Simulator episodes that choose the micro gate (0: no gate, scale 1); with
    ``micro_gate_stochastic`` False one expected-demand episode is enough."""
    micro_gate_stochastic: bool = False
    """Gate on Poisson episodes (True) or on the expected demand (False, the default:
    the personal level's gains are a fraction of a percent of profit, below the
    Poisson noise of a few paired episodes, yet exact in expectation)."""
    micro_scales: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)
    """Candidate scales in ``[0, 1]`` of micro's adjustment; ties go to the smaller."""
    eval_episodes: int = 5
    """Evaluation seeds (episodes per policy) for the comparison table (0: no evaluation)."""
    seed: int = 0
    """Master seed: Python, NumPy, torch and every level's seed."""
    device: str = "auto"
    """Torch device for SB3: ``auto`` (GPU when present), ``cpu`` or ``cuda``."""


@dataclass(frozen=True, eq=False)
class PricingTrainResult:
    """What a run produced."""

    policy: HierarchicalPolicy
    """The trained hierarchy (all levels on)."""
    summary: pd.DataFrame
    """Per policy: metric means, 95 % CIs, % of oracle and of the dual bound
    (``compare_policies``)."""
    per_seed: pd.DataFrame
    """Per policy and evaluation seed: every metric."""
    checkpoint_path: Path
    """The versioned checkpoint folder."""
    plots: dict[str, Path]
    """``learning_curves`` and ``profit_vs_oracle`` PNGs."""
    timings_s: dict[str, float] = field(default_factory=dict)
    """Seconds per stage."""
    micro_validation: dict[float, float] = field(default_factory=dict)
    """Mean validation profit (currency) of the full hierarchy per micro scale."""
    deployed_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    """As ``summary``, "as deployed": every policy through the quote service's guardrails,
    the oracle solved inside their floor and ceiling (:mod:`~.evaluation.deployed`)."""
    deployed_per_seed: pd.DataFrame = field(default_factory=pd.DataFrame)
    """As ``per_seed``, as deployed."""
    personal: dict[str, float] = field(default_factory=dict)
    """Per customer group, expected demand, as deployed (empty without a customer
    signal): the headroom of the world and the share of it the personal level captures
    (:func:`~.personal.personal_evaluation`)."""


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """One intra-op torch thread inside the block, the process's setting after it.

    The networks are small MLPs: one thread is fastest on shared CPUs; a process that
    goes on serving (``pricegraph demo``) gets its threads back.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_pricing(
    source: Path | MarketModel,
    config: PricingTrainConfig,
    out_dir: Path,
    progress: Progress | None = None,
    guardrails: GuardrailConfig | None = None,
    *,
    sensitivity: SensitivityModel | None = None,
    customer_vectors: Mapping[str, np.ndarray] | None = None,
    validation_market: MarketModel | None = None,
) -> PricingTrainResult:
    """Train macro, meso and micro on ``source``'s market, evaluate, plot and checkpoint.

    The evaluation runs twice: "unconstrained" inside the simulator bounds the levels
    were trained with, and "as deployed" through ``guardrails`` (:mod:`~.evaluation.deployed`).
    With a customer ``sensitivity`` model and the ``customer_vectors`` it reads (graph
    vectors by customer key), the personal level trains, is gated and is evaluated per
    representative customer (the market's ``meta["group_customer_ids"]``) on the
    customer signal (:class:`~pricegraph.pricing.customers.sensitivity.CustomerSignal`).

    Args:
        source: A world folder (``write_world`` output) or a market.
        config: The run's config.
        out_dir: Where the checkpoint folder ``<version>/`` and the plots go.
        progress: Optional rich progress display (one task per stage).
        guardrails: The guardrails quotes apply (default: :class:`GuardrailConfig`'s).
        sensitivity: The customer sensitivity model (``None``: no customer signal).
        customer_vectors: Customer key -> the state vector ``sensitivity`` reads.
        validation_market: Where the micro gate plays: the same products and segments
            with other representative customers, so that the gate is not chosen on the
            customers the evaluation reports. Default: for a world folder, its market
            sampled with ``config.market.seed + 1``; for a market, ``source`` itself.
    """
    if validation_market is None and not isinstance(source, MarketModel):
        sample = replace(config.market, seed=config.market.seed + 1)
        validation_market = market_from_world_dir(Path(source), config=sample)
    with one_torch_thread():
        return _train_pricing(
            source,
            config,
            out_dir,
            progress,
            guardrails,
            sensitivity,
            customer_vectors,
            validation_market,
        )


def _train_pricing(
    source: Path | MarketModel,
    config: PricingTrainConfig,
    out_dir: Path,
    progress: Progress | None,
    guardrails: GuardrailConfig | None,
    sensitivity: SensitivityModel | None,
    customer_vectors: Mapping[str, np.ndarray] | None,
    validation_market: MarketModel | None,
) -> PricingTrainResult:
    seed_everything(config.seed)
    macro_cfg = replace(config.macro, seed=config.seed, device=config.device)
    micro_cfg = replace(config.micro, seed=config.seed, device=config.device)
    meso_cfg = replace(config.meso, seed=config.seed)
    if isinstance(source, MarketModel):
        market = source
    else:
        market = market_from_world_dir(Path(source), config=config.market)
    bounds = PriceBounds.around_list(market, low=config.bound_low, high=config.bound_high)

    def env_factory() -> MarketEnv:
        return MarketEnv(market, bounds, config.simulator)

    env, timings = env_factory(), {}
    stages = ("meso: explore, fit, plan", "macro: PPO", "micro: TD3", "evaluate")
    tasks = [progress.add_task(name, total=1) for name in stages] if progress else []

    def done(stage: int, started: float) -> None:
        timings[stages[stage].split(":")[0]] = time.perf_counter() - started
        if progress:
            progress.update(tasks[stage], completed=1)

    started = time.perf_counter()
    data = explore(env, meso_cfg)
    estimated = fit_market(
        data, market, config.simulator.start_period, ridge=meso_cfg.preference_ridge
    )
    meso = MesoPlanner(estimated, env, meso_cfg)
    done(0, started)
    started = time.perf_counter()
    macro = train_macro(env_factory(), macro_cfg)
    done(1, started)
    started = time.perf_counter()
    period = slice(config.simulator.start_period, None)
    comp = estimated.competitor_price[:, period][:, : config.simulator.horizon_periods]
    guardrails = guardrails or GuardrailConfig()
    band = guardrails.personal_band
    signal, group_ratio = None, np.ones(market.num_groups)
    if sensitivity is not None:
        signal, group_ratio = group_signal(market, sensitivity, customer_vectors or {})
    cells = MicroCells(
        plan_ratio=meso.plan.prices / market.list_price,
        slope=estimated.beta,
        delta=estimated.delta,
        competitor_ratio=comp.T / market.list_price,
        cost_ratio=market.unit_cost / market.list_price,
        shadow_ratio=meso.plan.shadow_price / market.list_price,
        low_ratio=env.price_low / market.list_price,
        high_ratio=env.price_high / market.list_price,
        group_segment=market.group_segment,
        group_ratio=group_ratio,
        group_weight=market.group_weight,
        personal_band=band,
    )
    micro = train_micro(cells, micro_cfg)

    created = datetime.now(UTC)
    digest = hashlib.sha1(json.dumps(asdict(config), default=str).encode()).hexdigest()[:8]
    version = f"hier-{created:%Y%m%dT%H%M%S}-{digest}"
    public = PublicMarket(
        market.list_price,
        market.unit_cost,
        market.product_category,
        market.initial_inventory,
        env.price_low,
        env.price_high,
        estimated.beta,
        estimated.delta,
        config.simulator.horizon_periods,
        market.segment_names,
        market.category_names,
        market.product_ids or tuple(str(j) for j in range(market.num_products)),
        reference_stock=reference_stock(market),
        personal_band=band,
        season_start=season_start(market, config.simulator.start_period),
        period_days=market.period_days,
    )
    policy = HierarchicalPolicy(
        MacroPolicy(macro.model),
        meso,
        MicroPolicy(micro.model, micro_cfg.max_adjustment),
        public,
        version,
        signal=signal,
    )
    validation: dict[float, float] = {}
    if config.micro_validation_episodes > 0:  # the gate is tuned as deployed
        gate_market = validation_market or market
        episodes = config.micro_validation_episodes if config.micro_gate_stochastic else 1
        seeds = range(VALIDATION_SEED_START, VALIDATION_SEED_START + episodes)
        bounds_deployed = deployed_bounds(gate_market, guardrails)
        gate_ratio = np.ones(gate_market.num_groups)
        if sensitivity is not None:
            gate_ratio = group_signal(gate_market, sensitivity, customer_vectors or {})[1]

        # with a customer signal the personal level is gated where it acts: per customer
        level = "group" if signal is not None else "segment"
        simulator = replace(
            config.simulator, price_level=level, is_stochastic=config.micro_gate_stochastic
        )

        def deployed_factory() -> MarketEnv:
            return MarketEnv(gate_market, bounds_deployed, simulator)

        def player(candidate: HierarchicalPolicy) -> PricingPolicy:
            priced = (
                candidate
                if signal is None
                else PerCustomerPolicy(candidate, gate_market.group_segment, gate_ratio)
            )
            return GuardedPolicy(priced, gate_market, guardrails)

        scale, validation = choose_micro_scale(
            policy, deployed_factory, config.micro_scales, seeds, wrap=player
        )
        policy = policy.with_micro(policy.micro.with_scale(scale))
    done(2, started)
    started = time.perf_counter()
    summary, per_seed = pd.DataFrame(), pd.DataFrame()
    eval_seeds = list(range(EVAL_SEED_START, EVAL_SEED_START + config.eval_episodes))
    deployed_summary, deployed_per_seed = pd.DataFrame(), pd.DataFrame()
    if eval_seeds:
        policies = evaluation_policies(policy, market, estimated, env)
        bound = season_profit_bound(policies[0].plan, env)
        per_seed, summary = compare_policies(env_factory, policies, eval_seeds, profit_bound=bound)
        deployed_per_seed, deployed_summary = evaluate_as_deployed(
            policy, market, estimated, config.simulator, guardrails, eval_seeds
        )
    personal: dict[str, float] = {}
    if signal is not None:
        personal = personal_evaluation(policy, market, group_ratio, config.simulator, guardrails)
    done(3, started)

    out_dir = Path(out_dir)
    folder = out_dir / version
    plots = {
        "learning_curves": plot_learning_curves(
            macro.episode_returns, micro.episode_rewards, folder / "learning_curves.png"
        )
    }
    if len(summary):  # Poisson demand: the open-loop oracle is no ceiling, the bound is
        path, is_stochastic = folder / "profit_vs_oracle.png", config.simulator.is_stochastic
        column, reference = (
            ("profit_pct_bound", "dual bound") if is_stochastic else ("profit_pct_oracle", "oracle")
        )
        title = f"Profit vs {reference}, {'Poisson' if is_stochastic else 'expected'} demand"
        plots["profit_vs_oracle"] = plot_profit_vs_oracle(
            summary, path, title, column=column, reference=reference
        )
    summary.to_csv(folder / "results.csv", index=False)
    deployed_summary.to_csv(folder / "results_as_deployed.csv", index=False)
    manifest = {
        "created": created.isoformat(),
        "config": asdict(config),
        "seeds": {"train": config.seed, "eval": eval_seeds},
        "metrics": summary.to_dict(orient="records"),
        "metrics_as_deployed": deployed_summary.to_dict(orient="records"),
        "guardrails_as_deployed": guardrails.model_dump(mode="json"),
        "timings_s": timings,
        "micro_validation": {"scale": policy.micro.scale, "profit": validation},
        "personal": personal,
        "market": {
            "products": market.num_products,
            "segments": market.num_segments,
            "categories": market.num_categories,
            "meta": market.meta,
        },
        "estimate": {"slope": estimated.beta.tolist(), "delta": estimated.delta, **estimated.meta},
    }
    policy.save(folder, manifest)
    point_latest(out_dir, version)
    return PricingTrainResult(
        policy,
        summary,
        per_seed,
        folder,
        plots,
        timings,
        validation,
        deployed_summary,
        deployed_per_seed,
        personal,
    )


def evaluate_as_deployed(
    policy: HierarchicalPolicy,
    market: MarketModel,
    estimated: MarketModel,
    simulator: SimulatorConfig,
    guardrails: GuardrailConfig,
    seeds: Sequence[int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`compare_policies` of :func:`evaluation_policies` as deployed: the env's bounds
    are the guardrails' floor and ceiling (the oracle is solved inside them) and every
    other policy's prices pass through the guardrails (:class:`~.deployed.GuardedPolicy`).

    Returns:
        ``(per_seed, summary)`` as :func:`compare_policies`, profit also in % of the
        deployed oracle's dual bound.
    """
    bounds = deployed_bounds(market, guardrails)

    def env_factory() -> MarketEnv:
        return MarketEnv(market, bounds, simulator)

    env = env_factory()
    oracle, *others = evaluation_policies(policy, market, estimated, env)
    rows = deployed_policies(oracle, others, market, guardrails)
    bound = season_profit_bound(oracle.plan, env)
    return compare_policies(env_factory, rows, seeds, profit_bound=bound)


def season_start(market: MarketModel, start_period: int) -> date | None:
    """First day of the trained season (episode period 0): the market's first day
    (``meta["season_start"]``) plus ``start_period`` periods; ``None`` when the market
    has no calendar."""
    first = market.meta.get("season_start")
    if first is None:
        return None
    return date.fromisoformat(str(first)) + timedelta(days=start_period * market.period_days)


def reference_stock(market: MarketModel) -> np.ndarray:
    """``[P]`` catalogue stock a season's initial inventory stands for: the world's stock
    units before ``inventory_scale`` (``market.meta["catalog_stock_units"]``), else the
    initial inventory over that scale (1 when absent)."""
    catalog = market.meta.get("catalog_stock_units")
    if catalog is not None and len(catalog) == market.num_products:
        return np.asarray(catalog, float)
    scale = float(market.meta.get("inventory_scale", 1.0) or 1.0)
    return market.initial_inventory / scale


def point_latest(out_dir: Path, version: str) -> Path:
    """Point ``out_dir/latest`` at checkpoint ``version`` (a relative symlink, swapped
    atomically), where quoting finds the newest policy by default."""
    link = Path(out_dir) / LATEST
    partial = Path(out_dir) / f".{LATEST}.partial"
    partial.unlink(missing_ok=True)
    partial.symlink_to(version, target_is_directory=True)
    partial.replace(link)
    return link


def evaluation_policies(
    policy: HierarchicalPolicy, market: MarketModel, estimated: MarketModel, env: MarketEnv
) -> list:
    """The oracle, the hierarchy and its ablations, and the baselines, on ``env``'s bounds."""
    low, high = env.price_low, env.price_high
    horizon, start = env.config.horizon_periods, env.config.start_period
    return [
        OraclePolicy(solve_oracle(env)),
        policy.with_levels("full", "hierarchical (full)"),
        policy.with_levels("macro+meso", "macro + meso"),
        policy.with_levels("macro", "macro only"),
        StaticListPolicy(market),
        CostPlusPolicy(market, markup_pct=100.0, low=low, high=high),
        CompetitorMatchPolicy(market, low=low, high=high),
        MyopicPolicy(estimated, low, high, horizon, start, name="myopic (estimated)"),
    ]


def plot_learning_curves(macro_returns: np.ndarray, micro_rewards: np.ndarray, path: Path) -> Path:
    """Save the macro episode returns and the micro rewards (moving mean) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, values, title, xlabel, window in (
        (axes[0], macro_returns, "macro (PPO): return / list-price period profit", "episode", 5),
        (axes[1], micro_rewards, "micro (TD3): estimated profit gain", "step", 100),
    ):
        ax.plot(values, alpha=0.3, color="#4c72b0")
        if values.size >= window:
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            ax.plot(np.arange(window - 1, values.size), smooth, color="#4c72b0")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


__all__ = [
    "EVAL_SEED_START",
    "LATEST",
    "VALIDATION_SEED_START",
    "PricingTrainConfig",
    "PricingTrainResult",
    "evaluate_as_deployed",
    "evaluation_policies",
    "one_torch_thread",
    "plot_learning_curves",
    "point_latest",
    "reference_stock",
    "seed_everything",
    "train_pricing",
]
