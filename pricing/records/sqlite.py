"""The embedded backend of the pricing records: one SQLite file, and the timestamps.

The thread that opens the file writes (and reads) on its connection; every other
thread reads on a read-only connection of its own (:class:`ThreadConnections`), which
in WAL mode sees committed writes without blocking the writer. Timestamps are stored
as sortable UTC text (:func:`format_ts`), in both backends.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ...errors import RecordsError
from . import Dialect, Schema

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_BUSY_S = 10.0  # how long a statement waits for another connection's lock


def connect_sqlite(path: str | Path, *, is_read_only: bool = False) -> sqlite3.Connection:
    """A connection to ``path`` (parent folders created) in WAL mode, autocommit off.

    Args:
        path: The SQLite file.
        is_read_only: A connection that refuses writes (``query_only``), usable from any
            thread (one at a time): :class:`ThreadConnections` gives one to each reader.

    Raises:
        RecordsError: The file cannot be opened.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=_BUSY_S, check_same_thread=not is_read_only)
        _enable_wal(connection)
        connection.execute("PRAGMA synchronous=NORMAL")
        if is_read_only:
            connection.execute("PRAGMA query_only=ON")
    except (OSError, sqlite3.Error) as exc:
        raise RecordsError(f"cannot open the records database {path}: {exc}") from exc
    return connection


def _enable_wal(connection: sqlite3.Connection) -> None:
    """Put the file in WAL mode, waiting as long as for any other lock.

    Switching a new file to WAL takes an exclusive lock and SQLite answers "database is
    locked" at once, without its busy wait, while another connection switches it too:
    processes or replicas that open one new file together retry for up to ``_BUSY_S``.
    """
    deadline = time.monotonic() + _BUSY_S
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class ThreadConnections:
    """The connections of one SQLite file across threads.

    SQLite connections belong to the thread that opened them. :attr:`writer` is the
    opening thread's (writes, and that thread's reads); :meth:`reader` is, on any other
    thread, a read-only connection of that thread's own (opened on first use), which in
    WAL mode reads the last committed state without blocking or waiting for the writer.

    Args:
        path: The SQLite file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.writer = connect_sqlite(self.path)
        self._owner = threading.get_ident()
        self._readers: dict[int, sqlite3.Connection] = {}
        self._lock = threading.Lock()

    def reader(self) -> sqlite3.Connection:
        """The connection this thread reads with (:attr:`writer` on the opening thread)."""
        ident = threading.get_ident()
        if ident == self._owner:
            return self.writer
        connection = self._readers.get(ident)
        if connection is None:
            connection = connect_sqlite(self.path, is_read_only=True)
            with self._lock:
                alive = {thread.ident for thread in threading.enumerate()}
                for gone in [i for i in self._readers if i not in alive]:
                    self._readers.pop(gone).close()
                self._readers[ident] = connection
        return connection

    def close(self) -> None:
        """Close every connection (the writer's from the opening thread)."""
        with self._lock:
            for connection in self._readers.values():
                connection.close()
            self._readers.clear()
        self.writer.close()


class SqliteDatabase:
    """The records in one SQLite file (:class:`~pricegraph.pricing.records.RecordsDatabase`).

    Writes go through the connection of the thread that opened the file (call them from
    that thread); reads from any thread (:class:`ThreadConnections`).

    Args:
        path: The SQLite file (parent folders created).
    """

    dialect: Dialect = "sqlite"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self._connections = ThreadConnections(self.path)

    def setup(self, schema: Schema) -> None:
        """See :meth:`~pricegraph.pricing.records.RecordsDatabase.setup`."""
        with self._connections.writer as db:
            db.executescript(schema["sqlite"])

    def fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """See :meth:`~pricegraph.pricing.records.RecordsDatabase.fetch`."""
        return self._connections.reader().execute(query, params).fetchall()

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """See :meth:`~pricegraph.pricing.records.RecordsDatabase.execute`."""
        with self._connections.writer as db:
            return db.execute(statement, params).rowcount

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """See :meth:`~pricegraph.pricing.records.RecordsDatabase.execute_many`."""
        with self._connections.writer as db:
            db.executemany(statement, rows)

    def close(self) -> None:
        """Close every connection (call from the thread that opened the file)."""
        self._connections.close()


def format_ts(moment: datetime) -> str:
    """``moment`` as sortable UTC text, e.g. ``2025-06-30T12:00:00.000000Z`` (naive = UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime(_TS_FORMAT)


def parse_ts(text: str) -> datetime:
    """The aware UTC datetime of :func:`format_ts` text."""
    return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)


__all__ = ["SqliteDatabase", "ThreadConnections", "connect_sqlite", "format_ts", "parse_ts"]
