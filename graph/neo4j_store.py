"""``Neo4jGraph``: the graph store on a Neo4j 5 server or cluster (Bolt, Cypher).

The store is three parts, one module each: the connection and its transactions
(:class:`~._neo4j_session.Neo4jSession`: managed transactions the driver retries
after a transient failure such as a leader switch or a dropped connection, a
``neo4j://`` routing URI sending writes to the leader and reads to any member, one
bookmark manager so each read sees the writes made before it through this store);
the writes (:class:`~._neo4j_writes.Neo4jWrites`: batched ``UNWIND`` upserts that
report like the embedded backend and write only new or changed rows); and, here,
the reads whose Cypher or typing is Neo4j's own (the rest is
:class:`~._shared_reads.SharedReads`). Inside :meth:`Neo4jGraph.transaction` every
read and write of the thread runs in one explicit transaction, committed when the
context exits.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import pandas as pd

from ..errors import GraphStoreError, ReadOnlyQueryError
from . import _neo4j_bulk as bulk
from . import _neo4j_cypher as cypher
from . import queries
from ._frames import check_read_only, read_frame
from ._neo4j_config import BULK_FETCH_SIZE
from ._neo4j_session import Neo4jSession
from ._neo4j_writes import Neo4jWrites
from ._shared_reads import SharedReads
from .base import Direction, EdgeArrays, Neighbor, check_read_only_procedures
from .schema import node_spec, rel_spec

_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
_ACCESS_MODE = "Neo.ClientError.Statement.AccessMode"  # a write in a READ transaction


class Neo4jGraph(Neo4jWrites, SharedReads):
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
            import neo4j  # noqa: F401
        except ImportError as exc:  # the driver is the optional extra "neo4j"
            raise GraphStoreError(
                "the Neo4j graph needs its driver: pip install 'pricegraph[neo4j]'"
            ) from exc
        if batch_size < 1:
            raise GraphStoreError(f"Neo4j batch_size: expected an integer >= 1, got {batch_size}")
        self.uri, self.database = uri, database
        scheme = uri.split("://", 1)[0] if "://" in uri else ""
        if scheme not in _SCHEMES:
            raise GraphStoreError(
                f"Neo4j URI {uri!r}: expected a scheme among {list(_SCHEMES)}, "
                "e.g. neo4j://localhost:7687"
            )
        self._session = Neo4jSession(
            uri,
            user=user,
            password=password,
            database=database,
            batch_size=batch_size,
            connection_timeout_s=connection_timeout_s,
            max_retry_time_s=max_retry_time_s,
        )
        try:
            self.ensure_schema()
        except GraphStoreError:
            self._session.close()
            raise

    def __repr__(self) -> str:
        return f"Neo4jGraph(uri={self.uri!r}, database={self.database!r})"

    @property
    def batch_size(self) -> int:
        """Rows per write transaction and per ``UNWIND`` look-up."""
        return self._session.batch_size

    def transaction(self) -> AbstractContextManager[None]:
        """See :meth:`GraphStore.transaction` (an explicit transaction: not retried;
        an interrupt drops it without waiting, see :meth:`Neo4jSession.transaction`)."""
        return self._session.transaction()

    def _run(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """The ``run`` of :mod:`.queries` (small results)."""
        return self._session.run(query, params)

    def _run_bulk(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """The ``run`` of :mod:`.queries` for whole tables (one fetch, by column)."""
        return self._session.run_bulk(query, params)

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

    def counts_of(self, rel_type: str) -> int:
        """Number of edges of one relationship type."""
        return int(self._run(cypher.count_edges(rel_spec(rel_type)), {}).iloc[0, 0])

    # -- reads --------------------------------------------------------------------

    def node_frame(self, label: str) -> pd.DataFrame:
        """See :meth:`GraphStore.node_frame`: columns typed by the schema, as embedded."""
        frame = super().node_frame(label)
        return frame if frame.empty else read_frame(node_spec(label).properties, frame)

    def edge_arrays(self, rel_type: str) -> EdgeArrays:
        """See :meth:`GraphStore.edge_arrays`: property arrays typed by the schema.

        Read a record per source node, its edges as lists (:mod:`._neo4j_bulk`),
        not a record per edge: the driver's cost is per record.
        """
        spec = rel_spec(rel_type)
        sources = queries.node_keys(self._run_bulk, spec.source)
        records = self._session.managed(
            bulk.read_grouped,
            bulk.grouped_edges(spec),
            bulk.key_batches(sources.tolist()),
            write=False,
            fetch_size=BULK_FETCH_SIZE,
        )
        edges = bulk.grouped_edges_frame(spec, records)
        arrays = queries.arrays_of_edges(self._run_bulk, spec, edges)
        if not arrays.edge_index.shape[1] or not spec.properties:
            return arrays
        typed = read_frame(spec.properties, pd.DataFrame(arrays.properties))
        properties = {name: typed[name].to_numpy() for name in spec.properties}
        return EdgeArrays(arrays.source_ids, arrays.target_ids, arrays.edge_index, properties)

    def get_nodes(self, label: str, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        """See :meth:`GraphStore.get_nodes`."""
        spec = node_spec(label)
        names = [c for c in spec.columns if c != spec.key]
        _, found = self._session.lookup(cypher.node_lookup(spec, names), list(dict.fromkeys(keys)))
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
            steps = [(query, {"id": key, "limit": int(limit)})]
            _, rows = self._session.transact(steps, write=False)[0]
            found += [Neighbor(r["node_label"], r["node_id"], r["rel_type"], side) for r in rows]
        found.sort(key=lambda n: (n.rel_type, n.label, n.id, n.direction))
        return found[:limit]

    def close(self) -> None:
        """Close the driver and its connection pool."""
        self._session.close()


__all__ = ["Neo4jGraph"]
