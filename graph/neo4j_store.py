"""``Neo4jGraph``: the graph store on a Neo4j 5 server or cluster (Bolt, Cypher).

Writes are batched ``UNWIND $rows AS row ...`` statements (``MERGE`` for nodes
and keyed edges, ``CREATE`` for events not stored yet), ``batch_size`` rows per
managed write transaction, so the driver retries a batch that hits a
transient failure (a leader switch, a dropped connection) and a ``neo4j://``
routing URI sends writes to the leader and reads to any member. Every statement
is idempotent: a load stopped half-way leaves whole batches, and the next run
completes it. Before writing, an upsert reads the stored values of its keys and
reports what it will do exactly as the embedded backend does, then writes only
the rows that are new or changed. Sessions share one bookmark manager, so each
read sees the writes made before it through this store. Inside
:meth:`Neo4jGraph.transaction` every read and write of the thread runs in one
explicit transaction instead, committed when the context exits.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, LiteralString, cast

import pandas as pd

from ..errors import GraphStoreError, ReadOnlyQueryError
from . import _neo4j_cypher as cypher
from . import queries
from ._frames import (
    changed_rows,
    check_read_only,
    clean_record,
    edge_frame,
    node_frame,
    read_frame,
    typed_frame,
)
from ._neo4j_config import BULK_FETCH_SIZE, driver_options
from ._shared_reads import SharedReads
from .base import Direction, EdgeArrays, Neighbor, UpsertResult, check_read_only_procedures
from .diff import diff_edges
from .schema import PropType, RelSpec, node_spec, rel_spec

if TYPE_CHECKING:
    from neo4j import ManagedTransaction, Transaction

_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
_CLEAR_BATCH = 10_000
_Records = tuple[list[str], list[dict[str, Any]]]
_Step = tuple[str, dict[str, Any]]
_ACCESS_MODE = "Neo.ClientError.Statement.AccessMode"  # a write in a READ transaction


def _run_steps(tx: ManagedTransaction | Transaction, steps: list[_Step]) -> list[_Records]:
    """Transaction function: run ``steps`` in order and collect their records."""
    out: list[_Records] = []
    for query, params in steps:
        result = tx.run(cast(LiteralString, query), params)
        keys = list(result.keys())
        rows = [clean_record({k: cypher.from_neo4j(v) for k, v in r.items()}) for r in result]
        out.append((keys, rows))
    return out


def _run_columns(tx: ManagedTransaction | Transaction, query: str, params: dict[str, Any]) -> Any:
    """Transaction function: one query's keys and value lists (no per-row dicts)."""
    result = tx.run(cast(LiteralString, query), params)
    return list(result.keys()), result.values()


def _abandon(tx: Transaction) -> None:
    """End ``tx`` at once, without ROLLBACK: its connection is closed, and the
    server rolls the transaction back when it sees that.

    A ROLLBACK would wait behind the statement the server is still running (a whole
    write batch); an interrupt must not. This is the driver's own path for a
    cancelled transaction (``asyncio.CancelledError``), which the synchronous
    driver does not make public.
    """
    cancel = getattr(tx, "_cancel", None)
    if cancel is None:  # another driver version: fall back to a waiting rollback
        with contextlib.suppress(Exception):
            tx.rollback()
        return
    with contextlib.suppress(Exception):
        cancel()


def _frame(records: _Records) -> pd.DataFrame:
    keys, rows = records
    return pd.DataFrame.from_records([tuple(r.values()) for r in rows], columns=keys)


class Neo4jGraph(SharedReads):
    """A :class:`~pricegraph.graph.base.GraphStore` in a Neo4j 5 database.

    Args:
        uri: ``neo4j://host:7687`` (routing: clusters and single servers) or
            ``bolt://host:7687`` (one server); ``+s``/``+ssc`` variants for TLS.
        user: User name.
        password: Password; kept by the driver only, never shown in ``repr`` or errors.
        database: Database name (default: ``neo4j``).
        batch_size: Rows per write transaction and per ``UNWIND`` look-up.
        connection_timeout_s: Seconds to wait for a TCP connection to a server.
        max_retry_time_s: Seconds a transaction is retried after transient
            failures (leader switch, lost connection) before the error is raised.

    Raises:
        GraphStoreError: The driver is missing, the URI is malformed, or the
            server does not answer or refuses the credentials.
    """

    def __init__(
        self,
        uri: str,
        *,
        user: str = "neo4j",
        password: str = "",
        database: str = "neo4j",
        batch_size: int = 50_000,
        connection_timeout_s: float = 30.0,
        max_retry_time_s: float = 30.0,
    ) -> None:
        try:
            import neo4j
        except ImportError as exc:  # the driver is the optional extra "neo4j"
            raise GraphStoreError(
                "the Neo4j graph needs its driver: pip install 'pricegraph[neo4j]'"
            ) from exc
        if batch_size < 1:
            raise GraphStoreError(f"Neo4j batch_size: expected an integer >= 1, got {batch_size}")
        self.uri, self.database, self.batch_size = uri, database, batch_size
        self._local = threading.local()  # .tx: the explicit transaction of this thread
        self._secret = password
        self._errors: tuple[type[Exception], ...] = (
            neo4j.exceptions.Neo4jError,
            neo4j.exceptions.DriverError,
        )
        scheme = uri.split("://", 1)[0] if "://" in uri else ""
        if scheme not in _SCHEMES:
            raise GraphStoreError(
                f"Neo4j URI {uri!r}: expected a scheme among {list(_SCHEMES)}, "
                "e.g. neo4j://localhost:7687"
            )
        try:
            self._driver = neo4j.GraphDatabase.driver(
                uri,
                auth=(user, password),
                **driver_options(
                    connection_timeout_s=connection_timeout_s, max_retry_time_s=max_retry_time_s
                ),
            )
            self._bookmarks = neo4j.GraphDatabase.bookmark_manager()
            self._driver.verify_connectivity()
        except (*self._errors, ValueError) as exc:
            if hasattr(self, "_driver"):
                self._driver.close()
            raise self._error("cannot connect (is the server up and the URI right?)", exc) from exc
        try:
            self.ensure_schema()
        except GraphStoreError:
            self._driver.close()
            raise

    def __repr__(self) -> str:
        return f"Neo4jGraph(uri={self.uri!r}, database={self.database!r})"

    # -- plumbing -----------------------------------------------------------------

    def _error(self, action: str, exc: BaseException) -> GraphStoreError:
        detail = " ".join(str(exc).split()) or type(exc).__name__  # one line
        if self._secret:
            detail = detail.replace(self._secret, "***")
        return GraphStoreError(
            f"Neo4j at {self.uri} (database {self.database!r}): {action}: {detail}"
        )

    def _transact(self, steps: list[_Step], *, write: bool) -> list[_Records]:
        """Run ``steps`` in one managed (retried) transaction, or in the open
        :meth:`transaction`."""
        return cast(list[_Records], self._managed(_run_steps, steps, write=write))

    def _managed(self, work: Any, *args: Any, write: bool, fetch_size: int | None = None) -> Any:
        """``work(tx, *args)`` in a managed transaction, or in the open :meth:`transaction`."""
        tx: Transaction | None = getattr(self._local, "tx", None)
        try:
            if tx is not None:
                return work(tx, *args)
            config: dict[str, Any] = {} if fetch_size is None else {"fetch_size": fetch_size}
            with self._driver.session(
                database=self.database, bookmark_manager=self._bookmarks, **config
            ) as session:
                run = session.execute_write if write else session.execute_read
                return run(work, *args)
        except self._errors as exc:
            raise self._error("write failed" if write else "read failed", exc) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """See :meth:`GraphStore.transaction` (an explicit transaction: not retried)."""
        if getattr(self._local, "tx", None) is not None:  # joins the open one
            yield
            return
        try:
            session = self._driver.session(database=self.database, bookmark_manager=self._bookmarks)
            tx = session.begin_transaction()
        except self._errors as exc:
            raise self._error("cannot begin a transaction", exc) from exc
        self._local.tx = tx
        try:
            yield
        except BaseException as exc:
            self._local.tx = None
            if isinstance(exc, Exception):
                with contextlib.suppress(*self._errors):
                    tx.rollback()
            else:  # Ctrl-C: don't wait for the running statement (see _abandon)
                _abandon(tx)
            session.close()
            raise
        self._local.tx = None
        try:
            tx.commit()
        except self._errors as exc:
            raise self._error("commit failed", exc) from exc
        finally:
            session.close()

    def _run(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """One query in a read transaction, as a frame (the ``run`` of :mod:`.queries`)."""
        params = cypher.to_neo4j(params)
        return _frame(self._transact([(query, params)], write=False)[0])

    def _run_bulk(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """A whole-table read: every record in one fetch, built into a frame by column."""
        keys, values = self._managed(
            _run_columns, query, cypher.to_neo4j(params), write=False, fetch_size=BULK_FETCH_SIZE
        )
        return cypher.columns_frame(keys, values)

    def read_cypher(self, query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """See :meth:`GraphStore.read_cypher`: in a READ access-mode transaction (the
        server refuses writes in it), after the clause check and the procedure
        allowlist; inside :meth:`transaction`, in the open transaction."""
        check_read_only(query)
        check_read_only_procedures(query)
        try:
            return self._run(query, params or {})
        except GraphStoreError as exc:
            if getattr(exc.__cause__, "code", None) == _ACCESS_MODE:
                raise ReadOnlyQueryError(f"read_cypher runs read-only queries; {exc}") from exc
            raise

    def _lookup(self, query: str, keys: list[Any]) -> _Records:
        """Run a ``UNWIND $keys`` read over ``keys`` in chunks of ``batch_size``."""
        names: list[str] = []
        rows: list[dict[str, Any]] = []
        for start in range(0, max(len(keys), 1), self.batch_size):  # once when empty: the names
            chunk = keys[start : start + self.batch_size]
            names, found = self._transact([(query, {"keys": chunk})], write=False)[0]
            rows += found
        return names, rows

    def _write_rows(self, statements: list[str], rows: pd.DataFrame) -> None:
        """Run ``statements`` on each batch of ``rows`` (as ``$rows``), a transaction per batch."""
        for start in range(0, len(rows), self.batch_size):
            batch = cypher.frame_rows(rows.iloc[start : start + self.batch_size])
            self._transact([(s, {"rows": batch}) for s in statements], write=True)

    def ensure_schema(self) -> None:
        """Create the missing key constraints and ``event_id`` indexes."""
        for statement in cypher.schema_statements():  # schema changes: one per transaction
            self._transact([(statement, {})], write=True)

    # -- writes -------------------------------------------------------------------

    def existing_keys(self, label: str) -> set[str]:
        """All keys of ``label``."""
        return set(queries.node_keys(self._run, label).tolist())

    def upsert_nodes(self, label: str, frame: pd.DataFrame) -> UpsertResult:
        """See :meth:`GraphStore.upsert_nodes`."""
        spec = node_spec(label)
        rows = node_frame(spec, frame)
        if rows.empty:
            return UpsertResult()
        names = [c for c in rows.columns if c != spec.key]
        stored = node_frame(
            spec, _frame(self._lookup(cypher.node_lookup(spec, names), list(rows[spec.key])))
        )
        is_new = ~rows[spec.key].isin(set(stored[spec.key]))
        new, old = rows[is_new], rows[~is_new].reset_index(drop=True)
        changed = changed_rows(old, stored, spec.key) if names else old.iloc[0:0]
        self._write_rows([cypher.node_merge(spec, names)], pd.concat([new, changed]))
        return UpsertResult(len(new), len(changed), len(old) - len(changed))

    def _check_endpoints(self, spec: RelSpec, rows: pd.DataFrame) -> None:
        for column, label in (("source", spec.source), ("target", spec.target)):
            keys = sorted(set(rows[column]))
            _, found = self._lookup(cypher.node_lookup(node_spec(label), []), keys)
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
            stored = _frame(self._lookup(cypher.stored_events(spec), list(rows["event_id"])))
            diff = diff_edges(spec, rows, stored)
            write, result = diff.writes, diff.result()
        else:
            write, result = self._diff_edges(spec, rows)
            if spec.identity == "source":
                statements.insert(0, cypher.drop_other_targets(spec))
        self._write_rows(statements, write)
        return result

    def _diff_edges(self, spec: RelSpec, rows: pd.DataFrame) -> tuple[pd.DataFrame, UpsertResult]:
        """Rows to write (new, replaced or changed) and the result, for non-event types."""
        on = ["source"] if spec.identity == "source" else ["source", "target"]
        keys = list(rows["source"]) if spec.identity == "source" else cypher.frame_rows(rows[on])
        props = {"source": PropType.STRING, "target": PropType.STRING, **spec.properties}
        stored = typed_frame(
            props, _frame(self._lookup(cypher.stored_edges(spec), keys)), what=spec.type
        )
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
        for start in range(0, len(pairs), self.batch_size):
            chunk = pairs[start : start + self.batch_size]
            _, found = self._transact([(cypher.delete_pairs(spec), {"keys": chunk})], write=True)[0]
            deleted += int(found[0]["deleted"])
        return deleted

    def counts_of(self, rel_type: str) -> int:
        """Number of edges of one relationship type."""
        return int(self._run(cypher.count_edges(rel_spec(rel_type)), {}).iloc[0, 0])

    def clear(self) -> None:
        """Delete every node and edge of the schema's labels; the schema stays.

        Relationships go first, then nodes, at most ``_CLEAR_BATCH`` per transaction
        (see :func:`~._neo4j_cypher.clear_statements`), so a large graph never
        needs one transaction's memory for all of it.
        """
        for statement in cypher.clear_statements():

            def delete_batch(limit: int, statement: str = statement) -> int:
                steps = [(statement, {"limit": limit})]
                return int(self._transact(steps, write=True)[0][1][0]["deleted"])

            cypher.drain(delete_batch, _CLEAR_BATCH)

    # -- reads --------------------------------------------------------------------

    def node_frame(self, label: str) -> pd.DataFrame:
        """See :meth:`GraphStore.node_frame`: columns typed by the schema, as embedded."""
        frame = super().node_frame(label)
        return frame if frame.empty else read_frame(node_spec(label).properties, frame)

    def edge_arrays(self, rel_type: str) -> EdgeArrays:
        """See :meth:`GraphStore.edge_arrays`: property arrays typed by the schema."""
        arrays = super().edge_arrays(rel_type)
        spec = rel_spec(rel_type)
        if not arrays.edge_index.shape[1] or not spec.properties:
            return arrays
        typed = read_frame(spec.properties, pd.DataFrame(arrays.properties))
        properties = {name: typed[name].to_numpy() for name in spec.properties}
        return EdgeArrays(arrays.source_ids, arrays.target_ids, arrays.edge_index, properties)

    def get_nodes(self, label: str, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        """See :meth:`GraphStore.get_nodes`."""
        spec = node_spec(label)
        names = [c for c in spec.columns if c != spec.key]
        _, found = self._lookup(cypher.node_lookup(spec, names), list(dict.fromkeys(keys)))
        by_key = {row[spec.key]: row for row in found}
        return [dict(by_key[k]) if k in by_key else None for k in keys]

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
        rel = rel_spec(rel_type).type if rel_type else None
        found: list[Neighbor] = []
        for side in ("out", "in"):
            if direction not in (side, "both"):
                continue
            query = cypher.neighbors(label, rel, side)
            _, rows = self._transact([(query, {"id": key, "limit": int(limit)})], write=False)[0]
            found += [Neighbor(r["node_label"], r["node_id"], r["rel_type"], side) for r in rows]
        found.sort(key=lambda n: (n.rel_type, n.label, n.id, n.direction))
        return found[:limit]

    def close(self) -> None:
        """Close the driver and its connection pool."""
        try:
            self._driver.close()
        except self._errors as exc:
            raise self._error("close failed", exc) from exc


__all__ = ["Neo4jGraph"]
