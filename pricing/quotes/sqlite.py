"""The SQLite file of the audit log and the approval queue: connections and timestamps.

The thread that opens the file writes (and reads) on its connection; every other
thread reads on a read-only connection of its own (:class:`ThreadConnections`), which
in WAL mode sees committed writes without blocking the writer. Timestamps are stored
as sortable UTC text (:func:`format_ts`).
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from ...errors import PricegraphError

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def connect_sqlite(path: str | Path, *, is_read_only: bool = False) -> sqlite3.Connection:
    """A connection to ``path`` (parent folders created) in WAL mode, autocommit off.

    Args:
        path: The SQLite file.
        is_read_only: A connection that refuses writes (``query_only``), usable from any
            thread (one at a time): :class:`ThreadConnections` gives one to each reader.

    Raises:
        PricegraphError: The file cannot be opened.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=10.0, check_same_thread=not is_read_only)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        if is_read_only:
            connection.execute("PRAGMA query_only=ON")
    except (OSError, sqlite3.Error) as exc:
        raise PricegraphError(f"cannot open the audit database {path}: {exc}") from exc
    return connection


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


def format_ts(moment: datetime) -> str:
    """``moment`` as sortable UTC text, e.g. ``2025-06-30T12:00:00.000000Z`` (naive = UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime(_TS_FORMAT)


def parse_ts(text: str) -> datetime:
    """The aware UTC datetime of :func:`format_ts` text."""
    return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)


__all__ = ["ThreadConnections", "connect_sqlite", "format_ts", "parse_ts"]
