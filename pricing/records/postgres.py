"""The server backend of the pricing records: PostgreSQL through psycopg 3.

Every API replica opens the same database, so the audit log, the approval queue and
the saved guardrails are one set of tables for all of them. Connections come from one
:class:`psycopg_pool.ConnectionPool` per process and URL, shared by the record owners
that open it (any thread may read or write); each statement runs in a transaction of
its own that commits on success and rolls back on error. Install with ``pip install
'pricegraph[postgres]'``.

Creating the tables holds a transaction-level advisory lock, so replicas that start
together do not race to create the same table. A role that owns the tables (or may
create them) runs their statements at every open, which are idempotent; a role that
may only read and write them (``INSERT``/``SELECT``, and ``UPDATE`` of
``price_approvals``) finds them made by their owner and leaves them as they are, so
it can neither drop the append-only triggers nor change a record.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ...errors import ConfigError, RecordsError
from . import Dialect, Schema

SCHEMA_LOCK = 0x70726963  # "pric": the advisory lock id held while creating tables
MAX_CONNECTIONS = 8
"""Connections a process's pool opens at most (the API's write thread and up to 4 read
threads use at most 5 at once)."""
_NO_DRIVER = "a postgresql:// records database needs psycopg: pip install 'pricegraph[postgres]'"
APPLICATION_NAME = "pricegraph-records"
"""How the pool's connections name themselves (``pg_stat_activity.application_name``)."""
CONNECT_TIMEOUT_S = 10.0
"""How long opening the pool, or waiting for a free connection, may take."""


def redact(url: str) -> str:
    """``url`` without its password, for messages (``postgresql://user@host:5432/db``)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # an unparsable URL: show its scheme only
        return url.split("://", 1)[0] + "://..."
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


def check_server(url: str, timeout_s: float = 5.0) -> None:
    """Connect to ``url`` once and close, as a start-up check.

    Raises:
        RecordsError: The server does not answer or refuses the login (names the
            URL without its password).
        ConfigError: psycopg is not installed.
    """
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigError(_NO_DRIVER) from exc
    try:
        psycopg.connect(url, connect_timeout=max(1, int(timeout_s))).close()
    except psycopg.Error as exc:
        detail = " ".join(str(exc).split())
        raise RecordsError(f"records database {redact(url)} does not answer: {detail}") from exc


_POOLS: dict[str, list[Any]] = {}
"""URL -> [its pool, how many open databases use it]."""
_POOLS_LOCK = threading.Lock()
_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")


class PostgresDatabase:
    """The records on a PostgreSQL server (:class:`~pricegraph.pricing.records.RecordsDatabase`).

    Args:
        url: ``postgresql://user:password@host:port/dbname`` (libpq's URL form; its
            query parameters, e.g. ``?sslmode=require``, pass through).

    Raises:
        RecordsError: The server does not answer or refuses the login, or the pool
            gets no connection within :data:`CONNECT_TIMEOUT_S` (the message names the
            URL without its password).
        ConfigError: psycopg is not installed.
    """

    dialect: Dialect = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool, PoolTimeout
        except ImportError as exc:
            raise ConfigError(
                "a postgresql:// records database needs psycopg: pip install 'pricegraph[postgres]'"
            ) from exc
        self.where = redact(url)
        self.errors: tuple[type[Exception], ...] = (psycopg.Error, PoolTimeout)
        self._url = url
        with _POOLS_LOCK:
            shared = _POOLS.get(url)
            if shared is None:
                check_server(url, CONNECT_TIMEOUT_S)  # a server that is down: one line at once
                pool = ConnectionPool(
                    url,
                    min_size=1,
                    max_size=MAX_CONNECTIONS,
                    timeout=CONNECT_TIMEOUT_S,
                    kwargs={
                        "connect_timeout": int(CONNECT_TIMEOUT_S),
                        "application_name": APPLICATION_NAME,
                    },
                    # a connection the server dropped (a restart, a failover) is replaced
                    # when taken, instead of failing the request that takes it
                    check=ConnectionPool.check_connection,
                    open=False,
                    name="pricegraph-records",
                )
                try:
                    pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
                except PoolTimeout as exc:
                    pool.close()
                    raise RecordsError(
                        f"records database {self.where}: no connection within "
                        f"{CONNECT_TIMEOUT_S:.0f} s; is the server up "
                        "(PRICEGRAPH_PRICING__DATABASE_URL)?"
                    ) from exc
                shared = _POOLS[url] = [pool, 0]
            shared[1] += 1
        self._pool = shared[0]
        self._is_open = True

    def setup(self, schema: Schema) -> None:
        """See :meth:`~pricegraph.pricing.records.RecordsDatabase.setup` (module
        docstring: under an advisory lock; skipped where the tables exist and belong to
        another role).

        Raises:
            RecordsError: A table is missing and this role may not create it.
        """
        from psycopg import errors

        statements = schema["postgresql"]
        tables = _TABLE.findall(statements)
        with self._pool.connection() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            found = db.execute(
                "SELECT t, to_regclass(t) IS NOT NULL, COALESCE(pg_has_role("
                "(SELECT relowner FROM pg_class WHERE oid = to_regclass(t)), 'USAGE'), false) "
                "FROM unnest(%s::text[]) AS t",
                (tables,),
            ).fetchall()
            if all(exists and not owned for _, exists, owned in found):
                return  # made by their owner: this role only reads and writes them
            try:
                db.execute(statements)  # type: ignore[arg-type]  # our own DDL
            except errors.InsufficientPrivilege as exc:
                missing = [t for t, exists, _ in found if not exists]
                raise RecordsError(
                    f"records database {self.where}: this role may not create or change "
                    f"{', '.join(missing) or ', '.join(tables)} ({exc.diag.message_primary}); "
                    "open the records once with the role that owns them, e.g. "
                    "`pricegraph audit --limit 1` with its URL"
                ) from exc

    def fetch(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """See :meth:`~pricegraph.pricing.records.RecordsDatabase.fetch`."""
        with self._pool.connection() as db:
            return db.execute(_placeholders(query), params).fetchall()  # type: ignore[arg-type]

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """See :meth:`~pricegraph.pricing.records.RecordsDatabase.execute`."""
        with self._pool.connection() as db:
            return db.execute(_placeholders(statement), params).rowcount  # type: ignore[arg-type]

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """See :meth:`~pricegraph.pricing.records.RecordsDatabase.execute_many`."""
        with self._pool.connection() as db, db.cursor() as cursor:
            cursor.executemany(_placeholders(statement), rows)  # type: ignore[arg-type]

    def close(self) -> None:
        """Stop using the pool (idempotent); the last database of a URL closes it."""
        with _POOLS_LOCK:
            if not self._is_open:
                return
            self._is_open = False
            shared = _POOLS[self._url]
            shared[1] -= 1
            if shared[1] == 0:
                del _POOLS[self._url]
                shared[0].close()


@contextmanager
def scratch_schema(url: str, prefix: str = "scratch") -> Iterator[str]:
    """``url`` with its tables in a new, empty schema (``search_path``), dropped with
    everything in it on exit: for tests and benchmarks on a shared server.

    Args:
        url: A server URL whose role may create schemas.
        prefix: The start of the schema's name (a random suffix follows).
    """
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]  # a fixed pattern
    joiner = "&" if "?" in url else "?"
    try:
        yield f"{url}{joiner}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # type: ignore[arg-type]


def _placeholders(statement: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (the record owners' SQL has no literal
    ``?`` or ``%``)."""
    return statement.replace("?", "%s")


__all__ = [
    "APPLICATION_NAME",
    "CONNECT_TIMEOUT_S",
    "MAX_CONNECTIONS",
    "PostgresDatabase",
    "check_server",
    "redact",
    "scratch_schema",
]
