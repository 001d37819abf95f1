"""Synthetic price points (list, markdown, competitor) and the daily prices they imply.

All boundaries fall on UTC midnight, so every price point covers whole days
``[valid_from, valid_to)``. Price points are:

* ``list``: one per product, valid from ``start`` with no end, ``source="erp"``.
* ``markdown`` (``source="erp"``): seasonal sales (winter sale 26 Dec - 31 Jan,
  summer sale 25 Jun - 31 Jul, Black Friday Fri - Mon) clipped to the horizon; in
  each, a share of products is marked down by one of ``markdown_depths_pct``,
  deepening halfway by 10-20 points (cap 60 %) with ``second_markdown_prob``.
  Outside sales, short promotions (10-25 % off, 3-10 days) that never overlap
  another markdown of the same product.
* ``competitor`` (``source="scrape"``): per competitor, a subset of products whose
  price changes every ``competitor_change_days``; level ``list * exp(b_k + 0.06 z)``,
  with a 15-40 % discount in 12 % of periods (50 % when the period starts in a sale).
  The last period has no end.

Prices are rounded to whole currency units; markdown prices are below list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd

from .catalog import Catalog
from .config import WorldConfig

_KIND_RANK = {"list": 0, "markdown": 1, "competitor": 2}
_OPEN_LIST, _OPEN_COMPETITOR = -1, -2  # end_day markers of open-ended price points


class _Part(NamedTuple):
    """A batch of price points of one kind; arrays are ``[num_points]``."""

    product: np.ndarray
    """Product rows."""
    first_day: np.ndarray
    """Day index of ``valid_from``."""
    end_day: np.ndarray
    """Day index of ``valid_to`` (exclusive), or an ``_OPEN_*`` marker for no end."""
    raw_price: np.ndarray
    """Price before rounding, in ``currency``."""
    kind: str
    """``"list"``, ``"markdown"`` or ``"competitor"``."""
    competitor: int = -1
    """Competitor row, -1 for own prices."""


@dataclass(frozen=True)
class SaleWindow:
    """A sale period clipped to the horizon, as day indices ``[first_day, end_day)``."""

    name: str
    """``"winter sale"``, ``"summer sale"`` or ``"black friday"``."""
    first_day: int
    """First day index in the sale (0 = ``start``)."""
    end_day: int
    """Day index after the last sale day."""


def sale_windows(start: date, n_days: int) -> list[SaleWindow]:
    """Return the calendar sale windows that overlap ``[start, start + n_days)``, by date."""
    end = start + timedelta(days=n_days)
    windows = []
    for year in range(start.year - 1, end.year + 1):
        thanksgiving = date(year, 11, 22) + timedelta(days=(3 - date(year, 11, 22).weekday()) % 7)
        black_friday = thanksgiving + timedelta(days=1)
        for name, first, stop in (
            ("summer sale", date(year, 6, 25), date(year, 8, 1)),
            ("black friday", black_friday, black_friday + timedelta(days=4)),
            ("winter sale", date(year, 12, 26), date(year + 1, 2, 1)),
        ):
            lo = max((first - start).days, 0)
            hi = min((stop - start).days, n_days)
            if lo < hi:
                windows.append(SaleWindow(name, lo, hi))
    return sorted(windows, key=lambda w: w.first_day)


def sale_day_mask(windows: list[SaleWindow], n_days: int) -> np.ndarray:
    """Return ``[n_days]`` bool, True on days inside any sale window."""
    mask = np.zeros(n_days, dtype=bool)
    for window in windows:
        mask[window.first_day : window.end_day] = True
    return mask


def _expand(rows: np.ndarray, first: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, ...]:
    """Expand intervals ``[first, end)`` into (row, day, interval position) triples."""
    lengths = np.maximum(end - first, 0)
    position = np.repeat(np.arange(lengths.size), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return rows[position], first[position] + offset, position


def make_price_points(
    config: WorldConfig, catalog: Catalog, rng: np.random.Generator
) -> pd.DataFrame:
    """Draw list, markdown and competitor price points (kind ``prices``, canonical columns).

    Args:
        config: World configuration (horizon, markdown and competitor settings).
        catalog: The catalog; its list prices are the reference.
        rng: Generator used for every draw of the prices.

    Returns:
        Price points sorted by product, kind (list, markdown, competitor),
        competitor and ``valid_from``.
    """
    n_products, n_days = len(catalog.list_price), config.n_days
    list_price = catalog.list_price
    all_products = np.arange(n_products)
    no_end = np.full(n_products, _OPEN_LIST)
    parts = [_Part(all_products, np.zeros(n_products, int), no_end, list_price, "list")]

    # Seasonal markdowns.
    windows = sale_windows(config.start_date, n_days)
    depths = np.asarray(config.markdown_depths_pct, dtype=float)
    marked = np.zeros((n_products, n_days), dtype=bool)
    for window in windows:
        is_bf = window.name == "black friday"
        share = config.markdown_share * (0.5 if is_bf else 1.0)
        chosen = np.flatnonzero(rng.random(n_products) < share)
        depth = rng.choice(depths, size=chosen.size)
        step = np.where(rng.random(chosen.size) < 0.5, 10.0, 20.0)
        deeper = np.minimum(depth + step, 60.0)
        has_second = (
            (rng.random(chosen.size) < config.second_markdown_prob)
            & (deeper > depth)
            & (window.end_day - window.first_day >= 4)
            & (not is_bf)
        )
        mid = window.first_day + (window.end_day - window.first_day) // 2
        first_end = np.where(has_second, mid, window.end_day)
        first_price = list_price[chosen] * (1 - depth / 100)
        starts = np.full(chosen.size, window.first_day)
        parts.append(_Part(chosen, starts, first_end, first_price, "markdown"))
        second = chosen[has_second]
        second_price = list_price[second] * (1 - deeper[has_second] / 100)
        starts, ends = np.full(second.size, mid), np.full(second.size, window.end_day)
        parts.append(_Part(second, starts, ends, second_price, "markdown"))
        marked[chosen, window.first_day : window.end_day] = True

    # Short promotions outside sales, never overlapping another markdown.
    n_promos = rng.poisson(config.promo_rate_per_year * n_days / 365.0, size=n_products)
    promo_product = np.repeat(all_products, n_promos)
    promo_first = rng.integers(0, n_days, size=promo_product.size)
    promo_end = np.minimum(promo_first + rng.integers(3, 11, size=promo_product.size), n_days)
    promo_depth = rng.choice(np.array([10.0, 15.0, 20.0, 25.0]), size=promo_product.size)
    is_kept = np.zeros(promo_product.size, dtype=bool)
    for i in range(promo_product.size):
        days = marked[promo_product[i], promo_first[i] : promo_end[i]]
        if not days.any():
            days[:] = True
            is_kept[i] = True
    kept = promo_product[is_kept]
    promo_price = list_price[kept] * (1 - promo_depth[is_kept] / 100)
    parts.append(_Part(kept, promo_first[is_kept], promo_end[is_kept], promo_price, "markdown"))

    # Competitor prices.
    is_sale_day = sale_day_mask(windows, n_days)
    low, high = config.competitor_change_days
    for k in range(config.n_competitors):
        covered = np.flatnonzero(rng.random(n_products) < config.competitor_coverage * 0.7**k)
        bias = rng.normal(-0.02, 0.04)
        n_slots = n_days // low + 1
        gaps = rng.integers(low, high + 1, size=(covered.size, n_slots))
        first = np.concatenate([np.zeros((covered.size, 1), int), np.cumsum(gaps, 1)[:, :-1]], 1)
        end = np.minimum(first + gaps, n_days)
        level = list_price[covered, None] * np.exp(bias + 0.06 * rng.standard_normal(first.shape))
        discount_prob = np.where(is_sale_day[np.minimum(first, n_days - 1)], 0.5, 0.12)
        discount = rng.uniform(0.15, 0.4, size=first.shape) * (
            rng.random(first.shape) < discount_prob
        )
        is_used = first < n_days
        end = np.where(end >= n_days, _OPEN_COMPETITOR, end)  # last period has no end
        product = np.broadcast_to(covered[:, None], first.shape)[is_used]
        price = (level * (1 - discount))[is_used]
        parts.append(_Part(product, first[is_used], end[is_used], price, "competitor", k))

    return _price_frame(config, catalog, parts)


def _price_frame(config: WorldConfig, catalog: Catalog, parts: list[_Part]) -> pd.DataFrame:
    """Round prices, derive ids and timestamps, and sort the price points."""
    product = np.concatenate([p.product for p in parts]).astype(np.int64)
    first = np.concatenate([p.first_day for p in parts]).astype(np.int64)
    end = np.concatenate([p.end_day for p in parts]).astype(np.int64)
    raw = np.concatenate([p.raw_price for p in parts])
    kind = np.concatenate([np.full(p.product.size, _KIND_RANK[p.kind]) for p in parts])
    comp = np.concatenate([np.full(p.product.size, p.competitor) for p in parts])
    price = np.maximum(np.round(raw), 1.0)
    is_markdown = kind == _KIND_RANK["markdown"]
    price[is_markdown] = np.minimum(
        price[is_markdown], catalog.list_price[product[is_markdown]] - 1
    )

    order = np.lexsort((first, comp, kind, product))
    product, first, end, price, kind, comp = (
        a[order] for a in (product, first, end, price, kind, comp)
    )
    start = np.datetime64(config.start, "s")
    valid_from = start + first.astype("timedelta64[D]")
    valid_to = np.where(end < 0, np.datetime64("NaT"), start + end.astype("timedelta64[D]"))
    kinds = np.asarray(list(_KIND_RANK))[kind]
    product_ids = catalog.products["product_id"].to_numpy()[product]
    comp_ids = np.where(comp >= 0, np.char.add("COMP", (comp + 1).astype(str)), "")
    day_codes = np.char.replace(np.datetime_as_string(valid_from, unit="D"), "-", "")
    ids = [
        f"PP-{p}-{k}-{c}-{d}"
        for p, k, c, d in zip(product_ids, kinds, comp_ids, day_codes, strict=True)
    ]
    return pd.DataFrame(
        {
            "price_point_id": ids,
            "product_id": product_ids,
            "price": price,
            "currency": config.currency,
            "kind": kinds,
            "valid_from": _utc(valid_from),
            "valid_to": _utc(valid_to.astype("datetime64[s]")),
            "source": np.where(kind == _KIND_RANK["competitor"], "scrape", "erp"),
            "competitor_id": np.where(comp >= 0, comp_ids, np.array(None, dtype=object)),
        }
    )


def _utc(values: np.ndarray) -> pd.Series:
    """Convert ``datetime64`` values (UTC, naive) to a tz-aware microsecond Series."""
    return pd.Series(values.astype("datetime64[us]")).dt.tz_localize("UTC")


def daily_price_matrix(
    prices: pd.DataFrame, product_ids: Sequence[str] | pd.Index | pd.Series, start: str, n_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the own and cheapest competitor price of each product on each day.

    A price point counts for day ``t`` when it is in force at that day's 00:00 UTC,
    i.e. ``valid_from <= t < valid_to`` (no ``valid_to`` means open-ended).

    Args:
        prices: Price points with canonical columns (tz-aware ``valid_from``/``valid_to``).
        product_ids: Product ids; row ``j`` of the result is ``product_ids[j]``.
        start: First day, ISO date (UTC).
        n_days: Number of days.

    Returns:
        ``(own, competitor)``, each ``[num_products, n_days]`` float in ``currency``.
        ``own`` is the lowest markdown in force, else the list price with the
        latest ``valid_from`` in force (NaN when neither). ``competitor`` is the
        lowest competitor price in force (NaN when none).
    """
    index = pd.Index(product_ids)
    origin = pd.Timestamp(start, tz="UTC")
    day = pd.Timedelta(days=1)
    row = index.get_indexer(prices["product_id"])
    first = np.ceil((prices["valid_from"] - origin) / day).to_numpy(float)
    end = np.ceil((prices["valid_to"] - origin) / day).to_numpy(float)
    first = np.clip(first, 0, n_days).astype(np.int64)
    end = np.clip(np.nan_to_num(end, nan=n_days), 0, n_days).astype(np.int64)
    value = prices["price"].to_numpy(float)
    kind = prices["kind"].to_numpy()

    own = np.full((len(index), n_days), np.nan)
    is_list = (kind == "list") & (row >= 0)
    for i in np.flatnonzero(is_list)[np.argsort(first[is_list], kind="stable")]:
        own[row[i], first[i] : end[i]] = value[i]
    result = []
    for name in ("markdown", "competitor"):
        matrix = np.full((len(index), n_days), np.inf)
        sel = np.flatnonzero((kind == name) & (row >= 0))
        rows, days, pos = _expand(row[sel], first[sel], end[sel])
        np.minimum.at(matrix, (rows, days), value[sel][pos])
        result.append(np.where(np.isinf(matrix), np.nan, matrix))
    markdown, competitor = result
    own = np.where(np.isnan(markdown), own, markdown)
    return own, competitor


__all__ = [
    "SaleWindow",
    "daily_price_matrix",
    "make_price_points",
    "sale_day_mask",
    "sale_windows",
]
