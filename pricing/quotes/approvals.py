"""Human-in-the-loop approval of large price changes, in the records database.

A quoted price that moves more than ``approval_threshold_pct`` away from the product's
current price is not published: the change is recorded here as *pending*, and quotes
for that product return the current price (saying that approval is pending) until a
person approves or rejects it. At most one change per product is pending at a time.
A batch of quotes files its changes with :meth:`ApprovalQueue.request_many`: one
``executemany`` insert in one transaction, however many products it names, that skips
a product which already has a pending change (``ON CONFLICT ... DO NOTHING`` on the
one-pending-per-product index), so that replicas filing the same product at once
record it once; then one query reads what is pending.
An approved change becomes the product's current price for later quotes (publishing
it to the shop and the graph is outside this module).

Decided entries are immutable: the class has no delete, and triggers make the database
refuse any change to a decided entry, any change other than the decision itself, and
any delete. A decision is one ``UPDATE ... WHERE status = 'pending'``, so of two people
deciding the same entry at once exactly one succeeds. Like the audit log, the queue
lives in the records database (:mod:`~pricegraph.pricing.records`): the SQLite file
of one machine, or a PostgreSQL server every replica shares.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ...errors import GuardrailError, NotFoundError, RecordsError
from ..records import Schema, open_records, schema
from ..records.sqlite import format_ts, parse_ts

ApprovalStatus = Literal["pending", "approved", "rejected"]
_SCHEMA: Schema = schema(
    """
CREATE TABLE IF NOT EXISTS price_approvals (
    approval_id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL,
    current_price {real} NOT NULL,
    proposed_price {real} NOT NULL,
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
""",
    {
        "sqlite": """
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
""",
        "postgresql": """
CREATE OR REPLACE FUNCTION price_approvals_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'price_approvals: entries cannot be deleted';
    END IF;
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'price_approvals: a decided entry is immutable';
    END IF;
    IF (NEW.approval_id, NEW.product_id, NEW.current_price, NEW.proposed_price,
        NEW.quote_id, NEW.requested_by, NEW.created_ts)
       IS DISTINCT FROM (OLD.approval_id, OLD.product_id, OLD.current_price,
        OLD.proposed_price, OLD.quote_id, OLD.requested_by, OLD.created_ts) THEN
        RAISE EXCEPTION 'price_approvals: only the decision of an entry may be set';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER price_approvals_guard BEFORE UPDATE OR DELETE ON price_approvals
FOR EACH ROW EXECUTE FUNCTION price_approvals_guard();
CREATE OR REPLACE TRIGGER price_approvals_no_truncate BEFORE TRUNCATE ON price_approvals
FOR EACH STATEMENT EXECUTE FUNCTION price_approvals_guard();
""",
    },
)
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
        target: The SQLite file or ``postgresql://`` URL (usually the audit log's).

    Raises:
        RecordsError: The database cannot be opened or its table created.
    """

    def __init__(self, target: str | Path) -> None:
        self.database = open_records(target, _SCHEMA, "approval queue")

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
        """Record pending changes in one transaction (module docstring).

        A product that already has a pending change keeps it, and only the first request
        of a product counts.

        Returns:
            Product -> its pending change (the new one, or the one already pending), for
            every product of ``requests``.

        Raises:
            RecordsError: The database fails (nothing of the batch is recorded then).
        """
        first: dict[str, ChangeRequest] = {}
        for request in requests:
            first.setdefault(request.product_id, request)
        if not first:
            return {}
        created = format_ts(_now(now))
        rows = [
            (
                str(uuid.uuid4()),
                r.product_id,
                float(r.current_price),
                float(r.proposed_price),
                r.quote_id,
                requested_by,
                created,
                "pending",
                None,
                None,
                None,
            )
            for r in first.values()
        ]
        try:
            self.database.execute_many(
                f"INSERT INTO price_approvals ({_COLUMNS}) VALUES ({', '.join('?' * 11)}) "
                "ON CONFLICT (product_id) WHERE status = 'pending' DO NOTHING",
                rows,
            )
        except self.database.errors as exc:
            raise RecordsError(
                f"approval queue {self.database.where}: cannot file {len(rows)} changes: {exc}"
            ) from exc
        return self.pending_for(list(first))

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

    def copy_from(self, source: ApprovalQueue) -> int:
        """Copy every entry of ``source`` that this queue lacks (by approval id), in the
        order they were filed, decided entries with their decision, in one transaction.

        A pending entry of a product that already has a pending change here is not
        copied (one pending change per product). Idempotent: a second copy adds nothing.

        Returns:
            How many entries were added.

        Raises:
            RecordsError: Either database fails (nothing is copied then).
        """
        before = self._count()
        rows = source._rows("", [])
        try:
            self.database.execute_many(
                f"INSERT INTO price_approvals ({_COLUMNS}) VALUES ({', '.join('?' * 11)}) "
                "ON CONFLICT DO NOTHING",
                rows,
            )
        except self.database.errors as exc:
            raise RecordsError(f"approval queue {self.database.where}: cannot copy: {exc}") from exc
        return self._count() - before

    def _count(self) -> int:
        return int(self._rows_query("SELECT COUNT(*) FROM price_approvals", [])[0][0])

    def close(self) -> None:
        """Close the database connections (from the thread that opened the queue)."""
        self.database.close()

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
        try:
            changed = self.database.execute(
                "UPDATE price_approvals SET status = ?, decided_by = ?, decided_ts = ?, "
                "reason = ? WHERE approval_id = ? AND status = 'pending'",
                (status, by, format_ts(_now(now)), reason, approval_id),
            )
        except self.database.errors as exc:
            raise RecordsError(
                f"approval queue {self.database.where}: cannot decide: {exc}"
            ) from exc
        change = self.get(approval_id)
        if not changed:  # unknown (get raised), or decided before: by whom
            raise GuardrailError(
                f"approval {approval_id} of product {change.product_id!r} was already "
                f"{change.status} by {change.decided_by!r}; decided entries are immutable"
            )
        return change

    def _for(self, product_ids: Sequence[str], status: ApprovalStatus) -> list[PriceChange]:
        ids = list(dict.fromkeys(product_ids))
        found: list[PriceChange] = []
        for start in range(0, len(ids), 500):  # SQLite's host-parameter limit
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found += self._select(f"WHERE status = ? AND product_id IN ({marks})", [status, *chunk])
        return sorted(found, key=lambda c: (c.decided_ts or c.created_ts, c.approval_id))

    def _rows(self, where: str, params: list[Any]) -> list[tuple[Any, ...]]:
        order = "ORDER BY created_ts, approval_id"
        return self._rows_query(f"SELECT {_COLUMNS} FROM price_approvals {where} {order}", params)

    def _rows_query(self, query: str, params: list[Any]) -> list[tuple[Any, ...]]:
        try:
            return self.database.fetch(query, params)
        except self.database.errors as exc:
            raise RecordsError(f"approval queue {self.database.where}: {exc}") from exc

    def _select(self, where: str, params: list[Any]) -> list[PriceChange]:
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
            for r in self._rows(where, params)
        ]


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now


__all__ = ["ApprovalQueue", "ApprovalStatus", "ChangeRequest", "PriceChange"]
