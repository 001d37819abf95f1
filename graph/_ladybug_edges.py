"""Edge writes of the embedded store (LadybugDB): upserts on both write paths, deletes.

:class:`EdgeWrites` is mixed into :class:`~pricegraph.graph.ladybug_store.EmbeddedGraph`,
which provides the runners and the node-key look-ups. An upsert finds the stored
edges its rows may match, decides per row (new, replaced, changed, unchanged;
events: new, re-sent or clashing), then deletes and creates edges in one
transaction. The small-write path reads the stored edges by primary key and writes
with parameterised statements; the bulk path reads whole tables and ``COPY``-loads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import GraphStoreError
from . import _ladybug_cypher as cypher
from ._frames import edge_frame, isin, to_arrow
from ._frames import typed_frame as _typed
from ._records import Record, edge_records, split_edges
from .base import UpsertResult
from .diff import diff_edges
from .schema import PropType, RelSpec, rel_spec

Step = tuple[str, dict[str, Any]]
"""A statement and its parameters."""


def _props(spec: RelSpec) -> dict[str, PropType]:
    return {"source": PropType.STRING, "target": PropType.STRING, **spec.properties}


def _full_edge(spec: RelSpec, row: Record) -> Record:
    """``row`` with every property of ``spec`` (absent ones null), as ``CREATE`` reads them."""
    return {"source": row["source"], "target": row["target"]} | {
        name: row.get(name) for name in spec.properties
    }


def _refuse_missing(spec: RelSpec, column: str, label: str, missing: set[str]) -> None:
    if missing:
        shown = sorted(missing)
        raise GraphStoreError(
            f"{spec.type}: {len(shown)} {column} keys are not {label} nodes, e.g. {shown[:5]}"
        )


class EdgeWrites:
    """The edge half of the embedded store's writes."""

    # Provided by the store.
    small_write_rows: int
    _run: Callable[[str, dict[str, Any]], pd.DataFrame]
    _run_bulk: Callable[[str, dict[str, Any]], pd.DataFrame]
    _rows: Callable[[str, dict[str, Any]], list[Record]]
    _execute: Callable[..., Any]
    _in_transaction: Callable[[list[Step]], None]
    _keys: Callable[[str], pa.Array]
    _found_keys: Callable[[str, Sequence[str]], set[str]]
    _batches: Callable[[pa.Table], list[pa.Table]]
    _count: Callable[[str], int]

    def upsert_edges(self, rel_type: str, frame: pd.DataFrame) -> UpsertResult:
        """See :meth:`GraphStore.upsert_edges`."""
        spec = rel_spec(rel_type)
        if len(frame) <= self.small_write_rows:
            return self._upsert_few_edges(spec, frame)
        rows = edge_frame(spec, frame)
        for column, label in (("source", spec.source), ("target", spec.target)):
            unknown = ~isin(rows[column], self._keys(label))
            _refuse_missing(spec, column, label, set(rows.loc[unknown, column]))
        stored = _typed(_props(spec), self._all_edges(spec, rows), what=spec.type)
        diff = diff_edges(spec, rows, stored)
        self._in_transaction(self._bulk_writes(spec, diff.writes, diff.replaced))
        return diff.result()

    def _upsert_few_edges(self, spec: RelSpec, frame: pd.DataFrame) -> UpsertResult:
        """The small-write path: endpoints and stored edges by primary key, then
        parameterised deletes and creates."""
        rows = edge_records(spec, frame)
        if not rows:
            return UpsertResult()
        for column, label in (("source", spec.source), ("target", spec.target)):
            keys = sorted({row[column] for row in rows})
            _refuse_missing(spec, column, label, set(keys) - self._found_keys(label, keys))
        if spec.is_event:
            keys = self._rows(cypher.event_keys(spec), {"keys": [r["event_id"] for r in rows]})
            stored = self._each(cypher.event_between(spec), keys)
        elif spec.identity == "source":
            sources = [{"source": s} for s in sorted({row["source"] for row in rows})]
            stored = self._each(cypher.edges_from(spec), sources)
        else:
            pairs = [{"source": row["source"], "target": row["target"]} for row in rows]
            stored = self._each(cypher.edges_between(spec), pairs)
        changes = split_edges(spec, rows, stored)
        steps = [(cypher.edge_delete(spec), pair) for pair in changes.removed]
        if changes.created or changes.rewritten:
            full = [_full_edge(spec, row) for row in changes.created + changes.rewritten]
            steps.append((cypher.edge_create(spec), {"rows": full}))
        if spec.is_event and changes.created:
            ids = [{c: row[c] for c in ("event_id", "source", "target")} for row in changes.created]
            steps.append((cypher.event_key_create(spec), {"rows": ids}))
        self._in_transaction(steps)
        return UpsertResult(len(changes.created), len(changes.rewritten), changes.unchanged)

    def _each(self, query: str, params: list[Record]) -> list[Record]:
        """The rows of ``query`` run once per parameter map, in order."""
        return [row for p in params for row in self._rows(query, p)]

    def _all_edges(self, spec: RelSpec, rows: pd.DataFrame) -> pd.DataFrame:
        """The bulk path's stored edges: all of them; for events, those of the ids in
        ``rows`` (none read when every id is new)."""
        returns = "".join(f", r.{c} AS {c}" for c in spec.properties)
        query = (
            f"MATCH (a:{spec.source})-[r:{spec.type}]->(b:{spec.target}) "
            f"RETURN a.id AS source, b.id AS target{returns}"
        )
        if not spec.is_event:
            return self._run_bulk(query, {})
        ids = f"MATCH (:{spec.source})-[r:{spec.type}]->(:{spec.target}) RETURN r.event_id AS e"
        stored_ids = self._execute(ids).get_as_arrow().column("e").combine_chunks()
        known = rows.loc[isin(rows["event_id"], stored_ids), "event_id"]
        if known.empty:
            return pd.DataFrame(columns=list(_props(spec)))
        stored = self._run_bulk(query, {})
        return stored[isin(stored["event_id"], known)]

    def _bulk_writes(self, spec: RelSpec, new: pd.DataFrame, removed: pd.DataFrame) -> list[Step]:
        """Delete the ``removed`` pairs, then ``COPY`` ``new`` (and the new event ids)."""
        steps = [self._delete_step(spec, removed)] if len(removed) else []
        columns = ["source", "target", *spec.properties]
        for batch in self._batches(to_arrow(new, _props(spec), columns)):
            steps.append((f"COPY {spec.type} FROM $rows", {"rows": batch}))
        if spec.is_event and len(new):
            keys = to_arrow(new, _props(spec), ["event_id", "source", "target"])
            for batch in self._batches(keys.rename_columns(["id", "source", "target"])):
                steps.append((f"COPY {cypher.event_key_table(spec)} FROM $rows", {"rows": batch}))
        return steps

    def _delete_step(self, spec: RelSpec, pairs: pd.DataFrame) -> Step:
        table = pa.table(
            {
                "s": pa.array(pairs["source"], pa.string()),
                "t": pa.array(pairs["target"], pa.string()),
            }
        )
        query = (
            f"LOAD FROM $pairs MATCH (a:{spec.source} {{id: s}})-[r:{spec.type}]->"
            f"(b:{spec.target} {{id: t}}) DELETE r"
        )
        return query, {"pairs": table}

    def delete_edges(self, rel_type: str, frame: pd.DataFrame) -> int:
        """See :meth:`GraphStore.delete_edges`."""
        spec = rel_spec(rel_type)
        if not {"source", "target"} <= set(frame.columns):
            raise GraphStoreError(f"{rel_type}: delete_edges needs 'source' and 'target' columns")
        before = self.counts_of(rel_type)
        step = self._delete_step(spec, frame[["source", "target"]].astype(str))
        keys = [(cypher.event_key_delete(spec), step[1])] if spec.is_event else []
        self._in_transaction([*keys, step])
        return before - self.counts_of(rel_type)

    def counts_of(self, rel_type: str) -> int:
        """Number of edges of one relationship type."""
        return self._count(cypher.count_edges(rel_spec(rel_type)))


__all__ = ["EdgeWrites", "Step"]
