"""Human-in-the-loop approval of large price changes, on the audit log's SQLite file.

A quoted price that moves more than ``approval_threshold_pct`` away from the product's
current price is not published: the change is recorded here as *pending*, and quotes
for that product return the current price (saying that approval is pending) until a
person approves or rejects it. At most one change per product is pending at a time.
A batch of quotes files its changes with :meth:`ApprovalQueue.request_many`: one query
and one ``executemany`` insert in one transaction, however many products it names.
An approved change becomes the product's current price for later quotes (publishing
it to the shop and the graph is outside this module).

Decided entries are immutable: the table has no delete, and triggers make SQLite
refuse any change to a decided entry, any change other than the decision itself, and
any delete (``sqlite3.IntegrityError``). Like the audit log, the embedded queue
belongs to one process, is written by the thread that opens it, and is read by other
threads on read-only connections of their own (:class:`~.sqlite.ThreadConnections`).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ...errors import GuardrailError, NotFoundError
from .sqlite import ThreadConnections, format_ts, parse_ts

ApprovalStatus = Literal["pending", "approved", "rejected"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS price_approvals (
    approval_id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL,
    current_price REAL NOT NULL,
    proposed_price REAL NOT NULL,
    quote_id TEXT,
    requested_by TEXT NOT NULL,
    created_ts TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by TEXT,
    decided_ts TEXT,
    reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS price_approvals_one_pending
    ON price_approvals (product_id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS price_approvals_product ON price_approvals (product_id, created_ts);
CREATE TRIGGER IF NOT EXISTS price_approvals_decided_immutable
BEFORE UPDATE ON price_approvals WHEN OLD.status != 'pending'
BEGIN SELECT RAISE(ABORT, 'price_approvals: a decided entry is immutable'); END;
CREATE TRIGGER IF NOT EXISTS price_approvals_decision_only
BEFORE UPDATE ON price_approvals WHEN
    NEW.approval_id IS NOT OLD.approval_id OR NEW.product_id IS NOT OLD.product_id
    OR NEW.current_price IS NOT OLD.current_price OR NEW.proposed_price IS NOT OLD.proposed_price
    OR NEW.quote_id IS NOT OLD.quote_id OR NEW.requested_by IS NOT OLD.requested_by
    OR NEW.created_ts IS NOT OLD.created_ts
BEGIN SELECT RAISE(ABORT, 'price_approvals: only the decision of an entry may be set'); END;
CREATE TRIGGER IF NOT EXISTS price_approvals_no_delete BEFORE DELETE ON price_approvals
BEGIN SELECT RAISE(ABORT, 'price_approvals: entries cannot be deleted'); END;
"""
_COLUMNS = (
    "approval_id, product_id, current_price, proposed_price, quote_id, requested_by, "
    "created_ts, status, decided_by, decided_ts, reason"
)


@dataclass(frozen=True)
class ChangeRequest:
    """A change to file for approval (gross amounts)."""

    product_id: str
    current_price: float
    """The price in force now."""
    proposed_price: float
    """The guardrailed price that needs approval."""
    quote_id: str | None = None
    """The quote that asked for it."""


@dataclass(frozen=True)
class PriceChange:
    """A price change waiting for, or having had, a human decision (gross amounts)."""

    approval_id: str
    product_id: str
    current_price: float
    """The price in force when the change was proposed."""
    proposed_price: float
    """The guardrailed price that needs approval."""
    quote_id: str | None
    requested_by: str
    created_ts: datetime
    status: ApprovalStatus
    decided_by: str | None = None
    decided_ts: datetime | None = None
    reason: str | None = None

    @property
    def change_pct(self) -> float:
        """``100 * (proposed - current) / current`` (``inf`` from a current price of 0)."""
        if self.current_price == 0:
            return float("inf")
        return 100.0 * (self.proposed_price - self.current_price) / self.current_price


class ApprovalQueue:
    """Pending and decided price changes (see the module docstring).

    Args:
        path: The SQLite file (usually the audit log's).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._connections = ThreadConnections(self.path)
        self._db = self._connections.writer
        with self._db:
            self._db.executescript(_SCHEMA)

    def request(
        self,
        product_id: str,
        current_price: float,
        proposed_price: float,
        *,
        requested_by: str,
        quote_id: str | None = None,
        now: datetime | None = None,
    ) -> PriceChange:
        """Record a pending change, or return the one already pending for ``product_id``."""
        request = ChangeRequest(product_id, current_price, proposed_price, quote_id)
        return self.request_many([request], requested_by=requested_by, now=now)[product_id]

    def request_many(
        self,
        requests: Sequence[ChangeRequest],
        *,
        requested_by: str,
        now: datetime | None = None,
    ) -> dict[str, PriceChange]:
        """Record pending changes in one transaction (one query, one ``executemany``).

        A product that already has a pending change keeps it, and only the first request
        of a product counts.

        Returns:
            Product -> its pending change (the new one, or the one already pending), for
            every product of ``requests``.

        Raises:
            GuardrailError: SQLite fails (nothing of the batch is recorded then).
        """
        first: dict[str, ChangeRequest] = {}
        for request in requests:
            first.setdefault(request.product_id, request)
        found = self.pending_for(list(first))
        created_ts = _now(now)
        new = [
            PriceChange(
                approval_id=str(uuid.uuid4()),
                product_id=r.product_id,
                current_price=float(r.current_price),
                proposed_price=float(r.proposed_price),
                quote_id=r.quote_id,
                requested_by=requested_by,
                created_ts=created_ts,
                status="pending",
            )
            for r in first.values()
            if r.product_id not in found
        ]
        rows = [
            (
                c.approval_id,
                c.product_id,
                c.current_price,
                c.proposed_price,
                c.quote_id,
                requested_by,
                format_ts(created_ts),
                "pending",
                None,
                None,
                None,
            )
            for c in new
        ]
        if rows:
            try:
                with self._db:
                    self._db.executemany(
                        f"INSERT INTO price_approvals ({_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                        rows,
                    )
            except sqlite3.Error as exc:
                raise GuardrailError(
                    f"approval queue {self.path}: cannot file {len(rows)} changes: {exc}"
                ) from exc
        return found | {c.product_id: c for c in new}

    def pending(self) -> list[PriceChange]:
        """Every pending change, oldest first."""
        return self._select("WHERE status = 'pending'", [])

    def pending_for(self, product_ids: Sequence[str]) -> dict[str, PriceChange]:
        """Product -> its pending change, for the products that have one."""
        return {c.product_id: c for c in self._for(product_ids, "pending")}

    def approved_prices(self, product_ids: Sequence[str]) -> dict[str, float]:
        """Product -> the proposed price of its latest approved change."""
        latest: dict[str, PriceChange] = {}
        for change in self._for(product_ids, "approved"):
            latest[change.product_id] = change  # ordered by decision time
        return {pid: c.proposed_price for pid, c in latest.items()}

    def get(self, approval_id: str) -> PriceChange:
        """The entry ``approval_id``; ``NotFoundError("approval", id)`` when unknown."""
        rows = self._select("WHERE approval_id = ?", [approval_id])
        if not rows:
            raise NotFoundError("approval", approval_id)
        return rows[0]

    def approve(self, approval_id: str, by: str, *, now: datetime | None = None) -> PriceChange:
        """Approve a pending change; its price becomes the product's current price.

        Raises:
            NotFoundError: Unknown ``approval_id``.
            GuardrailError: The entry was already decided.
        """
        return self._decide(approval_id, "approved", by, None, now)

    def reject(
        self, approval_id: str, by: str, reason: str, *, now: datetime | None = None
    ) -> PriceChange:
        """Reject a pending change with a reason; the current price stays.

        Raises:
            NotFoundError: Unknown ``approval_id``.
            GuardrailError: The entry was already decided, or ``reason`` is empty.
        """
        if not reason.strip():
            raise GuardrailError(f"approval {approval_id}: a rejection needs a reason")
        return self._decide(approval_id, "rejected", by, reason, now)

    def close(self) -> None:
        """Close the database connections (from the thread that opened the queue)."""
        self._connections.close()

    def __enter__(self) -> ApprovalQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _decide(
        self,
        approval_id: str,
        status: ApprovalStatus,
        by: str,
        reason: str | None,
        now: datetime | None,
    ) -> PriceChange:
        change = self.get(approval_id)
        if change.status != "pending":
            raise GuardrailError(
                f"approval {approval_id} of product {change.product_id!r} was already "
                f"{change.status} by {change.decided_by!r}; decided entries are immutable"
            )
        try:
            with self._db:
                self._db.execute(
                    "UPDATE price_approvals SET status = ?, decided_by = ?, decided_ts = ?, "
                    "reason = ? WHERE approval_id = ?",
                    (status, by, format_ts(_now(now)), reason, approval_id),
                )
        except sqlite3.Error as exc:
            raise GuardrailError(f"approval queue {self.path}: cannot decide: {exc}") from exc
        return self.get(approval_id)

    def _for(self, product_ids: Sequence[str], status: ApprovalStatus) -> list[PriceChange]:
        ids = list(dict.fromkeys(product_ids))
        found: list[PriceChange] = []
        for start in range(0, len(ids), 500):  # SQLite's host-parameter limit
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found += self._select(f"WHERE status = ? AND product_id IN ({marks})", [status, *chunk])
        return sorted(found, key=lambda c: (c.decided_ts or c.created_ts, c.approval_id))

    def _select(self, where: str, params: list) -> list[PriceChange]:
        try:
            order = "ORDER BY created_ts, approval_id"
            query = f"SELECT {_COLUMNS} FROM price_approvals {where} {order}"
            rows = self._connections.reader().execute(query, params).fetchall()
        except sqlite3.Error as exc:
            raise GuardrailError(f"approval queue {self.path}: {exc}") from exc
        return [
            PriceChange(
                approval_id=r[0],
                product_id=r[1],
                current_price=r[2],
                proposed_price=r[3],
                quote_id=r[4],
                requested_by=r[5],
                created_ts=parse_ts(r[6]),
                status=r[7],
                decided_by=r[8],
                decided_ts=None if r[9] is None else parse_ts(r[9]),
                reason=r[10],
            )
            for r in rows
        ]


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now


__all__ = ["ApprovalQueue", "ApprovalStatus", "ChangeRequest", "PriceChange"]
