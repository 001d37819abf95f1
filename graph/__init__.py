"""The knowledge graph: schema, the store protocol and its two backends.

The public names below are imported on first use (:func:`pricegraph.lazy_exports`):
reading the settings (``graph.config``) does not load pandas or a driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegraph import lazy_exports

if TYPE_CHECKING:
    from .base import Direction, EdgeArrays, GraphStore, Neighbor, UpsertResult
    from .config import GraphConfig
    from .events import EVENT_COLUMNS, events_between, events_by_id, record_events
    from .factory import make_graph_store
    from .schema import EVENT_RELS, NODES, PRICE_KINDS, RELS, NodeSpec, PropType, RelSpec

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".base": ("Direction", "EdgeArrays", "GraphStore", "Neighbor", "UpsertResult"),
        ".config": ("GraphConfig",),
        ".events": ("EVENT_COLUMNS", "events_between", "events_by_id", "record_events"),
        ".factory": ("make_graph_store",),
        ".schema": (
            "EVENT_RELS",
            "NODES",
            "PRICE_KINDS",
            "RELS",
            "NodeSpec",
            "PropType",
            "RelSpec",
        ),
    },
)

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_RELS",
    "NODES",
    "PRICE_KINDS",
    "RELS",
    "Direction",
    "EdgeArrays",
    "GraphConfig",
    "GraphStore",
    "Neighbor",
    "NodeSpec",
    "PropType",
    "RelSpec",
    "UpsertResult",
    "events_between",
    "events_by_id",
    "make_graph_store",
    "record_events",
]
