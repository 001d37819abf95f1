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

Mixed load: product lookups from ``--concurrency`` clients, alone and while one client
writes single items back to back; read p50/p99 in both phases and their p99 ratio.
Reads run on the API's read threads, writes on its one write thread, so a read no
longer waits for the write ahead of it; the ratio is what a writer still costs a
reader (CPU and the GIL shared with it).

Load (:mod:`api_load`): ``--concurrency`` connections for ``--seconds`` per phase on
personalizedPrice, product+similar, a nested list and a mixed read/write workload,
each through GraphQL and through a plain Starlette endpoint making the same store
calls: rps, p50/p99 and their ratios, and the server's RSS before and after.

Prints tables and writes ``bench/out/api.json``.

    python bench/bench_api.py --requests 2000
    python bench/bench_api.py --only writes --customers 2000 --products 600 --days 180
    python bench/bench_api.py --only load --seconds 10

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
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from api_load import load_benchmark, load_routes, print_load, scenarios
from api_writes import (
    ADMIN_KEY,
    WRITE_MUTATIONS,
    Ids,
    api_benchmark,
    print_writes,
    store_benchmark,
    write_item,
)
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from pricegraph.api.cli import app as cli
from pricegraph.api.config import ApiConfig, ApiKey
from pricegraph.api.server import create_app
from pricegraph.api.services import READ_THREADS, Services, open_services
from pricegraph.api.settings import Settings
from pricegraph.graph.ladybug_store import EmbeddedGraph

KEY = "bench-reader-key-0123456789abcdef"
PRICE_QUERY = (
    "query($c: String!, $p: String!) { personalizedPrice(customerId: $c, productId: $p) "
    "{ price listPrice isPersonalized } }"
)
LOOKUP_QUERY = "query($p: String!) { product(id: $p) { key name listPrice brand { name } } }"
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

        return JSONResponse(await services.read(lookup))

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--days", type=int, default=90, help="Days of generated events.")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--only", choices=["all", "reads", "writes", "mixed", "load"], default="all"
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="Seconds per phase of the load scenario."
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=["personalized_price", "product_with_similar", "nested_list", "mixed"],
        help="Load scenarios to run (repeatable; default: all four).",
    )
    parser.add_argument(
        "--read-threads",
        type=int,
        default=READ_THREADS,
        help="API read threads (0: every call on the write thread, as before them).",
    )
    parser.add_argument("--writes", type=int, default=1000, help="Single-item writes per path.")
    parser.add_argument(
        "--copy-writes", type=int, default=50, help="Writes on the COPY path (MiB each)."
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "api.json")
    args = parser.parse_args()
    is_reading, is_writing = args.only in ("all", "reads"), args.only in ("all", "writes")
    is_mixing, is_loading = args.only in ("all", "mixed"), args.only in ("all", "load")
    root = Path(tempfile.mkdtemp(prefix="bench_api_"))
    embed = is_reading or is_loading
    os.environ.update(build_world(root, args.customers, args.products, args.days, embed=embed))
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
    services = open_services(Settings(), ApiConfig(keys=keys), read_threads=args.read_threads)
    app = create_app(services.settings, services=services)
    app.router.routes.extend([*plain_routes(services), *load_routes(services)])
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
    if is_mixing:
        results["mixed"] = mixed_benchmark(
            url, args.requests, args.concurrency, (customers, products)
        )
    if is_loading:
        makers = scenarios(KEY, (customers, products), PRICE_QUERY, SIMILAR_QUERY)
        makers = {k: v for k, v in makers.items() if k in (args.scenario or makers)}
        results["load"] = load_benchmark(
            url, services, makers, concurrency=args.concurrency, seconds=args.seconds
        )
        print_load(results["load"])
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


def mixed_benchmark(url: str, requests: int, concurrency: int, ids: Ids) -> dict[str, Any]:
    """Product lookups alone, then while one client writes single items back to back."""
    customers, products = ids
    headers = {"X-API-Key": KEY}
    keys = [products[(7 * i) % len(products)] for i in range(requests)]
    bodies = [{"query": LOOKUP_QUERY, "variables": {"p": key}} for key in keys]
    reads = [{"method": "POST", "url": "/graphql", "headers": headers, "json": body}
             for body in bodies]  # fmt: skip
    asyncio.run(load(url, reads[:64], concurrency))  # warm-up
    alone = summary(*asyncio.run(load(url, reads, concurrency)))
    is_done, write_latencies = threading.Event(), []

    def writer() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            i = 0
            while not is_done.is_set():
                spec = write_item(i, "M", customers, products)
                body = {"query": WRITE_MUTATIONS[spec["kind"]], "variables": {"v": [spec["item"]]}}
                start = time.perf_counter()
                response = client.post("/graphql", json=body, headers={"X-API-Key": ADMIN_KEY})
                write_latencies.append(time.perf_counter() - start)
                if response.status_code != 200 or '"errors"' in response.text:
                    raise RuntimeError(response.text[:300])
                i += 1

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        mixed = summary(*asyncio.run(load(url, reads, concurrency)))
    finally:
        is_done.set()
        thread.join(60)
    writes = sorted(write_latencies)
    ratio = mixed["p99_ms"] / alone["p99_ms"]
    print(
        f"\nMixed load: {requests} product lookups from {concurrency} clients\n"
        f"reads alone        p50 {alone['p50_ms']:7.1f} ms p99 {alone['p99_ms']:7.1f} ms\n"
        f"reads with writer  p50 {mixed['p50_ms']:7.1f} ms p99 {mixed['p99_ms']:7.1f} ms "
        f"({len(writes)} writes, p50 {1000 * statistics.median(writes):.1f} ms)\n"
        f"read p99 ratio with writer / alone: {ratio:.2f}x"
    )
    return {
        "reads_alone": alone,
        "reads_with_writer": mixed,
        "writes": len(writes),
        "write_p50_ms": 1000 * statistics.median(writes),
        "read_p99_ratio": ratio,
    }


if __name__ == "__main__":
    main()
