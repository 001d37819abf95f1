"""Cypher shared by both backends, and the read operations built on it.

Everything here is plain openCypher that LadybugDB and Neo4j 5 both accept. Each
read function takes ``run``, a callable that executes a query with parameters
and returns a ``pandas.DataFrame`` with the backend's values already converted
(naive UTC datetimes, Python scalars).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .base import EdgeArrays
from .schema import NODES, RELS, RelSpec, node_spec, rel_spec

Run = Callable[[str, dict[str, Any]], pd.DataFrame]

PURCHASE_HISTORY = """
MATCH (c:Customer {id: $customer_id})-[r:PURCHASED]->(p:Product)
WHERE r.ts >= $since
RETURN r.event_id AS event_id, r.order_id AS order_id, p.id AS product_id,
       p.name AS product_name, r.qty AS qty, r.unit_price AS unit_price,
       r.currency AS currency, r.ts AS ts, r.discount AS discount,
       r.promotion_id AS promotion_id, r.store_id AS store_id, r.channel AS channel
ORDER BY ts DESC, event_id
LIMIT $limit
"""

PRICE_HISTORY = """
MATCH (p:Product {id: $product_id})-[:HAS_PRICE]->(pp:PricePoint)
WHERE $all_kinds OR pp.kind IN $kinds
RETURN pp.id AS id, pp.kind AS kind, pp.price AS price, pp.currency AS currency,
       pp.valid_from AS valid_from, pp.valid_to AS valid_to, pp.source AS source,
       pp.competitor_id AS competitor_id
"""
PRICE_HISTORY_OLDEST = PRICE_HISTORY + "ORDER BY valid_from, kind, id\n"
PRICE_HISTORY_NEWEST = (
    PRICE_HISTORY + "ORDER BY valid_from DESC, kind DESC, id DESC\nSKIP $skip LIMIT $limit\n"
)

CO_PURCHASES = """
MATCH (p:Product {id: $product_id})<-[a:PURCHASED]-(:Customer)-[b:PURCHASED]->(q:Product)
WHERE a.order_id = b.order_id AND q.id <> $product_id
RETURN q.id AS product_id, count(DISTINCT a.order_id) AS orders
ORDER BY orders DESC, product_id
LIMIT $limit
"""

_EPOCH = datetime(1900, 1, 1)
_NO_LIMIT = 2**62

PURCHASE_COLUMNS = [
    "event_id",
    "order_id",
    "product_id",
    "product_name",
    "qty",
    "unit_price",
    "currency",
    "ts",
    "discount",
    "promotion_id",
    "store_id",
    "channel",
]
PRICE_COLUMNS = [
    "id",
    "kind",
    "price",
    "currency",
    "valid_from",
    "valid_to",
    "source",
    "competitor_id",
]


def _frame(result: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if result.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return result[columns].reset_index(drop=True)


def purchase_history(
    run: Run, customer_id: str, *, since: datetime | None, limit: int | None
) -> pd.DataFrame:
    """See :meth:`GraphStore.purchase_history`."""
    params = {
        "customer_id": customer_id,
        "since": since or _EPOCH,
        "limit": _NO_LIMIT if limit is None else int(limit),
    }
    return _frame(run(PURCHASE_HISTORY, params), PURCHASE_COLUMNS)


def price_history(
    run: Run,
    product_id: str,
    *,
    kinds: Sequence[str] | None,
    newest: int | None = None,
    skip: int = 0,
) -> pd.DataFrame:
    """See :meth:`GraphStore.price_history`."""
    params: dict[str, object] = {
        "product_id": product_id,
        "all_kinds": kinds is None,
        "kinds": list(kinds or [""]),
    }
    if newest is None:
        return _frame(run(PRICE_HISTORY_OLDEST, params), PRICE_COLUMNS)
    if newest < 0 or skip < 0:
        raise ValueError(f"expected newest >= 0 and skip >= 0, got {newest}, {skip}")
    params |= {"skip": int(skip), "limit": int(newest)}
    return _frame(run(PRICE_HISTORY_NEWEST, params), PRICE_COLUMNS)


def co_purchases(run: Run, product_id: str, *, limit: int) -> pd.DataFrame:
    """See :meth:`GraphStore.co_purchases`."""
    result = run(CO_PURCHASES, {"product_id": product_id, "limit": int(limit)})
    out = _frame(result, ["product_id", "orders"])
    out["orders"] = out["orders"].astype("int64")
    return out


def counts(run: Run) -> dict[str, int]:
    """See :meth:`GraphStore.counts`."""
    out: dict[str, int] = {}
    for label in NODES:
        out[label] = int(run(f"MATCH (n:{label}) RETURN count(n) AS n", {}).iloc[0, 0])
    for rel in RELS.values():
        query = f"MATCH (:{rel.source})-[r:{rel.type}]->(:{rel.target}) RETURN count(r) AS n"
        out[rel.type] = int(run(query, {}).iloc[0, 0])
    return out


def node_keys(run: Run, label: str) -> np.ndarray:
    """All keys of ``label``, sorted, as an object array."""
    node_spec(label)
    keys = run(f"MATCH (n:{label}) RETURN n.id AS id", {})
    values = keys["id"].to_numpy(dtype=object) if len(keys) else np.empty(0, dtype=object)
    return np.sort(values)


def node_frame(run: Run, label: str) -> pd.DataFrame:
    """See :meth:`GraphStore.node_frame`."""
    spec = node_spec(label)
    returns = ", ".join(f"n.{c} AS {c}" for c in spec.columns)
    frame = run(f"MATCH (n:{label}) RETURN {returns}", {})
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in spec.columns})
    return frame[spec.columns].sort_values("id", kind="stable").reset_index(drop=True)


def edge_arrays(run: Run, rel_type: str) -> EdgeArrays:
    """See :meth:`GraphStore.edge_arrays`: one query, then vectorised index mapping."""
    spec = rel_spec(rel_type)
    props = "".join(f", r.{p} AS {p}" for p in spec.properties)
    query = (
        f"MATCH (a:{spec.source})-[r:{spec.type}]->(b:{spec.target}) "
        f"RETURN a.id AS source, b.id AS target{props}"
    )
    return arrays_of_edges(run, spec, run(query, {}))


def arrays_of_edges(run: Run, spec: RelSpec, edges: pd.DataFrame) -> EdgeArrays:
    """:class:`EdgeArrays` of ``edges`` (``source``, ``target`` and the properties of
    ``spec``, in any order): node keys read by ``run``, edges sorted by position."""
    source_ids = node_keys(run, spec.source)
    target_ids = source_ids if spec.target == spec.source else node_keys(run, spec.target)
    if edges.empty:
        edge_index = np.empty((2, 0), dtype=np.int64)
        properties = {p: np.empty(0) for p in spec.properties}
    else:
        rows = pd.Index(source_ids).get_indexer(edges["source"].to_numpy(dtype=object))
        cols = pd.Index(target_ids).get_indexer(edges["target"].to_numpy(dtype=object))
        edge_index = np.vstack([rows, cols]).astype(np.int64)
        order = np.lexsort((edge_index[1], edge_index[0]))
        edge_index = edge_index[:, order]
        properties = {p: edges[p].to_numpy()[order] for p in spec.properties}
    return EdgeArrays(source_ids, target_ids, edge_index, properties)


def to_networkx(
    run: Run,
    *,
    labels: Sequence[str] | None,
    rel_types: Sequence[str] | None,
) -> nx.MultiDiGraph:
    """Whole-label export: every node of ``labels`` and the edges between them."""
    chosen = list(labels) if labels is not None else list(NODES)
    graph = nx.MultiDiGraph()
    for label in chosen:
        node_spec(label)
        nodes = run(f"MATCH (n:{label}) RETURN n.id AS id", {})
        graph.add_nodes_from((f"{label}:{key}", {"label": label, "id": key}) for key in nodes["id"])
    types = list(rel_types) if rel_types is not None else list(RELS)
    for rel_type in types:
        spec = rel_spec(rel_type)
        if spec.source not in chosen or spec.target not in chosen:
            continue
        arrays = edge_arrays(run, rel_type)
        sources = arrays.source_ids[arrays.edge_index[0]]
        targets = arrays.target_ids[arrays.edge_index[1]]
        graph.add_edges_from(
            (f"{spec.source}:{s}", f"{spec.target}:{t}", {"type": rel_type})
            for s, t in zip(sources, targets, strict=True)
        )
    return graph


__all__ = [
    "CO_PURCHASES",
    "PRICE_HISTORY",
    "PURCHASE_HISTORY",
    "Run",
    "arrays_of_edges",
    "co_purchases",
    "counts",
    "edge_arrays",
    "ego_networkx",
    "node_frame",
    "node_keys",
    "price_history",
    "purchase_history",
    "to_networkx",
]


def ego_networkx(
    store: Any,
    seeds: Sequence[tuple[str, str]],
    *,
    hops: int,
    rel_types: Sequence[str] | None,
    per_node_limit: int = 200,
) -> nx.MultiDiGraph:
    """The seeds and every node within ``hops`` of them (at most ``per_node_limit``
    neighbours expanded per node, so hubs such as a root category stay bounded)."""
    graph = nx.MultiDiGraph()
    frontier = list(dict.fromkeys(seeds))
    for label, key in frontier:
        graph.add_node(f"{label}:{key}", label=label, id=key)
    allowed = set(rel_types) if rel_types is not None else None
    for _ in range(hops):
        next_frontier: list[tuple[str, str]] = []
        for label, key in frontier:
            for nb in store.neighbors(label, key, limit=per_node_limit):
                if allowed is not None and nb.rel_type not in allowed:
                    continue
                name = f"{nb.label}:{nb.id}"
                if name not in graph:
                    graph.add_node(name, label=nb.label, id=nb.id)
                    next_frontier.append((nb.label, nb.id))
                here = f"{label}:{key}"
                edge = (here, name) if nb.direction == "out" else (name, here)
                if not graph.has_edge(*edge, key=nb.rel_type):
                    graph.add_edge(*edge, key=nb.rel_type, type=nb.rel_type)
        frontier = next_frontier
    return graph
