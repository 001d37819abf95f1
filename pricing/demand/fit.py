"""Estimation of the :class:`~.model.DemandModel` from a weekly panel.

On the weeks with sales (``units > 0``; zero weeks enter through the sale rate
:math:`\\pi_j`), with :math:`y = \\log q`:

1. **Calendar.** One pooled within-series regression (series fixed effects
   demeaned away) of :math:`y` on month dummies, holiday-week and pre-Christmas
   flags and the price terms :math:`x, x^2, w` gives :math:`\\kappa`;
   :math:`\\tilde y = y - \\kappa' z`.
2. **Pools.** Per group (category, segment), a within-series regression
   :math:`\\tilde y = \\alpha_j + \\mu_g x + c_g x^2 + \\gamma_g w + e` gives the
   pooled elasticity :math:`\\mu_g` (at list price), the curvature :math:`c_g` and
   the cross-price effect :math:`\\gamma_g`, kept only when
   :math:`|\\hat\\gamma_g / se| > z_{1-\\alpha/2}` (else refitted without it). Groups
   with fewer than ``min_group_obs`` weeks (or no price variation) take the
   segment-wide pool; with no variation there either, the configured prior.
3. **Products.** Per series with ``min_product_weeks`` weeks of sales and
   ``std(x) >= min_price_sd``: OLS of :math:`\\tilde y - c_g x^2 - \\gamma_g w` on
   :math:`(1, x)` gives :math:`\\hat b_j, s_j`; these are shrunk toward
   :math:`\\mu_g` (empirical Bayes, :func:`~.estimation.shrink`).
   Others take :math:`\\mu_g` with variance :math:`Var(\\mu_g) + \\tau_g^2`.
4. **Levels.** :math:`a_j` is the mean of :math:`\\tilde y - b_j x - c_g x^2 -
   \\gamma_g w` over the series' sale weeks; :math:`s_g` the mean of the exponentiated
   residuals of the group.

Intervals are :math:`\\hat b \\pm z_{(1+level)/2} \\, se` (normal approximation).
Endogenous prices (e.g. quantity-tier prices paid by wholesalers) bias OLS; this
is a descriptive estimate, not a causal one, unless prices vary exogenously.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import DataValidationError, ModelError
from .estimation import codes, demean, leave_one_out_log_mean, ols, shrink
from .model import DemandConfig, DemandModel

_REQUIRED = [
    "product_id",
    "segment",
    "week",
    "units",
    "price",
    "list_price",
    "month",
    "is_holiday_week",
    "is_pre_christmas",
    "category",
]


def _prepare(panel: pd.DataFrame) -> pd.DataFrame:
    """Validated sale weeks with x, x^2, w and integer series / group codes."""
    for column in _REQUIRED:
        if column not in panel.columns:
            raise DataValidationError("panel: missing column", field=column)
    for column in ("price", "list_price"):
        values = pd.to_numeric(panel[column], errors="coerce")
        bad = ~(values > 0)
        if bad.any():
            value = panel[column][bad].iloc[0]
            raise DataValidationError(
                f"panel: expected a price > 0, got {value!r}", field=column, value=value
            )
    if (panel["units"] < 0).any():
        raise DataValidationError("panel: expected units >= 0", field="units")
    frame = panel.reset_index(drop=True).copy()
    frame["category"] = frame["category"].astype(str)
    frame["segment"] = frame["segment"].astype(str)
    rel = (frame["price"] / frame["list_price"]).to_numpy(float)
    cell = codes(frame["category"], frame["segment"], frame["week"])
    frame["w"], _ = leave_one_out_log_mean(rel, cell)
    frame["x"] = np.log(rel)
    frame["x2"] = frame["x"] ** 2
    return frame


def _calendar(sales: pd.DataFrame) -> tuple[dict[str, object], np.ndarray]:
    """Calendar effects (months centred over the months seen) and the adjusted log units."""
    months = sorted(sales["month"].unique())
    dummies = (
        np.stack([(sales["month"] == m).to_numpy(float) for m in months[1:]], axis=1)
        if len(months) > 1
        else np.empty((len(sales), 0))
    )
    flags = sales[["is_holiday_week", "is_pre_christmas"]].to_numpy(float)
    design = np.column_stack([dummies, flags, sales[["x", "x2", "w"]].to_numpy(float)])
    series = codes(sales["product_id"], sales["segment"])
    y = np.log(sales["units"].to_numpy(float))
    fit = ols(demean(design, series), demean(y, series), absorbed=int(series.max()) + 1)
    beta = np.where(np.isfinite(fit.beta), fit.beta, 0.0)
    seen = np.r_[0.0, beta[: len(months) - 1]]
    seen = seen - seen.mean()
    month_effect = np.zeros(12)
    month_effect[np.asarray(months, dtype=int) - 1] = seen
    holiday, christmas = beta[len(months) - 1 : len(months) + 1]
    calendar = {
        "month": month_effect.tolist(),
        "is_holiday_week": float(holiday),
        "is_pre_christmas": float(christmas),
    }
    adjusted = (
        y - month_effect[sales["month"].to_numpy(int) - 1] - flags @ np.r_[holiday, christmas]
    )
    return calendar, adjusted


def _pool(rows: pd.DataFrame, config: DemandConfig) -> dict[str, float] | None:
    """Within-series pooled regression of y_adj on x, x^2 and (if significant) w."""
    if len(rows) < config.min_group_obs or rows["x"].std() < config.min_price_sd:
        return None
    series = codes(rows["product_id"])
    absorbed = int(series.max()) + 1
    y = demean(rows["y_adj"].to_numpy(float), series)
    terms = ["x", "x2", "w"] if rows["w"].std() > config.min_price_sd else ["x", "x2"]
    fit = ols(demean(rows[terms].to_numpy(float), series), y, absorbed=absorbed)
    z = stats.norm.ppf(1.0 - config.cross_alpha / 2.0)
    is_cross = len(terms) == 3 and abs(fit.beta[2]) > z * fit.se[2]
    if len(terms) == 3 and not is_cross:
        fit_wo = ols(demean(rows[["x", "x2"]].to_numpy(float), series), y, absorbed=absorbed)
        cross, cross_se = float(fit.beta[2]), float(fit.se[2])
        fit = fit_wo
    else:
        cross = float(fit.beta[2]) if is_cross else 0.0
        cross_se = float(fit.se[2]) if is_cross else float("nan")
    if not np.isfinite(fit.se[0]):
        return None
    return {
        "elasticity": float(fit.beta[0]),
        "se": float(fit.se[0]),
        "curvature": float(fit.beta[1]),
        "curvature_se": float(fit.se[1]),
        "cross": cross,
        "cross_se": cross_se,
        "is_cross_kept": bool(is_cross),
        "x_lo": float(rows["x"].min()),
        "x_hi": float(rows["x"].max()),
        "n_obs": len(rows),
    }


def _product_slopes(
    rows: pd.DataFrame, pool: dict[str, float], config: DemandConfig
) -> pd.DataFrame:
    """Own OLS slope and variance per series with enough data (one small fit per series)."""
    gamma = pool["cross"] if pool["is_cross_kept"] else 0.0
    target = rows["y_adj"] - pool["curvature"] * rows["x2"] - gamma * rows["w"]
    out = []
    for product_id, part in rows.assign(target=target).groupby("product_id", sort=True):
        if len(part) < config.min_product_weeks or part["x"].std() < config.min_price_sd:
            continue
        design = np.column_stack([np.ones(len(part)), part["x"].to_numpy(float)])
        fit = ols(design, part["target"].to_numpy(float))
        if np.isfinite(fit.se[1]) and fit.se[1] > 0:
            out.append((product_id, float(fit.beta[1]), float(fit.se[1]) ** 2, len(part)))
    frame = pd.DataFrame(out, columns=["product_id", "b", "var", "n"])
    # typed even when empty: an empty frame would otherwise hold object columns
    return frame.astype({"b": np.float64, "var": np.float64, "n": np.int64})


def fit_demand(panel: pd.DataFrame, config: DemandConfig | None = None) -> DemandModel:
    """Estimate the demand model from a weekly panel (see the module docstring).

    Args:
        panel: Rows of :func:`~.panel.build_panel` (at least
            product_id, segment, week, units, price, list_price, month,
            is_holiday_week, is_pre_christmas, category).
        config: Estimation options (``None``: the defaults).

    Returns:
        The fitted model; every series of the panel with at least one sale has an
        estimate.

    Raises:
        DataValidationError: A column is missing or a price is not positive.
        ModelError: The panel has no sales.
    """
    config = config or DemandConfig()
    frame = _prepare(panel)
    weeks = frame.groupby(["product_id", "segment"], sort=True)["units"].agg(
        n_weeks="size", n_sales_weeks=lambda u: int((u > 0).sum())
    )
    sales = frame[frame["units"] > 0].reset_index(drop=True)
    if sales.empty:
        raise ModelError("demand panel has no week with sales")
    calendar, sales["y_adj"] = _calendar(sales)
    z = stats.norm.ppf(0.5 + config.ci_level / 2.0)
    low, high = config.elasticity_bounds
    group_rows, estimate_parts = [], []
    for segment, seg_rows in sales.groupby("segment", sort=True):
        wide = _pool(seg_rows, config)
        for category, rows in seg_rows.groupby("category", sort=True):
            pool, source = _pool(rows, config), "category"
            if pool is None:
                pool, source = wide, "segment"
            if pool is None:
                pool, source = (
                    {
                        "elasticity": config.default_elasticity,
                        "se": config.default_elasticity_sd,
                        "curvature": 0.0,
                        "curvature_se": float("nan"),
                        "cross": 0.0,
                        "cross_se": float("nan"),
                        "is_cross_kept": False,
                        "x_lo": 0.0,
                        "x_hi": 0.0,
                        "n_obs": 0,
                    },
                    "prior",
                )
            own = _product_slopes(rows, pool, config)
            post = shrink(
                own["b"].to_numpy(), own["var"].to_numpy(), pool["elasticity"], pool["se"] ** 2
            )
            est = rows.groupby("product_id", sort=True).size().rename("n_pooled").to_frame()
            est = est.join(own.set_index("product_id"))
            # products with an own slope take the posterior, the others the pool; built
            # with np.where so that a group where no product has an own slope (small
            # worlds) needs no assignment through an empty mask
            mine = est.index.isin(own["product_id"])
            posterior = pd.DataFrame(
                {"mean": post.mean, "var": post.var, "weight": post.weight},
                index=pd.Index(own["product_id"]),
            ).reindex(est.index)
            est["elasticity_raw"] = np.where(mine, posterior["mean"], pool["elasticity"])
            est["var"] = np.where(mine, posterior["var"], pool["se"] ** 2 + post.tau2)
            est["own_weight"] = np.where(mine, posterior["weight"], 0.0)
            est["source"] = np.where(mine, "product", "pooled")
            est["n_obs"] = np.where(mine, est["n"].fillna(0), pool["n_obs"]).astype(np.int64)
            est["elasticity"] = est["elasticity_raw"].clip(low, high)
            # levels and smearing with the final slopes
            b = est["elasticity"].reindex(rows["product_id"]).to_numpy()
            gamma = pool["cross"] if pool["is_cross_kept"] else 0.0
            level = (
                rows["y_adj"] - b * rows["x"] - pool["curvature"] * rows["x2"] - gamma * rows["w"]
            )
            est["intercept"] = level.groupby(rows["product_id"].to_numpy()).mean()
            resid = level - est["intercept"].reindex(rows["product_id"]).to_numpy()
            smearing = float(np.mean(np.exp(resid)))
            est = est.reset_index().assign(segment=segment, category=category)
            estimate_parts.append(est)
            group_rows.append(
                {
                    "category": category,
                    "segment": segment,
                    **pool,
                    "tau2": post.tau2,
                    "smearing": smearing,
                    "n_products": len(est),
                    "source": source,
                }
            )
    estimates = pd.concat(estimate_parts, ignore_index=True)
    estimates["se"] = np.sqrt(estimates["var"])
    estimates["ci_low"] = estimates["elasticity_raw"] - z * estimates["se"]
    estimates["ci_high"] = estimates["elasticity_raw"] + z * estimates["se"]
    estimates = estimates.join(weeks, on=["product_id", "segment"])
    estimates["sale_rate"] = estimates["n_sales_weeks"] / estimates["n_weeks"]
    list_price = frame.groupby("product_id")["list_price"].first()
    estimates["list_price"] = list_price.reindex(estimates["product_id"]).to_numpy()
    columns = [
        "product_id",
        "segment",
        "category",
        "list_price",
        "intercept",
        "elasticity",
        "elasticity_raw",
        "se",
        "ci_low",
        "ci_high",
        "source",
        "n_obs",
        "n_sales_weeks",
        "n_weeks",
        "sale_rate",
        "own_weight",
    ]
    estimates = estimates[columns].sort_values(["product_id", "segment"], ignore_index=True)
    estimates["n_obs"] = estimates["n_obs"].astype(np.int64)
    groups = pd.DataFrame(group_rows)
    return DemandModel(config, calendar, groups, estimates)


__all__ = ["fit_demand"]
