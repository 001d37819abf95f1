"""Cypher text of the embedded backend (LadybugDB): pure functions, no connection.

Every statement is built from :mod:`pricegraph.graph.schema` alone (labels, types
and property names never come from callers) and takes its values as parameters:
``$rows`` (a list of maps, see :func:`~pricegraph.graph._frames.plain_rows`) for
the small writes, ``$keys`` (a list of strings) for look-ups. Each look-up starts at
a primary key, so its cost follows the rows asked for, not the size of the table.

LadybugDB types a list of maps by its values: a property that is null in every row
arrives as ``STRING``, so writes cast each value to its column's type.

Event edges are keyed by ``event_id``, which LadybugDB cannot index on a
relationship. So each event type has a hidden node table, :func:`event_key_table`,
whose primary key is the event id and which names the event's endpoints: the
embedded counterpart of the ``event_id`` index of the Neo4j backend. It is written
in the same transaction as the edges and is not part of the schema's labels.
"""

from __future__ import annotations

from .schema import NodeSpec, RelSpec

# -- schema ---------------------------------------------------------------------------


def node_ddl(spec: NodeSpec) -> str:
    """The node table of one label."""
    cols = ", ".join(f"{name} {spec.properties[name].value}" for name in spec.columns)
    return f"CREATE NODE TABLE IF NOT EXISTS {spec.label}({cols}, PRIMARY KEY({spec.key}))"


def rel_ddl(spec: RelSpec) -> str:
    """The relationship table of one type."""
    cols = "".join(f", {name} {prop.value}" for name, prop in spec.properties.items())
    return f"CREATE REL TABLE IF NOT EXISTS {spec.type}(FROM {spec.source} TO {spec.target}{cols})"


def event_key_table(spec: RelSpec) -> str:
    """The name of the hidden event-id table of an event type."""
    return f"_EventId_{spec.type}"


def event_key_ddl(spec: RelSpec) -> str:
    """The event-id table: ``id`` (the event id, primary key), ``source``, ``target``."""
    return (
        f"CREATE NODE TABLE IF NOT EXISTS {event_key_table(spec)}"
        "(id STRING, source STRING, target STRING, PRIMARY KEY(id))"
    )


def event_key_rebuild(spec: RelSpec) -> list[str]:
    """Statements that refill the event-id table from the stored edges (an id stored
    twice by an older version keeps its smallest endpoints)."""
    table = event_key_table(spec)
    return [
        f"MATCH (k:{table}) DELETE k",
        f"COPY {table} FROM (MATCH (a:{spec.source})-[r:{spec.type}]->(b:{spec.target}) "
        "WHERE r.event_id IS NOT NULL "
        "RETURN r.event_id AS id, min(a.id) AS source, min(b.id) AS target)",
    ]


def count_rows(table: str) -> str:
    """The number of rows of a node table, as ``n``."""
    return f"MATCH (n:{table}) RETURN count(n) AS n"


def count_edges(spec: RelSpec) -> str:
    """The number of edges of one type, as ``n``."""
    return f"MATCH (:{spec.source})-[r:{spec.type}]->(:{spec.target}) RETURN count(r) AS n"


# -- nodes ----------------------------------------------------------------------------


def node_lookup(spec: NodeSpec, names: list[str]) -> str:
    """Stored ``id`` and ``names`` of the nodes whose keys are in ``$keys``."""
    returns = "".join(f", n.{name} AS {name}" for name in names)
    return (
        f"UNWIND $keys AS k MATCH (n:{spec.label} {{{spec.key}: k}}) "
        f"RETURN n.{spec.key} AS {spec.key}{returns}"
    )


def _cast(name: str, spec_type: str) -> str:
    return f"CAST(row.{name} AS {spec_type})"


def node_create(spec: NodeSpec, names: list[str]) -> str:
    """Create the nodes of ``$rows`` (new keys only) with ``names`` (others null).

    Not ``UNWIND ... MERGE``: LadybugDB plans that as a scan of the whole table,
    while ``CREATE`` and ``MATCH`` by key use the primary-key index.
    """
    props = "".join(f", {n}: {_cast(n, spec.properties[n].value)}" for n in names)
    return f"UNWIND $rows AS row CREATE (n:{spec.label} {{{spec.key}: row.{spec.key}{props}}})"


def node_update(spec: NodeSpec, names: list[str]) -> str:
    """Set ``names`` (null included) on the stored nodes of ``$rows``."""
    sets = ", ".join(f"n.{n} = {_cast(n, spec.properties[n].value)}" for n in names)
    return f"UNWIND $rows AS row MATCH (n:{spec.label} {{{spec.key}: row.{spec.key}}}) SET {sets}"


# -- edges ----------------------------------------------------------------------------
# LadybugDB plans a relationship pattern whose endpoint comes from ``UNWIND`` as a scan
# of the whole relationship table; with scalar parameters it starts at the primary
# key and reads the endpoint's adjacency only. So edge look-ups and deletes run once
# per row, with ``$source``, ``$target`` and ``$event_id``.


def _returns(spec: RelSpec) -> str:
    return "".join(f", r.{n} AS {n}" for n in spec.properties)


def edges_from(spec: RelSpec) -> str:
    """Stored edges (``source``, ``target``, properties) of the node ``$source``."""
    return (
        f"MATCH (a:{spec.source} {{id: $source}})-[r:{spec.type}]->(b:{spec.target}) "
        f"RETURN a.id AS source, b.id AS target{_returns(spec)}"
    )


def edges_between(spec: RelSpec) -> str:
    """Stored edges (``source``, ``target``, properties) from ``$source`` to ``$target``."""
    return (
        f"MATCH (a:{spec.source} {{id: $source}})-[r:{spec.type}]->"
        f"(b:{spec.target} {{id: $target}}) RETURN a.id AS source, b.id AS target{_returns(spec)}"
    )


def event_between(spec: RelSpec) -> str:
    """The stored event ``$event_id`` from ``$source`` to ``$target`` (as
    :func:`edges_between`)."""
    return (
        f"MATCH (a:{spec.source} {{id: $source}})-[r:{spec.type}]->"
        f"(b:{spec.target} {{id: $target}}) WHERE r.event_id = $event_id "
        f"RETURN a.id AS source, b.id AS target{_returns(spec)}"
    )


def event_keys(spec: RelSpec) -> str:
    """``event_id``, ``source`` and ``target`` of the stored events whose id is in
    ``$keys``, from the event-id table."""
    return (
        f"UNWIND $keys AS k MATCH (e:{event_key_table(spec)} {{id: k}}) "
        "RETURN e.id AS event_id, e.source AS source, e.target AS target"
    )


def edge_create(spec: RelSpec) -> str:
    """Create the edges of ``$rows`` (``source``, ``target`` and every property).

    Two ``MATCH`` clauses: ``MATCH (a ...), (b ...)`` is planned as a cross product
    of two table scans.
    """
    props = ", ".join(f"{n}: {_cast(n, t.value)}" for n, t in spec.properties.items())
    return (
        f"UNWIND $rows AS row MATCH (a:{spec.source} {{id: row.source}}) "
        f"MATCH (b:{spec.target} {{id: row.target}}) "
        f"CREATE (a)-[:{spec.type}{' {' + props + '}' if props else ''}]->(b)"
    )


def edge_delete(spec: RelSpec) -> str:
    """Delete the edges from ``$source`` to ``$target``."""
    return (
        f"MATCH (a:{spec.source} {{id: $source}})-[r:{spec.type}]->"
        f"(b:{spec.target} {{id: $target}}) DELETE r"
    )


def event_key_create(spec: RelSpec) -> str:
    """Record the ids and endpoints of the new events of ``$rows``."""
    return (
        f"UNWIND $rows AS row CREATE (e:{event_key_table(spec)} "
        "{id: row.event_id, source: row.source, target: row.target})"
    )


def event_key_delete(spec: RelSpec) -> str:
    """Delete the event ids of the edges between the pairs of ``$pairs`` (an Arrow
    table with ``s`` and ``t``; the bulk path of ``delete_edges``)."""
    return (
        f"LOAD FROM $pairs MATCH (a:{spec.source} {{id: s}})-[r:{spec.type}]->"
        f"(b:{spec.target} {{id: t}}) WITH DISTINCT r.event_id AS k "
        f"MATCH (e:{event_key_table(spec)} {{id: k}}) DELETE e"
    )


__all__ = [
    "count_edges",
    "count_rows",
    "edge_create",
    "edge_delete",
    "edges_between",
    "edges_from",
    "event_between",
    "event_key_create",
    "event_key_ddl",
    "event_key_delete",
    "event_key_rebuild",
    "event_key_table",
    "event_keys",
    "node_create",
    "node_ddl",
    "node_lookup",
    "node_update",
    "rel_ddl",
]
