"""``Neo4jSession``: the Neo4j backend's connection, transactions and batching.

Everything that talks to the driver lives here: the driver and its bookmark
manager (so each read sees the writes made before it through the store), managed
transactions (retried by the driver after transient failures such as a leader
switch or a dropped connection), the explicit transaction of
:meth:`Neo4jSession.transaction` (per thread: every read and write of the thread
joins it), batched ``UNWIND`` statements, and the wrapping of driver errors into
:class:`~pricegraph.errors.GraphStoreError` with the password masked.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, LiteralString, cast

import pandas as pd

from ..errors import GraphStoreError
from . import _neo4j_cypher as cypher
from ._frames import clean_record
from ._neo4j_config import BULK_FETCH_SIZE, driver_options

if TYPE_CHECKING:
    from neo4j import ManagedTransaction, Transaction

Records = tuple[list[str], list[dict[str, Any]]]
"""A result: its keys, and one plain dict per record."""
Step = tuple[str, dict[str, Any]]
"""A statement and its parameters."""


def _run_steps(tx: ManagedTransaction | Transaction, steps: list[Step]) -> list[Records]:
    """Transaction function: run ``steps`` in order and collect their records."""
    out: list[Records] = []
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
    cancelled transaction (its session kills the connection and releases it to the
    pool; ``asyncio.CancelledError`` takes it), which the synchronous driver does
    not make public: ``tx._on_cancel``.
    """
    on_cancel = getattr(tx, "_on_cancel", None)
    with contextlib.suppress(Exception):
        if callable(on_cancel):
            on_cancel()
        else:  # another driver version: fall back to a waiting rollback
            tx.rollback()


def records_frame(records: Records) -> pd.DataFrame:
    """A frame of ``records``, columns in the result's key order."""
    keys, rows = records
    return pd.DataFrame.from_records([tuple(r.values()) for r in rows], columns=keys)


class Neo4jSession:
    """A connected driver and the transactions of one store.

    Args:
        uri: Server URI (checked by the store).
        user: User name.
        password: Password; kept by the driver and used only to mask it in errors.
        database: Database name.
        batch_size: Rows per write transaction and per ``UNWIND`` look-up.
        connection_timeout_s: Seconds to wait for a TCP connection to a server.
        max_retry_time_s: Seconds a managed transaction is retried after transient
            failures before the error is raised.

    Raises:
        GraphStoreError: The server does not answer or refuses the credentials.
    """

    def __init__(
        self,
        uri: str,
        *,
        user: str,
        password: str,
        database: str,
        batch_size: int,
        connection_timeout_s: float,
        max_retry_time_s: float,
    ) -> None:
        import neo4j

        self.uri, self.database, self.batch_size = uri, database, batch_size
        self._local = threading.local()  # .tx: the explicit transaction of this thread
        self._secret = password
        self.errors: tuple[type[Exception], ...] = (
            neo4j.exceptions.Neo4jError,
            neo4j.exceptions.DriverError,
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
        except (*self.errors, ValueError) as exc:
            if hasattr(self, "_driver"):
                self._driver.close()
            raise self.error("cannot connect (is the server up and the URI right?)", exc) from exc

    def error(self, action: str, exc: BaseException) -> GraphStoreError:
        """A one-line :class:`GraphStoreError` naming the server, the database and
        ``action``, the password masked."""
        detail = " ".join(str(exc).split()) or type(exc).__name__  # one line
        if self._secret:
            detail = detail.replace(self._secret, "***")
        return GraphStoreError(
            f"Neo4j at {self.uri} (database {self.database!r}): {action}: {detail}"
        )

    def transact(self, steps: list[Step], *, write: bool) -> list[Records]:
        """Run ``steps`` in one managed (retried) transaction, or in the open
        :meth:`transaction`."""
        return cast(list[Records], self.managed(_run_steps, steps, write=write))

    def managed(self, work: Any, *args: Any, write: bool, fetch_size: int | None = None) -> Any:
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
        except self.errors as exc:
            raise self.error("write failed" if write else "read failed", exc) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One explicit transaction (not retried) for the thread's reads and writes,
        committed when the context exits; joins the open one if there is one.

        An exception rolls it back; an interrupt (``KeyboardInterrupt``) drops its
        connection instead of waiting for the running statement (:func:`_abandon`).
        """
        if getattr(self._local, "tx", None) is not None:  # joins the open one
            yield
            return
        try:
            session = self._driver.session(database=self.database, bookmark_manager=self._bookmarks)
            tx = session.begin_transaction()
        except self.errors as exc:
            raise self.error("cannot begin a transaction", exc) from exc
        self._local.tx = tx
        try:
            yield
        except BaseException as exc:
            self._local.tx = None
            if isinstance(exc, Exception):
                with contextlib.suppress(*self.errors):
                    tx.rollback()
            else:  # Ctrl-C: don't wait for the running statement
                _abandon(tx)
            session.close()
            raise
        self._local.tx = None
        try:
            tx.commit()
        except self.errors as exc:
            raise self.error("commit failed", exc) from exc
        finally:
            session.close()

    def run(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """One query in a read transaction, as a frame (the ``run`` of :mod:`.queries`)."""
        params = cypher.to_neo4j(params)
        return records_frame(self.transact([(query, params)], write=False)[0])

    def run_bulk(self, query: str, params: dict[str, Any]) -> pd.DataFrame:
        """A whole-table read: every record in one fetch, built into a frame by column."""
        keys, values = self.managed(
            _run_columns, query, cypher.to_neo4j(params), write=False, fetch_size=BULK_FETCH_SIZE
        )
        return cypher.columns_frame(keys, values)

    def lookup(self, query: str, keys: list[Any]) -> Records:
        """Run a ``UNWIND $keys`` read over ``keys`` in chunks of ``batch_size``."""
        names: list[str] = []
        rows: list[dict[str, Any]] = []
        for start in range(0, max(len(keys), 1), self.batch_size):  # once when empty: the names
            chunk = keys[start : start + self.batch_size]
            names, found = self.transact([(query, {"keys": chunk})], write=False)[0]
            rows += found
        return names, rows

    def write_rows(self, statements: list[str], rows: pd.DataFrame) -> None:
        """Run ``statements`` on each batch of ``rows`` (as ``$rows``), a transaction per batch."""
        for start in range(0, len(rows), self.batch_size):
            batch = cypher.frame_rows(rows.iloc[start : start + self.batch_size])
            self.transact([(s, {"rows": batch}) for s in statements], write=True)

    def close(self) -> None:
        """Close the driver and its connection pool."""
        try:
            self._driver.close()
        except self.errors as exc:
            raise self.error("close failed", exc) from exc


__all__ = ["Neo4jSession", "Records", "Step", "records_frame"]
