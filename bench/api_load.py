"""The load scenario of ``bench_api.py``: ``--concurrency`` connections for ``--seconds``
per phase, GraphQL against plain Starlette endpoints making the same service calls.

Four scenarios, each run through GraphQL and then through its plain endpoint on the
same server, so the ratios are what GraphQL costs (parsing and validation with their
caches, limit rules, permissions, DataLoaders, error handling) under load:

* ``personalized_price``: one quote (write thread: it appends to the audit log);
* ``product_with_similar``: a product, its brand and its 5 nearest products;
* ``nested_list``: a page of 20 products, each with its brand and category;
* ``mixed``: product lookups, and one request in :data:`WRITE_EVERY` a single-item
  write (a product, a price point with its edge, or a view, in turn) through the
  same validation and writes (:func:`~pricegraph.api.schema.mutations.write_items`).

Reads run on the API's read threads, writes and quotes on its one write thread. The
server's memory is the RSS of this process (server and client share it, as on the
2-core CI machines) before the first phase and after the last, with the graph
store's buffer pool beside it.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from api_writes import ADMIN_KEY, WRITE_MUTATIONS, Ids, rss_mib, write_item
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pricegraph.api.loaders import TARGETS
from pricegraph.api.pages import product_page
from pricegraph.api.schema.mutations import write_items
from pricegraph.api.services import Services
from pricegraph.graph.ladybug_store import EmbeddedGraph

WRITE_EVERY = 8
"""In the mixed scenario, one request in this many is a write."""
PAGE = 20
NESTED_QUERY = (
    "query($n: Int!) { products(first: $n) { edges { node { key name listPrice "
    "brand { name } category { name } } } } }"
)
LOOKUP_QUERY = "query($p: String!) { product(id: $p) { key name listPrice brand { name } } }"
Request_ = dict[str, Any]
"""httpx request kwargs, plus ``kind`` (``read`` or ``write``) to file its latency."""


def plain_item(spec: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A :func:`~api_writes.write_item` as the mutation hands it to ``write_items``:
    kind of load, and the item's fields in snake case (enums as values, times naive UTC)."""
    item = spec["item"]
    if spec["kind"] == "product":
        fields = {"product_id": item["productId"], "name": item["name"],
                  "list_price": item["listPrice"]}  # fmt: skip
        return "products", fields
    if spec["kind"] == "price":
        fields = {"product_id": item["productId"], "price": item["price"], "kind": "markdown",
                  "valid_from": item["validFrom"].rstrip("Z"),
                  "price_point_id": item["pricePointId"]}  # fmt: skip
        return "prices", fields
    fields = {"event_id": item["eventId"], "event_type": "view", "product_id": item["productId"],
              "customer_id": item["customerId"], "ts": item["ts"].rstrip("Z")}  # fmt: skip
    return "events", fields


def load_routes(services: Services) -> list[Route]:
    """Plain endpoints of the nested list and of the mixed scenario's lookup and write."""
    store = services.store

    def nested() -> list[dict[str, Any]]:
        rows = product_page(store, after=None, limit=PAGE + 1)[:PAGE]
        keys = [str(r["id"]) for r in rows]
        linked: dict[str, dict[str, str]] = {}
        for label, target in (("Brand", "brand_of_product"), ("Category", "category_of_product")):
            frame = store.edge_targets(TARGETS[target], keys)
            pairs = dict(zip(frame["source"], frame["target"], strict=True))
            nodes = store.get_nodes(label, sorted(set(pairs.values())))
            names = {n["id"]: n.get("name") for n in nodes if n is not None}
            linked[label] = {key: names.get(pairs.get(key, ""), "") for key in keys}
        return [
            {"key": r["id"], "name": r.get("name"), "listPrice": r.get("list_price"),
             "brand": {"name": linked["Brand"][r["id"]]},
             "category": {"name": linked["Category"][r["id"]]}}
            for r in rows
        ]  # fmt: skip

    def lookup(key: str) -> dict[str, Any]:
        row = store.get_node("Product", key) or {}
        brand = store.neighbors("Product", key, rel_type="OF_BRAND", direction="out")
        brand_row = store.get_node("Brand", brand[0].id) if brand else None
        return {"key": key, "name": row.get("name"), "listPrice": row.get("list_price"),
                "brand": {"name": (brand_row or {}).get("name")}}  # fmt: skip

    async def nested_endpoint(request: Request) -> JSONResponse:
        return JSONResponse(await services.read(nested))

    async def lookup_endpoint(request: Request) -> JSONResponse:
        return JSONResponse(await services.read(lookup, request.query_params["p"]))

    async def write_endpoint(request: Request) -> JSONResponse:
        kind, item = plain_item(await request.json())
        outcome = await services.run(write_items, services, kind, [item])
        if outcome.errors:
            return JSONResponse({"errors": [e.message for e in outcome.errors]}, 400)
        return JSONResponse({"created": outcome.result.created})

    return [
        Route("/plain/nested", nested_endpoint),
        Route("/plain/lookup", lookup_endpoint),
        Route("/plain/write", write_endpoint, methods=["POST"]),
    ]


async def load_for(
    url: str, make: Callable[[int], Request_], concurrency: int, seconds: float
) -> tuple[float, dict[str, list[float]]]:
    """``concurrency`` connections sending ``make(i)`` back to back for ``seconds``;
    (wall s, latencies s by request kind). Any error response stops the run."""
    latencies: dict[str, list[float]] = {"read": [], "write": []}
    counter = itertools.count()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                kwargs = make(next(counter))
                kind = kwargs.pop("kind")
                start = time.perf_counter()
                response = await client.request(**kwargs)
                latencies[kind].append(time.perf_counter() - start)
                if response.status_code != 200 or '"errors"' in response.text:
                    raise RuntimeError(response.text[:300])

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies


def figures(wall_s: float, latencies: list[float]) -> dict[str, float]:
    """Requests per second, p50 and p99 in ms."""
    ordered = sorted(latencies) or [float("nan")]
    return {
        "requests": len(latencies),
        "requests_per_s": len(latencies) / wall_s,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def scenarios(
    key: str, ids: Ids, price_query: str, similar_query: str
) -> dict[str, tuple[Callable[[int], Request_], Callable[[int], Request_]]]:
    """Scenario -> (GraphQL request maker, plain request maker); ``key`` is a reader's."""
    customers, products = ids

    def graphql(query: str, kind: str = "read", auth: str = key, **v: Any) -> Request_:
        return {"kind": kind, "method": "POST", "url": "/graphql", "headers": {"X-API-Key": auth},
                "json": {"query": query, "variables": v}}  # fmt: skip

    def plain(path: str, **params: Any) -> Request_:
        return {"kind": "read", "method": "GET", "url": path, "params": params}

    def pair(i: int) -> tuple[str, str]:
        return customers[i % len(customers)], products[(7 * i) % len(products)]

    def mixed_graphql(i: int) -> Request_:
        if i % WRITE_EVERY == 0:
            spec = write_item(i // WRITE_EVERY, "LG", customers, products)
            return graphql(WRITE_MUTATIONS[spec["kind"]], "write", ADMIN_KEY, v=[spec["item"]])
        return graphql(LOOKUP_QUERY, p=pair(i)[1])

    def mixed_plain(i: int) -> Request_:
        if i % WRITE_EVERY == 0:
            spec = write_item(i // WRITE_EVERY, "LP", customers, products)
            return {"kind": "write", "method": "POST", "url": "/plain/write", "json": spec}
        return plain("/plain/lookup", p=pair(i)[1])

    return {
        "personalized_price": (
            lambda i: graphql(price_query, c=pair(i)[0], p=pair(i)[1]),
            lambda i: plain("/plain/price", c=pair(i)[0], p=pair(i)[1]),
        ),
        "product_with_similar": (
            lambda i: graphql(similar_query, p=pair(i)[1]),
            lambda i: plain("/plain/similar", p=pair(i)[1]),
        ),
        "nested_list": (lambda i: graphql(NESTED_QUERY, n=PAGE), lambda i: plain("/plain/nested")),
        "mixed": (mixed_graphql, mixed_plain),
    }


def load_benchmark(
    url: str,
    services: Services,
    makers: dict[str, tuple[Callable[[int], Request_], Callable[[int], Request_]]],
    *,
    concurrency: int,
    seconds: float,
) -> dict[str, Any]:
    """Every scenario of ``makers`` (:func:`scenarios`) through GraphQL then plain,
    ``seconds`` each after a short warm-up; figures, ratios and memory."""
    store = services.store
    assert isinstance(store, EmbeddedGraph), "the load benchmark reports the embedded pool"

    def memory() -> dict[str, float]:
        pool = asyncio.run(services.read(store.buffer_pool_bytes))
        return {"rss_mib": rss_mib(), "pool_mib": pool / (1 << 20)}

    before = memory()
    results: dict[str, Any] = {"concurrency": concurrency, "seconds": seconds,
                               "read_threads": services.read_threads}  # fmt: skip
    for name, pair in makers.items():
        row: dict[str, Any] = {}
        for side, make in zip(("graphql", "plain"), pair, strict=True):
            asyncio.run(load_for(url, make, concurrency, min(seconds, 1.0)))  # warm-up
            wall, latencies = asyncio.run(load_for(url, make, concurrency, seconds))
            total = figures(wall, latencies["read"] + latencies["write"])
            row[side] = total | {
                kind: figures(wall, times) for kind, times in latencies.items() if times
            }
        row["ratio"] = {m: row["graphql"][m] / row["plain"][m] for m in RATIO_FIGURES}
        results[name] = row
    results["memory"] = {"before": before, "after": memory()}
    return results


RATIO_FIGURES = ("requests_per_s", "p50_ms", "p99_ms")


def print_load(results: dict[str, Any]) -> None:
    """One line per scenario (and per request kind of the mixed one), then memory."""
    print(
        f"\nLoad: {results['concurrency']} connections, {results['seconds']:g} s per phase, "
        f"{results['read_threads']} read thread(s) beside the write thread; GraphQL, then a "
        "plain Starlette endpoint making the same store calls"
    )
    for name in ("personalized_price", "product_with_similar", "nested_list", "mixed"):
        if name not in results:
            continue
        row = results[name]
        parts = [("", row["graphql"], row["plain"])]
        if name == "mixed":
            parts += [(f" {k}s", row["graphql"][k], row["plain"][k]) for k in ("read", "write")]
        for suffix, graphql, plain in parts:
            ratio = {m: graphql[m] / plain[m] for m in RATIO_FIGURES}
            print(
                f"load {name + suffix:21s} graphql {graphql['requests_per_s']:7.0f} req/s "
                f"p50 {graphql['p50_ms']:7.1f} ms p99 {graphql['p99_ms']:7.1f} ms | plain "
                f"{plain['requests_per_s']:7.0f} req/s p50 {plain['p50_ms']:7.1f} ms p99 "
                f"{plain['p99_ms']:7.1f} ms | ratio rps {ratio['requests_per_s']:.2f} "
                f"p50 {ratio['p50_ms']:.2f} p99 {ratio['p99_ms']:.2f}"
            )
    before, after = results["memory"]["before"], results["memory"]["after"]
    print(
        f"server RSS {before['rss_mib']:.0f} -> {after['rss_mib']:.0f} MiB (the process, client "
        f"included); buffer pool {before['pool_mib']:.1f} -> {after['pool_mib']:.1f} MiB"
    )


__all__ = ["load_benchmark", "load_routes", "print_load", "scenarios"]
