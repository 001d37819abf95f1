"""Human-in-the-loop approval of large price changes, on every records database backend
(SQLite always, PostgreSQL when a test server is set)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.quotes import World, make_service

from pricegraph.errors import GuardrailError, NotFoundError
from pricegraph.pricing.policy import LevelDecision, QuoteState
from pricegraph.pricing.quotes.approvals import ApprovalQueue, ChangeRequest, PriceChange
from pricegraph.pricing.quotes.audit import AuditLog


class RaisePolicy:
    """Quotes 25 % above list: above the default 20 % approval threshold."""

    version = "raise-25"

    def decide_many(self, states: Sequence[QuoteState]) -> list[LevelDecision]:
        return [self.decide(state) for state in states]

    def decide(self, state: QuoteState) -> LevelDecision:
        return LevelDecision("premium", 1.25)


@pytest.fixture
def queue(records_target: str | Path) -> Iterator[ApprovalQueue]:
    with ApprovalQueue(records_target) as approvals:
        yield approvals


def test_pending_approve_reject(queue: ApprovalQueue) -> None:
    first = queue.request("P1", 10.0, 13.0, requested_by="k", quote_id="q1")
    assert queue.request("P1", 10.0, 20.0, requested_by="k") == first  # one pending per product
    second = queue.request("P2", 10.0, 5.0, requested_by="k")
    assert [c.approval_id for c in queue.pending()] == [first.approval_id, second.approval_id]
    assert first.change_pct == pytest.approx(30.0)
    approved = queue.approve(first.approval_id, "alice")
    assert (approved.status, approved.decided_by) == ("approved", "alice")
    assert queue.approved_prices(["P1", "P2"]) == {"P1": 13.0}
    rejected = queue.reject(second.approval_id, "bob", "too deep")
    assert (rejected.status, rejected.reason) == ("rejected", "too deep")
    assert queue.pending() == []
    with pytest.raises(GuardrailError, match="already approved by 'alice'"):
        queue.reject(first.approval_id, "bob", "late")
    with pytest.raises(GuardrailError, match="needs a reason"):
        queue.reject(queue.request("P3", 1.0, 2.0, requested_by="k").approval_id, "bob", " ")
    with pytest.raises(NotFoundError, match="approval 'x' not found"):
        queue.approve("x", "alice")


def test_the_database_keeps_decided_entries_immutable(queue: ApprovalQueue) -> None:
    change = queue.request("P1", 10.0, 13.0, requested_by="k")
    db = queue.database
    with pytest.raises(db.errors, match="only the decision"):
        db.execute("UPDATE price_approvals SET proposed_price = 99 WHERE product_id = 'P1'")
    queue.approve(change.approval_id, "alice")
    with pytest.raises(db.errors, match="immutable"):
        db.execute("UPDATE price_approvals SET status = 'rejected'")
    with pytest.raises(db.errors, match="cannot be deleted"):
        db.execute("DELETE FROM price_approvals")
    if db.dialect == "postgresql":
        with pytest.raises(db.errors, match="cannot be deleted"):
            db.execute("TRUNCATE price_approvals")
    assert queue.get(change.approval_id).status == "approved"


def _in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """``work(i)`` for ``i < count`` on as many threads, released together; what each
    returned or raised."""
    start = threading.Barrier(count)

    def run(index: int) -> object:
        start.wait()
        try:
            return work(index)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_replicas_filing_one_product_at_once_record_one_pending_change(
    records_target: str | Path,
) -> None:
    """Eight queues (as eight API replicas would open them) file the same product at
    the same moment: one change is recorded and every replica is given it."""

    def file(index: int) -> object:
        with ApprovalQueue(records_target) as replica:
            request = ChangeRequest("P1", 10.0, 13.0 + index, f"q{index}")
            return replica.request_many([request], requested_by=f"replica-{index}")["P1"]

    filed = _in_threads(8, file)
    assert all(isinstance(change, PriceChange) for change in filed), filed
    assert len({change.approval_id for change in filed}) == 1  # type: ignore[attr-defined]
    with ApprovalQueue(records_target) as queue:
        (pending,) = queue.pending()
        assert pending == filed[0]


def test_of_two_decisions_at_once_exactly_one_holds(records_target: str | Path) -> None:
    with ApprovalQueue(records_target) as queue:
        change = queue.request("P1", 10.0, 13.0, requested_by="k")

    def decide(index: int) -> object:
        with ApprovalQueue(records_target) as replica:
            if index % 2:
                return replica.reject(change.approval_id, f"admin-{index}", "too steep")
            return replica.approve(change.approval_id, f"admin-{index}")

    results = _in_threads(6, decide)
    decided = [r for r in results if isinstance(r, PriceChange)]
    refused = [r for r in results if isinstance(r, GuardrailError)]
    assert len(decided) == 1 and len(refused) == 5, results
    assert all("decided entries are immutable" in str(r) for r in refused)
    with ApprovalQueue(records_target) as queue:
        assert queue.get(change.approval_id) == decided[0]


def test_quote_waits_for_approval_then_uses_the_approved_price(
    world: World, records_target: str | Path
) -> None:
    with AuditLog(records_target) as audit, ApprovalQueue(records_target) as queue:
        service = make_service(world, RaisePolicy(), audit=audit)
        service.approvals = queue
        customer, product = world.customers[0], world.products[1]
        quote = service.quote(customer, product, requested_by="k")
        current = service.builder.build([(customer, product)], quote.ts)[0].product.current_price
        assert quote.needs_approval and quote.is_approval_pending
        assert quote.price == current and quote.guarded_price > current
        assert "waits for approval" in quote.rationale and not quote.is_personalized
        (change,) = queue.pending()
        assert (change.product_id, change.proposed_price) == (product, quote.guarded_price)
        again = service.quote(world.customers[1], product, requested_by="k")
        assert again.is_approval_pending and again.approval_id == change.approval_id
        assert len(queue.pending()) == 1

        queue.approve(change.approval_id, "alice")
        after = service.quote(customer, product, requested_by="k")
        assert not after.is_approval_pending and after.price == quote.guarded_price
        for record in audit.query(product_id=product):
            assert audit.replay(record.quote_id, service).is_match


def test_a_request_that_may_not_file_holds_the_current_price(world: World, tmp_path: Path) -> None:
    path = tmp_path / "quotes.sqlite"
    with AuditLog(path) as audit, ApprovalQueue(path) as queue:
        service = make_service(world, RaisePolicy(), audit=audit)
        service.approvals = queue
        customer, product = world.customers[0], world.products[1]
        (quote,) = service.quote_batch(
            [(customer, product)], requested_by="reader", may_file_approvals=False
        )
        current = service.builder.build([(customer, product)], quote.ts)[0].product.current_price
        assert quote.needs_approval and not quote.is_approval_pending
        assert quote.approval_id is None and quote.price == current
        assert "needs an approval this request may not file" in quote.rationale
        assert queue.pending() == []
        (record,) = audit.query(product_id=product)
        assert audit.replay(record.quote_id, service).is_match
        filed = service.quote(customer, product, requested_by="pricing")  # may file
        assert filed.is_approval_pending and len(queue.pending()) == 1
        (held,) = service.quote_batch(
            [(customer, product)], requested_by="reader", may_file_approvals=False
        )
        assert held.is_approval_pending and held.approval_id == filed.approval_id


def test_request_many_files_once_per_product(queue: ApprovalQueue) -> None:
    existing = queue.request("P1", 10.0, 13.0, requested_by="k")
    filed = queue.request_many(
        [
            ChangeRequest("P1", 10.0, 20.0, "q1"),
            ChangeRequest("P2", 5.0, 7.0, "q2"),
            ChangeRequest("P2", 5.0, 9.0, "q3"),  # only the first request of P2 counts
            ChangeRequest("P3", 8.0, 4.0),
        ],
        requested_by="batch",
    )
    assert filed["P1"] == existing
    assert (filed["P2"].proposed_price, filed["P2"].quote_id) == (7.0, "q2")
    assert filed["P3"].requested_by == "batch" and filed["P3"].status == "pending"
    assert {c.product_id: c for c in queue.pending()} == filed
    assert queue.request_many([], requested_by="batch") == {}


def test_batch_files_each_product_once_like_single_quotes(world: World, tmp_path: Path) -> None:
    customers, products = world.customers[:3], world.products[2:4]
    pairs = [(c, p) for c in customers for p in products]
    outputs = {}
    for name, quote_all in (
        ("batch", lambda s: s.quote_batch(pairs, requested_by="k")),
        ("single", lambda s: [s.quote(c, p, requested_by="k") for c, p in pairs]),
    ):
        with ApprovalQueue(tmp_path / f"{name}.sqlite") as queue:
            service = make_service(world, RaisePolicy())
            service.approvals = queue
            quotes = quote_all(service)
            pending = {c.product_id: c for c in queue.pending()}
            assert set(pending) == set(products)
            first = {p: next(q for q in quotes if q.product_id == p) for p in products}
            assert {p: c.quote_id for p, c in pending.items()} == {
                p: q.quote_id for p, q in first.items()
            }
            assert all(q.approval_id == pending[q.product_id].approval_id for q in quotes)
            outputs[name] = [q.output() | {"approval_id": None} for q in quotes]
    assert outputs["batch"] == outputs["single"]
