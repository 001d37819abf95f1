"""``EmbeddedGraph``: the graph store on LadybugDB (embedded, on disk, Cypher).

New nodes and edges are bulk-loaded with ``COPY <table> FROM $arrow_table``;
updates join an Arrow table with ``LOAD FROM``. Each upsert runs in one
transaction, so a load killed half-way leaves whole batches or nothing, and the
next run completes it. The database folder belongs to one process (LadybugDB
locks it): servers own the embedded store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..errors import GraphStoreError
from ._frames import (
    changed_rows,
    clean_record,
    edge_frame,
    isin,
    node_frame,
    to_arrow,
)
from ._shared_reads import SharedReads
from .base import Direction, Neighbor, UpsertResult
from .schema import NODES, RELS, NodeSpec, PropType, RelSpec, node_spec, rel_spec

_MB = 1 << 20


def _ddl_node(spec: NodeSpec) -> str:
    cols = ", ".join(f"{name} {spec.properties[name].value}" for name in spec.columns)
    return f"CREATE NODE TABLE IF NOT EXISTS {spec.label}({cols}, PRIMARY KEY({spec.key}))"


def _ddl_rel(spec: RelSpec) -> str:
    cols = "".join(f", {name} {prop.value}" for name, prop in spec.properties.items())
    return f"CREATE REL TABLE IF NOT EXISTS {spec.type}(FROM {spec.source} TO {spec.target}{cols})"


class EmbeddedGraph(SharedReads):
    """A :class:`~pricegraph.graph.base.GraphStore` in a LadybugDB folder.

    Args:
        path: Database folder (created if missing).
        buffer_pool_mb: Buffer pool size in MiB.
        max_db_size_gb: Maximum database size in GiB.
        batch_size: Rows per ``COPY`` statement.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        buffer_pool_mb: int = 1024,
        max_db_size_gb: int = 64,
        batch_size: int = 500_000,
    ) -> None:
        try:
            import ladybug
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise GraphStoreError("the embedded graph needs 'pip install ladybug'") from exc
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.batch_size = batch_size
        self.buffer_pool_mb = buffer_pool_mb
        try:
            self._db = ladybug.Database(
                str(self.path),
                buffer_pool_size=buffer_pool_mb * _MB,
                max_db_size=max_db_size_gb * 1024 * _MB,
            )
            self._conn = ladybug.Connection(self._db)
        except RuntimeError as exc:
            raise GraphStoreError(f"cannot open the embedded graph at {self.path}: {exc}") from exc
        self.ensure_schema()

    def __repr__(self) -> str:
        return f"EmbeddedGraph(path={str(self.path)!r})"

    # -- plumbing -----------------------------------------------------------------

    def _execute(self, query: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self._conn.execute(query, params or {})
        except RuntimeError as exc:
            hint = ""
            if "buffer pool is full" in str(exc):
                hint = (
                    f" (the buffer pool of {self.buffer_pool_mb} MiB is too small for this "
                    "write; raise PRICEGRAPH_GRAPH__BUFFER_POOL_MB)"
                )
            raise GraphStoreError(f"LadybugDB: {exc}{hint}") from exc

    def _run(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """Small results: rows as Python values (much cheaper than Arrow per call)."""
        result = self._execute(query, params)
        columns = result.get_column_names()
        return pd.DataFrame(result.get_all(), columns=columns)

    def _run_bulk(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """Large results (whole tables): through Arrow, no per-row Python objects."""
        table: pa.Table = self._execute(query, params).get_as_arrow()
        return table.to_pandas()

    def _in_transaction(self, steps: list[tuple[str, dict[str, Any]]]) -> None:
        self._execute("BEGIN TRANSACTION")
        try:
            for query, params in steps:
                self._execute(query, params)
        except BaseException:
            with contextlib.suppress(GraphStoreError):  # a failed statement may end it already
                self._execute("ROLLBACK")
            raise
        self._execute("COMMIT")

    def ensure_schema(self) -> None:
        """Create the node and relationship tables that are missing, and add the
        properties a newer schema has to tables an older version created."""
        for spec in NODES.values():
            self._execute(_ddl_node(spec))
            self._add_missing(spec.label, {n: spec.properties[n] for n in spec.columns})
        for rel in RELS.values():
            self._execute(_ddl_rel(rel))
            self._add_missing(rel.type, rel.properties)

    def _add_missing(self, table: str, properties: dict[str, PropType]) -> None:
        info = self._run(f"CALL TABLE_INFO('{table}') RETURN *", {})
        have = set(info["name"]) if "name" in info.columns else set()
        for name, prop in properties.items():
            if name not in have:
                self._execute(f"ALTER TABLE {table} ADD IF NOT EXISTS {name} {prop.value}")

    # -- writes -------------------------------------------------------------------

    def existing_keys(self, label: str) -> set[str]:
        """All keys of ``label``."""
        return set(self._keys(label).to_pylist())

    def _keys(self, label: str) -> pa.Array:
        node_spec(label)
        table = self._execute(f"MATCH (n:{label}) RETURN n.id AS id").get_as_arrow()
        return table.column("id").combine_chunks()

    def upsert_nodes(self, label: str, frame: pd.DataFrame) -> UpsertResult:
        """See :meth:`GraphStore.upsert_nodes`."""
        spec = node_spec(label)
        rows = node_frame(spec, frame)
        if rows.empty:
            return UpsertResult()
        is_new = ~isin(rows[spec.key], self._keys(label))
        new, old = rows[is_new], rows[~is_new]
        changed = self._changed_nodes(spec, old)
        steps = [
            (f"COPY {label} FROM $rows", {"rows": batch})
            for batch in self._batches(to_arrow(new, spec.properties, spec.columns))
        ]
        if len(changed) and len(changed.columns) > 1:
            names = [c for c in changed.columns if c != spec.key]
            table = to_arrow(changed, spec.properties, [spec.key, *names])
            table = table.rename_columns(["k", *[f"v_{n}" for n in names]])
            sets = ", ".join(f"n.{n} = v_{n}" for n in names)
            steps.append(
                (f"LOAD FROM $rows MATCH (n:{label} {{id: k}}) SET {sets}", {"rows": table})
            )
        self._in_transaction(steps)
        return UpsertResult(len(new), len(changed), len(old) - len(changed))

    def _changed_nodes(self, spec: NodeSpec, old: pd.DataFrame) -> pd.DataFrame:
        if old.empty or len(old.columns) == 1:
            return old.iloc[0:0]
        names = [c for c in old.columns if c != spec.key]
        keys = pa.table({"k": pa.array(old[spec.key], type=pa.string())})
        returns = ", ".join(f"n.{n} AS {n}" for n in names)
        query = f"LOAD FROM $keys MATCH (n:{spec.label} {{id: k}}) RETURN n.id AS id, {returns}"
        stored = self._run_bulk(query, {"keys": keys})
        stored = node_frame(spec, stored)
        return changed_rows(old.reset_index(drop=True), stored, spec.key)

    def _batches(self, table: pa.Table) -> list[pa.Table]:
        return [table.slice(i, self.batch_size) for i in range(0, table.num_rows, self.batch_size)]

    def _check_endpoints(self, spec: RelSpec, rows: pd.DataFrame) -> None:
        for column, label in (("source", spec.source), ("target", spec.target)):
            unknown = ~isin(rows[column], self._keys(label))
            missing = sorted(set(rows.loc[unknown, column]))
            if missing:
                raise GraphStoreError(
                    f"{spec.type}: {len(missing)} {column} keys are not {label} nodes, "
                    f"e.g. {missing[:5]}"
                )

    def _stored_edges(self, spec: RelSpec, columns: list[str]) -> pd.DataFrame:
        returns = ", ".join(f"r.{c} AS {c}" for c in columns)
        query = (
            f"MATCH (a:{spec.source})-[r:{spec.type}]->(b:{spec.target}) "
            f"RETURN a.id AS source, b.id AS target{', ' + returns if returns else ''}"
        )
        return self._run_bulk(query, {})

    def _stored_event_ids(self, spec: RelSpec) -> pa.Array:
        query = f"MATCH (:{spec.source})-[r:{spec.type}]->(:{spec.target}) RETURN r.event_id AS e"
        return self._execute(query).get_as_arrow().column("e").combine_chunks()

    def upsert_edges(self, rel_type: str, frame: pd.DataFrame) -> UpsertResult:
        """See :meth:`GraphStore.upsert_edges`."""
        spec = rel_spec(rel_type)
        rows = edge_frame(spec, frame)
        if rows.empty:
            return UpsertResult()
        self._check_endpoints(spec, rows)
        columns = ["source", "target", *spec.properties]
        props = {"source": PropType.STRING, "target": PropType.STRING, **spec.properties}
        steps: list[tuple[str, dict[str, Any]]] = []
        if spec.is_event:
            is_new = ~isin(rows["event_id"], self._stored_event_ids(spec))
            new, updated, unchanged = rows[is_new], 0, int((~is_new).sum())
        else:
            on = ["source"] if spec.identity == "source" else ["source", "target"]
            stored = self._stored_edges(spec, list(spec.properties))
            merged = rows.merge(
                stored, on=on, how="left", suffixes=("", "__stored"), indicator=True
            )
            is_new = (merged["_merge"] == "left_only").to_numpy()
            new = rows[is_new]
            if spec.identity == "source":
                replaced = rows[~is_new & (merged["target"] != merged["target__stored"]).to_numpy()]
                if len(replaced):
                    old_pairs = merged.loc[replaced.index, ["source", "target__stored"]]
                    steps.append(
                        self._delete_step(spec, old_pairs.set_axis(["source", "target"], axis=1))
                    )
                    new = pd.concat([new, replaced])
                updated = len(replaced)
            else:
                both = rows[~is_new]
                changed = self._changed_pairs(spec, both, stored)
                if len(changed):
                    steps.append(self._delete_step(spec, changed[["source", "target"]]))
                    new = pd.concat([new, changed])
                updated = len(changed)
            unchanged = len(rows) - int(is_new.sum()) - updated
        for batch in self._batches(to_arrow(new, props, columns)):
            steps.append((f"COPY {rel_type} FROM $rows", {"rows": batch}))
        self._in_transaction(steps)
        return UpsertResult(int(is_new.sum()), updated, unchanged)

    def _changed_pairs(
        self, spec: RelSpec, rows: pd.DataFrame, stored: pd.DataFrame
    ) -> pd.DataFrame:
        if rows.empty or not spec.properties:
            return rows.iloc[0:0]
        key_rows = rows.assign(_pair=rows["source"] + "\x1f" + rows["target"])
        key_stored = stored.assign(_pair=stored["source"] + "\x1f" + stored["target"])
        cols = ["_pair", *[c for c in rows.columns if c not in ("source", "target")]]
        changed = changed_rows(key_rows[cols], key_stored[cols], "_pair")
        return rows[isin(key_rows["_pair"], changed["_pair"])]

    def _delete_step(self, spec: RelSpec, pairs: pd.DataFrame) -> tuple[str, dict[str, Any]]:
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
        self._in_transaction([self._delete_step(spec, frame[["source", "target"]].astype(str))])
        return before - self.counts_of(rel_type)

    def counts_of(self, rel_type: str) -> int:
        """Number of edges of one relationship type."""
        spec = rel_spec(rel_type)
        query = f"MATCH (:{spec.source})-[r:{spec.type}]->(:{spec.target}) RETURN count(r) AS n"
        return int(self._run(query, {}).iloc[0, 0])

    def clear(self) -> None:
        """Delete every node and edge; the tables stay."""
        for label in NODES:
            self._execute(f"MATCH (n:{label}) DETACH DELETE n")

    # -- reads --------------------------------------------------------------------

    def get_nodes(self, label: str, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        """See :meth:`GraphStore.get_nodes`."""
        spec = node_spec(label)
        returns = ", ".join(f"n.{c} AS {c}" for c in spec.columns)
        query = f"UNWIND $keys AS k MATCH (n:{label} {{id: k}}) RETURN {returns}"
        result = self._execute(query, {"keys": [str(k) for k in keys]})
        names = result.get_column_names()
        rows = (clean_record(dict(zip(names, values, strict=True))) for values in result.get_all())
        by_key = {row["id"]: row for row in rows}
        return [by_key.get(k) for k in keys]

    def neighbors(
        self,
        label: str,
        key: str,
        *,
        rel_type: str | None = None,
        direction: Direction = "both",
        limit: int = 50,
    ) -> list[Neighbor]:
        """See :meth:`GraphStore.neighbors`."""
        node_spec(label)
        rel = f":{rel_spec(rel_type).type}" if rel_type else ""
        found: list[Neighbor] = []
        for side in ("out", "in"):
            if direction not in (side, "both"):
                continue
            pattern = f"-[r{rel}]->(m)" if side == "out" else f"<-[r{rel}]-(m)"
            query = (
                f"MATCH (n:{label} {{id: $id}}){pattern} "
                "RETURN DISTINCT label(r) AS rel, label(m) AS label, m.id AS id "
                "ORDER BY rel, label, id LIMIT $limit"
            )
            rows = self._run(query, {"id": key, "limit": int(limit)})
            found += [
                Neighbor(r["label"], r["id"], r["rel"], side) for r in rows.to_dict("records")
            ]
        found.sort(key=lambda n: (n.rel_type, n.label, n.id, n.direction))
        return found[:limit]

    def close(self) -> None:
        """Close the connection and the database (releases the folder lock)."""
        self._conn.close()
        self._db.close()


__all__ = ["EmbeddedGraph"]
