"""Read operations both backends share: the same Cypher, run by each backend's runner.

A backend mixes :class:`SharedReads` in and provides ``_run`` (small results),
``_run_bulk`` (whole tables), ``get_nodes`` and ``neighbors``; the Cypher itself
lives in :mod:`pricegraph.graph.queries` and :mod:`pricegraph.graph.pages`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import networkx as nx
import pandas as pd

from . import pages, queries
from ._frames import check_read_only
from .base import EdgeArrays


class SharedReads:
    """The backend-independent half of :class:`~pricegraph.graph.base.GraphStore`."""

    # Provided by the backend: the runners, and the reads whose Cypher differs.
    _run: queries.Run
    _run_bulk: queries.Run
    get_nodes: Callable[[str, Sequence[str]], list[dict[str, Any] | None]]

    def get_node(self, label: str, key: str) -> dict[str, Any] | None:
        """See :meth:`GraphStore.get_node`."""
        return self.get_nodes(label, [key])[0]

    def node_frame(self, label: str) -> pd.DataFrame:
        """See :meth:`GraphStore.node_frame`."""
        return queries.node_frame(self._run_bulk, label)

    def purchase_history(
        self, customer_id: str, *, since: datetime | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """See :meth:`GraphStore.purchase_history`."""
        return queries.purchase_history(self._run, customer_id, since=since, limit=limit)

    def price_history(
        self,
        product_id: str,
        *,
        kinds: Sequence[str] | None = None,
        newest: int | None = None,
        skip: int = 0,
    ) -> pd.DataFrame:
        """See :meth:`GraphStore.price_history`."""
        return queries.price_history(self._run, product_id, kinds=kinds, newest=newest, skip=skip)

    def co_purchases(self, product_id: str, *, limit: int = 10) -> pd.DataFrame:
        """See :meth:`GraphStore.co_purchases`."""
        return queries.co_purchases(self._run, product_id, limit=limit)

    def counts(self) -> dict[str, int]:
        """See :meth:`GraphStore.counts`."""
        return queries.counts(self._run)

    def product_page(
        self,
        *,
        after: str | None = None,
        limit: int = 20,
        brands: Sequence[str] | None = None,
        categories: Sequence[str] | None = None,
        min_price: float | None = None,
        max_price: float | None = None,
        in_stock: bool | None = None,
    ) -> pd.DataFrame:
        """See :meth:`GraphStore.product_page`."""
        return pages.product_page(
            self._run,
            after=after,
            limit=limit,
            brands=brands,
            categories=categories,
            min_price=min_price,
            max_price=max_price,
            in_stock=in_stock,
        )

    def customer_page(
        self,
        *,
        after: str | None = None,
        limit: int = 20,
        country: str | None = None,
        segment: str | None = None,
        is_anonymous: bool | None = None,
    ) -> pd.DataFrame:
        """See :meth:`GraphStore.customer_page`."""
        return pages.customer_page(
            self._run,
            after=after,
            limit=limit,
            country=country,
            segment=segment,
            is_anonymous=is_anonymous,
        )

    def subcategories(self, category_ids: Sequence[str]) -> list[str]:
        """See :meth:`GraphStore.subcategories`."""
        return pages.subcategories(self._run, category_ids)

    def edge_targets(self, rel_type: str, keys: Sequence[str]) -> pd.DataFrame:
        """See :meth:`GraphStore.edge_targets`."""
        return pages.edge_targets(self._run, rel_type, keys)

    def segment_size(self, segment_id: str) -> int:
        """See :meth:`GraphStore.segment_size`."""
        return pages.segment_size(self._run, segment_id)

    def example_pair(self) -> tuple[str | None, str | None]:
        """See :meth:`GraphStore.example_pair`."""
        return pages.example_pair(self._run)

    def edge_arrays(self, rel_type: str) -> EdgeArrays:
        """See :meth:`GraphStore.edge_arrays`."""
        return queries.edge_arrays(self._run_bulk, rel_type)

    def to_networkx(
        self,
        *,
        labels: Sequence[str] | None = None,
        rel_types: Sequence[str] | None = None,
        seeds: Sequence[tuple[str, str]] | None = None,
        hops: int = 1,
    ) -> nx.MultiDiGraph:
        """See :meth:`GraphStore.to_networkx`."""
        if seeds is None:
            return queries.to_networkx(self._run_bulk, labels=labels, rel_types=rel_types)
        return queries.ego_networkx(self, seeds, hops=hops, rel_types=rel_types)

    def read_cypher(self, query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """See :meth:`GraphStore.read_cypher`."""
        check_read_only(query)
        return self._run_bulk(query, params or {})


__all__ = ["SharedReads"]
