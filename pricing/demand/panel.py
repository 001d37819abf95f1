"""The product x week demand panel: units, revenue, prices, calendar and catalog features.

One row per series (a product, or a product and a customer segment) and week, from
the series' first sale to the last week of the data, weeks without sales included
(``units = 0``), so that forecasts are scored on the zeros too. Weeks start on
Monday (UTC). Money is in the transactions' currency, gross, as paid.

Columns of the panel (:data:`PANEL_COLUMNS`):

* ``product_id, segment`` (``"all"`` without segments), ``week`` (Monday 00:00).
* ``units`` (sum of ``qty``), ``revenue`` (sum of ``qty * unit_price``), ``lines``.
* ``price``: the posted price, the median line ``unit_price`` of the week (not
  quantity-weighted, so big wholesale lines at tier prices move it less than the
  paid mean); in weeks without sales, the last posted price carried forward.
* ``price_paid``: ``revenue / units`` (NaN without sales).
* ``list_price``: the catalog ``list_price``, else the product's most frequent line
  price; ``discount_pct = 100 * max(0, 1 - price / list_price)``.
* ``lag_price``: ``price`` of the previous week of the series (the same price in
  the first week); ``log_rel_price = log(price / list_price)``.
* ``week_of_year, month, is_holiday_week`` (a public holiday of
  ``PanelConfig.holiday_country`` in the week, by default the England and Wales bank
  holidays, Easter included), ``is_pre_christmas`` (the week starts between 15 November and 24
  December).
* ``category, brand`` (``"all"`` / ``"unknown"`` when the catalog has none),
  ``price_band`` (``band_0`` cheapest .. by list-price quantile), ``cost`` (NaN when
  unknown), ``competitor_price`` (cheapest competitor price in force at the week's
  midpoint, NaN when none).

:func:`build_panel` is pure (frames in, frame out); :func:`panel_from_store` reads
the frames from a :class:`~pricegraph.graph.base.GraphStore` through its protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import DataValidationError
from ...graph.base import GraphStore
from .holidays import holiday_dates

PANEL_COLUMNS = [
    "product_id",
    "segment",
    "week",
    "units",
    "revenue",
    "lines",
    "price",
    "price_paid",
    "list_price",
    "discount_pct",
    "lag_price",
    "log_rel_price",
    "week_of_year",
    "month",
    "is_holiday_week",
    "is_pre_christmas",
    "category",
    "brand",
    "price_band",
    "cost",
    "competitor_price",
]
"""Columns of the panel, in order."""

ALL_SEGMENTS = "all"
"""Segment label of series that pool every customer."""


@dataclass(frozen=True)
class PanelConfig:
    """How transactions become a weekly panel."""

    n_price_bands: int = 5
    """Number of list-price quantile bands for ``price_band`` (>= 1)."""
    extend_to: str | None = None
    """Last week (ISO date inside it) of the grid; ``None``: the week of the last sale."""
    holiday_country: str = "GB"
    """Whose public holidays flag ``is_holiday_week`` (:mod:`~.holidays`)."""


def _require(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    """Raise ``DataValidationError`` naming the first missing column."""
    for column in columns:
        if column not in frame.columns:
            raise DataValidationError(
                f"{source}: missing column (have {sorted(map(str, frame.columns))})",
                field=column,
            )


FREE_LINES = "free_lines"
"""Key of ``panel.attrs`` holding how many purchase lines at price 0 were left out."""


def _validate_transactions(tx: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Checked, typed copy of the purchase lines (product_id, ts, qty, unit_price[,
    customer_id]) and the number of free lines (``unit_price == 0``) left out.

    Free items are valid purchases (the loader accepts a zero price) but carry no
    price signal and ``log(price)`` is undefined at 0, so demand fitting leaves them
    out and says how many.
    """
    _require(tx, ["product_id", "ts", "qty", "unit_price"], "transactions")
    if "event_type" in tx.columns:
        tx = tx[tx["event_type"] == "purchase"]
    price = pd.to_numeric(tx["unit_price"], errors="coerce").to_numpy(dtype=float)
    is_free = price == 0
    tx = tx[~is_free]
    out = pd.DataFrame(
        {
            "product_id": tx["product_id"].astype(str).to_numpy(),
            "ts": pd.to_datetime(tx["ts"], errors="coerce").to_numpy(),
            "qty": pd.to_numeric(tx["qty"], errors="coerce").to_numpy(dtype=float),
            "unit_price": price[~is_free],
        }
    )
    if "customer_id" in tx.columns:
        out["customer_id"] = tx["customer_id"].astype(str).to_numpy()
    checks = [
        ("ts", out["ts"].isna(), "a timestamp"),
        ("qty", ~(out["qty"] > 0), "a number > 0"),
        ("unit_price", ~(out["unit_price"] > 0), "a price >= 0"),
    ]
    for field, bad, expected in checks:
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            value = tx[field].iloc[row - 1]
            product = out["product_id"].iloc[row - 1]
            raise DataValidationError(
                f"purchase line {row} (1-based, after {int(is_free.sum())} free lines) of "
                f"product {product!r}: expected {expected}, got {value!r}",
                row=row,
                field=field,
                value=value,
            )
    return out, int(is_free.sum())


def uk_holidays(years: np.ndarray) -> pd.DatetimeIndex:
    """England and Wales bank holidays of ``years``, substitute days included:
    :func:`~.holidays.holiday_dates` of ``GB``."""
    return holiday_dates("GB", years)


def calendar_features(weeks: pd.Series, country: str = "GB") -> pd.DataFrame:
    """Calendar columns for week starts (Mondays): week_of_year, month, holiday flags
    (``is_holiday_week``: a public holiday of ``country`` in the week,
    :func:`~.holidays.holiday_dates`)."""
    weeks = pd.to_datetime(weeks)
    unique = pd.DatetimeIndex(weeks.unique())
    years = np.r_[unique.year, unique.year + 1]
    holiday_weeks = holiday_dates(country, years).to_period("W-SUN")
    per_week = pd.DataFrame(
        {
            "week_of_year": unique.isocalendar().week.to_numpy().astype(np.int64),
            "month": (unique + pd.Timedelta(days=3)).month.to_numpy().astype(np.int64),
            "is_holiday_week": unique.to_period("W-SUN").isin(holiday_weeks),
            "is_pre_christmas": ((unique.month == 11) & (unique.day >= 15))
            | ((unique.month == 12) & (unique.day <= 24)),
        },
        index=unique,
    )
    return per_week.reindex(weeks.to_numpy()).reset_index(drop=True)


def _weekly(tx: pd.DataFrame, segments: pd.DataFrame | None) -> pd.DataFrame:
    """Sales aggregated per (product_id, segment, week)."""
    tx = tx.assign(week=tx["ts"].dt.to_period("W-SUN").dt.start_time)
    if segments is None:
        tx["segment"] = ALL_SEGMENTS
    else:
        _require(segments, ["customer_id", "segment_id"], "segments")
        if "customer_id" not in tx.columns:
            raise DataValidationError(
                "transactions: segments need the customer of each line", field="customer_id"
            )
        lookup = segments.drop_duplicates("customer_id").set_index("customer_id")["segment_id"]
        tx["segment"] = tx["customer_id"].map(lookup.astype(str)).fillna("unassigned")
    tx["revenue"] = tx["qty"] * tx["unit_price"]
    grouped = tx.groupby(["product_id", "segment", "week"], sort=True)
    return grouped.agg(
        units=("qty", "sum"),
        revenue=("revenue", "sum"),
        lines=("qty", "size"),
        price=("unit_price", "median"),
    ).reset_index()


def _grid(sales: pd.DataFrame, last_week: pd.Timestamp) -> pd.DataFrame:
    """Every week from each series' first sale to ``last_week``, sales merged in."""
    first = sales.groupby(["product_id", "segment"], sort=True)["week"].min().reset_index()
    n_weeks = ((last_week - first["week"]).dt.days // 7 + 1).clip(lower=1).to_numpy()
    rows = first.loc[first.index.repeat(n_weeks)].reset_index(drop=True)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(n_weeks) - n_weeks, n_weeks)
    rows["week"] = rows["week"] + pd.to_timedelta(offset * 7, unit="D")
    panel = rows.merge(sales, on=["product_id", "segment", "week"], how="left")
    panel[["units", "revenue", "lines"]] = panel[["units", "revenue", "lines"]].fillna(0.0)
    return panel


def _catalog_columns(
    panel: pd.DataFrame, catalog: pd.DataFrame | None, tx: pd.DataFrame, config: PanelConfig
) -> pd.DataFrame:
    """Per-product list_price, cost, category, brand and price_band."""
    products = pd.Index(panel["product_id"].unique())
    modal = (
        tx.groupby(["product_id", "unit_price"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["product_id", "n", "unit_price"], ascending=[True, False, True])
        .drop_duplicates("product_id")
        .set_index("product_id")["unit_price"]
    )
    info = pd.DataFrame(index=products)
    given = pd.DataFrame(index=products)
    if catalog is not None:
        _require(catalog, ["product_id"], "catalog")
        given = catalog.drop_duplicates("product_id").set_index("product_id").reindex(products)
    listed = pd.to_numeric(given.get("list_price", pd.Series(np.nan, index=products)))
    info["list_price"] = listed.where(listed > 0, modal.reindex(products))
    info["cost"] = pd.to_numeric(given.get("cost", pd.Series(np.nan, index=products)))
    for column, default in (("category", "all"), ("brand", "unknown")):
        values = given.get(column, pd.Series(np.nan, index=products))
        info[column] = values.astype(object).where(values.notna(), default).astype(str)
    bands = max(1, min(config.n_price_bands, info["list_price"].nunique()))
    codes = pd.qcut(info["list_price"].rank(method="first"), bands, labels=False)
    info["price_band"] = "band_" + codes.astype(int).astype(str)
    return info


def _competitor(panel: pd.DataFrame, competitor_prices: pd.DataFrame | None) -> np.ndarray:
    """Cheapest competitor price in force at each row's week midpoint (NaN when none)."""
    if competitor_prices is None or competitor_prices.empty:
        return np.full(len(panel), np.nan)
    _require(competitor_prices, ["product_id", "price", "valid_from"], "competitor prices")
    points = competitor_prices.assign(
        valid_from=pd.to_datetime(competitor_prices["valid_from"]),
        valid_to=pd.to_datetime(competitor_prices.get("valid_to", pd.NaT)),
    )[["product_id", "price", "valid_from", "valid_to"]]
    keys = panel[["product_id", "week"]].drop_duplicates()
    pairs = keys.merge(points, on="product_id")
    mid = pairs["week"] + pd.Timedelta(days=3, hours=12)
    live = (pairs["valid_from"] <= mid) & (pairs["valid_to"].isna() | (mid < pairs["valid_to"]))
    cheapest = pairs[live].groupby(["product_id", "week"])["price"].min()
    index = pd.MultiIndex.from_frame(panel[["product_id", "week"]])
    return cheapest.reindex(index).to_numpy(dtype=float)


def build_panel(
    transactions: pd.DataFrame,
    *,
    catalog: pd.DataFrame | None = None,
    competitor_prices: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    config: PanelConfig = PanelConfig(),
) -> pd.DataFrame:
    """Build the weekly demand panel (see the module docstring) from purchase lines.

    Args:
        transactions: One row per purchase line: ``product_id``, ``ts`` (naive UTC),
            ``qty`` (> 0 units), ``unit_price`` (>= 0, gross; 0 = a free item, left
            out and counted); optional ``customer_id``
            (needed with ``segments``) and ``event_type`` (only ``purchase`` rows kept).
        catalog: Optional per product: ``product_id`` and any of ``list_price``,
            ``cost`` (per unit, same currency), ``category``, ``brand``.
        competitor_prices: Optional ``product_id, price, valid_from, valid_to``
            (``valid_to`` NaT = open-ended).
        segments: Optional ``customer_id, segment_id``: one series per product and
            segment (customers without one go to ``"unassigned"``).
        config: Panel options.

    Returns:
        The panel with :data:`PANEL_COLUMNS`, sorted by product_id, segment, week;
        ``panel.attrs[FREE_LINES]`` counts the purchase lines at price 0 (free items)
        left out.

    Raises:
        DataValidationError: A required column is missing (``field`` names it), or
            a ``qty`` is not positive, a ``unit_price`` is negative or not a number,
            or a ``ts`` is not a time.
    """
    tx, n_free = _validate_transactions(transactions)
    if tx.empty:
        raise DataValidationError(
            f"transactions: no purchase lines at a price > 0 ({n_free} free lines)",
            field="qty",
        )
    sales = _weekly(tx, segments)
    last_week = sales["week"].max()
    if config.extend_to is not None:
        last_week = max(last_week, pd.Timestamp(config.extend_to).to_period("W-SUN").start_time)
    panel = _grid(sales, last_week)
    series = [panel["product_id"], panel["segment"]]
    panel["price"] = panel.groupby(series)["price"].ffill()
    panel["price_paid"] = (panel["revenue"] / panel["units"]).where(panel["units"] > 0)
    info = _catalog_columns(panel, catalog, tx, config)
    panel = panel.join(info, on="product_id")
    panel["discount_pct"] = 100.0 * (1.0 - panel["price"] / panel["list_price"]).clip(lower=0.0)
    panel["lag_price"] = panel.groupby(series)["price"].shift(1).fillna(panel["price"])
    panel["log_rel_price"] = np.log(panel["price"] / panel["list_price"])
    panel = pd.concat([panel, calendar_features(panel["week"], config.holiday_country)], axis=1)
    panel["competitor_price"] = _competitor(panel, competitor_prices)
    panel = panel[PANEL_COLUMNS].reset_index(drop=True)
    panel.attrs[FREE_LINES] = n_free
    return panel


def segments_from_store(store: GraphStore) -> pd.DataFrame:
    """``customer_id, segment_id`` from ``IN_SEGMENT`` edges (the highest score wins)."""
    edges = store.edge_arrays("IN_SEGMENT")
    frame = pd.DataFrame(
        {
            "customer_id": edges.source_ids[edges.edge_index[0]],
            "segment_id": edges.target_ids[edges.edge_index[1]],
            "score": pd.to_numeric(edges.properties.get("score", np.zeros(edges.num_edges))),
        }
    )
    frame = frame.sort_values(["customer_id", "score"], ascending=[True, False], kind="stable")
    return frame.drop_duplicates("customer_id")[["customer_id", "segment_id"]]


def _targets(store: GraphStore, rel_type: str, name: str) -> pd.DataFrame:
    """``product_id, <name>`` from a one-target-per-product relationship."""
    edges = store.edge_arrays(rel_type)
    return pd.DataFrame(
        {
            "product_id": edges.source_ids[edges.edge_index[0]],
            name: edges.target_ids[edges.edge_index[1]],
        }
    )


def panel_from_store(
    store: GraphStore,
    *,
    segments: pd.DataFrame | None = None,
    config: PanelConfig = PanelConfig(),
) -> pd.DataFrame:
    """Build the panel from a graph store's purchases, products and price points.

    Reads ``PURCHASED`` edges, ``Product`` nodes (``list_price``, ``cost``),
    ``IN_CATEGORY`` / ``OF_BRAND`` edges and ``PricePoint`` nodes of kind
    ``competitor``, then calls :func:`build_panel`.

    Args:
        store: The graph store (any backend).
        segments: Optional ``customer_id, segment_id`` (see :func:`segments_from_store`).
        config: Panel options.

    Returns:
        The panel (see :func:`build_panel`).
    """
    bought = store.edge_arrays("PURCHASED")
    props = bought.properties
    transactions = pd.DataFrame(
        {
            "customer_id": bought.source_ids[bought.edge_index[0]],
            "product_id": bought.target_ids[bought.edge_index[1]],
            "ts": props["ts"],
            "qty": props["qty"],
            "unit_price": props["unit_price"],
        }
    )
    products = store.node_frame("Product")
    catalog = products.rename(columns={"id": "product_id"})
    catalog = catalog[[c for c in ("product_id", "list_price", "cost") if c in catalog.columns]]
    catalog = catalog.merge(_targets(store, "IN_CATEGORY", "category"), how="left")
    catalog = catalog.merge(_targets(store, "OF_BRAND", "brand"), how="left")
    points = store.node_frame("PricePoint")
    competitor = None
    if not points.empty and "kind" in points.columns:
        competitor = points[points["kind"] == "competitor"]
    return build_panel(
        transactions,
        catalog=catalog,
        competitor_prices=competitor,
        segments=segments,
        config=config,
    )


__all__ = [
    "ALL_SEGMENTS",
    "FREE_LINES",
    "PANEL_COLUMNS",
    "PanelConfig",
    "build_panel",
    "calendar_features",
    "panel_from_store",
    "segments_from_store",
    "uk_holidays",
]
