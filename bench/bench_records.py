"""Benchmark: the records database on its two backends, the SQLite file and PostgreSQL.

What quotes and the API ask of the records database (:mod:`pricegraph.pricing.records`),
timed on the embedded SQLite file (the baseline) and on a PostgreSQL server in the same
run, with the ratio PostgreSQL / SQLite:

* ``append_1``: one audit record per transaction (a single quote), per record;
* ``append_1000``: a batch of 1,000 records in one transaction (a batch quote), per record;
* ``append_4_writers``: four threads, each with its own log (as four replicas), appending
  one record per transaction, per record over the whole run;
* ``query_customer``: one customer's first page of 100 records (oldest first), p50;
* ``file_1000``: filing 1,000 approvals in one ``request_many``, per change;
* ``approve``: one decision, p50;
* ``guardrails_version``: the check every quote request makes for guardrails saved by
  another worker (:meth:`~pricegraph.pricing.guardrails.store.GuardrailStore.version`):
  a read of the JSON file without a database, one query of the table with one, p50.

Records carry JSON of the size of a quote record of the API's (``--inputs-bytes``,
``--output-bytes``). The server comes from ``--postgres`` or
``PRICEGRAPH_TEST_POSTGRES_URL``; the tables go to a fresh schema that is dropped at the
end. Without a server the PostgreSQL columns print n/a. Prints a table; writes
``bench/out/records.json``.

Usage: ``python bench/bench_records.py [--postgres URL] [--records N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.guardrails.store import GuardrailFile, GuardrailTable
from pricegraph.pricing.quotes.approvals import ApprovalQueue, ChangeRequest
from pricegraph.pricing.quotes.audit import AuditLog, AuditRecord
from pricegraph.pricing.records.postgres import scratch_schema

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_records(count: int, start: int, inputs_bytes: int, output_bytes: int) -> list[AuditRecord]:
    """``count`` records of 50 customers x 200 products with JSON of about the sizes given."""
    pad_in, pad_out = "x" * max(inputs_bytes - 60, 0), "y" * max(output_bytes - 40, 0)
    return [
        AuditRecord(
            quote_id=f"q{start + i:09d}",
            ts=T0 + timedelta(seconds=start + i),
            requested_by="bench",
            customer_id=f"C{(start + i) % 50}",
            product_id=f"P{(start + i) % 200}",
            inputs={"state": {"period": 3, "list_price": 12.5}, "pad": pad_in},
            model_versions={"policy": "bench", "encoder": "none", "demand": "none"},
            output={"price": 11.75 + i % 7, "pad": pad_out},
        )
        for i in range(count)
    ]


def per_item_ms(seconds: float, items: int) -> float:
    return 1000.0 * seconds / max(items, 1)


def p50_ms(func: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def measure(target: str | Path, guardrails: GuardrailFile | GuardrailTable, args) -> dict:
    """Every figure of the module docstring for one backend."""
    figures: dict[str, float] = {}
    n = args.records
    with AuditLog(target) as log:
        singles = make_records(n, 0, args.inputs_bytes, args.output_bytes)
        start = time.perf_counter()
        for record in singles:
            log.append([record])
        figures["append_1"] = per_item_ms(time.perf_counter() - start, n)

        batch = make_records(1000, n, args.inputs_bytes, args.output_bytes)
        start = time.perf_counter()
        log.append(batch)
        figures["append_1000"] = per_item_ms(time.perf_counter() - start, len(batch))

        figures["query_customer"] = p50_ms(
            lambda: log.query(customer_id="C7", limit=100), args.repeats
        )

    def writer(index: int, ready: threading.Barrier) -> None:
        with AuditLog(target) as replica:
            records = make_records(
                n // 4, 10_000_000 * (index + 1), args.inputs_bytes, args.output_bytes
            )
            ready.wait()
            for record in records:
                replica.append([record])

    ready = threading.Barrier(5)
    threads = [threading.Thread(target=writer, args=(i, ready)) for i in range(4)]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    figures["append_4_writers"] = per_item_ms(time.perf_counter() - start, 4 * (n // 4))

    with ApprovalQueue(target) as queue:
        requests = [ChangeRequest(f"P{i}", 10.0, 13.0, f"q{i}") for i in range(1000)]
        start = time.perf_counter()
        filed = queue.request_many(requests, requested_by="bench")
        figures["file_1000"] = per_item_ms(time.perf_counter() - start, len(requests))
        ids = iter([c.approval_id for c in filed.values()])
        figures["approve"] = p50_ms(lambda: queue.approve(next(ids), "bench"), args.repeats)

    guardrails.save(GuardrailConfig(), "bench")
    figures["guardrails_version"] = p50_ms(guardrails.version, args.repeats * 10)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("PRICEGRAPH_TEST_POSTGRES_URL"))
    parser.add_argument("--records", type=int, default=2000, help="single appends timed")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--inputs-bytes", type=int, default=2400)
    parser.add_argument("--output-bytes", type=int, default=1700)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()

    results: dict[str, dict[str, float] | None] = {}
    with tempfile.TemporaryDirectory(prefix="bench-records-") as tmp:
        work = Path(tmp)
        file_store = GuardrailFile(work / "guardrails.json")
        results["sqlite"] = measure(work / "quotes.sqlite", file_store, args)
        if args.postgres:
            with scratch_schema(args.postgres, "bench") as url:
                table = GuardrailTable(url)
                try:
                    results["postgresql"] = measure(url, table, args)
                finally:
                    table.close()
        else:
            results["postgresql"] = None

    console = Console()
    table_out = Table(title="Records database: ms per item (p50 where one call)")
    for column in ("figure", "SQLite file", "PostgreSQL", "PostgreSQL / SQLite"):
        table_out.add_column(column, justify="right" if column != "figure" else "left")
    sqlite, server = results["sqlite"], results["postgresql"]
    assert sqlite is not None
    for name, value in sqlite.items():
        other = None if server is None else server[name]
        table_out.add_row(
            name,
            f"{value:.3f}",
            "n/a" if other is None else f"{other:.3f}",
            "n/a" if other is None else f"{other / value:.2f}",
        )
    console.print(table_out)
    args.out.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "records": args.records,
        "inputs_bytes": args.inputs_bytes,
        "output_bytes": args.output_bytes,
        "ms": results,
    }
    (args.out / "records.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
