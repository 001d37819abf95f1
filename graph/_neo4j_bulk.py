"""Whole-relationship reads on Neo4j in few records: one per source node.

To the Python driver a Bolt record costs far more than the values in it (a message,
a ``Record``, its iteration), and a temporal value costs a ``neo4j.time`` object:
``edge_arrays`` of 522 k edges spent 24.6 s in the driver fetching one record per
edge. Here the server groups the edges by source node, each edge a list
``[target, *properties]``, and sends timestamps as integer microseconds since the
epoch (UTC); the driver unpacks lists in bulk (in Rust with ``neo4j-rust-ext``) and
the frame is built column by column. Sources are read in batches of
:data:`SOURCES_PER_QUERY` keys, so the server's aggregation memory stays bounded
on any graph size.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, LiteralString, cast

import numpy as np
import pandas as pd

from .schema import PropType, RelSpec

if TYPE_CHECKING:
    from neo4j import ManagedTransaction, Transaction

SOURCES_PER_QUERY = 1_000
"""Source keys per grouped query (its edges are aggregated in server memory)."""

_NAT = np.iinfo(np.int64).min  # numpy's NaT as datetime64[us] integers


def _value(kind: PropType, expr: str) -> str:
    if kind is PropType.TIMESTAMP:  # LocalDateTime (naive UTC) -> integer microseconds
        instant = f"datetime({{datetime: {expr}, timezone: 'UTC'}})"
        micros = f"{instant}.epochSeconds * 1000000 + {expr}.nanosecond / 1000"
        return f"CASE WHEN {expr} IS NULL THEN null ELSE {micros} END"
    return expr


def grouped_edges(spec: RelSpec) -> str:
    """The edges of ``spec.type`` whose source key is in ``$keys``, one record per
    source: ``source`` and ``edges``, a list of ``[target, *properties]`` (schema
    order; timestamps as microseconds since the epoch, UTC; nulls kept)."""
    items = ", ".join(["b.id", *(_value(t, f"r.{n}") for n, t in spec.properties.items())])
    return (
        f"MATCH (a:{spec.source})-[r:{spec.type}]->(b:{spec.target}) WHERE a.id IN $keys "
        f"WITH a.id AS source, collect([{items}]) AS edges RETURN source, edges"
    )


def read_grouped(
    tx: ManagedTransaction | Transaction, query: str, key_batches: list[list[str]]
) -> list[list[Any]]:
    """Transaction function: ``query`` (a :func:`grouped_edges`) over each batch of
    source keys, the value lists of all its records (one transaction: one snapshot)."""
    records: list[list[Any]] = []
    for keys in key_batches:
        records += tx.run(cast(LiteralString, query), {"keys": keys}).values()
    return records


def key_batches(keys: Sequence[str]) -> list[list[str]]:
    """``keys`` in batches of :data:`SOURCES_PER_QUERY`."""
    return [list(keys[i : i + SOURCES_PER_QUERY]) for i in range(0, len(keys), SOURCES_PER_QUERY)]


def grouped_edges_frame(spec: RelSpec, records: list[list[Any]]) -> pd.DataFrame:
    """The frame of :func:`grouped_edges` records: ``source``, ``target`` and the
    properties of ``spec``, one row per edge; timestamps as ``datetime64[us]`` (NaT
    for null), other values as sent (object columns: :func:`~._frames.read_frame`
    types them). Built as one 2-D object array, never row by row in Python."""
    names = ["target", *spec.properties]
    sizes = [len(grouped) for _, grouped in records]
    sources = np.repeat(np.array([source for source, _ in records], dtype=object), sizes)
    edges = list(itertools.chain.from_iterable(grouped for _, grouped in records))
    table = np.empty((len(edges), len(names)), dtype=object)
    if edges:
        table[:] = edges
    data: dict[str, Any] = {"source": pd.Series(sources, dtype=object)}
    for position, name in enumerate(names):
        column = table[:, position]
        if spec.properties.get(name) is PropType.TIMESTAMP:
            micros = np.where(pd.isna(column), _NAT, column).astype(np.int64)
            data[name] = pd.Series(micros.view("datetime64[us]"))
        else:
            data[name] = pd.Series(column, dtype=object)
    return pd.DataFrame(data, columns=["source", *names])


__all__ = [
    "SOURCES_PER_QUERY",
    "grouped_edges",
    "grouped_edges_frame",
    "key_batches",
    "read_grouped",
]
