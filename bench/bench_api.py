"""GraphQL API throughput against a plain Starlette endpoint doing the same lookup.

Two queries, each with 32 concurrent httpx clients over keep-alive connections:

* ``personalizedPrice``: one quote (state, policy, guardrails, rationale, audit);
* ``product`` with ``similarProducts``: a product, its brand and its 5 nearest products.

The plain endpoints call the same services on the same server (uvicorn, uvloop and
httptools where installed), so the ratio is the cost of GraphQL itself (parsing with
``ParserCache``, validation with ``ValidationCache`` and our limit rules, permission
checks, DataLoaders, error handling). Client and server share the machine and the
process (separate threads), as on the 2-core CI machines. Prints a table and writes
``bench/out/api.json``.

    python bench/bench_api.py --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
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

KEY = "bench-reader-key-0123456789abcdef"
PRICE_QUERY = (
    "query($c: String!, $p: String!) { personalizedPrice(customerId: $c, productId: $p) "
    "{ price listPrice isPersonalized } }"
)
SIMILAR_QUERY = (
    "query($p: String!) { product(id: $p) { key name listPrice brand { name } } "
    "similarProducts(productId: $p, first: 5) { key score } }"
)


def build_world(root: Path, customers: int, products: int) -> dict[str, str]:
    env = {
        "PRICEGRAPH_DATA_DIR": str(root / "var"),
        "PRICEGRAPH_CONFIG": str(root / "absent.toml"),
        "PRICEGRAPH_DEVICE": "cpu",
    }
    runner = CliRunner()
    for args in (
        ["generate", "--customers", str(customers), "--products", str(products), "--days", "90"],
        ["load", str(root / "var" / "world" / "mapping.toml")],
        ["embed"],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "api.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_api_"))
    os.environ.update(build_world(root, args.customers, args.products))
    config = ApiConfig(keys=(ApiKey(name="bench", key=SecretStr(KEY), role="reader"),))
    services = open_services(Settings(), config)
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
    customers = list(services.store.node_frame("Customer")["id"].astype(str))
    products = list(services.store.node_frame("Product")["id"].astype(str))
    pairs = [
        (customers[i % len(customers)], products[(7 * i) % len(products)])
        for i in range(args.requests)
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
    results: dict[str, Any] = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "loop": loop,
        "http": http,
        "cpus": os.cpu_count(),
        "catalog": {"customers": len(customers), "products": len(products)},
    }
    for name, (graphql_requests, plain_requests) in scenarios.items():
        asyncio.run(load(url, graphql_requests[:64], args.concurrency))  # warm-up
        asyncio.run(load(url, plain_requests[:64], args.concurrency))
        graphql = summary(*asyncio.run(load(url, graphql_requests, args.concurrency)))
        plain = summary(*asyncio.run(load(url, plain_requests, args.concurrency)))
        ratio = graphql["requests_per_s"] / plain["requests_per_s"]
        results[name] = {"graphql": graphql, "plain": plain, "throughput_ratio": ratio}
        print(
            f"{name:22s} graphql {graphql['requests_per_s']:7.0f} req/s p50 "
            f"{graphql['p50_ms']:6.1f} ms p99 {graphql['p99_ms']:6.1f} ms | plain "
            f"{plain['requests_per_s']:7.0f} req/s p50 {plain['p50_ms']:6.1f} ms p99 "
            f"{plain['p99_ms']:6.1f} ms | ratio {ratio:.2f}"
        )
    server.should_exit = True
    thread.join(10)
    services.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
