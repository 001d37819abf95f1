"""The knowledge graph: schema, the store protocol and its two backends."""

from .base import Direction, EdgeArrays, GraphStore, Neighbor, UpsertResult
from .config import GraphConfig
from .events import EVENT_COLUMNS, record_events
from .factory import make_graph_store
from .schema import EVENT_RELS, NODES, PRICE_KINDS, RELS, NodeSpec, PropType, RelSpec

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
    "make_graph_store",
    "record_events",
]
