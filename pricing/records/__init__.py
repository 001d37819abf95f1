"""The database of the pricing records: the quote audit log, the approval queue and the
guardrails saved by ``setGuardrails``.

Two backends behind one small interface (:class:`RecordsDatabase`), chosen by
:func:`open_database` from where the records live:

* a path: an embedded SQLite file (:class:`~.sqlite.SqliteDatabase`), the default
  (``<data_dir>/audit/quotes.sqlite``). It belongs to the processes of one machine:
  SQLite in WAL mode must not sit on a network file system.
* a ``postgresql://`` URL (``PRICEGRAPH_PRICING__DATABASE_URL``): a PostgreSQL server
  (:class:`~.postgres.PostgresDatabase`, psycopg 3 with a connection pool), shared by
  every API replica, so that an audit record, a pending approval or a guardrail change
  made through one replica is seen by all of them.

The modules that own the records (:mod:`~..quotes.audit`, :mod:`~..quotes.approvals`,
:mod:`~..guardrails.store`) write their SQL once, with ``?`` placeholders, and their
tables and indexes once, with the column types of :data:`TYPES` filled in per dialect
(:func:`schema`); only the append-only triggers are written in each dialect.
Timestamps are sortable UTC text (:func:`~.sqlite.format_ts`) and JSON documents are
text in both, so a record reads back the same from either (JSON text keeps ``NaN``,
which PostgreSQL's ``jsonb`` refuses; ``ts::timestamptz`` and ``inputs::json`` read
them in SQL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]
Schema = Mapping[Dialect, str]
"""Dialect -> the statements that create a module's tables (idempotent)."""
TYPES: Mapping[Dialect, Mapping[str, str]] = {
    "sqlite": {"serial": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL"},
    "postgresql": {
        "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "real": "DOUBLE PRECISION",
    },
}
"""The column types that differ: ``{serial}`` (an increasing key), ``{real}``."""


def schema(tables: str, triggers: Mapping[Dialect, str]) -> Schema:
    """Each dialect's statements: ``tables`` (``CREATE TABLE``/``INDEX ... IF NOT
    EXISTS`` with ``{serial}`` and ``{real}`` for :data:`TYPES`) and its ``triggers``."""
    return {d: tables.format(**TYPES[d]) + triggers[d] for d in ("sqlite", "postgresql")}


URL_SCHEMES = ("postgresql://", "postgres://")
"""What a server URL starts with; anything else is a SQLite path."""


class RecordsDatabase(Protocol):
    """What the record owners need of a database (module docstring).

    Statements use ``?`` placeholders. Every write runs in a transaction of its own that
    commits on success and rolls back on error, so a batch is recorded whole or not at all.
    """

    dialect: Dialect
    where: str
    """The SQLite file, or the server URL without its password, for messages."""
    errors: tuple[type[Exception], ...]
    """The driver's exception classes (what a caller turns into its own error)."""

    def setup(self, schema: Schema) -> None:
        """Create the tables, indexes and triggers of ``schema`` when missing."""
        ...

    def fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of ``query``, from any thread."""
        ...

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction; returns the rows it changed."""
        ...

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``statement`` once per row, all in one transaction."""
        ...

    def close(self) -> None:
        """Close the connections."""
        ...


def is_server_url(target: str | Path) -> bool:
    """Whether ``target`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def append_only(table: str) -> dict[Dialect, str]:
    """Each dialect's triggers that make ``table`` refuse ``UPDATE`` and ``DELETE`` (and
    ``TRUNCATE`` on PostgreSQL): "``table`` is append-only: rows cannot be updated"."""
    message = f"{table} is append-only: rows cannot be"
    return {
        "sqlite": f"""
CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{message} updated'); END;
CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{message} deleted'); END;
""",
        "postgresql": f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{message} %', CASE TG_OP WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END;
END $$;
CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only();
""",
    }


def open_records(target: str | Path, tables: Schema, what: str) -> RecordsDatabase:
    """:func:`open_database` with ``tables`` created; ``what`` names the records in
    errors (e.g. ``"audit log"``). The caller closes it.

    Raises:
        RecordsError: The database cannot be opened or the tables created.
        ConfigError: The PostgreSQL driver is not installed.
    """
    from ...errors import RecordsError

    database = open_database(target)
    try:
        database.setup(tables)
    except database.errors as exc:
        database.close()
        raise RecordsError(f"{what} {database.where}: {exc}") from exc
    except BaseException:
        database.close()
        raise
    return database


def open_database(target: str | Path) -> RecordsDatabase:
    """The database at ``target``: a SQLite file path or a ``postgresql://`` URL; the
    caller closes it.

    Raises:
        RecordsError: The file cannot be opened or the server cannot be reached.
        ConfigError: The PostgreSQL driver is not installed (names the extra to install).
    """
    if is_server_url(target):
        from .postgres import PostgresDatabase

        return PostgresDatabase(str(target))
    from .sqlite import SqliteDatabase

    return SqliteDatabase(Path(target))


__all__ = [
    "TYPES",
    "URL_SCHEMES",
    "Dialect",
    "RecordsDatabase",
    "Schema",
    "append_only",
    "is_server_url",
    "open_database",
    "open_records",
    "schema",
]
