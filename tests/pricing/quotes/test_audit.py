"""The append-only quote audit log: queries, immutability and replays, on every records
database backend (SQLite always, PostgreSQL when a test server is set)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from support.quotes import (
    COLLECTIONS,
    SPECS,
    DeepDiscountPolicy,
    World,
    make_service,
)

from pricegraph.errors import NotFoundError, PricegraphError, RecordsError
from pricegraph.gnn.service import write_graph_vectors
from pricegraph.pricing.quotes.approvals import ApprovalQueue
from pricegraph.pricing.quotes.audit import AuditLog, AuditRecord
from pricegraph.pricing.records.sqlite import format_ts, parse_ts

T0 = datetime(2025, 4, 1, tzinfo=UTC)


def _record(index: int, customer: str, product: str) -> AuditRecord:
    return AuditRecord(
        quote_id=f"q{index:03d}",
        ts=T0 + timedelta(hours=index),
        requested_by="key-1",
        customer_id=customer,
        product_id=product,
        inputs={"n": index},
        model_versions={"policy": "p"},
        output={"price": float(index)},
    )


@pytest.fixture
def log(records_target: str | Path) -> Iterator[AuditLog]:
    with AuditLog(records_target) as audit:
        audit.append([_record(i, f"C{i % 3}", f"P{i % 2}") for i in range(12)])
        yield audit


def test_queries_by_customer_product_and_time(log: AuditLog) -> None:
    assert [r.quote_id for r in log.query(customer_id="C1")] == ["q001", "q004", "q007", "q010"]
    assert [r.quote_id for r in log.query(customer_id="C1", product_id="P0")] == ["q004", "q010"]
    window = log.query(since=T0 + timedelta(hours=3), until=T0 + timedelta(hours=6))
    assert [r.quote_id for r in window] == ["q003", "q004", "q005"]
    assert [r.quote_id for r in log.query(limit=2, offset=5)] == ["q005", "q006"]
    assert log.count(product_id="P1") == 6 and log.count() == 12
    record = log.get("q007")
    assert record.ts == T0 + timedelta(hours=7) and record.inputs == {"n": 7}
    with pytest.raises(NotFoundError, match="quote 'nope' not found"):
        log.get("nope")


def test_the_database_refuses_update_and_delete(log: AuditLog) -> None:
    database = log.database
    statements = [
        "UPDATE quote_audit SET price = 0 WHERE quote_id = 'q001'",
        "DELETE FROM quote_audit",
    ]
    if database.dialect == "postgresql":
        statements.append("TRUNCATE quote_audit")
    for statement in statements:
        with pytest.raises(database.errors, match="append-only"):
            database.execute(statement)
    assert not hasattr(log, "update") and not hasattr(log, "delete")
    assert log.count() == 12 and log.get("q001").output == {"price": 1.0}
    if database.dialect == "sqlite":
        where = Path(database.where)
        mode = sqlite3.connect(where).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def test_a_duplicate_quote_id_records_nothing_of_its_batch(log: AuditLog) -> None:
    with pytest.raises(PricegraphError, match="cannot append"):
        log.append([_record(99, "C9", "P9"), _record(1, "C1", "P1")])
    assert log.count() == 12 and log.count(customer_id="C9") == 0


def test_timestamps_round_trip_in_utc() -> None:
    moment = datetime(2025, 4, 1, 14, 30, 5, 123456, tzinfo=UTC)
    assert (
        format_ts(moment) == "2025-04-01T14:30:05.123456Z" and parse_ts(format_ts(moment)) == moment
    )


def test_quotes_replay_to_the_same_result(world: World, tmp_path: Path) -> None:
    with AuditLog(tmp_path / "quotes.sqlite") as audit:
        service = make_service(world, audit=audit)
        quotes = service.quote_batch(
            [(c, p) for c in world.customers[:3] for p in world.products[:3]], requested_by="k"
        )
        first = audit.query(customer_id=world.customers[0])
        assert len(first) == 3 and first[0].requested_by == "k"
        assert first[0].inputs["state"]["customer_vector_hash"] is not None
        assert "customer_vector" not in first[0].inputs["state"]
        assert first[0].output["rationale"] == quotes[0].rationale
        for quote in quotes:
            result = audit.replay(quote.quote_id, service)
            assert result.is_match, result.differences

        other = make_service(world, DeepDiscountPolicy(), audit=None, min_margin_pct=50)
        assert audit.replay(quotes[0].quote_id, other).is_match  # the stored config is used

        changed = np.ones((1, 8), dtype=np.float32)
        customer = world.customers[0]
        write_graph_vectors(world.vectors, SPECS["customers"], np.array([customer]), changed, "v2")
        result = audit.replay(quotes[0].quote_id, service)
        assert not result.is_match and "customer_vector" in result.differences[0]
        assert COLLECTIONS["customers"] == SPECS["customers"].name


def test_quotes_read_back_from_every_backend_replay_to_the_same_result(
    world: World, records_target: str | Path
) -> None:
    with AuditLog(records_target) as audit:
        service = make_service(world, audit=audit)
        pairs = [(c, p) for c in world.customers[:2] for p in world.products[:4]]
        quotes = service.quote_batch(pairs, requested_by="k")
        assert audit.count() == len(pairs)
        for quote, record in zip(quotes, audit.query(), strict=True):
            assert record.quote_id == quote.quote_id and record.output["price"] == quote.price
            assert audit.replay(quote.quote_id, service).is_match


def test_records_older_than_the_currency_fields_still_replay(world: World, tmp_path: Path) -> None:
    with AuditLog(tmp_path / "quotes.sqlite") as audit:
        service = make_service(world, audit=audit)
        quote = service.quote(world.customers[0], world.products[0], requested_by="k")
        record = audit.get(quote.quote_id)
        assert record.output["currency"] == "EUR" and record.output["cost_estimated"] is False
        assert record.inputs["product"]["currency"] == "EUR"
        old_output = {
            k: v for k, v in record.output.items() if k not in ("currency", "cost_estimated")
        }
        old_inputs = {**record.inputs, "product": dict(record.inputs["product"])}
        del old_inputs["product"]["currency"]
        wrong = {**record.output, "currency": "USD"}
        keys = (record.ts, "k", record.customer_id, record.product_id)
        audit.append(
            [
                AuditRecord("old", *keys, old_inputs, record.model_versions, old_output),
                AuditRecord("wrong", *keys, record.inputs, record.model_versions, wrong),
            ]
        )
        old = audit.replay("old", service)
        assert old.is_match, old.differences
        assert old.recomputed["currency"] is None  # the old inputs have no currency
        assert old.recomputed["cost_estimated"] is False
        mismatch = audit.replay("wrong", service)
        assert mismatch.differences == ("currency: recorded 'USD', recomputed 'EUR'",)


def test_a_records_server_that_is_down_is_one_line_without_the_password() -> None:
    url = "postgresql://pricing:s3cret-pw@127.0.0.1:1/records"  # port 1: refused at once
    for open_records in (AuditLog, ApprovalQueue):
        with pytest.raises(RecordsError) as caught:
            open_records(url)
        message = str(caught.value)
        assert (
            "records database postgresql://pricing@127.0.0.1:1/records does not answer" in message
        )
        assert "s3cret-pw" not in message and "\n" not in message
