"""Build :class:`~pricegraph.pricing.policy.QuoteState` objects from the graph and vector stores.

Graph reads are set-based and cached per builder. The first request reads each kind of
fact once for the whole store, one protocol call each (``node_frame`` of ``Product``,
``PricePoint`` and ``Segment``; ``existing_keys("Customer")``; ``edge_arrays`` of
``IN_CATEGORY``, ``IN_SEGMENT`` and ``PURCHASED``), into a snapshot of NumPy arrays,
and the products' stored currencies with one ``read_cypher``.
Every request, one quote or a batch, is then answered from the snapshot with vectorised
code and no graph round trip. The snapshot is read again at the next request after
:meth:`StateBuilder.invalidate`, by that request itself (read-your-writes: call it after
writing prices, products, customers or segments to the store), when it is older than
``cache_ttl_s`` seconds (``cache_ttl_s=0`` reads the store on every request), and about a
second after :meth:`StateBuilder.mark_stale` (call it after writing events: a stream of
purchases then costs a refresh about once a second, ahead, not one per write on the
request path).

**Refresh ahead.** With ``refresh_ahead`` (the default), the first request that finds the
snapshot older than the TTL does not read the store: it is answered from the snapshot in
hand while one background thread reads the new snapshot, warms the policy for it (its
``prepare(market, period)``, e.g. the meso level's re-plan from the new stock, see
:meth:`~pricegraph.pricing.policies.hierarchy.HierarchicalPolicy.prepare`) and only then
swaps it in. Only when the snapshot is read changes, not what is decided from it. The
facts a quote uses are then at most TTL + the wait for the first request past it + the
refresh's duration old, and never more than 2 x TTL: a request that finds the snapshot
older than that reads the store itself, as without refresh ahead. A failed refresh is
logged and the snapshot in hand kept (the next request past the TTL starts another); a
refresh started before an :meth:`~StateBuilder.invalidate` is discarded. Until the swap,
quotes use the facts of the snapshot, and a customer or product added since raises
``NotFoundError``. The GNN vectors are read from the vector store per request.

Prices come from the ``PricePoint`` nodes: the own price in force at ``now`` (a markdown
over the list price), the cheapest competitor price in force at ``now``, and the lowest
own price in force during the 30 days before ``now`` (the Omnibus reference). Times are
UTC; the store's naive timestamps are UTC. Amounts are gross, in the shop currency.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from ...embeddings.base import VectorStore
from ...errors import NotFoundError
from ...graph.base import GraphStore, concurrent_readers
from ..config import PricingConfig
from ..guardrails.fairness import check_personalization_inputs
from ..policy import MarketObservation, QuoteState, Season
from ..snapshot import StoreSnapshot, datetimes_us, price_windows
from .inputs import CustomerFacts, ProductFacts, QuoteInput
from .snapshot_cache import SnapshotCache

OMNIBUS_WINDOW_DAYS = 30
"""Window of the lowest previous price (EU Omnibus directive)."""
DEFAULT_CACHE_TTL_S = 60.0
"""Default age, in seconds, after which the builder reads the graph store again."""
QUOTE_STATE_FEATURES: tuple[str, ...] = tuple(
    spec.name for spec in fields(QuoteState) if spec.name not in ("customer_id", "product_id")
)
"""The inputs a policy may personalise on: every ``QuoteState`` field but the ids."""


def period_of(now: datetime, period_days: int) -> int:
    """Pricing period of ``now`` within its UTC year: ``(day of year - 1) // period_days``."""
    return (now.astimezone(UTC).timetuple().tm_yday - 1) // period_days


def own_prices(
    points: pd.DataFrame, now: datetime, window_days: float = OMNIBUS_WINDOW_DAYS
) -> tuple[float | None, float | None]:
    """The own price in force at ``now`` and the lowest one in force in the window before.

    One product's case of :func:`~pricegraph.pricing.snapshot.price_windows`.

    Args:
        points: One product's price points (``kind, price, valid_from, valid_to``; naive
            UTC, ``valid_to`` NaT = open); only ``list`` and ``markdown`` count. A markdown
            in force overrides the list price; among points of one kind the latest start
            wins, then the later row.
        now: End of the window (aware or naive UTC).
        window_days: Window length in days.

    Returns:
        ``(price at now, lowest price in force at any moment of [now - window_days,
        now])``, ``None`` where no price was in force.
    """
    own = points[points["kind"].isin(["list", "markdown"])]
    end = _naive(now)
    current, lowest = price_windows(
        np.zeros(len(own), dtype=np.int64),
        1,
        (own["kind"].to_numpy() == "markdown").astype(np.int64),
        datetimes_us(own["valid_from"]),
        datetimes_us(own["valid_to"]),
        own["price"].to_numpy(float),
        start_us=_to_micros(end - timedelta(days=window_days)),
        end_us=_to_micros(end),
    )
    return _optional(current[0]), _optional(lowest[0])


@dataclass(frozen=True, eq=False)
class _Loaded:
    """One read of the graph store: the snapshot and the currencies read with it."""

    snapshot: StoreSnapshot
    currencies: dict[str, str]


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
        cache_ttl_s: Age in seconds (monotonic clock) after which the graph snapshot is
            read again; ``0``: on every request; ``None``: only after :meth:`invalidate` or
            :meth:`mark_stale`.
        season: The policy's season: a quote's ``period`` is the season period of its
            time; ``None``: :func:`period_of` the year with ``config.period_days``.
        refresh_ahead: Read a snapshot older than ``cache_ttl_s`` on a background thread
            while requests keep the one in hand (module docstring); off, or when
            ``store`` declares no concurrent readers
            (:func:`~pricegraph.graph.base.concurrent_readers`), the request reads it.
        warm_up: Called on the background thread, before the swap, with the new
            snapshot's market observation and the period of the request that started
            the refresh (the policy's ``prepare``); ``None``: nothing is warmed.
        monotonic: The clock of the TTL, in seconds (tests pass their own).

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
        cache_ttl_s: float | None = DEFAULT_CACHE_TTL_S,
        season: Season | None = None,
        refresh_ahead: bool = True,
        warm_up: Callable[[MarketObservation, int], object] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.feature_names = (*QUOTE_STATE_FEATURES, *feature_names)
        self.season = season
        check_personalization_inputs(self.feature_names, config.guardrails)
        self.store, self.vectors, self.config = store, vectors, config
        self.collections = dict(collections or {})
        self.period_start_stock = dict(period_start_stock or {})
        self.segment_version = segment_version
        self.warm_up = warm_up
        self.cache = SnapshotCache(
            self._read,
            ttl_s=cache_ttl_s,
            refresh_ahead=refresh_ahead and concurrent_readers(store) > 0,
            prepare=self._prepare,
            monotonic=monotonic,
        )
        self._market: tuple[StoreSnapshot, int, MarketObservation] | None = None

    @property
    def cache_ttl_s(self) -> float | None:
        """Age in seconds after which the graph snapshot is read again (see ``Args``)."""
        return self.cache.ttl_s

    def invalidate(self) -> None:
        """Drop the cached graph snapshot: the next request reads the store itself, and a
        refresh in flight is discarded."""
        self.cache.invalidate()

    def mark_stale(self) -> None:
        """Say the store changed (events written): the snapshot is read again once it is
        a second old, ahead of the requests (:meth:`SnapshotCache.mark_stale`)."""
        self.cache.mark_stale()

    def snapshot(self) -> StoreSnapshot:
        """The cached graph snapshot, read again when invalidated or older than the TTL
        (ahead, without warming the policy: no quote time is known here)."""
        return self.cache.get().snapshot

    def close(self) -> None:
        """Start no more background refreshes and wait for the one in flight (see
        :meth:`SnapshotCache.close`)."""
        self.cache.close()

    def _read(self) -> _Loaded:
        snapshot = StoreSnapshot.load(self.store, self.segment_version)
        return _Loaded(snapshot, stored_currencies(self.store))

    def _prepare(self, loaded: _Loaded, now: datetime | None) -> None:
        """Warm the policy for a refreshed snapshot (background thread, before the swap)."""
        if self.warm_up is not None and now is not None:
            self.warm_up(self._observe(loaded.snapshot, now), self._period(now))

    def build(self, pairs: Sequence[tuple[str, str]], now: datetime) -> list[QuoteInput]:
        """Inputs for every ``(customer_id, product_id)`` pair, aligned with ``pairs``.

        Raises:
            NotFoundError: A customer or product does not exist (``kind`` is
                ``"customer"`` or ``"product"``, ``key`` the id).
        """
        loaded = self.cache.get(now)  # one snapshot and its currencies for the request
        snapshot = loaded.snapshot
        customer_ids = list(dict.fromkeys(c for c, _ in pairs))
        product_ids = list(dict.fromkeys(p for _, p in pairs))
        products = self._products(snapshot, loaded.currencies, product_ids, now)
        customers = self._customers(snapshot, customer_ids, now)
        vectors = {
            "customer": self._vectors("customers", customer_ids),
            "product": self._vectors("products", product_ids),
        }
        period = self._period(now)
        market = self._observe(snapshot, now)
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
                market=market,
            )
            out.append(QuoteInput(state, product, customer))
        return out

    def market(self, now: datetime) -> MarketObservation:
        """Stock and the cheapest competitor price in force at ``now`` of every product
        (the policy's market observation), from the snapshot."""
        return self._observe(self.cache.get(now).snapshot, now)

    def _period(self, now: datetime) -> int:
        season = self.season
        return season.period_of(now) if season else period_of(now, self.config.period_days)

    def _observe(self, snapshot: StoreSnapshot, now: datetime) -> MarketObservation:
        """The market observation of ``snapshot`` at ``now``, kept for the next request."""
        at_us = _to_micros(_naive(now))
        cached = self._market
        if cached is not None and cached[0] is snapshot and cached[1] == at_us:
            return cached[2]
        rows = np.arange(len(snapshot.list_price), dtype=np.int64)
        observation = MarketObservation(
            snapshot.product_rows, snapshot.stock_units, snapshot.competitor_at(rows, at_us)
        )
        self._market = (snapshot, at_us, observation)
        return observation

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
        # the GNN's named vector, as gnn.service.write_graph_vectors stores it
        return self.vectors.vectors(self.collections[kind], keys, "graph")

    def _products(
        self,
        snapshot: StoreSnapshot,
        currencies: Mapping[str, str],
        ids: list[str],
        now: datetime,
    ) -> dict[str, ProductFacts]:
        rows = _require(snapshot.product_rows, ids, "product")
        end, n = _naive(now), len(rows)
        # the products and their cheaper and dearer ladder neighbours, in one pass
        neighbours = [side[rows] for side in snapshot.ladder]
        asked = np.concatenate([rows, *(np.maximum(side, 0) for side in neighbours)])
        current, lowest, competitor = snapshot.prices_at(
            asked,
            start_us=_to_micros(end - timedelta(days=OMNIBUS_WINDOW_DAYS)),
            end_us=_to_micros(end),
        )
        in_force = np.where(np.isnan(current), snapshot.list_price[asked], current)
        ladder = [
            np.where(side >= 0, in_force[(k + 1) * n : (k + 2) * n], np.nan)
            for k, side in enumerate(neighbours)
        ]  # price in force of each neighbour; NaN where none (the ladder rule is off)
        list_prices = snapshot.list_price[rows]
        costs, stocks = snapshot.cost[rows], snapshot.stock_units[rows]
        ratio = self.config.default_cost_ratio
        facts = {}
        for at, pid in enumerate(ids):
            list_price, cost = float(list_prices[at]), float(costs[at])
            is_estimated = not np.isfinite(cost)
            facts[pid] = ProductFacts(
                product_id=pid,
                category_id=snapshot.category_id[rows[at]],
                list_price=list_price,
                unit_cost=ratio * list_price if is_estimated else cost,
                is_cost_estimated=is_estimated,
                stock_units=_optional(stocks[at]),
                current_price=list_price if np.isnan(current[at]) else float(current[at]),
                competitor_price=_optional(competitor[at]),
                lowest_price_30d=_optional(lowest[at]),
                ladder_lower=_optional(ladder[0][at]),
                ladder_upper=_optional(ladder[1][at]),
                ceiling_price=_optional(snapshot.max_price[rows[at]]),
                currency=currencies.get(pid),
            )
        return facts

    def _customers(
        self, snapshot: StoreSnapshot, ids: list[str], now: datetime
    ) -> dict[str, CustomerFacts]:
        rows = _require(snapshot.customer_rows, ids, "customer")
        end_us = _to_micros(_naive(now))
        last_us = snapshot.last_purchase_us(rows, end_us)
        facts = {}
        for at, cid in enumerate(ids):
            segment = snapshot.segment_id[rows[at]]
            name, description = snapshot.segments.get(segment, (None, None))
            days = None
            if last_us[at] is not None:
                days = max((end_us - last_us[at]) / 1e6, 0.0) / 86_400.0
            facts[cid] = CustomerFacts(cid, segment, name, description, days)
        return facts


def _require(positions: Mapping[str, int], ids: list[str], kind: str) -> np.ndarray:
    found = []
    for key in ids:
        at = positions.get(key)
        if at is None:
            raise NotFoundError(kind, key)
        found.append(at)
    return np.asarray(found, dtype=np.int64)


def stored_currencies(store: GraphStore) -> dict[str, str]:
    """Product key -> its stored ``currency`` (ISO 4217), for every product that has one."""
    rows = store.read_cypher(
        "MATCH (p:Product) WHERE p.currency IS NOT NULL RETURN p.id AS id, p.currency AS currency"
    )
    if rows.empty:
        return {}
    pairs = zip(rows["id"], rows["currency"], strict=True)
    return {str(key): code.strip() for key, code in pairs if isinstance(code, str) and code.strip()}


def _optional(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def _to_micros(moment: datetime) -> int:
    return int(np.datetime64(moment, "us").astype(np.int64))


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


__all__ = [
    "DEFAULT_CACHE_TTL_S",
    "OMNIBUS_WINDOW_DAYS",
    "QUOTE_STATE_FEATURES",
    "StateBuilder",
    "own_prices",
    "period_of",
    "stored_currencies",
]
