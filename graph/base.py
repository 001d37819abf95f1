"""The graph store protocol: domain operations every backend implements.

Call sites use these operations, never raw Cypher (``read_cypher`` is the one
escape hatch, for notebooks, and it refuses writes: see
:meth:`GraphStore.read_cypher` for how). The shared contract suite in
``tests/graph/test_store_contract.py`` pins the behaviour down for every backend.

Conventions:

* Node keys are strings in the ``id`` property; frames passed to upserts use the
  property names of :mod:`pricegraph.graph.schema` (``id`` for the key).
* Edge frames carry ``source`` and ``target`` (the endpoint keys) plus properties.
* Timestamps are naive ``datetime64`` / ``datetime`` values in UTC.
* Upserts are idempotent: running the same upsert twice leaves the store as the
  first run left it, and the second run reports every row as unchanged.
* Each upsert is atomic; :meth:`GraphStore.transaction` makes several atomic
  together (a node and its edges: an item is stored whole or not at all).
* Writes cost what they write: a small upsert (the API's one item) looks up the
  keys it names, never whole tables.
* Threads: by default a store is used by one thread at a time. A backend that
  declares ``concurrent_readers`` (:func:`concurrent_readers`) lets that many threads
  call its read methods (:data:`READ_METHODS`) at once, beside one thread that writes
  (writes from several threads are serialised); each read sees whole committed writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from ..errors import ReadOnlyQueryError

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np
    import pandas as pd

Direction = Literal["out", "in", "both"]


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert did.

    Attributes:
        created: Rows that created a node or edge.
        updated: Rows that changed an existing node or edge (or replaced an edge).
        unchanged: Rows already stored with the same values.
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


@dataclass(frozen=True)
class EdgeArrays:
    """Edges of one relationship type as integer arrays, ready for PyG.

    Attributes:
        source_ids: Keys of the source label, position = integer index;
            shape ``[num_source_nodes]``, sorted ascending.
        target_ids: Keys of the target label, the same way.
        edge_index: ``int64`` array of shape ``[2, num_edges]``: row 0 indexes
            ``source_ids``, row 1 indexes ``target_ids``.
        properties: Edge properties, one array per property, aligned with the
            columns of ``edge_index``.
    """

    source_ids: np.ndarray
    target_ids: np.ndarray
    edge_index: np.ndarray
    properties: dict[str, np.ndarray]

    @property
    def num_edges(self) -> int:
        """Number of edges."""
        return int(self.edge_index.shape[1])


@dataclass(frozen=True)
class Neighbor:
    """A node adjacent to another one."""

    label: str
    id: str
    rel_type: str
    direction: Literal["out", "in"]


@runtime_checkable
class GraphStore(Protocol):
    """A knowledge-graph store (LadybugDB embedded, or Neo4j).

    Every method raises :class:`pricegraph.errors.GraphStoreError` when the
    backend fails; lookups of unknown keys return ``None`` or empty results.
    """

    def ensure_schema(self) -> None:
        """Create tables / constraints of the schema if they are missing."""

    def transaction(self) -> AbstractContextManager[None]:
        """A context whose writes commit together when it exits, or not at all when an
        exception leaves it (the exception then propagates).

        Reads and writes inside see the writes made before them inside (an edge may
        name a node upserted just before). A context opened inside another joins it.
        Keep it to a few items: the embedded store holds its write lock, and Neo4j one
        server transaction (not retried on transient failures), until it ends.
        """

    def upsert_nodes(self, label: str, frame: pd.DataFrame) -> UpsertResult:
        """Create or update nodes of ``label`` keyed by ``id``.

        Columns other than ``id`` that are absent keep their stored values; present
        columns overwrite them (null included). Keys must be unique in ``frame``.
        """

    def upsert_edges(self, rel_type: str, frame: pd.DataFrame) -> UpsertResult:
        """Create edges of ``rel_type`` from ``source``/``target`` keys.

        Identity follows the schema: events by ``event_id``, others by endpoints
        or by source (replacing). An event whose id is stored is unchanged when
        sent again with the same endpoints and values.

        Raises:
            GraphStoreError: Naming missing endpoint keys; nothing of the frame is stored.
            ConflictError: An event id is stored with other endpoints or values
                (:func:`~pricegraph.graph._frames.check_event_conflicts`); nothing of
                the frame is stored.
        """

    def delete_edges(self, rel_type: str, frame: pd.DataFrame) -> int:
        """Delete edges of ``rel_type`` between ``source``/``target`` pairs; returns how many."""

    def existing_keys(self, label: str) -> set[str]:
        """All keys of ``label``."""

    def get_node(self, label: str, key: str) -> dict[str, Any] | None:
        """Properties of one node, or ``None``."""

    def get_nodes(self, label: str, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        """Properties of several nodes, aligned with ``keys`` (``None`` where missing)."""

    def node_frame(self, label: str) -> pd.DataFrame:
        """Every node of ``label`` with all its properties, one row each, sorted by ``id``."""

    def purchase_history(
        self, customer_id: str, *, since: datetime | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """A customer's purchases, newest first.

        Columns: ``event_id, order_id, product_id, product_name, qty, unit_price,
        currency, ts, discount, promotion_id, store_id, channel`` (``discount``: the
        amount taken off the whole line, in ``currency``; null where the file had none).
        """

    def price_history(
        self,
        product_id: str,
        *,
        kinds: Sequence[str] | None = None,
        newest: int | None = None,
        skip: int = 0,
    ) -> pd.DataFrame:
        """A product's price points ordered by ``valid_from``, then ``kind``, then ``id``;
        with ``newest``, only the ``newest`` latest after the ``skip`` latest, latest
        first (the store sorts and cuts; only that page is read back).

        Columns: ``id, kind, price, currency, valid_from, valid_to, source, competitor_id``.

        Raises:
            ValueError: ``newest`` or ``skip`` below 0.
        """

    def neighbors(
        self,
        label: str,
        key: str,
        *,
        rel_type: str | None = None,
        direction: Direction = "both",
        limit: int = 50,
    ) -> list[Neighbor]:
        """Distinct adjacent nodes, ordered by (rel_type, label, id)."""

    def co_purchases(self, product_id: str, *, limit: int = 10) -> pd.DataFrame:
        """Products bought in the same orders as ``product_id``.

        Columns: ``product_id, orders`` (number of shared orders), ordered by
        ``orders`` descending then ``product_id``.
        """

    def counts(self) -> dict[str, int]:
        """Number of nodes per label and edges per relationship type (all of them)."""

    def product_page(
        self,
        *,
        after: str | None = None,
        limit: int = 20,
        brands: Sequence[str] | None = None,
        categories: Sequence[str] | None = None,
        min_price: float | None = None,
        max_price: float | None = None,
        in_stock: bool | None = None,
    ) -> pd.DataFrame:
        """Products by key: the first ``limit`` with a key after ``after``.

        Every property of the schema, one row per product, ordered by ``id``. Filters
        combine with AND: ``brands`` (any of them), ``categories`` (any of them or a
        category below one, see :meth:`subcategories`), ``min_price <= list_price
        <= max_price``, ``in_stock`` (``stock_units > 0``; a product without a stock
        figure is not in stock). ``None`` leaves a filter out.
        """

    def customer_page(
        self,
        *,
        after: str | None = None,
        limit: int = 20,
        country: str | None = None,
        segment: str | None = None,
        is_anonymous: bool | None = None,
    ) -> pd.DataFrame:
        """Customers by key: the first ``limit`` with a key after ``after``.

        Every property of the schema, ordered by ``id``; filters (AND, ``None`` leaves
        one out): ``country``, membership of the ``segment`` with that key, ``is_anonymous``.
        """

    def subcategories(self, category_ids: Sequence[str]) -> list[str]:
        """``category_ids`` and every category below them (``CHILD_OF``), sorted."""

    def edge_targets(self, rel_type: str, keys: Sequence[str]) -> pd.DataFrame:
        """The edges of ``rel_type`` leaving the source nodes ``keys``.

        Columns: ``source, target, score`` (the edge's ``score`` property, ``0.0`` for
        types without one); one row per edge, in no particular order.

        Raises:
            KeyError: ``rel_type`` is not in the schema (naming the known types).
        """

    def segment_size(self, segment_id: str) -> int:
        """Number of customers ``IN_SEGMENT`` of the segment ``segment_id`` (0 if unknown)."""

    def example_pair(self) -> tuple[str | None, str | None]:
        """A customer and a product to show example queries with: ``(customer, product)``.

        The customer with the most ``PURCHASED`` edges (ties: the smallest id) and the
        product with the smallest id they have not bought; ``None`` for a part that does
        not exist (no purchase at all; a customer who bought every product).
        """

    def edge_arrays(self, rel_type: str) -> EdgeArrays:
        """All edges of ``rel_type`` as integer arrays (no per-edge Python loop)."""

    def to_networkx(
        self,
        *,
        labels: Sequence[str] | None = None,
        rel_types: Sequence[str] | None = None,
        seeds: Sequence[tuple[str, str]] | None = None,
        hops: int = 1,
    ) -> nx.MultiDiGraph:
        """A subgraph as networkx; node names are ``"Label:id"``.

        With ``seeds`` (``(label, id)`` pairs) the graph holds the seeds and the
        nodes within ``hops`` of them; otherwise every node of ``labels`` (all
        when ``None``) and the edges of ``rel_types`` between them.
        """

    def read_cypher(self, query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run a read-only Cypher query and return its rows.

        What makes it read-only, on every backend:

        1. clauses that write, load files or manage transactions (``CREATE``,
           ``MERGE``, ``SET``, ``DELETE``, ``LOAD``, ``COPY``, ``BEGIN`` ...) are
           refused before the query runs, with the clause in the message;
        2. ``CALL`` may name only a procedure of :data:`READ_ONLY_PROCEDURES`
           (:func:`check_read_only_procedures`): procedures can write (an index
           created by ``CALL CREATE_FTS_INDEX(...)``), and their names say nothing;
        3. the query runs in a read-only transaction that the database enforces
           (LadybugDB's ``BEGIN TRANSACTION READ ONLY``, Neo4j's READ access mode),
           except inside :meth:`transaction`, where it runs in the open transaction
           to see the writes made before it (1 and 2 still apply).

        Args:
            query: Cypher; values go in ``params`` (``$name``), never inlined.
            params: Query parameters.

        Raises:
            ReadOnlyQueryError: The query would write (any of the three).
            GraphStoreError: The query fails otherwise.
        """

    def clear(self) -> None:
        """Delete every node and edge (the schema stays)."""

    def close(self) -> None:
        """Release the connection or the database files."""


READ_METHODS = frozenset(
    {
        "existing_keys",
        "get_node",
        "get_nodes",
        "node_frame",
        "purchase_history",
        "price_history",
        "neighbors",
        "co_purchases",
        "counts",
        "product_page",
        "customer_page",
        "subcategories",
        "edge_targets",
        "segment_size",
        "edge_arrays",
        "to_networkx",
        "read_cypher",
    }
)
"""The :class:`GraphStore` methods that only read (``read_cypher`` refuses writes)."""

READ_ONLY_PROCEDURES = frozenset(
    {
        # LadybugDB: catalog, settings and index queries
        "bm_info",
        "current_setting",
        "db_version",
        "query_fts_index",
        "query_vector_index",
        "show_attached_databases",
        "show_connection",
        "show_functions",
        "show_indexes",
        "show_loaded_extensions",
        "show_official_extensions",
        "show_tables",
        "show_warnings",
        "storage_info",
        "table_info",
        # Neo4j: schema, server and index queries
        "db.index.fulltext.querynodes",
        "db.index.fulltext.queryrelationships",
        "db.index.vector.querynodes",
        "db.index.vector.queryrelationships",
        "db.info",
        "db.labels",
        "db.ping",
        "db.propertykeys",
        "db.relationshiptypes",
        "db.schema.nodetypeproperties",
        "db.schema.reltypeproperties",
        "db.schema.visualization",
        "dbms.components",
    }
)
"""The procedures ``read_cypher`` may ``CALL`` (lower case); every other ``CALL`` is
refused, on both backends: an allowlist, because a procedure's name does not say
whether it writes (``CREATE_FTS_INDEX``, ``create_vector_index``, ``db.createLabel``)."""

_STRING_OR_COMMENT = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.S
)
_CALL = re.compile(r"\bCALL\b\s*([A-Za-z_][\w.]*)?", re.IGNORECASE)


def check_read_only_procedures(query: str) -> None:
    """Refuse a ``CALL`` of anything but :data:`READ_ONLY_PROCEDURES`.

    Strings and comments are ignored; a subquery (``CALL { ... }``), a setting
    (``CALL threads=1``) or a quoted procedure name is refused like an unknown
    procedure.

    Raises:
        ReadOnlyQueryError: Names the refused call.
    """
    bare = _STRING_OR_COMMENT.sub(" ", query)
    for match in _CALL.finditer(bare):
        name = match.group(1)
        if name is None or name.lower() not in READ_ONLY_PROCEDURES:
            called = f"'CALL {name}'" if name else "a CALL without a procedure name"
            raise ReadOnlyQueryError(
                "read_cypher calls only the read-only procedures of "
                f"pricegraph.graph.base.READ_ONLY_PROCEDURES; got {called}"
            )


def concurrent_readers(store: object) -> int:
    """How many threads may call ``store``'s :data:`READ_METHODS` at once, beside its one
    writing thread.

    A backend states it as a ``concurrent_readers`` attribute; without one the answer
    is 0: every call, reads included, must come from one thread at a time (the
    behaviour of a store that declares nothing, e.g. the Neo4j backend today).
    """
    value = getattr(store, "concurrent_readers", 0)
    return value if isinstance(value, int) and value > 0 else 0


__all__ = [
    "READ_METHODS",
    "READ_ONLY_PROCEDURES",
    "Direction",
    "EdgeArrays",
    "GraphStore",
    "Neighbor",
    "UpsertResult",
    "check_read_only_procedures",
    "concurrent_readers",
]
