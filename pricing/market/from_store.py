"""A market simulator for the retailer's own products, from the demand model fitted on
the purchases in the graph: what ``pricegraph train-pricing --from-graph`` trains on.

The demand model (:func:`~pricegraph.pricing.demand.store.fit_demand_from_store`) is wrapped as a
:class:`FittedDemandCurve` over the coming season (the ``num_periods`` weeks after
the last week with sales, with their calendar effects) and matched to a logit market
by :func:`~.builders.market_from_demand`. The products are the
``max_products`` with the highest revenue whose elasticity at list price is negative
and whose ``Product`` node has a list price (> 0); their list price, unit cost and stock
come from the ``Product`` nodes (a missing cost is ``default_cost_ratio`` times the list
price, a missing stock unlimited) and their category from ``IN_CATEGORY``. Product ids
are the graph's, so quotes for these products use the trained plan.

Products without a list price are left out of the market, as quotes refuse them
(a quote is a multiple of the list price, see
:func:`~pricegraph.pricing.quotes.service.QuoteService.quote`): the market's ``meta``
counts those that would otherwise have been candidates (sold, negative elasticity, not
outliers) as ``no_list_price``.

Outlier quantities are kept out of the ranking: a purchase line whose quantity is more
than ``outlier_factor`` times the catalogue's norm (the median over products of their
median line quantity, at least 1) is an *outlier line* (fuel sold by the
litre, a wholesale order, a typo), left out of the revenue; a product whose median
line is an outlier is left out of the market altogether. The market's ``meta`` counts both
(``outlier_lines``, ``outlier_products``) and gives the limit (``outlier_qty_limit``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ...errors import DataValidationError
from ...graph.base import GraphStore
from ...outliers import OutlierLines
from ..demand.model import DemandModel
from ..demand.panel import ALL_SEGMENTS, PanelConfig, calendar_features
from ..demand.store import fit_demand_from_store
from .builders import market_from_demand
from .model import MarketModel

ABSENT_SHARE = 1e-9
"""Share of a visit that buys a product its segment never bought (:func:`per_segment`)."""


@dataclass(frozen=True, eq=False)
class FittedDemandCurve:
    """A fitted :class:`~.model.DemandModel` as a ``DemandCurve`` over consecutive weeks.

    ``units(j, p, t)`` is the model's expected weekly units of product ``j`` at
    price ``p`` in week ``t`` of the season (calendar effects of that week), every
    other product at list price (cross-price index 0).
    """

    model: DemandModel
    product_ids: np.ndarray
    """``[P]`` product ids (object)."""
    calendar: pd.DataFrame
    """``[T]`` rows of ``month``, ``is_holiday_week``, ``is_pre_christmas``."""
    segment: str = ALL_SEGMENTS
    """The segment whose series are read."""

    def units(self, product_index: np.ndarray, price: np.ndarray, period: int) -> np.ndarray:
        """Return ``[n]`` expected units per week."""
        index = np.asarray(product_index)
        rows = self.calendar.iloc[np.full(index.size, period)].reset_index(drop=True)
        return self.model.predict_units(
            self.product_ids[index],
            np.asarray(price, float),
            rows,
            segment=self.segment,
            cross_index=np.zeros(index.size),
        )


def market_from_store(
    store: GraphStore,
    *,
    max_products: int = 200,
    num_periods: int = 12,
    default_cost_ratio: float = 0.6,
    model: DemandModel | None = None,
    segment_model: DemandModel | None = None,
    outlier_factor: float = 20.0,
    holiday_country: str = "GB",
) -> MarketModel:
    """The market of the store's best-selling products over the coming season.

    Args:
        store: The graph store with purchases, products and categories.
        max_products: Products in the market at most (by revenue).
        num_periods: Weeks of the season, starting the week after the last sale.
        default_cost_ratio: Unit cost over list price where a product has no cost.
        model: A demand model fitted on this store (default: fit one now, one series
            per product).
        segment_model: A demand model with one series per product and graph segment
            (``fit_demand_from_store(store, segment_version=...)``): the market then has
            one customer group per segment (:func:`per_segment`); ``None``: one group.
        outlier_factor: Lines above this many times the catalogue's norm of line
            quantities are outliers (module docstring); ``inf`` keeps every line.
        holiday_country: Whose public holidays the season's calendar flags
            (:mod:`~pricegraph.pricing.demand.holidays`; the settings' ``pricing.holiday_country``).

    Raises:
        DataValidationError: No product has a negative elasticity at list price, or
            none of those has a list price.
    """
    if model is None:
        panel_config = PanelConfig(holiday_country=holiday_country)
        model, _ = fit_demand_from_store(store, panel_config=panel_config)
    bought = store.edge_arrays("PURCHASED")
    qty = pd.to_numeric(pd.Series(bought.properties["qty"]), errors="coerce")
    lines = pd.DataFrame(
        {
            "product_id": bought.target_ids[bought.edge_index[1]].astype(str),
            "qty": qty,
            "revenue": qty
            * pd.to_numeric(pd.Series(bought.properties["unit_price"]), errors="coerce"),
        }
    )
    outliers = OutlierLines.of(lines, outlier_factor)
    lines = lines[~outliers.is_outlier]
    ts = pd.to_datetime(pd.Series(bought.properties["ts"]), errors="coerce", utc=True)
    last_week = ts.max().tz_localize(None).to_period("W-SUN").start_time
    est = model.estimates
    est = est[(est["segment"] == est["segment"].iloc[0]) & (est["elasticity"] < 0)]
    est = est[~est["product_id"].astype(str).isin(outliers.products)]
    if est.empty:
        raise DataValidationError(
            "no product has a negative elasticity at list price: nothing to price",
            field="elasticity",
        )
    products = store.node_frame("Product").set_index("id")
    products.index = products.index.astype(str)
    node_price = pd.to_numeric(products.get("list_price"), errors="coerce")
    priced = node_price.index[np.isfinite(node_price) & (node_price > 0)]
    has_price = est["product_id"].astype(str).isin(priced)
    no_list_price = int((~has_price).sum())
    est = est[has_price]
    if est.empty:
        raise DataValidationError(
            f"none of the {no_list_price} products with a negative elasticity at list price "
            "has a list price: nothing to price (load the products with a list_price > 0)",
            field="list_price",
        )
    revenue = lines.groupby("product_id")["revenue"].sum().reindex(est["product_id"]).fillna(0)
    chosen = revenue.sort_values(ascending=False).index[:max_products].to_numpy(object)
    nodes = products.reindex([str(p) for p in chosen])
    list_price = node_price.reindex(nodes.index).to_numpy(float)
    cost = pd.to_numeric(nodes.get("cost"), errors="coerce").to_numpy(float)
    estimated_cost = ~(np.isfinite(cost) & (cost > 0))
    cost = np.where(estimated_cost, default_cost_ratio * list_price, cost)
    max_price = pd.to_numeric(nodes.get("max_price"), errors="coerce").to_numpy(float)
    stock = pd.to_numeric(nodes.get("stock_units"), errors="coerce").to_numpy(float)
    stock = np.where(np.isfinite(stock), np.maximum(stock, 0.0), np.inf)
    edges = store.edge_arrays("IN_CATEGORY")
    category_of = dict(
        zip(
            edges.source_ids[edges.edge_index[0]].astype(str),
            edges.target_ids[edges.edge_index[1]].astype(str),
            strict=True,
        )
    )
    categories = pd.Series([category_of.get(str(p), "uncategorised") for p in chosen])
    names = tuple(sorted(categories.unique()))
    start = last_week + pd.Timedelta(days=7)
    weeks = pd.Series(pd.date_range(start, periods=num_periods, freq="7D"))
    curve = FittedDemandCurve(model, chosen, calendar_features(weeks, holiday_country))
    market = market_from_demand(
        curve,
        list_price=list_price,
        unit_cost=cost,
        num_periods=num_periods,
        initial_inventory=stock,
        product_category=categories.map({n: i for i, n in enumerate(names)}).to_numpy(),
    )
    meta = {
        **market.meta,
        "source": "graph",
        "products": int(chosen.size),
        "weeks": [str(w.date()) for w in weeks],
        "season_start": str(start.date()),
        # the catalogue ceilings quotes apply (None: none), for the as-deployed evaluation
        "max_price": [None if not np.isfinite(v) else float(v) for v in max_price],
        "cost_estimated": int(estimated_cost.sum()),
        "outlier_qty_limit": outliers.limit,
        "outlier_lines": int(outliers.is_outlier.sum()),
        "outlier_products": len(outliers.products),
        "no_list_price": no_list_price,
    }
    market = replace(
        market, product_ids=tuple(str(p) for p in chosen), category_names=names, meta=meta
    )
    if segment_model is not None:
        market = per_segment(market, segment_model, curve.calendar)
    return market


def per_segment(
    market: MarketModel,
    model: DemandModel,
    calendar: pd.DataFrame,
    market_size_factor: float = 20.0,
) -> MarketModel:
    """``market`` with one customer group per segment of ``model`` (its series per product
    and segment), matched at list price as :func:`~.builders.market_from_demand`
    matches one group.

    Each segment's units at list price over the season give its visits (``k`` times its
    units) and its share of each product, hence its utility :math:`u_{sj}`; its
    elasticities give slopes :math:`b_{sj} = -\\varepsilon_{sj} / (1 - s_{sj})`. The
    market's slope is additive (segment plus product), so the products keep the
    all-customer slopes :math:`\\beta'_j` of ``market`` and each segment gets the median
    of :math:`b_{sj} - \\beta'_j` over its products (the interaction is dropped). A
    product a segment never bought gets a share of :data:`ABSENT_SHARE` and the
    product's slope.
    """
    estimates = model.estimates
    segments = tuple(sorted(set(estimates["segment"]) - {ALL_SEGMENTS}))
    if not segments:
        return market
    ids = np.asarray(market.product_ids, dtype=object)
    num_periods, n = market.num_periods, ids.size
    utility, slope, visits = np.empty((len(segments), n)), np.empty(len(segments)), []
    for s, name in enumerate(segments):
        known = np.isin(ids, estimates.loc[estimates["segment"] == name, "product_id"])
        curve = FittedDemandCurve(model, ids[known], calendar, segment=name)
        index = np.arange(int(known.sum()))
        prices = market.list_price[known]
        at_list = np.stack([curve.units(index, prices, t) for t in range(num_periods)])
        step = 1.01
        up = np.stack([curve.units(index, prices * step, t) for t in range(num_periods)])
        down = np.stack([curve.units(index, prices / step, t) for t in range(num_periods)])
        elasticity = (np.log(up / down) / np.log(step**2)).mean(axis=0)
        size = market_size_factor * np.maximum(at_list.sum(axis=1), 1e-9)  # [T] visits
        share = np.full(n, ABSENT_SHARE)
        share[known] = np.maximum((at_list / size[:, None]).mean(axis=0), ABSENT_SHARE)
        utility[s] = np.log(share / (1 - share.sum()))
        b = market.product_beta.copy()
        b[known] = np.where(elasticity < 0, -elasticity / (1 - share[known]), b[known])
        slope[s] = float(np.median((b - market.product_beta)[known])) if known.any() else 0.0
        visits.append(size)
    beta = np.maximum(slope, 0.0)
    level = utility - market.base_utility  # [S, P] segment preference on the product
    top = float(level.max())
    num = len(segments)
    return replace(
        market,
        group_segment=np.arange(num),
        group_weight=np.ones(num),
        alpha=np.full(num, top),
        beta=beta,
        brand_affinity=np.zeros((num, 1)),
        consideration=np.exp(level - top),
        visits=np.stack(visits),
        segment_names=segments,
        meta={**market.meta, "segments": list(segments)},
    )


__all__ = ["FittedDemandCurve", "OutlierLines", "market_from_store"]
