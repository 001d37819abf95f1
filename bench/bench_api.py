"""GraphQL API throughput against a plain Starlette endpoint doing the same lookup, and
the cost of single-item writes.

Reads: two queries, each with 32 concurrent httpx clients over keep-alive connections:

* ``personalizedPrice``: one quote (state, policy, guardrails, rationale, audit);
* ``product`` with ``similarProducts``: a product, its brand and its 5 nearest products.

The plain endpoints call the same services on the same server (uvicorn, uvloop and
httptools where installed), so the ratio is the cost of GraphQL itself (parsing with
``ParserCache``, validation with ``ValidationCache`` and our limit rules, permission
checks, DataLoaders, error handling). Client and server share the machine and the
process (separate threads), as on the 2-core CI machines.

Writes: single items one after the other (a new product; a price point with its
``HAS_PRICE`` edge; a view or a purchase), p50/p99 and the buffer pool and RSS before
and after, on paths measured in the same run:

* the embedded store's small-write path (key look-ups, parameterised statements), and
  as the baseline its ``COPY`` path for the same one-row writes (what every write took
  before), each on its own copy of the loaded graph, through the store's upserts with
  node and edge in one transaction;
* the same through GraphQL over HTTP (validation, references, transaction, commit):
  as deployed (a small batch validated without pandas, small writes), and alternating
  with it write by write the baseline that validates with pandas (so load from other
  processes on the machine hits both alike); then the ``COPY`` path. The target of a
  single-item write is a p50 of at most 10 ms.

Prints tables and writes ``bench/out/api.json``.

    python bench/bench_api.py --requests 2000
    python bench/bench_api.py --only writes --customers 2000 --products 600 --days 180

The write figures are printed as tables, then one line per baseline:
``p50 ratio <baseline> / <path>: <ratio>x``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import uvicorn
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from pricegraph.api.cli import app as cli
from pricegraph.api.config import ApiConfig, ApiKey
from pricegraph.api.server import create_app
from pricegraph.api.services import Services, open_services
from pricegraph.api.settings import Settings
from pricegraph.graph.ladybug_store import SMALL_WRITE_ROWS, EmbeddedGraph
from pricegraph.loaders.record_validation import SMALL_BATCH_ROWS

KEY = "bench-reader-key-0123456789abcdef"
ADMIN_KEY = "bench-admin-key-0123456789abcdef"
COUNTS = " { created updated unchanged rejected }"
Ids = tuple[list[str], list[str]]
"""Customer and product keys of the world."""
WRITE_MUTATIONS = {
    "product": "mutation($v: [ProductInput!]!) { upsertProducts(products: $v)" + COUNTS + " }",
    "price": "mutation($v: [PriceInput!]!) { upsertPrices(prices: $v)" + COUNTS + " }",
    "event": "mutation($v: [EventInput!]!) { recordEvents(events: $v)" + COUNTS + " }",
}
PRICE_QUERY = (
    "query($c: String!, $p: String!) { personalizedPrice(customerId: $c, productId: $p) "
    "{ price listPrice isPersonalized } }"
)
SIMILAR_QUERY = (
    "query($p: String!) { product(id: $p) { key name listPrice brand { name } } "
    "similarProducts(productId: $p, first: 5) { key score } }"
)


def build_world(
    root: Path, customers: int, products: int, days: int = 90, *, embed: bool = True
) -> dict[str, str]:
    env = {
        "PRICEGRAPH_DATA_DIR": str(root / "var"),
        "PRICEGRAPH_CONFIG": str(root / "absent.toml"),
        "PRICEGRAPH_DEVICE": "cpu",
    }
    runner = CliRunner()
    generate = ["generate", "--customers", str(customers), "--products", str(products)]
    for args in (
        [*generate, "--days", str(days)],
        ["load", str(root / "var" / "world" / "mapping.toml")],
        *([["embed"]] if embed else []),
    ):
        result = runner.invoke(cli, args, env=env)
        if result.exit_code != 0:
            raise SystemExit(result.output)
    return env


def plain_routes(services: Services) -> list[Route]:
    """The same lookups without GraphQL."""

    async def price(request: Request) -> JSONResponse:
        c, p = request.query_params["c"], request.query_params["p"]
        quote = await services.run(lambda: services.quotes.quote(c, p, requested_by="bench"))
        return JSONResponse(
            {"price": quote.price, "listPrice": quote.list_price, "isPersonalized": False}
        )

    async def similar(request: Request) -> JSONResponse:
        key = request.query_params["p"]

        def lookup() -> dict[str, Any]:
            row = services.store.get_node("Product", key)
            brand = services.store.neighbors("Product", key, rel_type="OF_BRAND", direction="out")
            brand_row = services.store.get_node("Brand", brand[0].id) if brand else None
            hits = services.similarity.similar_products(key, limit=5)
            return {
                "product": {**(row or {}), "brand": brand_row},
                "similar": [{"key": h.key, "score": h.score} for h in hits],
            }

        return JSONResponse(await services.run(lookup))

    return [Route("/plain/price", price), Route("/plain/similar", similar)]


async def load(
    url: str, requests: list[dict[str, Any]], concurrency: int
) -> tuple[float, list[float]]:
    """Send ``requests`` (httpx kwargs) with ``concurrency`` workers; (wall s, latencies s)."""
    latencies: list[float] = []
    queue = list(reversed(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while queue:
                kwargs = queue.pop()
                start = time.perf_counter()
                response = await client.request(**kwargs)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200 or '"errors"' in response.text:
                    raise RuntimeError(response.text[:300])

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies


def summary(wall_s: float, latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests_per_s": len(ordered) / wall_s,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


# -- writes -----------------------------------------------------------------------------


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--days", type=int, default=90, help="Days of generated events.")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--only", choices=["all", "reads", "writes"], default="all")
    parser.add_argument("--writes", type=int, default=1000, help="Single-item writes per path.")
    parser.add_argument(
        "--copy-writes", type=int, default=50, help="Writes on the COPY path (MiB each)."
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "api.json")
    args = parser.parse_args()
    is_reading, is_writing = args.only in ("all", "reads"), args.only in ("all", "writes")
    root = Path(tempfile.mkdtemp(prefix="bench_api_"))
    os.environ.update(build_world(root, args.customers, args.products, args.days, embed=is_reading))
    graph = Settings().data_dir / "graph"
    with contextlib.closing(EmbeddedGraph(graph)) as store:
        customers = list(store.node_frame("Customer")["id"].astype(str))
        products = list(store.node_frame("Product")["id"].astype(str))
    results: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "catalog": {"customers": len(customers), "products": len(products), "days": args.days},
    }
    counts = {"small": args.writes, "copy": args.copy_writes}
    if is_writing:
        results["store_writes"] = store_benchmark(graph, root, counts, (customers, products))
        print_writes(
            f"Single-item writes through the store ({len(customers)} customers, "
            f"{len(products)} products, {args.days} days)",
            results["store_writes"],
        )
    keys = (
        ApiKey(name="bench", key=SecretStr(KEY), role="reader"),
        ApiKey(name="bench-admin", key=SecretStr(ADMIN_KEY), role="admin"),
    )
    services = open_services(Settings(), ApiConfig(keys=keys))
    app = create_app(services.settings, services=services)
    app.router.routes.extend(plain_routes(services))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    server = uvicorn.Server(
        uvicorn.Config(app, port=port, log_level="warning", loop=loop, http=http)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    results |= {"loop": loop, "http": http}
    if is_reading:
        results |= read_benchmark(url, args.requests, args.concurrency, customers, products)
    if is_writing:  # last: the COPY path keeps buffer pool the reads would want
        results["api_writes"] = api_benchmark(url, services, counts, (customers, products))
        print_writes(
            "Single-item writes through GraphQL over HTTP (small-write path: as deployed; "
            "pandas validation alternating with it)",
            results["api_writes"],
        )
    server.should_exit = True
    thread.join(10)
    services.close()
    shutil.rmtree(root, ignore_errors=True)  # the world and its graph copies
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


def read_benchmark(
    url: str, requests: int, concurrency: int, customers: list[str], products: list[str]
) -> dict[str, Any]:
    """The two read scenarios, GraphQL against plain endpoints."""
    pairs = [
        (customers[i % len(customers)], products[(7 * i) % len(products)]) for i in range(requests)
    ]
    headers = {"X-API-Key": KEY}
    scenarios = {
        "personalized_price": (
            [{"method": "POST", "url": "/graphql", "headers": headers,
              "json": {"query": PRICE_QUERY, "variables": {"c": c, "p": p}}} for c, p in pairs],
            [{"method": "GET", "url": "/plain/price", "params": {"c": c, "p": p}}
             for c, p in pairs],
        ),
        "product_with_similar": (
            [{"method": "POST", "url": "/graphql", "headers": headers,
              "json": {"query": SIMILAR_QUERY, "variables": {"p": p}}} for _, p in pairs],
            [{"method": "GET", "url": "/plain/similar", "params": {"p": p}} for _, p in pairs],
        ),
    }  # fmt: skip
    results: dict[str, Any] = {"requests": requests, "concurrency": concurrency}
    for name, (graphql_requests, plain_requests) in scenarios.items():
        asyncio.run(load(url, graphql_requests[:64], concurrency))  # warm-up
        asyncio.run(load(url, plain_requests[:64], concurrency))
        graphql = summary(*asyncio.run(load(url, graphql_requests, concurrency)))
        plain = summary(*asyncio.run(load(url, plain_requests, concurrency)))
        ratio = graphql["requests_per_s"] / plain["requests_per_s"]
        results[name] = {"graphql": graphql, "plain": plain, "throughput_ratio": ratio}
        print(
            f"{name:22s} graphql {graphql['requests_per_s']:7.0f} req/s p50 "
            f"{graphql['p50_ms']:6.1f} ms p99 {graphql['p99_ms']:6.1f} ms | plain "
            f"{plain['requests_per_s']:7.0f} req/s p50 {plain['p50_ms']:6.1f} ms p99 "
            f"{plain['p99_ms']:6.1f} ms | ratio {ratio:.2f}"
        )
    return results


if __name__ == "__main__":
    main()
