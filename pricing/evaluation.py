"""Evaluate pricing policies on the same seeded episodes and compare them with the oracle.

:func:`evaluate_policy` plays one episode per seed; :func:`compare_policies` plays
every policy on the same seeds (common random numbers: seed ``k`` gives every
policy the same demand noise stream) and summarises each metric by its mean and
95 % confidence half-width (Student t over seeds), and profit, revenue and units
as a percentage of the oracle's on the same seed (paired). :func:`plot_profit_vs_oracle`
draws the profit percentages with error bars (the only I/O here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ConfigError
from .baselines import PricingPolicy
from .simulator import MarketEnv

METRICS = ("profit", "revenue", "units", "leftover_units", "holding_cost", "stockouts")
"""Per-episode metrics: profit (the return: profit - holding + salvage, currency),
revenue (currency), units sold, units left at the end, holding cost (currency) and
product-periods with unmet demand."""


def run_episode(env: MarketEnv, policy: PricingPolicy, seed: int) -> dict[str, float]:
    """Play one episode of ``policy`` on ``env`` reset with ``seed``; return its metrics."""
    env.reset(seed=seed)
    totals = dict.fromkeys(METRICS, 0.0)
    is_done = False
    info: dict = {}
    while not is_done:
        action = env.action_from_prices(policy.prices(env.state))
        _, reward, is_done, truncated, info = env.step(action)
        is_done = is_done or truncated
        totals["profit"] += reward
        totals["revenue"] += float(info["revenue"].sum())
        totals["units"] += float(info["units"].sum())
        totals["holding_cost"] += info["holding_cost"]
        totals["stockouts"] += info["stockouts"]
    totals["leftover_units"] = info.get("leftover_units", float("nan"))
    return totals


def evaluate_policy(
    env_factory: Callable[[], MarketEnv], policy: PricingPolicy, seeds: Sequence[int]
) -> pd.DataFrame:
    """Return one row per seed: ``policy``, ``seed`` and every metric of :data:`METRICS`."""
    env = env_factory()
    rows = [
        {"policy": policy.name, "seed": seed, **run_episode(env, policy, seed)} for seed in seeds
    ]
    return pd.DataFrame(rows, columns=["policy", "seed", *METRICS])


def mean_ci95(values: np.ndarray) -> tuple[float, float]:
    """Return the mean and the 95 % confidence half-width (t over ``n - 1``; NaN if n < 2)."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan")
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return mean, float(half)


def compare_policies(
    env_factory: Callable[[], MarketEnv],
    policies: Sequence[PricingPolicy],
    seeds: Sequence[int],
    oracle_name: str = "oracle",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate every policy on the same seeds and summarise against the oracle.

    Args:
        env_factory: Builds a fresh environment (called once per policy).
        policies: Policies with distinct names, one of them named ``oracle_name``.
        seeds: Episode seeds, shared by all policies.
        oracle_name: Name of the reference policy.

    Returns:
        ``(per_seed, summary)``: per-seed metrics, and per policy ``{metric}_mean``
        and ``{metric}_ci95`` for every metric, plus ``{profit,revenue,units}_pct_oracle``
        (mean of per-seed ratios, in percent) with their ``_ci95``.

    Raises:
        ConfigError: If names repeat or no policy is named ``oracle_name``.
    """
    names = [p.name for p in policies]
    if len(set(names)) != len(names) or oracle_name not in names:
        raise ConfigError(
            f"policies: expected distinct names including {oracle_name!r}, got {names}"
        )
    per_seed = pd.concat(
        [evaluate_policy(env_factory, p, seeds) for p in policies], ignore_index=True
    )
    oracle = per_seed[per_seed["policy"] == oracle_name].set_index("seed")
    rows = []
    for name in names:
        own = per_seed[per_seed["policy"] == name].set_index("seed")
        row: dict[str, float | str] = {"policy": name}
        for metric in METRICS:
            row[f"{metric}_mean"], row[f"{metric}_ci95"] = mean_ci95(own[metric].to_numpy())
        for metric in ("profit", "revenue", "units"):
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = 100 * own[metric] / oracle[metric].reindex(own.index)
            ratio = ratio.replace([np.inf, -np.inf], np.nan).to_numpy(float)
            row[f"{metric}_pct_oracle"], row[f"{metric}_pct_oracle_ci95"] = mean_ci95(ratio)
        rows.append(row)
    return per_seed, pd.DataFrame(rows)


def plot_profit_vs_oracle(summary: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Save a bar chart of profit as % of the oracle with 95 % CI error bars (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    errors = np.nan_to_num(summary["profit_pct_oracle_ci95"].to_numpy(float))
    ax.barh(
        summary["policy"], summary["profit_pct_oracle"], xerr=errors, capsize=4, color="#4c72b0"
    )
    ax.axvline(100, color="black", linewidth=0.8, linestyle="--")
    ax.set_xlabel("profit, % of oracle (95 % CI over seeds)")
    ax.invert_yaxis()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


__all__ = [
    "METRICS",
    "compare_policies",
    "evaluate_policy",
    "mean_ci95",
    "plot_profit_vs_oracle",
    "run_episode",
]
