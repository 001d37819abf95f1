"""The records database: copying one host's files into it (every backend), and on a
PostgreSQL server one pool per process and URL and a role that may only read and write
the tables their owner made.

The server tests need one (``postgres_url``, skipped without one); what the audit log,
the approval queue and the saved guardrails do on both backends is tested in
``quotes/test_audit.py``, ``quotes/test_approvals.py`` and ``guardrails/test_store.py``.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from pricegraph.errors import RecordsError
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.guardrails.store import GuardrailFile, GuardrailTable
from pricegraph.pricing.quotes.approvals import ApprovalQueue
from pricegraph.pricing.quotes.audit import AuditLog, AuditRecord
from pricegraph.pricing.records import postgres
from pricegraph.pricing.records.sqlite import connect_sqlite

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _schema_of(url: str) -> str:
    found = re.search(r"search_path%3D(\w+)", url)
    assert found, url
    return found.group(1)


def _as_role(url: str, role: str, schema: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.split("@", 1)[-1]
    query = parts.query if schema is None else f"options=-csearch_path%3D{schema}"
    return urlunsplit((parts.scheme, f"{role}:pw@{host}", parts.path, query, ""))


@pytest.fixture
def writer_role(postgres_url: str) -> Iterator[str]:
    """A login role granted what the API needs of tables the owner made, and nothing
    more: ``SELECT``/``INSERT`` on the audit log and the guardrail changes, and
    ``UPDATE`` of ``price_approvals`` besides."""
    with AuditLog(postgres_url), ApprovalQueue(postgres_url), closing(GuardrailTable(postgres_url)):
        pass  # the owner (the test server's superuser) makes the tables
    role, schema = f"api_{uuid.uuid4().hex[:10]}", _schema_of(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw'")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        admin.execute(f"GRANT SELECT, INSERT ON quote_audit, guardrail_changes TO {role}")
        admin.execute(f"GRANT SELECT, INSERT, UPDATE ON price_approvals TO {role}")
    try:
        yield role
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def test_a_role_that_may_only_read_and_write_keeps_the_records_append_only(
    postgres_url: str, writer_role: str
) -> None:
    url = _as_role(postgres_url, writer_role)
    with AuditLog(url) as log, ApprovalQueue(url) as queue:
        record = AuditRecord("q1", T0, "k", "C1", "P1", {"n": 1}, {"policy": "p"}, {"price": 9.5})
        assert log.append([record]) == 1 and log.get("q1").output == {"price": 9.5}
        change = queue.request("P1", 10.0, 13.0, requested_by="k")
        assert queue.approve(change.approval_id, "alice").status == "approved"
        refused = {
            "UPDATE quote_audit SET price = 0": "permission denied for table quote_audit",
            "DROP TRIGGER quote_audit_no_change ON quote_audit": "must be owner of",
        }
        for statement, message in refused.items():
            with pytest.raises(log.database.errors, match=message):
                log.database.execute(statement)
    with closing(GuardrailTable(url)) as table:
        table.save(GuardrailConfig().updated(min_margin_pct=14.0), "ops-desk")
        assert table.read()[0].min_margin_pct == 14.0  # type: ignore[index]
    with AuditLog(postgres_url) as owner:
        assert owner.get("q1").output == {"price": 9.5}


def test_a_role_that_may_not_create_the_tables_is_told_who_must(
    postgres_url: str, writer_role: str
) -> None:
    empty = f"empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {empty}")
        admin.execute(f"GRANT USAGE ON SCHEMA {empty} TO {writer_role}")
    try:
        with pytest.raises(RecordsError) as caught:
            AuditLog(_as_role(postgres_url, writer_role, empty))
        message = str(caught.value)
        assert "may not create or change quote_audit" in message and "pw@" not in message
        assert "with the role that owns them" in message
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {empty} CASCADE")


def test_the_owners_of_one_url_share_one_pool(postgres_url: str) -> None:
    assert postgres_url not in postgres._POOLS
    log, queue = AuditLog(postgres_url), ApprovalQueue(postgres_url)
    table = GuardrailTable(postgres_url)
    assert postgres._POOLS[postgres_url][1] == 3
    pool = postgres._POOLS[postgres_url][0]
    log.close()
    log.close()  # idempotent: counted once
    queue.close()
    assert postgres._POOLS[postgres_url][1] == 1 and not pool.closed
    table.close()
    assert postgres_url not in postgres._POOLS and pool.closed


def test_copying_a_hosts_files_into_the_records_database_is_idempotent(
    tmp_path: Path, records_target: str | Path
) -> None:
    source = tmp_path / "host" / "quotes.sqlite"
    with AuditLog(source) as log, ApprovalQueue(source) as queue:
        log.append([_record(i) for i in range(5)])
        decided = queue.request("P1", 10.0, 13.0, requested_by="k")
        queue.approve(decided.approval_id, "alice")
        waiting = queue.request("P2", 10.0, 7.0, requested_by="k")
    file = GuardrailFile(tmp_path / "host" / "guardrails.json")
    file.save(GuardrailConfig().updated(min_margin_pct=16.0), "ops-desk")
    with AuditLog(source) as from_log, AuditLog(records_target) as to_log:
        to_log.append([_record(3)])  # already there: kept, not doubled
        assert to_log.copy_from(from_log, batch_size=2) == 4
        assert [r.quote_id for r in to_log.query()] == ["q3", "q0", "q1", "q2", "q4"]
        assert to_log.get("q4") == from_log.get("q4")
        assert to_log.copy_from(from_log) == 0
    with ApprovalQueue(source) as from_queue, ApprovalQueue(records_target) as to_queue:
        assert to_queue.copy_from(from_queue) == 2 and to_queue.copy_from(from_queue) == 0
        assert to_queue.get(decided.approval_id).decided_by == "alice"
        assert to_queue.approved_prices(["P1"]) == {"P1": 13.0}
        assert to_queue.pending() == [waiting]
    table = GuardrailTable(records_target)
    try:
        assert table.copy_from(file) and not table.copy_from(file)
        guardrails, record = table.read()  # type: ignore[misc]
        assert guardrails.min_margin_pct == 16.0 and record["changed_by"] == "ops-desk"
        assert record["changed_at"] == file.read()[1]["changed_at"]  # type: ignore[index]
    finally:
        table.close()


def _record(index: int) -> AuditRecord:
    return AuditRecord(
        f"q{index}", T0, "k", f"C{index}", "P1", {"n": index}, {"policy": "p"}, {"price": 1.5}
    )


def test_connections_the_server_dropped_are_replaced_without_failing_a_request(
    postgres_url: str,
) -> None:
    """A restart or failover ends the pool's connections: the next requests get new
    ones (the pool checks a connection when it is taken) instead of an error."""
    with AuditLog(postgres_url) as log, ApprovalQueue(postgres_url) as queue:
        log.append([_record(1)])
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (postgres.APPLICATION_NAME,),
            ).fetchone()
        assert ended is not None and ended[0] >= 1
        assert log.count() == 1 and log.get("q1").customer_id == "C1"
        assert queue.request("P9", 10.0, 13.0, requested_by="k").status == "pending"


def test_replicas_that_open_one_new_sqlite_file_together_all_open_it(tmp_path: Path) -> None:
    """Switching a new file to WAL answers "database is locked" at once, without
    SQLite's busy wait, while another opener switches it or creates the tables: each
    opener waits instead (this failed about one opening in 300)."""
    openers, files = 8, 60
    for trial in range(files):
        path = tmp_path / f"{trial}.sqlite"
        start = threading.Barrier(openers)

        def open_it(_: int, path: Path = path, start: threading.Barrier = start) -> object:
            start.wait()
            try:
                with ApprovalQueue(path) as queue:
                    return queue.pending()
            except RecordsError as exc:
                return exc

        with ThreadPoolExecutor(openers) as pool:
            opened = list(pool.map(open_it, range(openers)))
        assert opened == [[]] * openers, (trial, opened)
        with closing(connect_sqlite(path)) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
