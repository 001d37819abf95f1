"""What-if: units, revenue and profit of a price change or promotion against doing nothing.

A pure function of (demand model, baseline panel, scenario). The baseline holds,
per product, segment and week of the period, the units expected at the current
price (e.g. a forecast). The scenario sets a new effective unit price
:math:`p'` for its products; the model's response multiplies the baseline:

.. math:: q' = q \\cdot \\frac{\\hat q(p', w')}{\\hat q(p, w)}
    = q \\exp\\big(b_j (x' - x) + c_g (\\bar x'^2 - \\bar x^2) + \\gamma_g (w' - w)\\big),

where :math:`w` is the category cross-price index of the week (see
:mod:`.model`), so products *outside* the scenario change too
when the category's cross effect is kept: that is the cannibalisation (or the
halo) reported. Revenue is :math:`q' p'`, profit :math:`q' (p' - k)` with unit cost
:math:`k` from the product's ``cost`` when known, else ``default_cost_ratio``
times its list price. Money is in the panel's currency, gross.

Promotions and their effective unit price:

* ``price``: ``new_prices[product]``; ``percent_change``: :math:`p (1 + v/100)`.
* ``percent_off``: :math:`p (1 - v/100)`; ``amount_off``: :math:`p - v`.
* ``bogo`` (buy one, get one free): assumed bought in pairs, so every unit sells at
  the effective price :math:`p / 2` for the demand response, revenue and margin
  (units count both items of a pair; cost applies to each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ...errors import DataValidationError
from .estimation import codes, leave_one_out_log_mean
from .model import DemandModel

ScenarioKind = Literal["price", "percent_change", "percent_off", "amount_off", "bogo"]


@dataclass(frozen=True)
class Scenario:
    """A proposed price change or promotion on some products over a period."""

    product_ids: tuple[str, ...]
    """Products it applies to."""
    kind: ScenarioKind
    """What it does (see the module docstring)."""
    value: float = 0.0
    """Percent for ``percent_*`` (e.g. 20 = 20 %), money for ``amount_off``."""
    new_prices: dict[str, float] = field(default_factory=dict)
    """New unit prices per product for ``price``."""
    start_week: str | None = None
    """First week (ISO date inside it) of the period; ``None``: the baseline's first."""
    end_week: str | None = None
    """Last week (ISO date inside it), inclusive; ``None``: the baseline's last."""


@dataclass(frozen=True)
class WhatIfConfig:
    """Assumptions of the what-if."""

    default_cost_ratio: float = 0.6
    """Unit cost as a share of list price when the product has no ``cost``."""


@dataclass(frozen=True, eq=False)
class WhatIfResult:
    """Outcome of :func:`what_if`."""

    rows: pd.DataFrame
    """Per product, segment and week: price, new_price, units_base, units, revenue_base,
    revenue, profit_base, profit, is_in_scenario."""
    products: pd.DataFrame
    """Per product: the sums of ``rows`` and the uplifts (scenario minus baseline)."""
    totals: dict[str, float]
    """units / revenue / profit with their baseline and uplift, for the scenario's
    products (``*_scenario``), the other products of their categories
    (``*_cannibalised``, the cross effect) and all (``*_total``)."""


def _new_prices(rows: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Effective unit prices under ``scenario`` (baseline price where it does not apply)."""
    price = rows["price"].to_numpy(float)
    inside = rows["is_in_scenario"].to_numpy(bool)
    v = float(scenario.value)
    if scenario.kind == "price":
        missing = set(scenario.product_ids) - set(scenario.new_prices)
        if missing:
            raise DataValidationError(
                f"scenario: no new price for {sorted(missing)}", field="new_prices"
            )
        new = rows["product_id"].map(scenario.new_prices).to_numpy(float)
    elif scenario.kind == "percent_change":
        new = price * (1.0 + v / 100.0)
    elif scenario.kind == "percent_off":
        if not 0.0 <= v < 100.0:
            raise DataValidationError(f"expected 0 <= percent < 100, got {v}", field="value")
        new = price * (1.0 - v / 100.0)
    elif scenario.kind == "amount_off":
        new = price - v
    elif scenario.kind == "bogo":
        new = price / 2.0
    else:
        raise DataValidationError(f"unknown scenario kind {scenario.kind!r}", field="kind")
    new = np.where(inside, new, price)
    if not (new > 0).all():
        bad = rows.loc[~(new > 0), "product_id"].iloc[0]
        raise DataValidationError(
            f"scenario gives product {bad} a price <= 0", field="value", value=scenario.value
        )
    return new


def what_if(
    model: DemandModel,
    baseline: pd.DataFrame,
    scenario: Scenario,
    config: WhatIfConfig = WhatIfConfig(),
) -> WhatIfResult:
    """Forecast units, revenue and profit of ``scenario`` and the uplift against the baseline.

    Args:
        model: A fitted demand model with every product of ``baseline``.
        baseline: Rows ``product_id, segment, week, units, price, list_price,
            category`` (optional ``cost``): the do-nothing forecast, one row per
            product, segment and week. Give every product of the categories
            concerned, so that cross effects reach them.
        scenario: The change.
        config: Cost assumption.

    Returns:
        Rows, per-product sums and totals.

    Raises:
        DataValidationError: A column is missing, a price is not positive, or the
            scenario names unknown products or gives a price <= 0.
        NotFoundError: A product of the baseline has no estimate in the model.
    """
    for column in ("product_id", "segment", "week", "units", "price", "list_price", "category"):
        if column not in baseline.columns:
            raise DataValidationError("baseline: missing column", field=column)
    if not (pd.to_numeric(baseline["price"]) > 0).all():
        raise DataValidationError("baseline: expected prices > 0", field="price")
    rows = baseline.copy()
    week = pd.to_datetime(rows["week"])
    if scenario.start_week is not None:
        rows = rows[week >= pd.Timestamp(scenario.start_week).to_period("W-SUN").start_time]
    if scenario.end_week is not None:
        end = pd.Timestamp(scenario.end_week).to_period("W-SUN").start_time
        rows = rows[pd.to_datetime(rows["week"]) <= end]
    unknown = set(scenario.product_ids) - set(rows["product_id"])
    if unknown:
        raise DataValidationError(
            f"scenario products not in the baseline period: {sorted(unknown)}", field="product_ids"
        )
    rows = rows.reset_index(drop=True)
    rows["is_in_scenario"] = rows["product_id"].isin(scenario.product_ids)
    rows["new_price"] = _new_prices(rows, scenario)
    cell = codes(rows["category"].astype(str), rows["segment"].astype(str), rows["week"])
    list_price = rows["list_price"].to_numpy(float)
    w_base, _ = leave_one_out_log_mean(rows["price"].to_numpy(float) / list_price, cell)
    w_new, _ = leave_one_out_log_mean(rows["new_price"].to_numpy(float) / list_price, cell)
    ratio = np.ones(len(rows))
    for segment in rows["segment"].unique():  # a few segments, not rows
        at = (rows["segment"] == segment).to_numpy()
        ids = rows.loc[at, "product_id"].to_numpy(object)
        base = model.predict_units(
            ids, rows.loc[at, "price"], segment=segment, cross_index=w_base[at]
        )
        new = model.predict_units(
            ids, rows.loc[at, "new_price"], segment=segment, cross_index=w_new[at]
        )
        ratio[at] = new / base
    cost = pd.to_numeric(rows.get("cost", pd.Series(np.nan, index=rows.index)))
    unit_cost = cost.where(cost.notna(), config.default_cost_ratio * rows["list_price"])
    rows["units_base"] = rows["units"].astype(float)
    rows["units"] = rows["units_base"] * ratio
    rows["revenue_base"] = rows["units_base"] * rows["price"]
    rows["revenue"] = rows["units"] * rows["new_price"]
    rows["profit_base"] = rows["units_base"] * (rows["price"] - unit_cost)
    rows["profit"] = rows["units"] * (rows["new_price"] - unit_cost)
    columns = [
        "product_id",
        "segment",
        "week",
        "category",
        "price",
        "new_price",
        "units_base",
        "units",
        "revenue_base",
        "revenue",
        "profit_base",
        "profit",
        "is_in_scenario",
    ]
    rows = rows[columns]
    metrics = ["units", "revenue", "profit"]
    sums = [f"{m}{s}" for m in metrics for s in ("_base", "")]
    products = rows.groupby(["product_id", "category"], as_index=False).agg(
        {**{c: "sum" for c in sums}, "is_in_scenario": "first"}
    )
    for m in metrics:
        products[f"{m}_uplift"] = products[m] - products[f"{m}_base"]
    touched = products.loc[products["is_in_scenario"], "category"].unique()
    parts = {
        "scenario": products["is_in_scenario"],
        "cannibalised": ~products["is_in_scenario"] & products["category"].isin(touched),
        "total": pd.Series(True, index=products.index),
    }
    totals: dict[str, float] = {}
    for name, mask in parts.items():
        for m in metrics:
            totals[f"{m}_base_{name}"] = float(products.loc[mask, f"{m}_base"].sum())
            totals[f"{m}_{name}"] = float(products.loc[mask, m].sum())
            totals[f"{m}_uplift_{name}"] = totals[f"{m}_{name}"] - totals[f"{m}_base_{name}"]
    return WhatIfResult(rows, products, totals)


__all__ = ["Scenario", "ScenarioKind", "WhatIfConfig", "WhatIfResult", "what_if"]
