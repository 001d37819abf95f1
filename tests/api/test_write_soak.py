"""Writes the embedded store can take forever: thousands of single-item writes through
the GraphQL app lose nothing, never answer UNAVAILABLE, and leave the buffer pool flat.

``PRICEGRAPH_SOAK_WRITES`` sets the number of writes: 1,000 by default (about half a
minute here), 5,000 for the full soak. Before the small-write path, every one-item
upsert was a ``COPY`` that kept megabytes of buffer pool, and after about 150 of them
every read and write answered UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from support.cli import build_world

from pricegraph.api.config import ApiConfig, ApiKey
from pricegraph.api.server import create_app
from pricegraph.api.services import Services, open_services
from pricegraph.api.settings import Settings
from pricegraph.graph.ladybug_store import EmbeddedGraph

ADMIN = "soak-admin-key-0123456789abcdef"
SOAK_WRITES = int(os.environ.get("PRICEGRAPH_SOAK_WRITES", "1000"))
MAX_BUFFER_POOL_GROWTH_MB = 16
"""Over the whole soak (the old path took more than that for four writes)."""
MAX_RSS_GROWTH_MB = 256

PRODUCTS = "mutation($p: [ProductInput!]!) { upsertProducts(products: $p) { ...counts } }"
PRICES = "mutation($p: [PriceInput!]!) { upsertPrices(prices: $p) { ...counts } }"
EVENTS = "mutation($e: [EventInput!]!) { recordEvents(events: $e) { ...counts } }"
COUNTS = " fragment counts on WriteResult { created updated unchanged rejected }"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """A small generated world, loaded, served from a 128 MiB buffer pool."""
    root = tmp_path_factory.mktemp("soak")
    env = build_world(root, 200, 60, 30, 5)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        keys = (ApiKey(name="soak-admin", key=SecretStr(ADMIN), role="admin"),)
        opened = open_services(Settings(), ApiConfig(keys=keys))
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services=services)) as http:
        yield http


def _post(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post(
        "/graphql",
        json={"query": query + COUNTS, "variables": variables},
        headers={"X-API-Key": ADMIN},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _on_store(services: Services, read: Any) -> Any:
    """Run ``read(store)`` on the service thread (the store's own)."""
    return asyncio.run(services.run(read, services.store))


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def _item(i: int, customers: list[str], products: list[str]) -> tuple[str, str, dict[str, Any]]:
    """The ``i``-th write: a new product, a price point or an event (view or purchase)."""
    kind = i % 3
    if kind == 0:
        item = {"productId": f"P-SOAK-{i}", "name": f"Soak scarf {i}", "listPrice": 50.0 + i}
        return PRODUCTS, "upsertProducts", {"p": [item]}
    product = products[i % len(products)] if i % 2 else f"P-SOAK-{i - i % 3}"
    if kind == 1:
        price = {
            "productId": product,
            "price": 40.0 + i % 50,
            "kind": "MARKDOWN",
            "validFrom": "2031-01-01T00:00:00Z",
            "pricePointId": f"PP-SOAK-{i}",
        }
        return PRICES, "upsertPrices", {"p": [price]}
    event: dict[str, Any] = {
        "eventId": f"E-SOAK-{i}",
        "eventType": "PURCHASE" if i % 4 == 2 else "VIEW",
        "customerId": customers[i % len(customers)],
        "productId": product,
        "ts": "2031-01-02T10:00:00Z",
    }
    if event["eventType"] == "PURCHASE":
        event |= {"orderId": f"O-SOAK-{i}", "qty": 1, "unitPrice": 45.0, "currency": "EUR"}
    return EVENTS, "recordEvents", {"e": [event]}


def test_single_item_writes_soak(client: TestClient, services: Services) -> None:
    customers = _on_store(services, lambda s: s.node_frame("Customer")["id"].tolist())
    products = _on_store(services, lambda s: s.node_frame("Product")["id"].tolist())
    assert isinstance(services.store, EmbeddedGraph)
    pool_before, rss_before = _on_store(services, EmbeddedGraph.buffer_pool_bytes), _rss_mb()
    for i in range(SOAK_WRITES):
        query, field, variables = _item(i, customers, products)
        body = _post(client, query, **variables)
        assert "errors" not in body, (i, body["errors"])
        assert body["data"][field] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 0}
        if i % 50 == 49:  # a client's retry: changes nothing
            again = _post(client, query, **variables)["data"][field]
            assert (again["created"], again["unchanged"]) == (0, 1), i
    pool_growth_mb = (_on_store(services, EmbeddedGraph.buffer_pool_bytes) - pool_before) / (
        1 << 20
    )
    assert pool_growth_mb < MAX_BUFFER_POOL_GROWTH_MB
    assert _rss_mb() - rss_before < MAX_RSS_GROWTH_MB

    def written(store: EmbeddedGraph) -> dict[str, set[str]]:
        reads = {
            "products": "MATCH (p:Product) WHERE p.id STARTS WITH 'P-SOAK-' RETURN p.id AS k",
            "prices": "MATCH (:Product)-[:HAS_PRICE]->(p:PricePoint) "
            "WHERE p.id STARTS WITH 'PP-SOAK-' RETURN p.id AS k",
            "events": "MATCH (:Customer)-[r]->(:Product) "
            "WHERE r.event_id STARTS WITH 'E-SOAK-' RETURN r.event_id AS k",
        }
        return {name: set(store.read_cypher(q)["k"]) for name, q in reads.items()}

    expected = {
        "products": {f"P-SOAK-{i}" for i in range(0, SOAK_WRITES, 3)},
        "prices": {f"PP-SOAK-{i}" for i in range(1, SOAK_WRITES, 3)},
        "events": {f"E-SOAK-{i}" for i in range(2, SOAK_WRITES, 3)},
    }
    assert _on_store(services, written) == expected  # nothing lost, nothing twice


def test_an_event_id_resent_with_another_payload_is_a_conflict(
    client: TestClient, services: Services
) -> None:
    customers = _on_store(services, lambda s: s.node_frame("Customer")["id"].tolist())
    products = _on_store(services, lambda s: s.node_frame("Product")["id"].tolist())
    view = {
        "eventId": "E-CLASH-1",
        "eventType": "VIEW",
        "customerId": customers[0],
        "productId": products[0],
        "ts": "2031-02-01T10:00:00Z",
    }
    assert _post(client, EVENTS, e=[view])["data"]["recordEvents"]["created"] == 1
    fresh = view | {"eventId": "E-CLASH-2"}
    body = _post(client, EVENTS, e=[fresh, view | {"productId": products[1]}])
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "CONFLICT",
        "kind": "VIEWED",
        "key": "E-CLASH-1",
        "field": "eventId",
    }
    assert f"product: stored '{products[0]}', sent '{products[1]}'" in error["message"]
    count = "MATCH ()-[r:VIEWED]->() WHERE r.event_id = $e RETURN count(r) AS n"
    for event_id, stored in (("E-CLASH-1", 1), ("E-CLASH-2", 0)):  # nothing of the request
        found = _on_store(services, lambda s, e=event_id: s.read_cypher(count, {"e": e}))
        assert int(found["n"].iloc[0]) == stored
