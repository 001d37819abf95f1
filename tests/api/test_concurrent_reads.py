"""Reads beside writes over real HTTP: read resolvers run on the read threads, so they
answer while the write thread is busy, and under concurrent reads and writes every
acknowledged write is there, no read fails, and no read sees a write undone.

A small generated world with text vectors, served by uvicorn; httpx clients.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from support.cli import build_world
from support.server import serving

from pricegraph.api.config import ApiConfig, ApiKey
from pricegraph.api.services import Services, open_services
from pricegraph.api.settings import Settings

ADMIN, PRICING = "conc-admin-key-0123456789abcdef", "conc-pricing-key-0123456789abcd"
PRODUCT = (
    "query($p: String!) { product(id: $p) { key name brand { name } "
    "priceHistory { key price } } similarProducts(productId: $p, first: 3) { key score } }"
)
LOOKUP = "query($p: String!) { product(id: $p) { key name } }"
PRICES = "mutation($v: [PriceInput!]!) { upsertPrices(prices: $v) { created rejected } }"
NEW_PRODUCTS = "mutation($v: [ProductInput!]!) { upsertProducts(products: $v) { created } }"
QUOTE = "query($c: String!, $p: String!) { personalizedPrice(customerId: $c, productId: $p) { quoteId } }"
AUDIT = (
    "query($after: String) { auditLog(first: 100, after: $after) "
    "{ edges { node { quoteId } } pageInfo { hasNextPage endCursor } } }"
)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """A world of 60 customers and 24 products, loaded and embedded."""
    root = tmp_path_factory.mktemp("concurrent")
    env = build_world(root, 60, 24, 20, 7, embed=True)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        keys = (
            ApiKey(name="conc-admin", key=SecretStr(ADMIN), role="admin"),
            ApiKey(name="conc-pricing", key=SecretStr(PRICING), role="pricing"),
        )
        opened = open_services(Settings(), ApiConfig(keys=keys), read_threads=4)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def url(services: Services) -> Iterator[str]:
    with serving(services) as base:
        yield base


@pytest.fixture(scope="module")
def keys(services: Services) -> tuple[list[str], list[str]]:
    customers = list(services.store.node_frame("Customer")["id"].astype(str))
    products = list(services.store.node_frame("Product")["id"].astype(str))
    return customers, products


async def _gql(client: httpx.AsyncClient, query: str, key: str = ADMIN, **variables: Any) -> Any:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"X-API-Key": key}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_reads_answer_while_the_write_thread_is_busy(
    services: Services, url: str, keys: tuple[list[str], list[str]]
) -> None:
    assert services.read_threads == 4  # asked for more than the default to stress them
    _, products = keys
    gate = threading.Event()
    busy = threading.Thread(target=lambda: asyncio.run(services.run(gate.wait, 60)))
    busy.start()  # the write thread now waits for the gate

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            write = asyncio.create_task(
                _gql(client, NEW_PRODUCTS, v=[{"productId": "P-GATE", "name": "Gate scarf"}])
            )
            for product in products[:5]:
                data = await asyncio.wait_for(_gql(client, PRODUCT, p=product), 10)
                assert data["product"]["key"] == product and len(data["similarProducts"]) == 3
            health = await asyncio.wait_for(client.get("/healthz"), 10)
            assert health.status_code == 200 and health.json()["status"] == "ok"
            counts = await asyncio.wait_for(services.run(services.store.counts), 10)
            assert counts["Product"] == len(products)  # the store's reads go to the readers
            name = await asyncio.wait_for(
                services.read(lambda: threading.current_thread().name), 10
            )
            assert name.startswith("pricegraph-read")
            await asyncio.sleep(0.2)
            assert not write.done()  # writes still queue on the one write thread
            gate.set()
            assert (await asyncio.wait_for(write, 30))["upsertProducts"]["created"] == 1
            name = await services.run(lambda: threading.current_thread().name)
            assert name.startswith("pricegraph-write")
            written = await _gql(client, LOOKUP, p="P-GATE")  # no vector yet: no similar
            assert written["product"]["name"] == "Gate scarf"

    try:
        asyncio.run(scenario())
    finally:
        gate.set()
        busy.join(30)


def test_concurrent_reads_and_writes_lose_nothing(
    url: str, keys: tuple[list[str], list[str]]
) -> None:
    _, products = keys
    writes, readers = 60, 6
    watched = products[:4]

    def price(i: int) -> dict[str, Any]:
        return {
            "productId": watched[i % len(watched)],
            "price": 20.0 + i,
            "kind": "MARKDOWN",
            "validFrom": f"2031-01-{1 + i % 28:02d}T00:00:00Z",
            "pricePointId": f"PP-CONC-{i}",
        }

    async def scenario() -> dict[tuple[int, str], list[set[str]]]:
        seen: dict[tuple[int, str], list[set[str]]] = {}
        is_done = asyncio.Event()
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:

            async def writer() -> None:
                try:
                    for i in range(writes):
                        data = await _gql(client, PRICES, v=[price(i)])
                        assert data["upsertPrices"] == {"created": 1, "rejected": 0}
                finally:
                    is_done.set()

            async def reader(slot: int) -> None:
                i = slot
                while not is_done.is_set():
                    product = watched[i % len(watched)]
                    data = await _gql(client, PRODUCT, p=product)
                    assert data["product"]["key"] == product
                    assert len(data["similarProducts"]) == 3
                    points = {p["key"] for p in data["product"]["priceHistory"]}
                    mine = {p for p in points if p.startswith("PP-CONC-")}
                    seen.setdefault((slot, product), []).append(mine)
                    i += 1

            await asyncio.gather(writer(), *(reader(slot) for slot in range(readers)))
            for product in watched:
                data = await _gql(client, PRODUCT, p=product)
                final = {p["key"] for p in data["product"]["priceHistory"]}
                expected = {f"PP-CONC-{i}" for i in range(writes) if watched[i % 4] == product}
                assert expected == {p for p in final if p.startswith("PP-CONC-")}
        return seen

    seen = asyncio.run(scenario())
    assert sum(len(views) for views in seen.values()) >= readers
    assert any(0 < len(view) < writes // 4 for views in seen.values() for view in views)
    for views in seen.values():  # one reader's requests follow each other: never older
        assert all(earlier <= later for earlier, later in itertools.pairwise(views))


def test_quotes_and_audit_reads_together(url: str, keys: tuple[list[str], list[str]]) -> None:
    customers, products = keys
    quotes, readers = 40, 4

    async def scenario() -> tuple[set[str], set[str]]:
        made: set[str] = set()
        is_done = asyncio.Event()
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:

            async def quoter() -> None:
                try:
                    for i in range(quotes):
                        c, p = customers[i % len(customers)], products[(3 * i) % len(products)]
                        data = await _gql(client, QUOTE, PRICING, c=c, p=p)
                        made.add(data["personalizedPrice"]["quoteId"])
                finally:
                    is_done.set()

            async def audit_pages() -> set[str]:
                found: set[str] = set()
                after = None
                while True:
                    data = (await _gql(client, AUDIT, PRICING, after=after))["auditLog"]
                    found |= {edge["node"]["quoteId"] for edge in data["edges"]}
                    if not data["pageInfo"]["hasNextPage"]:
                        return found
                    after = data["pageInfo"]["endCursor"]

            async def reader() -> None:
                while not is_done.is_set():
                    await audit_pages()

            await asyncio.gather(quoter(), *(reader() for _ in range(readers)))
            return made, await audit_pages()

    made, recorded = asyncio.run(scenario())
    assert len(made) == quotes and made <= recorded
