"""Build :class:`~pricegraph.pricing.policy.QuoteState` objects from the graph and vector stores.

One request (a single quote or a batch) reads each kind of fact once and caches it for
that request only, so a quote never sees stale data from an earlier one:

* few keys (at most :data:`PER_KEY_LIMIT` products): per-key reads (``get_nodes``,
  ``neighbors``, ``price_history``, ``purchase_history``);
* more keys: one whole-kind read each (``edge_arrays``, ``node_frame("PricePoint")``).

Both paths give the same facts. Prices come from the ``PricePoint`` nodes: the own
price in force at ``now`` (a markdown over the list price), the cheapest competitor
price in force at ``now``, and the lowest own price in force during the 30 days before
``now`` (the Omnibus reference). Times are UTC; the store's naive timestamps are UTC.
Amounts are gross, in the shop currency.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ..embeddings.base import VectorStore
from ..errors import NotFoundError
from ..gnn.service import graph_vectors
from ..graph.base import GraphStore
from .config import PricingConfig
from .fairness import check_personalization_inputs
from .policy import QuoteState

PER_KEY_LIMIT = 8
"""Up to this many distinct products (and customers) a request reads key by key."""
OMNIBUS_WINDOW_DAYS = 30
"""Window of the lowest previous price (EU Omnibus directive)."""
QUOTE_STATE_FEATURES: tuple[str, ...] = tuple(
    spec.name for spec in fields(QuoteState) if spec.name not in ("customer_id", "product_id")
)
"""The inputs a policy may personalise on: every ``QuoteState`` field but the ids."""
_VECTORS = ("customer_vector", "product_vector")


@dataclass(frozen=True)
class ProductFacts:
    """What the guardrails and the rationale need about one product (gross amounts)."""

    product_id: str
    category_id: str
    list_price: float
    unit_cost: float
    is_cost_estimated: bool
    """No cost in the graph: ``unit_cost = default_cost_ratio * list_price``."""
    stock_units: float | None
    current_price: float
    """The own price in force at ``now`` (markdown, else list)."""
    competitor_price: float | None
    """The cheapest competitor price in force at ``now``."""
    lowest_price_30d: float | None
    """The lowest own price in force in the 30 days before ``now``."""


@dataclass(frozen=True)
class CustomerFacts:
    """What the rationale needs about one customer."""

    customer_id: str
    segment_id: str | None
    segment_name: str | None
    segment_description: str | None
    days_since_last_purchase: float | None


@dataclass(frozen=True)
class QuoteInput:
    """Everything a quote is computed from, besides the policy and the config."""

    state: QuoteState
    product: ProductFacts
    customer: CustomerFacts


def period_of(now: datetime, period_days: int) -> int:
    """Pricing period of ``now`` within its UTC year: ``(day of year - 1) // period_days``."""
    return (now.astimezone(UTC).timetuple().tm_yday - 1) // period_days


def vector_hash(vector: np.ndarray | None) -> str | None:
    """SHA-256 (first 16 hex digits) of a vector's float32 bytes; ``None`` for no vector."""
    if vector is None:
        return None
    data = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


def input_to_dict(item: QuoteInput) -> dict[str, Any]:
    """JSON-ready form of ``item``: vectors replaced by their :func:`vector_hash`."""
    state = {k: v for k, v in asdict(item.state).items() if k not in _VECTORS}
    for name in _VECTORS:
        state[f"{name}_hash"] = vector_hash(getattr(item.state, name))
    return {"state": state, "product": asdict(item.product), "customer": asdict(item.customer)}


def input_from_dict(
    data: Mapping[str, Any], vectors: Mapping[str, np.ndarray | None]
) -> QuoteInput:
    """Rebuild a :class:`QuoteInput` from :func:`input_to_dict` and the two vectors."""
    state = {k: v for k, v in data["state"].items() if not k.endswith("_vector_hash")}
    return QuoteInput(
        QuoteState(**state, **{name: vectors.get(name) for name in _VECTORS}),
        ProductFacts(**data["product"]),
        CustomerFacts(**data["customer"]),
    )


def own_prices(
    points: pd.DataFrame, now: datetime, window_days: float = OMNIBUS_WINDOW_DAYS
) -> tuple[float | None, float | None]:
    """The own price in force at ``now`` and the lowest one in force in the window before.

    Args:
        points: One product's ``list``/``markdown`` price points (``kind, price,
            valid_from, valid_to``; naive UTC, ``valid_to`` NaT = open). A markdown in
            force overrides the list price; among points of one kind the latest start wins.
        now: End of the window (aware or naive UTC).
        window_days: Window length in days.

    Returns:
        ``(price at now, lowest price in (now - window_days, now])``, ``None`` where no
        price was in force.
    """
    end = _naive(now)
    start = end - timedelta(days=window_days)
    own = points[points["kind"].isin(["list", "markdown"])]
    if own.empty:
        return None, None
    rank = np.where(own["kind"].to_numpy() == "markdown", 1, 0)
    begin = pd.to_datetime(own["valid_from"]).to_numpy("datetime64[us]")
    stop = pd.to_datetime(own["valid_to"]).to_numpy("datetime64[us]")
    stop = np.where(np.isnat(stop), np.datetime64("9999-01-01", "us"), stop)
    prices = own["price"].to_numpy(float)
    order = np.lexsort((begin, rank))[::-1]  # highest priority first

    def at(moment: np.datetime64) -> float | None:
        live = order[(begin[order] <= moment) & (stop[order] > moment)]
        return float(prices[live[0]]) if len(live) else None

    edges = {np.datetime64(start, "us"), *begin.tolist(), *stop.tolist()}
    moments = [np.datetime64(m, "us") for m in edges]
    moments = [m for m in moments if np.datetime64(start, "us") <= m <= np.datetime64(end, "us")]
    seen = [p for p in (at(m) for m in moments) if p is not None]
    return at(np.datetime64(end, "us")), (min(seen) if seen else None)


class StateBuilder:
    """Builds quote states and facts for (customer, product) pairs.

    Args:
        store: The graph store.
        vectors: The vector store with the GNN ``graph`` vectors, or ``None`` (no vectors).
        config: The pricing section (guardrails for the input check, period length,
            default cost ratio).
        collections: ``{"customers": name, "products": name}`` of the vector store.
        feature_names: Extra inputs the policy declares beyond :data:`QUOTE_STATE_FEATURES`.
        period_start_stock: Product -> stock units at the period start; without it the
            inventory ratio is 1.0 (unknown).
        segment_version: Use ``IN_SEGMENT`` edges to ``SEG-<version>-*`` only; ``None``:
            the customer's segment with the greatest key.

    Raises:
        GuardrailError: A policy input is a protected attribute or a proxy of one.
    """

    def __init__(
        self,
        store: GraphStore,
        vectors: VectorStore | None,
        config: PricingConfig,
        *,
        collections: Mapping[str, str] | None = None,
        feature_names: Sequence[str] = (),
        period_start_stock: Mapping[str, float] | None = None,
        segment_version: str | None = None,
    ) -> None:
        self.feature_names = (*QUOTE_STATE_FEATURES, *feature_names)
        check_personalization_inputs(self.feature_names, config.guardrails)
        self.store, self.vectors, self.config = store, vectors, config
        self.collections = dict(collections or {})
        self.period_start_stock = dict(period_start_stock or {})
        self.segment_version = segment_version

    def build(self, pairs: Sequence[tuple[str, str]], now: datetime) -> list[QuoteInput]:
        """Inputs for every ``(customer_id, product_id)`` pair, aligned with ``pairs``.

        Raises:
            NotFoundError: A customer or product does not exist (``kind`` is
                ``"customer"`` or ``"product"``, ``key`` the id).
        """
        customer_ids = list(dict.fromkeys(c for c, _ in pairs))
        product_ids = list(dict.fromkeys(p for _, p in pairs))
        is_bulk = max(len(customer_ids), len(product_ids)) > PER_KEY_LIMIT
        products = self._products(product_ids, now, is_bulk)
        customers = self._customers(customer_ids, now, is_bulk)
        vectors = {
            "customer": self._vectors("customers", customer_ids),
            "product": self._vectors("products", product_ids),
        }
        period = period_of(now, self.config.period_days)
        out = []
        for customer_id, product_id in pairs:
            product, customer = products[product_id], customers[customer_id]
            state = QuoteState(
                customer_id=customer_id,
                product_id=product_id,
                category_id=product.category_id,
                segment_id=customer.segment_id,
                period=period,
                list_price=product.list_price,
                unit_cost=product.unit_cost,
                inventory_ratio=self._inventory_ratio(product),
                competitor_price_ratio=(
                    product.competitor_price / product.list_price
                    if product.competitor_price is not None and product.list_price > 0
                    else 1.0
                ),
                days_since_last_purchase=customer.days_since_last_purchase,
                customer_vector=vectors["customer"].get(customer_id),
                product_vector=vectors["product"].get(product_id),
            )
            out.append(QuoteInput(state, product, customer))
        return out

    def vectors_for(self, customer_id: str, product_id: str) -> dict[str, np.ndarray | None]:
        """The current ``customer_vector`` and ``product_vector`` of one pair (for replays)."""
        return {
            "customer_vector": self._vectors("customers", [customer_id]).get(customer_id),
            "product_vector": self._vectors("products", [product_id]).get(product_id),
        }

    def _inventory_ratio(self, product: ProductFacts) -> float:
        start = self.period_start_stock.get(product.product_id)
        if start is None or start <= 0 or product.stock_units is None:
            return 1.0
        return max(product.stock_units, 0.0) / start

    def _vectors(self, kind: str, keys: list[str]) -> dict[str, np.ndarray]:
        if self.vectors is None or kind not in self.collections:
            return {}
        return graph_vectors(self.vectors, self.collections[kind], keys)

    def _products(self, ids: list[str], now: datetime, is_bulk: bool) -> dict[str, ProductFacts]:
        nodes = _require(self.store.get_nodes("Product", ids), ids, "product")
        if is_bulk:
            categories = _targets(self.store, "IN_CATEGORY", ids)
            points = self.store.node_frame("PricePoint")
            if points.empty:
                points = pd.DataFrame(columns=["product_id", "kind", "price"])
            by_product = dict(iter(points.groupby("product_id", sort=False)))
        else:
            categories = {
                pid: [n.id for n in self._out(("Product", pid), "IN_CATEGORY")] for pid in ids
            }
            by_product = {pid: self.store.price_history(pid) for pid in ids}
        facts = {}
        for pid, node in zip(ids, nodes, strict=True):
            list_price = float(node.get("list_price") or 0.0)
            cost = node.get("cost")
            is_estimated = cost is None or not np.isfinite(cost)
            points = by_product.get(pid)
            current, lowest, competitor = list_price, None, None
            if points is not None and not points.empty:
                own_now, lowest = own_prices(points, now)
                current = list_price if own_now is None else own_now
                competitor = _competitor_at(points, now)
            stock = node.get("stock_units")
            facts[pid] = ProductFacts(
                product_id=pid,
                category_id=min(categories.get(pid) or [""]),
                list_price=list_price,
                unit_cost=(
                    self.config.default_cost_ratio * list_price if is_estimated else float(cost)
                ),
                is_cost_estimated=is_estimated,
                stock_units=None if stock is None else float(stock),
                current_price=current,
                competitor_price=competitor,
                lowest_price_30d=lowest,
            )
        return facts

    def _customers(self, ids: list[str], now: datetime, is_bulk: bool) -> dict[str, CustomerFacts]:
        _require(self.store.get_nodes("Customer", ids), ids, "customer")
        end = np.datetime64(_naive(now), "us")
        if is_bulk:
            segments = _targets(self.store, "IN_SEGMENT", ids)
            bought = self.store.edge_arrays("PURCHASED")
            frame = pd.DataFrame(
                {
                    "customer_id": bought.source_ids[bought.edge_index[0]],
                    "ts": pd.to_datetime(bought.properties.get("ts", [])),
                }
            )
            frame = frame[frame["customer_id"].isin(ids) & (frame["ts"] <= end)]
            last = frame.groupby("customer_id")["ts"].max().to_dict()
        else:
            segments = {
                cid: [n.id for n in self._out(("Customer", cid), "IN_SEGMENT")] for cid in ids
            }
            last = {}
            for cid in ids:
                history = pd.to_datetime(self.store.purchase_history(cid)["ts"])
                history = history[history <= end]
                if len(history):
                    last[cid] = history.max()
        chosen = {cid: self._segment(segments.get(cid, [])) for cid in ids}
        wanted = sorted({s for s in chosen.values() if s is not None})
        nodes = dict(zip(wanted, self.store.get_nodes("Segment", wanted), strict=True))
        facts = {}
        for cid in ids:
            segment = chosen[cid]
            node = nodes.get(segment) or {}
            days = None
            if cid in last:
                days = max((end - np.datetime64(last[cid], "us")) / np.timedelta64(1, "s"), 0.0)
                days = float(days) / 86_400.0
            facts[cid] = CustomerFacts(
                cid, segment, node.get("name"), node.get("description"), days
            )
        return facts

    def _segment(self, keys: list[str]) -> str | None:
        if self.segment_version is not None:
            keys = [k for k in keys if k.startswith(f"SEG-{self.segment_version}-")]
        return max(keys) if keys else None

    def _out(self, node: tuple[str, str], rel_type: str) -> list:
        return self.store.neighbors(*node, rel_type=rel_type, direction="out", limit=1000)


def _require(nodes: list[dict | None], ids: list[str], kind: str) -> list[dict]:
    for key, node in zip(ids, nodes, strict=True):
        if node is None:
            raise NotFoundError(kind, key)
    return nodes  # type: ignore[return-value]


def _targets(store: GraphStore, rel_type: str, sources: list[str]) -> dict[str, list[str]]:
    edges = store.edge_arrays(rel_type)
    frame = pd.DataFrame(
        {
            "source": edges.source_ids[edges.edge_index[0]],
            "target": edges.target_ids[edges.edge_index[1]],
        }
    )
    frame = frame[frame["source"].isin(sources)]
    return {str(k): [str(t) for t in g] for k, g in frame.groupby("source")["target"]}


def _competitor_at(points: pd.DataFrame, now: datetime) -> float | None:
    rows = points[points["kind"] == "competitor"]
    if rows.empty:
        return None
    end = pd.Timestamp(_naive(now))
    begin, stop = pd.to_datetime(rows["valid_from"]), pd.to_datetime(rows["valid_to"])
    live = rows[(begin <= end) & (stop.isna() | (stop > end))]
    return float(live["price"].min()) if len(live) else None


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


__all__ = [
    "OMNIBUS_WINDOW_DAYS",
    "PER_KEY_LIMIT",
    "QUOTE_STATE_FEATURES",
    "CustomerFacts",
    "ProductFacts",
    "QuoteInput",
    "StateBuilder",
    "input_from_dict",
    "input_to_dict",
    "own_prices",
    "period_of",
    "vector_hash",
]
