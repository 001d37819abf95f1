"""Cypher text and parameter values of the Neo4j backend: pure functions, no driver.

Every statement is Neo4j 5 Cypher built from :mod:`pricegraph.graph.schema`
alone (labels, types and property names never come from callers) and takes its
values as parameters: ``$rows`` (a list of maps) for writes, ``$keys`` (a list of
strings or maps) for look-ups. Values cross the driver as plain Python: naive
``datetime`` in UTC (stored as ``LocalDateTime``), ``None`` for every kind of
null, Python scalars instead of NumPy ones.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..plain import plain_value as _clean
from ._batched_clear import clear_label, clear_relationships, drain
from ._frames import plain_rows, plain_value
from .schema import NODES, RELS, NodeSpec, RelSpec

# -- schema ---------------------------------------------------------------------------


def node_constraint(spec: NodeSpec) -> str:
    """The uniqueness constraint on the key of one label."""
    return (
        f"CREATE CONSTRAINT {spec.label.lower()}_{spec.key} IF NOT EXISTS "
        f"FOR (n:{spec.label}) REQUIRE n.{spec.key} IS UNIQUE"
    )


def event_index(spec: RelSpec) -> str:
    """The range index on ``event_id`` of one event relationship type."""
    return (
        f"CREATE INDEX {spec.type.lower()}_event_id IF NOT EXISTS "
        f"FOR ()-[r:{spec.type}]-() ON (r.event_id)"
    )


def schema_statements() -> list[str]:
    """Every constraint and index of the schema, one statement each."""
    return [node_constraint(s) for s in NODES.values()] + [
        event_index(s) for s in RELS.values() if s.is_event
    ]


# -- nodes ----------------------------------------------------------------------------


def node_lookup(spec: NodeSpec, names: list[str]) -> str:
    """Stored ``id`` and ``names`` of the nodes whose keys are in ``$keys``."""
    returns = "".join(f", n.{name} AS {name}" for name in names)
    return (
        f"UNWIND $keys AS k MATCH (n:{spec.label} {{{spec.key}: k}}) "
        f"RETURN n.{spec.key} AS {spec.key}{returns}"
    )


def node_merge(spec: NodeSpec, names: list[str]) -> str:
    """Create or update the nodes of ``$rows``, setting ``names`` (null removes)."""
    sets = ", ".join(f"n.{name} = row.{name}" for name in names)
    return f"UNWIND $rows AS row MERGE (n:{spec.label} {{{spec.key}: row.{spec.key}}})" + (
        f" SET {sets}" if sets else ""
    )


def clear_statements() -> list[str]:
    """The statements that empty the graph, in order: every relationship type, then
    every label. Each deletes at most ``$limit`` elements; run each until it deletes
    fewer (see :func:`drain`), one transaction per run, so no transaction holds more
    than ``$limit`` deletions however large the graph."""
    return [clear_relationships(s) for s in RELS.values()] + [clear_label(n) for n in NODES]


# -- edges ----------------------------------------------------------------------------


def _endpoints(spec: RelSpec) -> str:
    return f"MATCH (a:{spec.source} {{id: row.source}}) MATCH (b:{spec.target} {{id: row.target}}) "


def edge_merge(spec: RelSpec) -> str:
    """Write the edges of ``$rows`` (maps with ``source``, ``target`` and properties).

    Events are created (see :func:`event_create`); other edges merge on the
    endpoint pair and get every property of the schema from the row (absent or
    null: removed), which is what the embedded backend's delete-and-copy leaves.
    """
    if spec.is_event:
        return event_create(spec)
    head = f"UNWIND $rows AS row {_endpoints(spec)}"
    sets = ", ".join(f"r.{n} = row.{n}" for n in spec.properties)
    return head + f"MERGE (a)-[r:{spec.type}]->(b)" + (f" SET {sets}" if sets else "")


def event_create(spec: RelSpec) -> str:
    """Create the events of ``$rows``, endpoints matched by key (null properties: unset).

    ``$rows`` must hold only event ids that are not stored: the store reads the
    stored ids first and drops them (:func:`~pricegraph.graph.diff.diff_edges`),
    which is what keeps a re-load from creating anything. ``CREATE`` instead of
    ``MERGE (a)-[r:TYPE {event_id: ...}]->(b)`` leaves the planner nothing to
    choose: a ``MERGE`` of a relationship may be planned as a relationship index
    scan per row (24 M rows read for 200 merged at 55 k stored, on Neo4j 5.26).
    """
    names = [n for n in spec.properties if n != "event_id"]
    sets = ", ".join(f"r.{n} = row.{n}" for n in names)
    create = f"CREATE (a)-[r:{spec.type} {{event_id: row.event_id}}]->(b)"
    return f"UNWIND $rows AS row {_endpoints(spec)}" + create + (f" SET {sets}" if sets else "")


def drop_other_targets(spec: RelSpec) -> str:
    """Delete the edges of ``$rows``' sources that point elsewhere (``source`` identity)."""
    return (
        f"UNWIND $rows AS row MATCH (a:{spec.source} {{id: row.source}})-[r:{spec.type}]->"
        f"(b:{spec.target}) WHERE b.id <> row.target DELETE r"
    )


def stored_events(spec: RelSpec) -> str:
    """The stored events whose ``event_id`` is in ``$keys``: ``source``, ``target`` and
    every property (to tell a re-sent event from a clashing one)."""
    returns = "".join(f", r.{n} AS {n}" for n in spec.properties if n != "event_id")
    return (
        f"UNWIND $keys AS k MATCH (a:{spec.source})-[r:{spec.type}]->(b:{spec.target}) "
        "WHERE r.event_id = k "
        f"RETURN a.id AS source, b.id AS target, r.event_id AS event_id{returns}"
    )


def stored_edges(spec: RelSpec) -> str:
    """Stored edges with their properties, for ``$keys``.

    ``$keys`` holds source keys for the ``source`` identity and
    ``{source, target}`` maps for the ``endpoints`` identity.
    """
    returns = "".join(f", r.{n} AS {n}" for n in spec.properties)
    if spec.identity == "source":
        match = f"MATCH (a:{spec.source} {{id: k}})-[r:{spec.type}]->(b:{spec.target}) "
    else:
        match = (
            f"MATCH (a:{spec.source} {{id: k.source}})-[r:{spec.type}]->"
            f"(b:{spec.target} {{id: k.target}}) "
        )
    return f"UNWIND $keys AS k {match}RETURN a.id AS source, b.id AS target{returns}"


def delete_pairs(spec: RelSpec) -> str:
    """Delete the edges between the ``{source, target}`` maps of ``$keys``."""
    return (
        f"UNWIND $keys AS k MATCH (a:{spec.source} {{id: k.source}})-[r:{spec.type}]->"
        f"(b:{spec.target} {{id: k.target}}) DELETE r RETURN count(*) AS deleted"
    )


def count_edges(spec: RelSpec) -> str:
    """The number of edges of one type, as ``n``."""
    return f"MATCH (:{spec.source})-[r:{spec.type}]->(:{spec.target}) RETURN count(r) AS n"


def neighbors(label: str, rel_type: str | None, side: str) -> str:
    """Distinct neighbours of ``$id`` on one side, ordered, at most ``$limit``."""
    rel = f":{rel_type}" if rel_type else ""
    pattern = f"-[r{rel}]->(m)" if side == "out" else f"<-[r{rel}]-(m)"
    return (
        f"MATCH (n:{label} {{id: $id}}){pattern} "
        "RETURN DISTINCT type(r) AS rel_type, labels(m)[0] AS node_label, m.id AS node_id "
        "ORDER BY rel_type, node_label, node_id LIMIT $limit"
    )


def all_statements() -> list[str]:
    """Every statement this module builds, for every label and type of the schema."""
    out = schema_statements()
    for spec in NODES.values():
        names = [n for n in spec.columns if n != spec.key]
        out += [node_lookup(spec, names), node_lookup(spec, []), node_merge(spec, names)]
        out += [node_merge(spec, [])]
        for side in ("out", "in"):
            out += [neighbors(spec.label, None, side)]
            out += [neighbors(spec.label, rel, side) for rel in RELS]
    out += clear_statements()
    for rel in RELS.values():
        out += [edge_merge(rel), drop_other_targets(rel), stored_events(rel)]
        out += [stored_edges(rel), delete_pairs(rel), count_edges(rel)]
    return out


# -- values ---------------------------------------------------------------------------


to_neo4j = plain_value
"""A value the driver sends as the matching Neo4j type (naive UTC ``datetime`` is
stored as ``LocalDateTime``); see :func:`~pricegraph.graph._frames.plain_value`."""

frame_rows = plain_rows
"""The rows of a frame as maps of plain values (see :data:`to_neo4j`)."""


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def columns_frame(keys: list[str], records: list[list[Any]]) -> pd.DataFrame:
    """A frame of result ``records`` (value lists in ``keys`` order), built column by column.

    Columns holding only strings, numbers, booleans and nulls (what most bulk reads
    return) are taken as they are; only the others go value by value through
    :func:`from_neo4j` and :func:`~pricegraph.graph._frames.clean_record`'s
    conversion. This is what keeps a 500 k-row read from building a dict per row.
    """
    # a column at a time: zip(*records) over 500 k records is several times slower
    columns = [[record[i] for record in records] for i in range(len(keys))]
    data: dict[str, list[Any]] = {}
    for key, column in zip(keys, columns, strict=True):
        if set(map(type, column)) <= _PLAIN_TYPES:
            data[key] = column
        else:
            data[key] = [_clean(from_neo4j(v)) for v in column]
    return pd.DataFrame(data, columns=keys)


def from_neo4j(value: Any) -> Any:
    """A Python value for a driver result value.

    Temporal values become ``datetime``/``date``/``time`` (``LocalDateTime``:
    naive, UTC by convention); nodes and relationships become their property
    maps; lists and maps are converted element by element.
    """
    if isinstance(value, list):
        return [from_neo4j(v) for v in value]
    if isinstance(value, dict):
        return {k: from_neo4j(v) for k, v in value.items()}
    if hasattr(value, "element_id") and hasattr(value, "items"):
        return {k: from_neo4j(v) for k, v in value.items()}
    if hasattr(value, "to_native"):
        return value.to_native()
    return value


__all__ = [
    "all_statements",
    "clear_label",
    "clear_relationships",
    "clear_statements",
    "columns_frame",
    "count_edges",
    "delete_pairs",
    "drain",
    "drop_other_targets",
    "edge_merge",
    "event_create",
    "event_index",
    "frame_rows",
    "from_neo4j",
    "neighbors",
    "node_constraint",
    "node_lookup",
    "node_merge",
    "schema_statements",
    "stored_edges",
    "stored_events",
    "to_neo4j",
]
