"""Single-item writes for ``bench_api.py``: the items, the timed loops and the tables.

Each write is one new product, one price point with its ``HAS_PRICE`` edge, or one
view, in turn; paths measured together alternate write by write, so drift and other
load on the machine hit each alike.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from pricegraph.api.services import Services
from pricegraph.graph.ladybug_store import SMALL_WRITE_ROWS, EmbeddedGraph
from pricegraph.loaders.record_validation import SMALL_BATCH_ROWS

ADMIN_KEY = "bench-admin-key-0123456789abcdef"
COUNTS = " { created updated unchanged rejected }"
Ids = tuple[list[str], list[str]]
"""Customer and product keys of the world."""
WRITE_MUTATIONS = {
    "product": "mutation($v: [ProductInput!]!) { upsertProducts(products: $v)" + COUNTS + " }",
    "price": "mutation($v: [PriceInput!]!) { upsertPrices(prices: $v)" + COUNTS + " }",
    "event": "mutation($v: [EventInput!]!) { recordEvents(events: $v)" + COUNTS + " }",
}


def write_item(i: int, tag: str, customers: list[str], products: list[str]) -> dict[str, Any]:
    """The ``i``-th single-item write as GraphQL variables: ``kind`` and ``item``."""
    product = products[i % len(products)]
    if i % 3 == 0:
        item = {"productId": f"P-{tag}-{i}", "name": f"Bench scarf {i}", "listPrice": 50.0 + i}
        return {"kind": "product", "item": item}
    if i % 3 == 1:
        item = {"productId": product, "price": 40.0 + i % 50, "kind": "MARKDOWN",
                "validFrom": "2031-01-01T00:00:00Z", "pricePointId": f"PP-{tag}-{i}"}  # fmt: skip
        return {"kind": "price", "item": item}
    item = {"eventId": f"E-{tag}-{i}", "eventType": "VIEW", "productId": product,
            "customerId": customers[i % len(customers)], "ts": "2031-01-02T10:00:00Z"}  # fmt: skip
    return {"kind": "event", "item": item}


def store_write(
    store: EmbeddedGraph, i: int, tag: str, customers: list[str], products: list[str]
) -> None:
    """The same write through the store's upserts, node and edge in one transaction."""
    item = write_item(i, tag, customers, products)["item"]
    with store.transaction():
        if i % 3 == 0:
            frame = {"id": item["productId"], "name": item["name"], "list_price": item["listPrice"]}
            store.upsert_nodes("Product", pd.DataFrame([frame]))
        elif i % 3 == 1:
            frame = {"id": item["pricePointId"], "product_id": item["productId"],
                     "price": item["price"], "kind": "markdown", "currency": "EUR",
                     "valid_from": item["validFrom"]}  # fmt: skip
            store.upsert_nodes("PricePoint", pd.DataFrame([frame]))
            edge = {"source": item["productId"], "target": item["pricePointId"]}
            store.upsert_edges("HAS_PRICE", pd.DataFrame([edge]))
        else:
            edge = {"source": item["customerId"], "target": item["productId"],
                    "event_id": item["eventId"], "ts": item["ts"]}  # fmt: skip
            store.upsert_edges("VIEWED", pd.DataFrame([edge]))


def rss_mib() -> float:
    """Resident memory of this process, MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def timed_writes(
    writes: dict[str, Callable[[int], None]], count: int, pool_bytes: Callable[[], int]
) -> dict[str, dict[str, float]]:
    """Run each path's ``write(i)`` ``count`` times, the paths alternating write by write
    (drift and other load on the machine hit each alike); p50/p99 per path, and the
    buffer pool and RSS around them all."""
    for i in range(10):  # warm-up
        for write in writes.values():
            write(-1 - i)
    pool_before, rss_before = pool_bytes(), rss_mib()
    latencies: dict[str, list[float]] = {path: [] for path in writes}
    for i in range(count):
        for path, write in writes.items():
            start = time.perf_counter()
            write(i)
            latencies[path].append(time.perf_counter() - start)
    pool_after, total = pool_bytes(), count * len(writes)
    shared = {
        "pool_before_mib": pool_before / (1 << 20),
        "pool_after_mib": pool_after / (1 << 20),
        "pool_kib_per_write": (pool_after - pool_before) / 1024 / total,
        "rss_growth_mib": rss_mib() - rss_before,
    }
    results = {}
    for path, times in latencies.items():
        ordered = sorted(times)
        results[path] = {
            "writes": count,
            "p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[min(count - 1, int(0.99 * count))],
            **shared,
        }
    return results


def store_benchmark(
    graph: Path, root: Path, counts: dict[str, int], ids: Ids
) -> dict[str, dict[str, float]]:
    """Single-item writes through the store, small path and COPY path, on graph copies."""
    results = {}
    for path in ("small", "copy"):
        folder = root / f"graph-{path}"
        for part in graph.parent.glob(f"{graph.name}*"):  # the database file and its WAL
            shutil.copy2(part, root / part.name.replace(graph.name, folder.name, 1))
        rows = 0 if path == "copy" else SMALL_WRITE_ROWS
        store = EmbeddedGraph(folder, small_write_rows=rows)
        try:
            write = lambda i, s=store, t=path: store_write(s, i, f"S{t}", *ids)  # noqa: E731
            results |= timed_writes({path: write}, counts[path], store.buffer_pool_bytes)
        finally:
            store.close()
    return results


def api_benchmark(
    url: str, services: Services, counts: dict[str, int], ids: Ids
) -> dict[str, dict[str, float]]:
    """Single-item GraphQL writes over HTTP: as deployed alternating with validation by
    pandas, then the COPY path."""
    headers = {"X-API-Key": ADMIN_KEY}
    store = services.store
    assert isinstance(store, EmbeddedGraph), "the write benchmark needs the embedded store"
    pool = lambda: asyncio.run(services.run(store.buffer_pool_bytes))  # noqa: E731
    with httpx.Client(base_url=url, timeout=60) as client:

        def writer(path: str, batch_rows: int) -> Callable[[int], None]:
            def write(i: int) -> None:
                services.small_batch_rows = batch_rows  # read by the next request only
                spec = write_item(i, f"A{path}", *ids)
                body = {"query": WRITE_MUTATIONS[spec["kind"]], "variables": {"v": [spec["item"]]}}
                response = client.post("/graphql", json=body, headers=headers)
                if response.status_code != 200 or '"errors"' in response.text:
                    raise RuntimeError(response.text[:300])

            return write

        deployed = writer("small", SMALL_BATCH_ROWS)
        results = timed_writes(
            {"small": deployed, "pandas": writer("pandas", 0)}, counts["small"], pool
        )
        store.small_write_rows = 0
        results |= timed_writes({"copy": writer("copy", SMALL_BATCH_ROWS)}, counts["copy"], pool)
        store.small_write_rows = SMALL_WRITE_ROWS
    return results


PATH_NAMES = {"small": "small-write path", "pandas": "pandas validation", "copy": "COPY writes"}


def print_writes(title: str, results: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'path':18s} {'writes':>6s} {'p50 ms':>8s} {'p99 ms':>8s} "
          f"{'pool MiB before->after':>24s} {'KiB/write':>10s} {'RSS +MiB':>9s}")  # fmt: skip
    for path, r in results.items():
        pool = f"{r['pool_before_mib']:.1f} -> {r['pool_after_mib']:.1f}"
        name, rss = PATH_NAMES[path], r["rss_growth_mib"]
        print(f"{name:18s} {r['writes']:6d} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
              f"{pool:>24s} {r['pool_kib_per_write']:10.1f} {rss:9.1f}")  # fmt: skip
    for baseline in ("pandas", "copy"):
        if baseline in results:
            ratio = results[baseline]["p50_ms"] / results["small"]["p50_ms"]
            print(f"p50 ratio {PATH_NAMES[baseline]} / small-write path: {ratio:.2f}x")


__all__ = [
    "ADMIN_KEY",
    "WRITE_MUTATIONS",
    "Ids",
    "api_benchmark",
    "print_writes",
    "store_benchmark",
    "write_item",
]
