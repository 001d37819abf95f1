"""Export the knowledge graph as a PyG ``HeteroData`` snapshot.

The export reads each relationship type once through
:meth:`~pricegraph.graph.base.GraphStore.edge_arrays` (integer arrays, sorted keys)
and never loops over edges in Python, so the real Online Retail graph exports in
seconds. Node positions are the positions of the keys in the sorted key arrays the
store returns, and the snapshot keeps those key arrays so that model outputs can be
mapped back to graph keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from pricegraph.graph.base import EdgeArrays, GraphStore

NODE_LABELS: dict[str, str] = {
    "customer": "Customer",
    "product": "Product",
    "brand": "Brand",
    "category": "Category",
}
"""PyG node type -> graph label."""

EDGE_RELS: dict[tuple[str, str, str], str] = {
    ("customer", "purchased", "product"): "PURCHASED",
    ("customer", "viewed", "product"): "VIEWED",
    ("customer", "carted", "product"): "ADDED_TO_CART",
    ("product", "of_brand", "brand"): "OF_BRAND",
    ("product", "in_category", "category"): "IN_CATEGORY",
    ("category", "child_of", "category"): "CHILD_OF",
}
"""PyG edge type -> graph relationship type (reverse ``rev_`` types are added)."""

EVENT_EDGE_TYPES: tuple[tuple[str, str, str], ...] = (
    ("customer", "purchased", "product"),
    ("customer", "viewed", "product"),
    ("customer", "carted", "product"),
)
"""Edge types that carry a ``time`` attribute (event time, seconds since the epoch, UTC)."""

PURCHASED: tuple[str, str, str] = ("customer", "purchased", "product")
"""The supervision edge type of recommendation."""
VIEWED: tuple[str, str, str] = ("customer", "viewed", "product")
"""Product views (browsing events)."""
CARTED: tuple[str, str, str] = ("customer", "carted", "product")
"""Products added to a cart."""


@dataclass(frozen=True)
class GraphSnapshot:
    """One export of the graph: the ``HeteroData`` and the keys behind its indices.

    Attributes:
        data: Node types ``customer`` (``is_anonymous``: bool ``[num_customers]``),
            ``product`` (``x``: float32 ``[num_products, feature_dim]`` text vectors,
            zeros where missing; ``has_text``: bool ``[num_products]``; ``list_price``:
            float64 ``[num_products]``, NaN where none), ``brand`` and ``category``
            (``num_nodes`` only). Edge types of :data:`EDGE_RELS` with
            ``edge_index`` int64 ``[2, num_edges]`` sorted by (source, target), plus a
            ``rev_<name>`` type for each; event edges also carry ``time`` int64
            ``[num_edges]`` (seconds since the epoch, UTC), copied to the reverse, and
            purchases ``unit_price`` float64 ``[num_edges]`` (NaN where none).
        node_ids: Node type -> object array of graph keys ``[num_nodes]``; index
            ``i`` of a node type is ``node_ids[type][i]``. Sorted ascending.
        snapshot_id: 16 hex digits hashing the edge counts per type and the latest
            event time: equal ids mean the same graph size and recency.
    """

    data: HeteroData
    node_ids: Mapping[str, np.ndarray]
    snapshot_id: str

    @property
    def num_customers(self) -> int:
        """Number of customer nodes (guests included)."""
        return len(self.node_ids["customer"])

    @property
    def num_products(self) -> int:
        """Number of product nodes."""
        return len(self.node_ids["product"])

    def edge_index(self, edge_type: tuple[str, str, str] = PURCHASED) -> torch.Tensor:
        """The ``edge_index`` of ``edge_type``: int64 ``[2, num_edges]``."""
        return self.data[edge_type].edge_index

    def edge_time(self, edge_type: tuple[str, str, str] = PURCHASED) -> torch.Tensor:
        """The ``time`` of an event edge type: int64 ``[num_edges]`` seconds, UTC."""
        return self.data[edge_type].time


def _time_seconds(ts: np.ndarray) -> np.ndarray:
    """Naive UTC ``datetime64`` values -> int64 seconds since the epoch (NaT -> 0)."""
    values = pd.to_datetime(pd.Series(ts)).to_numpy(dtype="datetime64[s]")
    seconds = values.astype(np.int64)
    seconds[np.isnat(values)] = 0
    return seconds


def _product_x(
    product_ids: np.ndarray, features: Mapping[str, np.ndarray] | None, feature_dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack text vectors in key order: ``x [num_products, feature_dim]``, ``has_text``."""
    x = np.zeros((len(product_ids), feature_dim), dtype=np.float32)
    has_text = np.zeros(len(product_ids), dtype=bool)
    if features:
        keys = np.array(list(features), dtype=object)
        positions = pd.Index(product_ids).get_indexer(keys)
        known = positions >= 0
        if known.any():
            stacked = np.stack([np.asarray(features[k], dtype=np.float32) for k in keys[known]])
            if stacked.shape[1] != feature_dim:
                raise ValueError(
                    f"product_features: expected vectors of feature_dim={feature_dim}, "
                    f"got {stacked.shape[1]}"
                )
            x[positions[known]] = stacked
            has_text[positions[known]] = True
    return torch.from_numpy(x), torch.from_numpy(has_text)


def _list_prices(store: GraphStore, product_ids: np.ndarray) -> torch.Tensor:
    """float64 ``[num_products]`` list prices in key order (NaN: none or not > 0)."""
    products = store.node_frame(NODE_LABELS["product"])
    if "list_price" not in products:
        return torch.full((len(product_ids),), torch.nan, dtype=torch.float64)
    prices = pd.to_numeric(products["list_price"], errors="coerce").to_numpy(np.float64)
    positions = pd.Index(products["id"].to_numpy(dtype=object)).get_indexer(product_ids)
    out = np.where(positions >= 0, prices[np.maximum(positions, 0)], np.nan)
    return torch.from_numpy(np.where(out > 0, out, np.nan))


def _snapshot_id(counts: Mapping[str, int], max_time_s: int) -> str:
    payload = json.dumps({"counts": dict(sorted(counts.items())), "max_time_s": max_time_s})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def export_hetero(
    store: GraphStore,
    *,
    product_features: Mapping[str, np.ndarray] | None = None,
    feature_dim: int = 384,
) -> GraphSnapshot:
    """Export customers, products, brands and categories as a ``HeteroData``.

    Args:
        store: The graph store to read (one ``edge_arrays`` call per relationship
            type, ``node_frame("Customer")`` for ``is_anonymous`` and
            ``node_frame("Product")`` for ``list_price``).
        product_features: Product key -> float32 ``[feature_dim]`` text vector, e.g.
            from ``VectorStore.vectors(collection, keys, "text")``. Products without
            one get zeros and ``has_text = False``. (default: :obj:`None`, no text)
        feature_dim: Width of product ``x``. (default: ``384``, all-MiniLM-L6-v2)

    Returns:
        The snapshot; see :class:`GraphSnapshot` for the layout.

    Raises:
        ValueError: A vector in ``product_features`` is not ``feature_dim`` wide.
    """
    arrays: dict[tuple[str, str, str], EdgeArrays] = {
        edge_type: store.edge_arrays(rel) for edge_type, rel in EDGE_RELS.items()
    }
    node_ids: dict[str, np.ndarray] = {}
    for (src, _, dst), edges in arrays.items():
        node_ids.setdefault(src, np.asarray(edges.source_ids, dtype=object))
        node_ids.setdefault(dst, np.asarray(edges.target_ids, dtype=object))

    data = HeteroData()
    for node_type, ids in node_ids.items():
        data[node_type].num_nodes = len(ids)

    customers = store.node_frame(NODE_LABELS["customer"])
    positions = pd.Index(customers["id"].to_numpy(dtype=object)).get_indexer(node_ids["customer"])
    flags = customers["is_anonymous"].fillna(False).to_numpy(dtype=bool)
    is_anonymous = np.where(positions >= 0, flags[np.maximum(positions, 0)], False)
    data["customer"].is_anonymous = torch.from_numpy(is_anonymous.astype(bool))
    x, has_text = _product_x(node_ids["product"], product_features, feature_dim)
    data["product"].x, data["product"].has_text = x, has_text
    data["product"].list_price = _list_prices(store, node_ids["product"])

    max_time_s = 0
    for edge_type, edges in arrays.items():
        src, name, dst = edge_type
        edge_index = torch.from_numpy(np.ascontiguousarray(edges.edge_index, dtype=np.int64))
        data[edge_type].edge_index = edge_index
        data[(dst, f"rev_{name}", src)].edge_index = edge_index.flip(0)
        if edge_type == PURCHASED:
            paid = pd.to_numeric(
                pd.Series(edges.properties.get("unit_price", np.full(edges.num_edges, np.nan))),
                errors="coerce",
            )
            data[edge_type].unit_price = torch.from_numpy(paid.to_numpy(np.float64, copy=True))
        if edge_type in EVENT_EDGE_TYPES:
            time_s = torch.from_numpy(_time_seconds(edges.properties["ts"]))
            data[edge_type].time = time_s
            data[(dst, f"rev_{name}", src)].time = time_s.clone()
            if time_s.numel():
                max_time_s = max(max_time_s, int(time_s.max()))

    counts = {rel: arrays[edge_type].num_edges for edge_type, rel in EDGE_RELS.items()}
    return GraphSnapshot(data, node_ids, _snapshot_id(counts, max_time_s))


__all__ = [
    "EDGE_RELS",
    "EVENT_EDGE_TYPES",
    "NODE_LABELS",
    "PURCHASED",
    "GraphSnapshot",
    "export_hetero",
]
