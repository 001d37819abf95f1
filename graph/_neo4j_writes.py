"""The writes of the Neo4j backend: upserts that report like the embedded store.

Before writing, an upsert reads the stored values of its keys and reports what it
will do exactly as the embedded backend does, then writes only the rows that are
new or changed, in batched ``UNWIND $rows AS row ...`` statements (``MERGE`` for
nodes and keyed edges, ``CREATE`` for events not stored yet), a transaction per
batch (:meth:`~._neo4j_session.Neo4jSession.write_rows`). Every statement is
idempotent: a load stopped half-way leaves whole batches, and the next run
completes it.
"""

from __future__ import annotations

import pandas as pd

from ..errors import GraphStoreError
from . import _neo4j_cypher as cypher
from . import queries
from ._frames import changed_rows, edge_frame, node_frame, typed_frame
from ._neo4j_session import Neo4jSession, records_frame
from .base import UpsertResult
from .diff import diff_edges
from .schema import PropType, RelSpec, node_spec, rel_spec

CLEAR_BATCH = 10_000
"""Most relationships or nodes :meth:`Neo4jWrites.clear` deletes per transaction."""


class Neo4jWrites:
    """The write half of :class:`~pricegraph.graph.neo4j_store.Neo4jGraph` (a mixin:
    the store provides ``_session``)."""

    _session: Neo4jSession

    def ensure_schema(self) -> None:
        """Create the missing key constraints and ``event_id`` indexes."""
        for statement in cypher.schema_statements():  # schema changes: one per transaction
            self._session.transact([(statement, {})], write=True)

    def existing_keys(self, label: str) -> set[str]:
        """All keys of ``label``."""
        return set(queries.node_keys(self._session.run, label).tolist())

    def upsert_nodes(self, label: str, frame: pd.DataFrame) -> UpsertResult:
        """See :meth:`GraphStore.upsert_nodes`."""
        spec = node_spec(label)
        rows = node_frame(spec, frame)
        if rows.empty:
            return UpsertResult()
        names = [c for c in rows.columns if c != spec.key]
        found = self._session.lookup(cypher.node_lookup(spec, names), list(rows[spec.key]))
        stored = node_frame(spec, records_frame(found))
        is_new = ~rows[spec.key].isin(set(stored[spec.key]))
        new, old = rows[is_new], rows[~is_new].reset_index(drop=True)
        changed = changed_rows(old, stored, spec.key) if names else old.iloc[0:0]
        self._session.write_rows([cypher.node_merge(spec, names)], pd.concat([new, changed]))
        return UpsertResult(len(new), len(changed), len(old) - len(changed))

    def _check_endpoints(self, spec: RelSpec, rows: pd.DataFrame) -> None:
        for column, label in (("source", spec.source), ("target", spec.target)):
            keys = sorted(set(rows[column]))
            _, found = self._session.lookup(cypher.node_lookup(node_spec(label), []), keys)
            missing = sorted(set(keys) - {r["id"] for r in found})
            if missing:
                raise GraphStoreError(
                    f"{spec.type}: {len(missing)} {column} keys are not {label} nodes, "
                    f"e.g. {missing[:5]}"
                )

    def upsert_edges(self, rel_type: str, frame: pd.DataFrame) -> UpsertResult:
        """See :meth:`GraphStore.upsert_edges`."""
        spec = rel_spec(rel_type)
        rows = edge_frame(spec, frame)
        if rows.empty:
            return UpsertResult()
        if spec.is_event and rows["event_id"].isna().any():
            raise GraphStoreError(f"{spec.type}: 'event_id' must not be null")
        self._check_endpoints(spec, rows)
        statements = [cypher.edge_merge(spec)]
        if spec.is_event:
            found = self._session.lookup(cypher.stored_events(spec), list(rows["event_id"]))
            diff = diff_edges(spec, rows, records_frame(found))
            write, result = diff.writes, diff.result()
        else:
            write, result = self._diff_edges(spec, rows)
            if spec.identity == "source":
                statements.insert(0, cypher.drop_other_targets(spec))
        self._session.write_rows(statements, write)
        return result

    def _diff_edges(self, spec: RelSpec, rows: pd.DataFrame) -> tuple[pd.DataFrame, UpsertResult]:
        """Rows to write (new, replaced or changed) and the result, for non-event types."""
        on = ["source"] if spec.identity == "source" else ["source", "target"]
        keys = list(rows["source"]) if spec.identity == "source" else cypher.frame_rows(rows[on])
        props = {"source": PropType.STRING, "target": PropType.STRING, **spec.properties}
        found = self._session.lookup(cypher.stored_edges(spec), keys)
        stored = typed_frame(props, records_frame(found), what=spec.type)
        diff = diff_edges(spec, rows, stored)
        return diff.writes, diff.result()

    def delete_edges(self, rel_type: str, frame: pd.DataFrame) -> int:
        """See :meth:`GraphStore.delete_edges`."""
        spec = rel_spec(rel_type)
        for needed in ("source", "target"):
            if needed not in frame.columns:
                raise GraphStoreError(f"{spec.type}: the frame has no {needed!r} column")
        pairs = cypher.frame_rows(frame[["source", "target"]].astype(str).drop_duplicates())
        deleted = 0
        batch_size = self._session.batch_size
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            steps = [(cypher.delete_pairs(spec), {"keys": chunk})]
            _, found = self._session.transact(steps, write=True)[0]
            deleted += int(found[0]["deleted"])
        return deleted

    def clear(self) -> None:
        """Delete every node and edge of the schema's labels; the schema stays.

        Relationships go first, then nodes, at most :data:`CLEAR_BATCH` per
        transaction (see :func:`~._neo4j_cypher.clear_statements`), so a large graph
        never needs one transaction's memory for all of it.
        """
        for statement in cypher.clear_statements():

            def delete_batch(limit: int, statement: str = statement) -> int:
                steps = [(statement, {"limit": limit})]
                return int(self._session.transact(steps, write=True)[0][1][0]["deleted"])

            cypher.drain(delete_batch, CLEAR_BATCH)


__all__ = ["CLEAR_BATCH", "Neo4jWrites"]
