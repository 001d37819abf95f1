"""Evaluate pricing policies on the same seeded episodes and compare them with the oracle.

:func:`evaluate_policy` plays one episode per seed; :func:`compare_policies` plays
every policy on the same seeds (common random numbers: seed ``k`` gives every
policy the same demand noise stream) and summarises each metric by its mean and
95 % confidence half-width (Student t over seeds; NaN from fewer than 2 seeds),
profit, revenue and units as a percentage of the oracle's on the same seed
(paired), and profit as a percentage of an upper bound
(:func:`~pricegraph.pricing.market.oracle.season_profit_bound`).

Two references, because under Poisson demand the oracle is no ceiling: it plays
the plan that is optimal for *expected* demand open loop, whatever demand is
realised, so on the same draws another policy can earn more. The dual bound caps
every policy's expected profit in both environments. :func:`summary_table` renders
a summary with its references named in the headers, CIs from one seed as
``n/a``, and a note under the table for every figure above 100 %.
:func:`plot_profit_vs_oracle` draws one percentage column with error bars (the
only I/O here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import ConfigError
from ..market.simulator import MarketEnv
from .baselines import PricingPolicy

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
    profit_bound: float = float("nan"),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate every policy on the same seeds and summarise against the oracle.

    Args:
        env_factory: Builds a fresh environment (called once per policy).
        policies: Policies with distinct names, one of them named ``oracle_name``.
        seeds: Episode seeds, shared by all policies.
        oracle_name: Name of the reference policy.
        profit_bound: Upper bound on the expected season profit in currency, e.g.
            :func:`~.oracle.season_profit_bound` (default NaN: no bound columns).

    Returns:
        ``(per_seed, summary)``: per-seed metrics, and per policy ``{metric}_mean``
        and ``{metric}_ci95`` for every metric, ``{profit,revenue,units}_pct_oracle``
        (mean of per-seed ratios, in percent) and ``profit_pct_bound`` (mean of
        per-seed profit over ``profit_bound``, in percent), each with its ``_ci95``.
        A CI from fewer than 2 seeds is NaN.

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
        bound_pct = 100 * own["profit"].to_numpy(float) / profit_bound
        row["profit_pct_bound"], row["profit_pct_bound_ci95"] = mean_ci95(bound_pct)
        rows.append(row)
    return per_seed, pd.DataFrame(rows)


def format_ci95(half_width: float, digits: int = 1) -> str:
    """Return a 95 % CI half-width as text, ``"n/a"`` when undefined (fewer than 2 runs)."""
    return "n/a" if np.isnan(half_width) else f"{half_width:.{digits}f}"


def format_mean_ci95(mean: float, half_width: float, digits: int = 1) -> str:
    """Return ``"mean ± half-width"``, e.g. ``"97.3 ± 1.2"`` or ``"97.3 ± n/a"``."""
    return f"{mean:.{digits}f} ± {format_ci95(half_width, digits)}"


def oracle_label(is_stochastic: bool) -> str:
    """Name of the oracle as a reference: ``"open-loop oracle"`` under Poisson demand."""
    return "open-loop oracle" if is_stochastic else "oracle"


def reference_notes(
    summary: pd.DataFrame,
    *,
    is_stochastic: bool,
    num_runs: int,
    oracle_pct: dict[str, str] | None = None,
    bound_pct: str = "profit_pct_bound",
) -> list[str]:
    """Return the sentences printed under a comparison table.

    The first says what the references are; one more follows for each kind of
    figure above 100 %, naming the policies and saying why it can happen.

    Args:
        summary: One row per policy with ``policy`` and the percentage columns.
        is_stochastic: Whether the episodes drew Poisson demand.
        num_runs: Runs (episodes) behind each mean.
        oracle_pct: Column per metric (``profit``, ``revenue``, ``units``) holding
            the % of the oracle (default ``{metric}_pct_oracle``); absent ones skipped.
        bound_pct: Column holding profit in % of the dual bound (skipped if absent).
    """
    if oracle_pct is None:
        oracle_pct = {m: f"{m}_pct_oracle" for m in ("profit", "revenue", "units")}
    oracle = oracle_label(is_stochastic)
    runs = f"{num_runs} run" + ("s" if num_runs != 1 else "")
    ci = f"95 % CI over {runs}" + (" (n/a: fewer than 2)" if num_runs < 2 else "")
    if is_stochastic:
        notes = [
            f"Poisson demand, {ci}. dual bound: an upper bound on every policy's expected"
            " season profit when the oracle's per-period price solve is global"
            " (oracle.season_profit_bound). open-loop oracle: the plan that is"
            " optimal for expected demand, played whatever demand is realised, on the same"
            " draws as each policy."
        ]
    else:
        notes = [
            f"Expected demand, {ci}. oracle: the plan that is optimal for expected demand;"
            " dual bound: an upper bound on every policy's profit when the oracle's"
            " per-period price solve is global (oracle.season_profit_bound)."
        ]

    def over(*columns: str) -> str:
        present = [c for c in columns if c in summary]
        if not present:
            return ""
        is_over = (summary[present].to_numpy(float) > 100 + 1e-9).any(axis=1)
        return ", ".join(summary["policy"][is_over].astype(str))

    names = over(oracle_pct.get("profit", ""))
    if names and is_stochastic:
        notes.append(
            f"Profit above 100 % of the open-loop oracle ({names}): the oracle keeps to"
            " its expected-demand plan whatever demand is realised, so on the same draws"
            " another policy can earn more; the dual bound caps expected profit instead."
        )
    elif names:
        rows = summary.set_index("policy")
        gap = 100 - rows[bound_pct].get("oracle", np.nan) if bound_pct in rows else np.nan
        certified = "" if np.isnan(gap) else f" to within {gap:.2f} % of the dual bound"
        notes.append(
            f"Profit above 100 % of the oracle ({names}): the oracle's plan is a numerical"
            f" optimum, certified only{certified}."
        )
    names = over(oracle_pct.get("revenue", ""), oracle_pct.get("units", ""))
    if names:
        notes.append(
            f"Revenue or units above 100 % of the {oracle} ({names}): the oracle maximises"
            " profit, not revenue or units."
        )
    names = over(bound_pct)
    if names and is_stochastic:
        notes.append(
            f"Profit above 100 % of the dual bound ({names}): the bound caps expected"
            f" profit; these are means of {runs} with Poisson demand (see the CI), and the"
            " bound assumes the oracle's per-period price solve is global."
        )
    elif names:
        notes.append(
            f"Profit above 100 % of the dual bound ({names}): the bound assumes the"
            " oracle's per-period price solve is global, and here it was not."
        )
    return notes


def summary_table(
    summary: pd.DataFrame, *, is_stochastic: bool, num_runs: int
) -> tuple[pd.DataFrame, list[str]]:
    """Render a :func:`compare_policies` summary as text cells, with its notes.

    Headers name each reference (the dual bound, and the oracle, open loop under
    Poisson demand); profit cells read ``"mean ± 95 % CI"`` with ``n/a`` for a CI
    from fewer than 2 runs.

    Args:
        summary: ``compare_policies(...)[1]`` (with ``profit_bound`` for a bound column).
        is_stochastic: Whether the episodes drew Poisson demand.
        num_runs: Seeds behind each mean.

    Returns:
        ``(table, notes)``: one row of strings per policy, and :func:`reference_notes`.
    """
    oracle = oracle_label(is_stochastic)

    def cells(column: str) -> list[str]:
        return [
            format_mean_ci95(m, h)
            for m, h in zip(summary[column], summary[f"{column}_ci95"], strict=True)
        ]

    table = pd.DataFrame({"policy": summary["policy"].astype(str)})
    table["profit % of dual bound ± 95% CI"] = cells("profit_pct_bound")
    table[f"profit % of {oracle} ± 95% CI"] = cells("profit_pct_oracle")
    table[f"revenue % of {oracle}"] = [f"{v:.1f}" for v in summary["revenue_pct_oracle"]]
    table[f"units % of {oracle}"] = [f"{v:.1f}" for v in summary["units_pct_oracle"]]
    table["leftover units"] = [f"{v:.1f}" for v in summary["leftover_units_mean"]]
    notes = reference_notes(summary, is_stochastic=is_stochastic, num_runs=num_runs)
    return table, notes


def plot_profit_vs_oracle(
    summary: pd.DataFrame,
    path: Path,
    title: str = "",
    *,
    column: str = "profit_pct_oracle",
    reference: str = "oracle",
) -> Path:
    """Save a bar chart of profit in % of a reference with 95 % CI error bars (PNG).

    Args:
        summary: One row per policy with ``policy``, ``column`` and ``{column}_ci95``.
        path: The PNG file.
        title: Chart title.
        column: The percentage to draw, e.g. ``profit_pct_bound``.
        reference: Its reference as named on the axis, e.g. ``"dual bound"``.

    Returns:
        ``path``. Bars whose CI is undefined (fewer than 2 runs) get no error bar.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    errors = summary[f"{column}_ci95"].to_numpy(float)
    ax.barh(summary["policy"], summary[column], color="#4c72b0")
    has_ci = ~np.isnan(errors)
    ax.errorbar(
        summary[column].to_numpy(float)[has_ci],
        np.flatnonzero(has_ci),
        xerr=errors[has_ci],
        fmt="none",
        capsize=4,
        ecolor="black",
    )
    ax.axvline(100, color="black", linewidth=0.8, linestyle="--")
    ci = "95 % CI over runs" if has_ci.any() else "one run: no CI"
    ax.set_xlabel(f"profit, % of {reference} ({ci})")
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
    "format_ci95",
    "format_mean_ci95",
    "mean_ci95",
    "oracle_label",
    "plot_profit_vs_oracle",
    "reference_notes",
    "run_episode",
    "summary_table",
]
