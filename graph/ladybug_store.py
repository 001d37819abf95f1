"""``EmbeddedGraph``: the graph store on LadybugDB (embedded, on disk, Cypher).

Writes take one of two paths by size. Up to :data:`SMALL_WRITE_ROWS` rows (the
API's usual case: one item), an upsert looks up the stored rows by primary key,
compares them in Python (:mod:`._records`) and writes with parameterised statements:
``CREATE`` for new keys and ``MATCH ... SET`` by key for changed rows, which is
``MERGE`` without the whole-table scan LadybugDB plans for ``UNWIND ... MERGE``
(:mod:`._ladybug_cypher`). Its cost follows the rows written, not the size of the
tables, and it leaves the buffer pool as it found it. Larger upserts bulk-load new
rows with ``COPY <table> FROM $arrow_table`` and update with ``LOAD FROM`` joins,
after reading the keys of whole tables (which a bulk load reads anyway). A ``COPY``
keeps megabytes of buffer pool per transaction, so it is never used for a few rows.

Each upsert runs in one transaction, and :meth:`EmbeddedGraph.transaction` makes
several (a node and its edges) commit together, so a write killed half-way leaves
whole items or nothing, and the next run completes it. The database folder
belongs to one process (LadybugDB locks it): servers own the embedded store.

Threads: LadybugDB takes one writer and many readers on one database, each
connection used by one thread at a time. Writes (upserts, deletes, transactions)
hold a lock and run on the write connection, so writes from several threads are
serialised; reads on a thread that is not writing run on that thread's own read
connection (a pool keyed by thread, opened on first use), concurrently with each
other and with the write, and see whole committed transactions. A read inside
:meth:`EmbeddedGraph.transaction` runs on the write connection and sees the writes
made before it inside.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pandas as pd
import pyarrow as pa

from ..errors import GraphStoreError, ReadOnlyQueryError
from . import _ladybug_cypher as cypher
from ._batched_clear import clear_label, clear_relationships, drain
from ._frames import changed_rows, check_read_only, clean_record, isin, node_frame, to_arrow
from ._ladybug_edges import EdgeWrites, Step
from ._records import Record, node_records, split_nodes
from ._shared_reads import SharedReads
from .base import Direction, Neighbor, UpsertResult, check_read_only_procedures
from .schema import NODES, RELS, NodeSpec, PropType, node_spec, rel_spec

_MB = 1 << 20
_P = ParamSpec("_P")
_R = TypeVar("_R")
_ddl_node = cypher.node_ddl  # the names bench/bench_load.py imports for its COPY floor
_ddl_rel = cypher.rel_ddl

SMALL_WRITE_ROWS = 256
"""Upserts of at most this many rows use primary-key look-ups and parameterised
``CREATE`` / ``MATCH ... SET`` statements; larger ones bulk-load with ``COPY``."""

CLEAR_BATCH = 100_000
"""Elements :meth:`EmbeddedGraph.clear` deletes per statement (one transaction): what
a Ctrl-C can roll back, and a bound on one transaction's memory."""


def _writes(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``method`` holding the store's write lock, on the write connection."""

    @functools.wraps(method)
    def locked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with args[0]._writing():  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return locked


def _let_half_built_objects_close(ladybug: Any) -> None:
    """Give ladybug's ``QueryResult`` a class-level ``is_closed = True`` and its
    ``PreparedStatement`` a class-level ``_prepared_statement = None``.

    Their ``__init__`` sets these after other work, and their ``__del__`` reads them. A
    Ctrl-C that lands in between (a load interrupted in a query) left an instance
    without the attribute, and its ``__del__`` printed an ``AttributeError`` traceback
    at exit. Such an instance was never registered with its connection nor handed out,
    so closing it is rightly a no-op; a built instance sets its own attribute and is
    unaffected.
    """
    defaults = ((ladybug.QueryResult, "is_closed", True),
                (ladybug.PreparedStatement, "_prepared_statement", None))  # fmt: skip
    for cls, name, value in defaults:
        if name not in vars(cls):
            setattr(cls, name, value)


class EmbeddedGraph(EdgeWrites, SharedReads):
    """A :class:`~pricegraph.graph.base.GraphStore` in a LadybugDB folder.

    Args:
        path: Database folder (created if missing).
        buffer_pool_mb: Buffer pool size in MiB.
        max_db_size_gb: Maximum database size in GiB.
        batch_size: Rows per ``COPY`` statement.
        small_write_rows: Upserts of at most this many rows take the small-write path
            (default :data:`SMALL_WRITE_ROWS`; 0 sends every upsert through ``COPY``).

    Attributes:
        concurrent_readers: Threads that may read at once beside the writing one
            (:func:`~pricegraph.graph.base.concurrent_readers`); each has its own read
            connection, so this only bounds what callers should plan for.
    """

    concurrent_readers = 8

    def __init__(
        self,
        path: str | Path,
        *,
        buffer_pool_mb: int = 1024,
        max_db_size_gb: int = 64,
        batch_size: int = 500_000,
        small_write_rows: int = SMALL_WRITE_ROWS,
    ) -> None:
        try:
            import ladybug
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise GraphStoreError("the embedded graph needs 'pip install ladybug'") from exc
        _let_half_built_objects_close(ladybug)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.batch_size = batch_size
        self.small_write_rows = small_write_rows
        self.buffer_pool_mb = buffer_pool_mb
        self._is_in_transaction = False
        self._write_lock = threading.RLock()
        self._local = threading.local()  # .depth: write calls this thread is inside
        self._readers: dict[int, Any] = {}  # thread id -> its read connection
        self._readers_lock = threading.Lock()
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

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the write lock; this thread's statements go to the write connection."""
        with self._write_lock:
            self._local.depth = getattr(self._local, "depth", 0) + 1
            try:
                yield
            finally:
                self._local.depth -= 1

    def _connection(self) -> Any:
        """The write connection inside a write call of this thread, else this thread's
        read connection (opened on first use; those of finished threads are closed)."""
        if getattr(self._local, "depth", 0):
            return self._conn
        ident = threading.get_ident()
        connection = self._readers.get(ident)
        if connection is not None:
            return connection
        import ladybug

        with self._readers_lock:
            alive = {thread.ident for thread in threading.enumerate()}
            for gone in [i for i in self._readers if i not in alive]:
                with contextlib.suppress(RuntimeError):
                    self._readers.pop(gone).close()
            try:
                connection = ladybug.Connection(self._db)
            except RuntimeError as exc:
                raise GraphStoreError(f"LadybugDB: cannot open a read connection: {exc}") from exc
            self._readers[ident] = connection
        return connection

    def _execute(self, query: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self._connection().execute(query, params or {})
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

    def _rows(self, query: str, params: dict[str, Any]) -> list[Record]:
        """A few rows as dicts of Python values (no pandas: the small-write path)."""
        result = self._execute(query, params)
        names = result.get_column_names()
        return [dict(zip(names, values, strict=True)) for values in result.get_all()]

    def _run_bulk(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """Large results (whole tables): through Arrow, no per-row Python objects."""
        table: pa.Table = self._execute(query, params).get_as_arrow()
        return table.to_pandas()

    def read_cypher(self, query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """See :meth:`GraphStore.read_cypher`: in a ``READ ONLY`` transaction of this
        thread's read connection (LadybugDB refuses any write in it), after the
        clause check and the procedure allowlist; inside :meth:`transaction`, on the
        write connection (it sees the writes made before it)."""
        check_read_only(query)
        check_read_only_procedures(query)
        if getattr(self._local, "depth", 0):
            return self._run_bulk(query, params or {})
        return self._read_only(query, params or {})

    def _read_only(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """Run ``query`` in a read-only transaction on this thread's read connection.

        Raises:
            ReadOnlyQueryError: LadybugDB refused a write.
        """
        self._execute("BEGIN TRANSACTION READ ONLY")
        try:
            return self._run_bulk(query, params)
        except GraphStoreError as exc:
            if "inside a read-only transaction" in str(exc):
                raise ReadOnlyQueryError(f"read_cypher runs read-only queries; {exc}") from exc
            raise
        finally:  # a failed statement has ended the transaction already
            with contextlib.suppress(GraphStoreError):
                self._execute("ROLLBACK")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """See :meth:`GraphStore.transaction`; holds the write lock until it ends, so
        other threads' writes wait and their reads see none of it before the commit."""
        with self._writing():
            if self._is_in_transaction:  # joins the open one
                yield
                return
            self._execute("BEGIN TRANSACTION")
            self._is_in_transaction = True
            try:
                yield
            except BaseException:
                self._is_in_transaction = False
                with contextlib.suppress(GraphStoreError):  # a failed statement may end it
                    self._execute("ROLLBACK")
                raise
            self._is_in_transaction = False
            self._execute("COMMIT")

    def _in_transaction(self, steps: list[Step]) -> None:
        with self.transaction():
            for query, params in steps:
                self._execute(query, params)

    def buffer_pool_bytes(self) -> int:
        """Bytes of the buffer pool in use now (LadybugDB's ``BM_INFO``)."""
        return int(self._run("CALL BM_INFO() RETURN mem_usage AS n", {}).iloc[0, 0])

    @_writes
    def ensure_schema(self) -> None:
        """Create the node and relationship tables that are missing, add the properties
        a newer schema has to tables an older version created, and fill the event-id
        tables of events an older version stored without them."""
        for spec in NODES.values():
            self._execute(cypher.node_ddl(spec))
            self._add_missing(spec.label, {n: spec.properties[n] for n in spec.columns})
        for rel in RELS.values():
            self._execute(cypher.rel_ddl(rel))
            self._add_missing(rel.type, rel.properties)
            if rel.is_event:
                self._execute(cypher.event_key_ddl(rel))
                keys = self._count(cypher.count_rows(cypher.event_key_table(rel)))
                if keys != self._count(cypher.count_edges(rel)):
                    self._in_transaction([(q, {}) for q in cypher.event_key_rebuild(rel)])

    def _count(self, query: str) -> int:
        return int(self._run(query, {}).iloc[0, 0])

    def _add_missing(self, table: str, properties: dict[str, PropType]) -> None:
        info = self._run(f"CALL TABLE_INFO('{table}') RETURN *", {})
        have = set(info["name"]) if "name" in info.columns else set()
        for name, prop in properties.items():
            if name not in have:
                self._execute(f"ALTER TABLE {table} ADD IF NOT EXISTS {name} {prop.value}")

    # -- node writes --------------------------------------------------------------

    def existing_keys(self, label: str) -> set[str]:
        """All keys of ``label``."""
        return set(self._keys(label).to_pylist())

    def _keys(self, label: str) -> pa.Array:
        node_spec(label)
        table = self._execute(f"MATCH (n:{label}) RETURN n.id AS id").get_as_arrow()
        return table.column("id").combine_chunks()

    def _found_keys(self, label: str, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that are ``label`` nodes (primary-key look-ups)."""
        found = self._rows(cypher.node_lookup(node_spec(label), []), {"keys": list(keys)})
        return {row["id"] for row in found}

    @_writes
    def upsert_nodes(self, label: str, frame: pd.DataFrame) -> UpsertResult:
        """See :meth:`GraphStore.upsert_nodes`."""
        spec = node_spec(label)
        if len(frame) <= self.small_write_rows:
            return self._upsert_few_nodes(spec, frame)
        rows = node_frame(spec, frame)
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

    def _upsert_few_nodes(self, spec: NodeSpec, frame: pd.DataFrame) -> UpsertResult:
        """The small-write path: the stored values by primary key, then ``CREATE`` the
        new nodes and ``SET`` the changed ones (``MERGE`` semantics, key-indexed)."""
        rows = node_records(spec, frame)
        if not rows:
            return UpsertResult()
        names = [n for n in rows[0] if n != spec.key]
        keys = [row[spec.key] for row in rows]
        found = self._rows(cypher.node_lookup(spec, names), {"keys": keys})
        new, changed, unchanged = split_nodes(rows, {r[spec.key]: r for r in found}, spec.key)
        steps: list[Step] = []
        if new:
            steps.append((cypher.node_create(spec, names), {"rows": new}))
        if changed:
            steps.append((cypher.node_update(spec, names), {"rows": changed}))
        self._in_transaction(steps)
        return UpsertResult(len(new), len(changed), unchanged)

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

    @_writes
    def upsert_edges(self, rel_type: str, frame: pd.DataFrame) -> UpsertResult:
        """See :meth:`GraphStore.upsert_edges`."""
        return super().upsert_edges(rel_type, frame)

    @_writes
    def delete_edges(self, rel_type: str, frame: pd.DataFrame) -> int:
        """See :meth:`GraphStore.delete_edges`."""
        return super().delete_edges(rel_type, frame)

    @_writes
    def clear(self) -> None:
        """Delete every node and edge; the tables stay.

        Edges go first, each event with its id in the event-id table, then the event
        ids left without an event, then nodes: at most :data:`CLEAR_BATCH` elements per
        statement, each statement its own transaction. LadybugDB stops a statement on
        an interrupt (Ctrl-C) and rolls it back, so a stopped clear has deleted whole
        batches only, every stored event still has its id, and running it again
        finishes it.
        """
        statements: list[str] = []
        for rel in RELS.values():
            if not rel.is_event:
                statements.append(clear_relationships(rel))
                continue
            keys = cypher.event_key_table(rel)
            statements += [
                f"MATCH (:{rel.source})-[r:{rel.type}]->(:{rel.target}) WITH r LIMIT $limit "
                f"OPTIONAL MATCH (k:{keys} {{id: r.event_id}}) DELETE r, k "
                "RETURN count(*) AS deleted",
                f"MATCH (k:{keys}) WITH k LIMIT $limit DELETE k RETURN count(*) AS deleted",
            ]
        statements += [clear_label(label) for label in NODES]
        for statement in statements:

            def delete_batch(limit: int, statement: str = statement) -> int:
                return int(self._run(statement, {"limit": limit}).iloc[0, 0])

            drain(delete_batch, CLEAR_BATCH)

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
        """Close the connections and the database (releases the folder lock); call it
        when no other thread uses the store any more."""
        with self._readers_lock:
            for connection in self._readers.values():
                with contextlib.suppress(RuntimeError):
                    connection.close()
            self._readers.clear()
        self._conn.close()
        self._db.close()


__all__ = ["SMALL_WRITE_ROWS", "EmbeddedGraph"]
