"""The append-only audit log of quotes, in the records database.

Every quote is recorded with who asked, its full inputs (the quote state without the
vectors but with a hash of each, the product and customer facts, the guardrail
config), the model versions and the output (price, level decisions, bound rules,
rationale, flags). Records can be queried by customer, product and time range, and a
quote can be replayed: :meth:`AuditLog.replay` recomputes it from the stored inputs
and says whether it matches.

Append-only by construction: the class has no update or delete method, and triggers
make the database itself refuse ``UPDATE`` and ``DELETE`` on the table (and
``TRUNCATE`` on PostgreSQL). The log lives in the records database
(:mod:`~pricegraph.pricing.records`): by default an embedded SQLite file in WAL mode,
written by the thread that opens it and read by any thread without blocking the
writer, which belongs to the processes of one machine; with
``PRICEGRAPH_PRICING__DATABASE_URL`` a PostgreSQL server that every API replica
shares. On the server, grant the API's role ``INSERT`` and ``SELECT`` only, as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ...errors import NotFoundError, RecordsError
from ..records import Schema, append_only, open_records, schema
from ..records.sqlite import format_ts, parse_ts
from .result import LATER_OUTPUT

_SCHEMA: Schema = schema(
    """
CREATE TABLE IF NOT EXISTS quote_audit (
    seq {serial},
    quote_id TEXT NOT NULL UNIQUE,
    ts TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    price {real} NOT NULL,
    inputs TEXT NOT NULL,
    model_versions TEXT NOT NULL,
    output TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quote_audit_customer ON quote_audit (customer_id, ts);
CREATE INDEX IF NOT EXISTS quote_audit_product ON quote_audit (product_id, ts);
CREATE INDEX IF NOT EXISTS quote_audit_ts ON quote_audit (ts);
""",
    append_only("quote_audit"),
)
_COLUMNS = "quote_id, ts, requested_by, customer_id, product_id, inputs, model_versions, output"


class Recomputer(Protocol):
    """What :meth:`AuditLog.replay` needs of a quote service (:class:`~.service.QuoteService`)."""

    model_versions: dict[str, str]

    def recompute(self, inputs: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The output recomputed from recorded ``inputs``, and the inputs that changed."""
        ...


@dataclass(frozen=True)
class AuditRecord:
    """One quote as recorded (JSON parts as plain dicts)."""

    quote_id: str
    """UUID of the quote."""
    ts: datetime
    """When the quote was made, aware UTC."""
    requested_by: str
    """API key id or user that asked."""
    customer_id: str
    product_id: str
    inputs: dict[str, Any]
    """The quote inputs (see :func:`~.inputs.input_to_dict`) plus
    ``guardrails`` (the config) and ``approval`` (the queue state at quote time)."""
    model_versions: dict[str, str]
    """``policy``, ``encoder``, ``demand``."""
    output: dict[str, Any]
    """The quote as :meth:`~.result.Quote.output` gives it."""


@dataclass(frozen=True)
class ReplayResult:
    """Whether a recomputed quote matches its record."""

    quote_id: str
    is_match: bool
    differences: tuple[str, ...] = ()
    """One line per differing field or changed input (e.g. a vector that changed)."""
    recomputed: dict[str, Any] = field(default_factory=dict)


class AuditLog:
    """The quote audit log in one table of the records database (module docstring).

    Args:
        target: The SQLite file, or a ``postgresql://`` URL (shared with the approval
            queue and the saved guardrails, in tables of their own).

    Raises:
        RecordsError: The database cannot be opened or its table created.
    """

    def __init__(self, target: str | Path) -> None:
        self.database = open_records(target, _SCHEMA, "audit log")

    def append(self, records: Sequence[AuditRecord]) -> int:
        """Insert ``records`` in one transaction (all or none); returns how many.

        Raises:
            RecordsError: A quote id is already recorded, or the database fails.
        """
        rows = [
            (
                r.quote_id,
                format_ts(r.ts),
                r.requested_by,
                r.customer_id,
                r.product_id,
                float(r.output.get("price", float("nan"))),
                json.dumps(r.inputs, sort_keys=True),
                json.dumps(r.model_versions, sort_keys=True),
                json.dumps(r.output, sort_keys=True),
            )
            for r in records
        ]
        try:
            self.database.execute_many(
                "INSERT INTO quote_audit (quote_id, ts, requested_by, customer_id, "
                "product_id, price, inputs, model_versions, output) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        except self.database.errors as exc:
            raise RecordsError(f"audit log {self.database.where}: cannot append: {exc}") from exc
        return len(rows)

    def get(self, quote_id: str) -> AuditRecord:
        """The record of ``quote_id``.

        Raises:
            NotFoundError: ``kind="quote"``, ``key=quote_id``.
        """
        rows = self._select("WHERE quote_id = ?", [quote_id], 1, 0)
        if not rows:
            raise NotFoundError("quote", quote_id)
        return rows[0]

    def query(
        self,
        *,
        customer_id: str | None = None,
        product_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditRecord]:
        """Records matching every given filter, oldest first (by time, then insertion).

        Args:
            customer_id: Only this customer's quotes.
            product_id: Only quotes of this product.
            since: Only quotes at or after this time (naive = UTC).
            until: Only quotes before this time (exclusive).
            limit: At most this many records, ``>= 0``.
            offset: Skip this many matching records first, ``>= 0``.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"expected limit >= 0 and offset >= 0, got {limit}, {offset}")
        where, params = self._where(customer_id, product_id, since, until)
        return self._select(where, params, limit, offset)

    def count(
        self,
        *,
        customer_id: str | None = None,
        product_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """How many records match (same filters as :meth:`query`)."""
        where, params = self._where(customer_id, product_id, since, until)
        return int(self._fetch(f"SELECT COUNT(*) FROM quote_audit {where}", params)[0][0])

    def replay(self, quote_id: str, service: Recomputer) -> ReplayResult:
        """Recompute ``quote_id`` from its stored inputs with ``service``'s policy.

        The vectors are read again and must hash as recorded; the policy version must
        equal the recorded one. Everything else comes from the record. Output fields
        added since a record was made (:data:`~.result.LATER_OUTPUT`) are compared only
        where the record has them.

        Raises:
            NotFoundError: No such quote.
        """
        record = self.get(quote_id)
        recomputed, differences = service.recompute(record.inputs)
        if service.model_versions.get("policy") != record.model_versions.get("policy"):
            differences.append(
                f"policy version: recorded {record.model_versions.get('policy')!r}, "
                f"now {service.model_versions.get('policy')!r}"
            )
        for key in sorted(set(record.output) | set(recomputed)):
            if key in ("approval_id",) or (key in LATER_OUTPUT and key not in record.output):
                continue  # the id a replay cannot file; a field older records lack
            if record.output.get(key) != recomputed.get(key):
                recorded, now = record.output.get(key), recomputed.get(key)
                differences.append(f"{key}: recorded {recorded!r}, recomputed {now!r}")
        return ReplayResult(quote_id, not differences, tuple(differences), recomputed)

    def check(self) -> None:
        """Read one row of the log, or none: that its table answers (health checks).

        Raises:
            RecordsError: The database or the table does not answer.
        """
        self._fetch("SELECT 1 FROM quote_audit LIMIT 1", [])

    def copy_from(self, source: AuditLog, *, batch_size: int = 2_000) -> int:
        """Copy every record of ``source`` that this log lacks (by quote id), oldest
        first, as stored (e.g. a SQLite file's records into a PostgreSQL server's log).

        Idempotent: a second copy adds nothing. Each batch is one transaction.

        Returns:
            How many records were added.

        Raises:
            RecordsError: Either database fails (the batches before stay copied).
        """
        before = self.count()
        columns = "quote_id, ts, requested_by, customer_id, product_id, price, inputs, " + (
            "model_versions, output"
        )
        for offset in range(0, source.count(), batch_size):
            rows = source._fetch(
                f"SELECT {columns} FROM quote_audit ORDER BY seq LIMIT ? OFFSET ?",
                [batch_size, offset],
            )
            try:
                self.database.execute_many(
                    f"INSERT INTO quote_audit ({columns}) VALUES ({', '.join('?' * 9)}) "
                    "ON CONFLICT (quote_id) DO NOTHING",
                    rows,
                )
            except self.database.errors as exc:
                raise RecordsError(f"audit log {self.database.where}: cannot copy: {exc}") from exc
        return self.count() - before

    def close(self) -> None:
        """Close the database connections (from the thread that opened the log)."""
        self.database.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _where(
        customer_id: str | None,
        product_id: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for clause, value in (
            ("customer_id = ?", customer_id),
            ("product_id = ?", product_id),
            ("ts >= ?", None if since is None else format_ts(since)),
            ("ts < ?", None if until is None else format_ts(until)),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _select(self, where: str, params: list[Any], limit: int, offset: int) -> list[AuditRecord]:
        query = f"SELECT {_COLUMNS} FROM quote_audit {where} ORDER BY ts, seq LIMIT ? OFFSET ?"
        rows = self._fetch(query, [*params, int(limit), int(offset)])
        return [
            AuditRecord(
                quote_id=row[0],
                ts=parse_ts(row[1]),
                requested_by=row[2],
                customer_id=row[3],
                product_id=row[4],
                inputs=json.loads(row[5]),
                model_versions=json.loads(row[6]),
                output=json.loads(row[7]),
            )
            for row in rows
        ]

    def _fetch(self, query: str, params: list[Any]) -> list[tuple[Any, ...]]:
        try:
            return self.database.fetch(query, params)
        except self.database.errors as exc:
            raise RecordsError(f"audit log {self.database.where}: {exc}") from exc


__all__ = [
    "AuditLog",
    "AuditRecord",
    "Recomputer",
    "ReplayResult",
]
