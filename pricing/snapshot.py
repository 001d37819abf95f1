"""The graph facts quotes need, read once per kind into NumPy arrays, and the price windows.

:class:`StoreSnapshot` reads the whole store with one protocol call per kind of fact and
keeps what quote states need as arrays indexed by product or customer row. Facts that
depend on the quote time (prices in force, the 30-day lowest price, the last purchase)
are computed per request from these arrays by vectorised code (:func:`price_windows`),
so a batch costs a few array passes instead of a store round trip per product. See
:mod:`pricegraph.pricing.quotes.state` for how long a snapshot is kept.

Times are int64 microseconds since the epoch of naive UTC datetimes; NaT is the int64
minimum (:data:`NAT_US`). Amounts are gross, in the shop currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..graph.base import GraphStore

NAT_US = int(np.iinfo(np.int64).min)
"""How NaT reads as int64 microseconds."""
_NEVER_US = int(np.iinfo(np.int64).max)


def price_windows(
    codes: np.ndarray,
    num_products: int,
    rank: np.ndarray,
    begin_us: np.ndarray,
    stop_us: np.ndarray,
    price: np.ndarray,
    *,
    start_us: int,
    end_us: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Own price in force at ``end_us`` and the lowest one in force in ``[start_us, end_us]``.

    A point is in force at ``t`` when ``begin <= t < stop`` (NaT begin: never; NaT stop:
    open). At each moment the point in force with the greatest ``(rank, begin, row)``
    sets the price. The price is piecewise constant between the window start and the
    begins and stops inside the window, so the lowest price is the minimum over those
    moments. Vectorised over every (moment, point of the same product) pair.

    Args:
        codes: Product of each point, int64 in ``[0, num_products)``, shape
            ``[num_points]``; among equal ``(rank, begin)`` the later point wins.
        num_products: Number of products.
        rank: Priority of each point (markdown 1 over list 0), shape ``[num_points]``.
        begin_us: ``valid_from`` in microseconds, shape ``[num_points]``.
        stop_us: ``valid_to`` in microseconds, shape ``[num_points]``.
        price: Gross price of each point, shape ``[num_points]``.
        start_us: Window start (inclusive), microseconds.
        end_us: Window end and quote time (inclusive), microseconds.

    Returns:
        ``(current, lowest)``, float64 ``[num_products]``, NaN where no price was in force.
    """
    order = np.argsort(codes, kind="stable")
    codes = np.asarray(codes, dtype=np.int64)[order]
    rank, price = np.asarray(rank)[order], np.asarray(price, dtype=float)[order]
    begin = np.where(begin_us == NAT_US, _NEVER_US, begin_us)[order]
    stop = np.where(stop_us == NAT_US, _NEVER_US, stop_us)[order]
    offsets = np.searchsorted(codes, np.arange(num_products + 1))

    def at(moment_codes: np.ndarray, moments: np.ndarray) -> np.ndarray:
        moment, point = _expand(offsets, moment_codes)
        t = moments[moment]
        live = (begin[point] <= t) & (stop[point] > t)
        moment, point = moment[live], point[live]
        chosen = np.lexsort((point, begin[point], rank[point], moment))
        moment, point = moment[chosen], point[chosen]
        is_last = np.r_[moment[1:] != moment[:-1], True] if len(moment) else moment > 0
        out = np.full(len(moments), np.nan)
        out[moment[is_last]] = price[point[is_last]]
        return out

    products = np.arange(num_products, dtype=np.int64)
    in_begin = (begin >= start_us) & (begin <= end_us)
    in_stop = (stop >= start_us) & (stop <= end_us)
    moment_codes = np.concatenate([products, codes[in_begin], codes[in_stop]])
    moments = np.concatenate([np.full(num_products, start_us), begin[in_begin], stop[in_stop]])
    lowest = np.full(num_products, np.nan)
    np.fmin.at(lowest, moment_codes, at(moment_codes, moments))
    return at(products, np.full(num_products, end_us)), lowest


@dataclass(frozen=True)
class StoreSnapshot:
    """Graph facts for quote states, one array row per product or customer.

    Attributes:
        product_rows: Product key -> row.
        list_price: ``[num_products]`` gross list price (0 when missing).
        max_price: ``[num_products]`` the catalogue's absolute price ceiling (e.g. the
            manufacturer's recommended price), NaN when missing.
        cost: ``[num_products]`` unit cost, NaN when missing.
        stock_units: ``[num_products]`` stock, NaN when missing.
        category_id: Per product row, the least ``IN_CATEGORY`` target key (``""``: none).
        ladder: ``(cheaper, dearer)`` int64 ``[num_products]`` rows of the product's
            neighbours in the price ladder of its brand and category (products of the
            same brand and category ordered by list price, then key); -1: none.
        own: ``list``/``markdown`` points as ``(offsets [num_products + 1], rank, begin_us,
            stop_us, price)``; product row ``r`` owns ``offsets[r]:offsets[r + 1]``, in the
            store's ``id`` order.
        competitor: ``competitor`` points as ``(offsets, begin_us, stop_us, price)``.
        customer_rows: Customer key -> row.
        segment_id: Per customer row, the chosen segment key or ``None``.
        segments: Segment key -> ``(name, description)``.
        purchases: ``(offsets [num_customers + 1], ts_us)``, sorted by time per customer.
    """

    product_rows: dict[str, int]
    list_price: np.ndarray
    max_price: np.ndarray
    cost: np.ndarray
    stock_units: np.ndarray
    category_id: list[str]
    ladder: tuple[np.ndarray, np.ndarray]
    own: tuple[np.ndarray, ...]
    competitor: tuple[np.ndarray, ...]
    customer_rows: dict[str, int]
    segment_id: list[str | None]
    segments: dict[str, tuple[str | None, str | None]]
    purchases: tuple[np.ndarray, np.ndarray]

    @classmethod
    def load(cls, store: GraphStore, segment_version: str | None = None) -> StoreSnapshot:
        """Read the snapshot: ``node_frame`` of products, price points and segments,
        ``existing_keys`` of customers, ``edge_arrays`` of ``IN_CATEGORY``, ``IN_SEGMENT``
        and ``PURCHASED``.

        Args:
            store: The graph store.
            segment_version: Keep ``IN_SEGMENT`` targets ``SEG-<version>-*`` only; the
                chosen segment is the greatest remaining key.
        """
        products = store.node_frame("Product")
        product_keys = products["id"].astype(str).tolist() if len(products) else []
        product_rows = {key: row for row, key in enumerate(product_keys)}
        categories = _targets(store, "IN_CATEGORY").groupby("source")["target"].min()
        brands = _targets(store, "OF_BRAND").groupby("source")["target"].min()
        category_id = [str(categories.get(key, "")) for key in product_keys]
        list_price = np.nan_to_num(_floats(products, "list_price"), nan=0.0)
        columns = ["product_id", "kind", "price", "valid_from", "valid_to"]
        points = store.node_frame("PricePoint").reindex(columns=columns)
        rows = points["product_id"].map(product_rows)
        points = points.assign(row=rows)[rows.notna()]
        own = points[points["kind"].isin(["list", "markdown"])]
        competitor = points[points["kind"] == "competitor"]
        customer_keys = sorted(store.existing_keys("Customer"))
        customer_rows = {key: row for row, key in enumerate(customer_keys)}
        chosen = customer_segments(store, segment_version)
        nodes = store.node_frame("Segment").reindex(columns=["id", "name", "description"])
        names = zip(nodes["id"], nodes["name"], nodes["description"], strict=True)
        return cls(
            product_rows=product_rows,
            list_price=list_price,
            max_price=_floats(products, "max_price"),
            cost=_floats(products, "cost"),
            stock_units=_floats(products, "stock_units"),
            category_id=category_id,
            ladder=price_ladder(
                [str(brands.get(key, "")) for key in product_keys],
                category_id,
                list_price,
                product_keys,
            ),
            own=(
                _offsets(own["row"], len(product_keys)),
                *_sorted_by_row(
                    own,
                    (own["kind"] == "markdown").to_numpy(np.int64),
                    datetimes_us(own["valid_from"]),
                    datetimes_us(own["valid_to"]),
                    own["price"].to_numpy(float),
                ),
            ),
            competitor=(
                _offsets(competitor["row"], len(product_keys)),
                *_sorted_by_row(
                    competitor,
                    datetimes_us(competitor["valid_from"]),
                    datetimes_us(competitor["valid_to"]),
                    competitor["price"].to_numpy(float),
                ),
            ),
            customer_rows=customer_rows,
            segment_id=[_text(chosen.get(key)) for key in customer_keys],
            segments={str(key): (_text(name), _text(text)) for key, name, text in names},
            purchases=_purchases(store, customer_rows),
        )

    def competitor_at(self, rows: np.ndarray, end_us: int) -> np.ndarray:
        """The cheapest competitor price in force at ``end_us`` of product ``rows``; float64
        ``[len(rows)]``, NaN where none."""
        offsets, begin, stop, price = self.competitor
        code, point = _expand(offsets, rows)
        live = (begin[point] != NAT_US) & (begin[point] <= end_us)
        live &= (stop[point] == NAT_US) | (stop[point] > end_us)
        competitor = np.full(len(rows), np.nan)
        np.fmin.at(competitor, code[live], price[point[live]])
        return competitor

    def prices_at(
        self, rows: np.ndarray, *, start_us: int, end_us: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(current own, lowest own in [start, end], cheapest competitor at end)`` of
        product ``rows``; float64 ``[len(rows)]``, NaN where none."""
        offsets, rank, begin, stop, price = self.own
        code, point = _expand(offsets, rows)
        current, lowest = price_windows(
            code,
            len(rows),
            rank[point],
            begin[point],
            stop[point],
            price[point],
            start_us=start_us,
            end_us=end_us,
        )
        return current, lowest, self.competitor_at(rows, end_us)

    def last_purchase_us(self, rows: np.ndarray, end_us: int) -> list[int | None]:
        """Time of each customer row's last purchase at or before ``end_us`` (``None``: none)."""
        offsets, ts = self.purchases
        out: list[int | None] = []
        for row in rows.tolist():
            low, high = int(offsets[row]), int(offsets[row + 1])
            count = int(np.searchsorted(ts[low:high], end_us, side="right"))
            out.append(int(ts[low + count - 1]) if count else None)
        return out


def price_ladder(
    brand_id: Sequence[str],
    category_id: Sequence[str],
    list_price: np.ndarray,
    keys: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """``(cheaper, dearer)`` neighbour rows of each product in its brand/category ladder.

    Products with a brand, a category and a list price > 0 are ordered by list price
    (then key) within each (brand, category); the neighbours are the products just
    before and after. -1 where there is none (first or last rung, or not on a ladder).
    """
    n = len(keys)
    cheaper, dearer = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    frame = pd.DataFrame(
        {
            "brand": list(brand_id),
            "category": list(category_id),
            "price": list_price,
            "key": list(keys),
            "row": np.arange(n),
        }
    )
    frame = frame[(frame["brand"] != "") & (frame["category"] != "") & (frame["price"] > 0)]
    frame = frame.sort_values(["brand", "category", "price", "key"], kind="stable")
    rows = frame["row"].to_numpy(np.int64)
    group = (frame["brand"] + "\x1f" + frame["category"]).to_numpy()
    same = group[1:] == group[:-1]
    cheaper[rows[1:][same]] = rows[:-1][same]
    dearer[rows[:-1][same]] = rows[1:][same]
    return cheaper, dearer


def customer_segments(store: GraphStore, segment_version: str | None = None) -> pd.Series:
    """Customer key -> the key of its segment: the greatest ``IN_SEGMENT`` target (of
    ``SEG-<segment_version>-*`` only, when given), as quotes read it."""
    segments = _targets(store, "IN_SEGMENT")
    if segment_version is not None:
        segments = segments[segments["target"].str.startswith(f"SEG-{segment_version}-")]
    return segments.groupby("source")["target"].max()


def _expand(offsets: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(position in groups, item)`` for every item of every group, group order.

    Group ``g`` holds items ``offsets[g]:offsets[g + 1]``.
    """
    groups = np.asarray(groups, dtype=np.int64)
    counts = offsets[groups + 1] - offsets[groups]
    first = np.cumsum(counts) - counts
    position = np.repeat(np.arange(len(groups)), counts)
    item = np.repeat(offsets[groups] - first, counts) + np.arange(int(counts.sum()))
    return position, item


def _targets(store: GraphStore, rel_type: str) -> pd.DataFrame:
    edges = store.edge_arrays(rel_type)
    return pd.DataFrame(
        {
            "source": edges.source_ids[edges.edge_index[0]].astype(str),
            "target": edges.target_ids[edges.edge_index[1]].astype(str),
        }
    )


def _purchases(store: GraphStore, customer_rows: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    bought = store.edge_arrays("PURCHASED")
    customers = pd.Series(bought.source_ids[bought.edge_index[0]]).astype(str)
    rows = customers.map(customer_rows).to_numpy(float)
    ts = datetimes_us(pd.Series(bought.properties.get("ts", np.array([], "datetime64[us]"))))
    keep = ~np.isnan(rows) & (ts != NAT_US)
    rows, ts = rows[keep].astype(np.int64), ts[keep]
    order = np.lexsort((ts, rows))
    return _offsets(rows[order], len(customer_rows)), ts[order]


def _offsets(rows: Sequence[int] | pd.Series, count: int) -> np.ndarray:
    return np.searchsorted(np.sort(np.asarray(rows, dtype=np.int64)), np.arange(count + 1))


def _sorted_by_row(frame: pd.DataFrame, *columns: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(frame["row"].to_numpy(np.int64), kind="stable")
    return [np.asarray(column)[order] for column in columns]


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(float, na_value=np.nan)


def datetimes_us(values: pd.Series) -> np.ndarray:
    """Naive UTC datetimes as int64 microseconds; NaT as :data:`NAT_US`."""
    return pd.to_datetime(values).to_numpy("datetime64[us]").astype(np.int64)


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


__all__ = [
    "NAT_US",
    "StoreSnapshot",
    "customer_segments",
    "datetimes_us",
    "price_ladder",
    "price_windows",
]
