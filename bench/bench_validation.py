"""Benchmark: validating one API write item, record by record vs pandas, in process.

An API write of up to :data:`~pricegraph.loaders.record_validation.SMALL_BATCH_ROWS`
items is validated in plain Python (:func:`~pricegraph.loaders.record_validation.validate_records`);
the pandas validator (:func:`~pricegraph.loaders.validation.validate` over
``pd.DataFrame.from_records``) takes larger batches. This bench validates the same
single-item batches both ways: a new product, a price point, a view, in turn (the
items of ``bench_api.py --only writes``), against a reference index over an empty
embedded store with the referenced keys added. The two paths alternate item by item,
so other load on the machine hits each alike. The warm-up (30 items) checks that the
plain path does not defer to pandas and that both give the same frame.

The printout gives p50, p99 and mean per item, in ms, for each path, and the ratio of
the pandas p50 to the plain p50. Nothing is written to the store.

Usage: ``python bench/bench_validation.py [--items 3000]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders import FileMapping, RefIndex, validate
from pricegraph.loaders.record_validation import validate_plain, validate_records

CUSTOMERS = [f"C{i:05d}" for i in range(200)]
PRODUCTS = [f"P{i:05d}" for i in range(100)]


def item(i: int) -> tuple[str, dict[str, Any]]:
    """The ``i``-th single-item write (kind, record with ``_line`` 1), as the API builds it."""
    product = PRODUCTS[i % len(PRODUCTS)]
    if i % 3 == 0:
        record = {"product_id": f"P-new-{i}", "name": f"Bench scarf {i}", "list_price": 50.0 + i}
        return "products", {**record, "_line": 1}
    if i % 3 == 1:
        record = {"product_id": product, "price": 40.0 + i % 50, "kind": "markdown",
                  "valid_from": "2031-01-01T00:00:00Z", "price_point_id": f"PP-{i}"}  # fmt: skip
        return "prices", {**record, "_line": 1}
    customer = CUSTOMERS[i % len(CUSTOMERS)]
    record = {"event_id": f"E-{i}", "event_type": "view", "product_id": product,
              "customer_id": customer, "ts": "2031-01-02T10:00:00Z"}  # fmt: skip
    return "events", {**record, "_line": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3000, help="Items per path.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        store = make_graph_store(GraphConfig(path=Path(folder) / "graph", buffer_pool_mb=64))
        try:
            refs = RefIndex(store)
            refs.add("Customer", CUSTOMERS)
            refs.add("Product", PRODUCTS)
            mappings = {
                kind: FileMapping(path=Path(f"graphql-{kind}"), kind=kind)
                for kind in ("products", "prices", "events")
            }

            def plain(kind: str, records: list[dict[str, Any]]) -> pd.DataFrame:
                return validate_records(records, mappings[kind], refs).frame

            def by_pandas(kind: str, records: list[dict[str, Any]]) -> pd.DataFrame:
                return validate(pd.DataFrame.from_records(records), mappings[kind], refs).frame

            paths = {"plain (record by record)": plain, "pandas": by_pandas}
            for i in range(30):  # warm-up: the plain path does not defer, both agree
                kind, record = item(i)
                deferred = validate_plain([record], mappings[kind], refs) is None
                assert not deferred, f"the plain path defers a {kind} item to pandas"
                frames = [path(kind, [record]) for path in paths.values()]
                pd.testing.assert_frame_equal(frames[0], frames[1])
            times: dict[str, list[float]] = {name: [] for name in paths}
            for i in range(args.items):
                kind, record = item(i)
                for name, path in paths.items():
                    start = time.perf_counter()
                    path(kind, [record])
                    times[name].append(time.perf_counter() - start)
        finally:
            store.close()

    print(f"one item per batch, {args.items} items per path (products, prices, views in turn)")
    p50 = {}
    for name, values in times.items():
        ordered = sorted(values)
        p50[name] = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(
            f"{name:26} p50 {1000 * p50[name]:7.3f} ms  p99 {1000 * p99:7.3f} ms  "
            f"mean {1000 * statistics.fmean(ordered):7.3f} ms"
        )
    ratio = p50["pandas"] / p50["plain (record by record)"]
    print(f"pandas p50 / plain p50: {ratio:.1f}x")


if __name__ == "__main__":
    main()
