"""The GraphQL API end to end: a small synthetic world generated, loaded, embedded,
segmented and trained once; uvicorn on a free local port; httpx as the client.

The store is wrapped in a delegating proxy that counts calls (and can be told to
fail one method, to check masking); everything else is real.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from pydantic import SecretStr
from support.server import serving
from typer.testing import CliRunner

from pricegraph.api.cli import app as cli
from pricegraph.api.config import ApiConfig, ApiKey, ApiLimits
from pricegraph.api.server import create_app
from pricegraph.api.services import Services, open_services
from pricegraph.api.settings import Settings
from pricegraph.graph.base import GraphStore
from pricegraph.loaders.record_validation import SMALL_BATCH_ROWS

KEYS = {"reader": "reader-key-0123456789abcdef", "pricing": "pricing-key-0123456789abcd"}
KEYS["admin"] = "admin-key-0123456789abcdefgh"


class CountingStore:
    """Delegates every call to the real store, counting calls per method."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.fail_on: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name in self.fail_on:
                raise RuntimeError(f"disk on fire at /secret/path during {name}")
            return attr(*args, **kwargs)

        return counted


def _cli(env: dict[str, str], *args: str) -> None:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A world with text vectors, segments and a trained encoder (about a minute)."""
    root = tmp_path_factory.mktemp("graphql")
    env = {
        "PRICEGRAPH_DATA_DIR": str(root / "var"),
        "PRICEGRAPH_GRAPH__BUFFER_POOL_MB": "128",
        "PRICEGRAPH_CONFIG": str(root / "absent.toml"),
        "PRICEGRAPH_DEVICE": "cpu",
    }
    _cli(env, "generate", "--customers", "150", "--products", "60", "--days", "120", "--seed", "3")
    _cli(env, "load", str(root / "var" / "world" / "mapping.toml"))
    _cli(env, "embed")
    _cli(env, "segments", "--vector-weight", "0", "--k-max", "4", "--seed", "1")
    _cli(env, "train-gnn", "--max-epochs", "2", "--no-evaluate", "--seed", "1")
    previous = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield root / "var"
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def services(world: Path) -> Iterator[Services]:
    keys = tuple(ApiKey(name=f"{r}-desk", key=SecretStr(k), role=r) for r, k in KEYS.items())
    config = ApiConfig(
        keys=keys, limits=ApiLimits(max_depth=8, max_aliases=5, max_tokens=400, max_cost=3000)
    )
    opened = open_services(Settings(), config)
    opened.store = CountingStore(opened.store)  # type: ignore[assignment]
    yield opened
    opened.store = opened.store.inner  # type: ignore[attr-defined]
    opened.close()


@pytest.fixture(scope="module")
def url(services: Services) -> Iterator[str]:
    with serving(services) as base:
        yield base


@pytest.fixture(scope="module")
def client(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=60) as http:
        yield http


def gql(
    client: httpx.Client, query: str, role: str | None = None, **variables: Any
) -> dict[str, Any]:
    """POST a query; asserts the HTTP layer answered (never a 5xx)."""
    headers = {"X-API-Key": KEYS[role]} if role else {}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code < 500, response.text
    return response.json()


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def store_of(services: Services) -> GraphStore:
    return services.store.inner  # type: ignore[attr-defined]


def world_products(services: Services) -> list[str]:
    """Keys of the generated products (not those tests add)."""
    keys = store_of(services).node_frame("Product")["id"]
    return [str(k) for k in keys if not str(k).startswith("P-")]


# -- plumbing ---------------------------------------------------------------------------


def test_healthz_and_metrics(client: httpx.Client, services: Services) -> None:
    assert client.get("/healthz").json() == {
        "status": "ok",
        "store": "ok",
        "records": "ok",
        "models": {
            "policy": "list-price",  # nothing trained: list price (with a warning at start)
            "encoder": services.checkpoint.model_version,  # type: ignore[union-attr]
            "demand": "none",
            "guardrails": "settings",
        },
    }
    services.store.fail_on.add("counts")  # type: ignore[attr-defined]
    try:
        broken = client.get("/healthz")
        live = client.get("/livez")
    finally:
        services.store.fail_on.clear()  # type: ignore[attr-defined]
    assert broken.status_code == 503 and broken.json()["status"] == "unavailable"
    assert live.status_code == 200 and live.json() == {"status": "ok"}  # alive all the same
    assert "secret" not in broken.text and broken.json()["models"]["demand"] == "none"
    gql(client, '{ product(id: "nope") { key } }')
    text = client.get("/metrics").text
    assert 'pricegraph_http_requests_total{method="POST",path="/graphql",status="200"}' in text
    assert 'pricegraph_graphql_errors_total{code="NOT_FOUND"}' in text
    assert "pricegraph_http_request_seconds_bucket" in text


def test_graphiql_is_off_by_default(client: httpx.Client) -> None:
    page = client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code < 500 and "graphiql" not in page.text.lower()


# -- values -----------------------------------------------------------------------------


def test_product_matches_the_store(client: httpx.Client, services: Services) -> None:
    store = store_of(services)
    key = str(store.node_frame("Product")["id"].iloc[3])
    row = store.get_node("Product", key)
    brand = store.neighbors("Product", key, rel_type="OF_BRAND", direction="out")[0].id
    body = gql(
        client,
        "query($id: String!) { product(id: $id) { key name listPrice stockUnits "
        "brand { key name } category { key parent { key } } } }",
        id=key,
    )
    product = body["data"]["product"]
    assert product["key"] == key and product["name"] == row["name"]
    assert product["listPrice"] == pytest.approx(row["list_price"])
    assert product["brand"] == {"key": brand, "name": store.get_node("Brand", brand)["name"]}


def test_products_page_through_in_key_order(client: httpx.Client, services: Services) -> None:
    keys = list(store_of(services).node_frame("Product")["id"])
    query = (
        "query($after: String) { products(first: 25, after: $after) { edges { cursor node "
        "{ key } } pageInfo { hasNextPage endCursor } } }"
    )
    seen, after = [], None
    while True:
        page = gql(client, query, after=after)["data"]["products"]
        seen += [e["node"]["key"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(keys)


def test_products_filters(client: httpx.Client, services: Services) -> None:
    store = store_of(services)
    frame = store.node_frame("Product")
    brand = store.neighbors("Product", str(frame["id"].iloc[0]), rel_type="OF_BRAND")[0].id
    body = gql(
        client,
        "query($b: [String!]) { products(first: 100, filter: {brandIds: $b, minPrice: 1}) "
        "{ edges { node { key listPrice brand { key } } } } }",
        b=[brand],
    )
    nodes = [e["node"] for e in body["data"]["products"]["edges"]]
    assert nodes and all(n["brand"]["key"] == brand and n["listPrice"] >= 1 for n in nodes)
    cheap = float(frame["list_price"].median())
    body = gql(
        client,
        f"{{ products(first: 100, filter: {{maxPrice: {cheap}}}) {{ edges {{ node {{ key }} }} }} }}",
    )
    expected = sorted(frame.loc[frame["list_price"] <= cheap, "id"])
    assert [e["node"]["key"] for e in body["data"]["products"]["edges"]] == expected


def test_nested_lists_make_a_constant_number_of_store_calls(
    client: httpx.Client, services: Services
) -> None:
    query = (
        "query($n: Int) { products(first: $n) { edges { node { key brand { name } "
        "category { name } } } } }"
    )
    counts = []
    for n in (10, 60):
        services.store.calls.clear()  # type: ignore[attr-defined]
        body = gql(client, query, n=n)
        assert len(body["data"]["products"]["edges"]) == n
        assert all(e["node"]["brand"]["name"] for e in body["data"]["products"]["edges"])
        counts.append(sum(services.store.calls.values()))  # type: ignore[attr-defined]
    assert counts[0] == counts[1] <= 5, counts


# -- errors -----------------------------------------------------------------------------


def test_unknown_ids_are_not_found(client: httpx.Client) -> None:
    body = gql(client, '{ product(id: "P-NOPE") { key } }')
    assert codes(body) == ["NOT_FOUND"] and body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["kind"] == "Product" and error["extensions"]["key"] == "P-NOPE"
    assert error["path"] == ["product"]
    body = gql(client, '{ customer(id: "C-NOPE") { key } }', role="reader")
    assert codes(body) == ["NOT_FOUND"] and "C-NOPE" in body["errors"][0]["message"]


@pytest.mark.parametrize("first", [0, -3, 101, 10**6])
def test_out_of_range_first_is_invalid_input(client: httpx.Client, first: int) -> None:
    body = gql(client, "query($n: Int) { products(first: $n) { edges { cursor } } }", n=first)
    assert codes(body) == ["INVALID_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "first"


@pytest.mark.parametrize(
    "query",
    [
        '{ product(id: "") { key } }',
        '{ products(after: "not-a-cursor") { edges { cursor } } }',
        "{ products(filter: {minPrice: 10, maxPrice: 1}) { edges { cursor } } }",
        '{ neighbourhood(productId: "x", depth: 3) { nodes { id } } }',
        "{ product { key } }",
        "{ product(id: 12) { key } }",
        "{ nosuchfield }",
        "{ product(id: ",
    ],
)
def test_bad_input_is_a_coded_error(client: httpx.Client, query: str) -> None:
    body = gql(client, query, role="reader")
    assert body["errors"] and set(codes(body)) == {"INVALID_INPUT"}


def test_malformed_http_bodies_are_4xx(client: httpx.Client) -> None:
    response = client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500


def test_internal_errors_are_masked(client: httpx.Client, services: Services) -> None:
    services.store.fail_on.add("get_nodes")  # type: ignore[attr-defined]
    try:
        body = gql(client, '{ product(id: "P00001") { key } }')
    finally:
        services.store.fail_on.clear()  # type: ignore[attr-defined]
    assert codes(body) == ["INTERNAL"]
    assert "secret" not in str(body) and body["errors"][0]["message"] == "Internal server error."


# -- limits -----------------------------------------------------------------------------


def test_too_deep_queries_are_refused(client: httpx.Client) -> None:
    deep = '{ product(id: "P1") { category ' + "{ parent " * 8 + "{ key }" + " }" * 9 + " }"
    body = gql(client, deep)
    assert codes(body) == ["INVALID_INPUT"] and "depth" in body["errors"][0]["message"]


def test_too_many_aliases_are_refused(client: httpx.Client) -> None:
    aliases = " ".join(f"a{i}: modelVersions {{ policy }}" for i in range(6))
    body = gql(client, "{ " + aliases + " }")
    assert codes(body) == ["INVALID_INPUT"] and "aliases" in body["errors"][0]["message"]


def fan_out(levels: int, leaf: str) -> str:
    """A small document whose fragments each spread the next twice: ``2**levels`` leaves."""
    parts = ["query FanOut { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels - 1)]
    return "\n".join([*parts, f"fragment F{levels - 1} on Query {{ {leaf} }}"])


@pytest.mark.parametrize(
    ("leaf", "word"),
    [("__typename", "costs about 16777216"), ("a: modelVersions { policy }", "aliases"),
     ("product(id: \"P1\") { " + "category { parent { " * 5 + "key" + " } }" * 5 + " }",
      "depth")],
)  # fmt: skip
def test_fragment_fan_out_is_refused_without_expanding_it(
    client: httpx.Client, leaf: str, word: str
) -> None:
    """2**24 leaves from a few hundred bytes: refused as INVALID_INPUT, no key needed;
    the server stays responsive."""
    body = gql(client, fan_out(25, leaf))
    assert "INVALID_INPUT" in codes(body) and any(word in e["message"] for e in body["errors"])
    assert client.get("/healthz").status_code == 200


def test_too_many_tokens_are_refused(client: httpx.Client) -> None:
    body = gql(client, "{ " + " ".join(["__typename"] * 500) + " }")
    assert codes(body) == ["INVALID_INPUT"] and "token" in body["errors"][0]["message"]


def test_too_costly_queries_are_refused(client: httpx.Client) -> None:
    body = gql(
        client,
        "{ customers(first: 100) { edges { node { key purchases(first: 50) "
        "{ qty product { name } } } } } }",
        role="reader",
    )
    assert codes(body) == ["INVALID_INPUT"] and "costs about" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["limit"] == 3000


# -- auth -------------------------------------------------------------------------------


def test_customer_fields_need_a_key(client: httpx.Client, services: Services) -> None:
    key = str(store_of(services).node_frame("Customer")["id"].iloc[0])
    query = "query($id: String!) { customer(id: $id) { key segment { key name } } }"
    assert codes(gql(client, query, id=key)) == ["FORBIDDEN"]
    wrong = client.post(
        "/graphql", json={"query": query, "variables": {"id": key}}, headers={"X-API-Key": "x"}
    ).json()
    assert codes(wrong) == ["FORBIDDEN"]
    body = gql(client, query, role="reader", id=key)
    assert body["data"]["customer"]["key"] == key


def test_cost_needs_the_pricing_role(client: httpx.Client) -> None:
    query = "{ products(first: 1) { edges { node { cost } } } }"
    assert codes(gql(client, query, role="reader")) == ["FORBIDDEN"]
    assert "errors" not in gql(client, query, role="pricing")


def test_readers_cannot_mutate(client: httpx.Client) -> None:
    mutation = (
        'mutation { recordEvents(events: [{eventType: VIEW, customerId: "C1", productId: "P1", '
        'ts: "2024-01-01T00:00:00Z"}]) { created } }'
    )
    assert codes(gql(client, mutation, role="reader")) == ["FORBIDDEN"]
    assert codes(gql(client, mutation)) == ["FORBIDDEN"]


def test_admin_sets_guardrails_and_bad_values_name_the_field(client: httpx.Client) -> None:
    mutation = "mutation($m: Float) { setGuardrails(input: {minMarginPct: $m}) { minMarginPct } }"
    assert codes(gql(client, mutation, role="pricing", m=12.0)) == ["FORBIDDEN"]
    body = gql(client, mutation, role="admin", m=12.0)
    assert body["data"]["setGuardrails"]["minMarginPct"] == 12.0
    # saved: a server started now quotes with them, and the file says who changed them
    saved = Settings().pricing.with_saved_guardrails()
    assert saved.guardrails.min_margin_pct == 12.0
    assert json.loads(saved.guardrails_path.read_text())["changed_by"] == "admin-desk"
    assert client.get("/healthz").json()["models"]["guardrails"] == "saved"  # never its path
    in_force = "{ guardrails { minMarginPct approvalThresholdPct } }"
    assert gql(client, in_force, role="pricing")["data"]["guardrails"]["minMarginPct"] == 12.0
    assert codes(gql(client, in_force, role="reader")) == ["FORBIDDEN"]
    history = "{ guardrailChanges { changedBy changedAt guardrails { minMarginPct } } }"
    assert codes(gql(client, history, role="pricing")) == ["FORBIDDEN"]
    (change,) = gql(client, history, role="admin")["data"]["guardrailChanges"]  # the file: one
    assert change["changedBy"] == "admin-desk" and change["guardrails"]["minMarginPct"] == 12.0
    assert change["changedAt"].endswith("+00:00")
    body = gql(client, mutation, role="admin", m=-5.0)
    assert codes(body) == ["INVALID_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "input.minMarginPct"
    assert "input.minMarginPct" in body["errors"][0]["message"]
    both = "mutation { setGuardrails(input: {minMarginPct: 1000, maxMarkupOverListPct: 0}) { minMarginPct } }"
    body = gql(client, both, role="admin")
    assert codes(body) == ["INVALID_INPUT"]
    assert "minMarginPct (1000)" in body["errors"][0]["message"]
    assert "maxMarkupOverListPct (0)" in body["errors"][0]["message"]
    assert Settings().pricing.with_saved_guardrails().guardrails.min_margin_pct == 12.0
    gql(client, mutation, role="admin", m=10.0)


def test_guardrails_saved_by_another_worker_hold_from_the_next_quote(
    client: httpx.Client, services: Services
) -> None:
    """Another worker or replica saves guardrails through the shared store: the next
    quote here is made, and audited, with them, without a restart."""
    store = store_of(services)
    customer = str(store.node_frame("Customer")["id"].iloc[1])
    product = str(store.node_frame("Product")["id"].iloc[2])
    before = services.current_quotes().config.guardrails
    other = Settings().pricing.guardrail_store()  # as another worker opens it
    query = (
        "query($c: String!, $p: String!) { personalizedPrice(customerId: $c, productId: $p) "
        "{ quoteId } }"
    )
    try:
        other.save(before.updated(min_margin_pct=before.min_margin_pct + 7.0), "replica-2")
        body = gql(client, query, role="reader", c=customer, p=product)
        record = services.audit.get(body["data"]["personalizedPrice"]["quoteId"])
        assert record.inputs["guardrails"]["min_margin_pct"] == before.min_margin_pct + 7.0
        other.save(before, "replica-2")
        body = gql(client, query, role="reader", c=customer, p=product)
        record = services.audit.get(body["data"]["personalizedPrice"]["quoteId"])
        assert record.inputs["guardrails"]["min_margin_pct"] == before.min_margin_pct
    finally:
        other.close()


# -- services -----------------------------------------------------------------------------


def test_personalized_price_is_audited(client: httpx.Client, services: Services) -> None:
    store = store_of(services)
    customer = str(store.node_frame("Customer")["id"].iloc[1])
    product = store.node_frame("Product").iloc[2]
    body = gql(
        client,
        "query($c: String!, $p: String!) { personalizedPrice(customerId: $c, productId: $p) "
        "{ quoteId price listPrice isPersonalized needsApproval rationale "
        "decision { zone segmentMultiplier personalAdjustment isPersonalized levels period "
        "requestedPeriod category pricedSegments segmentSlopes microScale } "
        "boundRules { rule delta } "
        "modelVersions { name version } } }",
        role="reader",
        c=customer,
        p=str(product["id"]),
    )
    price = body["data"]["personalizedPrice"]
    assert price["decision"]["levels"] == "list" and price["decision"]["period"] is None
    assert price["decision"]["pricedSegments"] == [] and price["decision"]["microScale"] is None
    assert price["listPrice"] == pytest.approx(product["list_price"])
    assert price["decision"]["zone"] == "list" and price["rationale"]
    assert {"policy", "encoder"} <= {m["name"] for m in price["modelVersions"]}
    log = gql(
        client,
        "query($c: String!) { auditLog(customerId: $c, first: 50) { edges { node "
        "{ key: id quoteId requestedBy price } } } }",
        role="pricing",
        c=customer,
    )
    entries = {e["node"]["quoteId"]: e["node"] for e in log["data"]["auditLog"]["edges"]}
    entry = entries[price["quoteId"]]
    assert entry["requestedBy"] == "reader-desk" and entry["price"] == price["price"]
    assert codes(gql(client, "{ auditLog { edges { cursor } } }", role="reader")) == ["FORBIDDEN"]


def test_personalized_prices_batch(client: httpx.Client, services: Services) -> None:
    store = store_of(services)
    customers = list(store.node_frame("Customer")["id"][:3])
    products = list(store.node_frame("Product")["id"][:3])
    pairs = [{"customerId": c, "productId": p} for c, p in zip(customers, products, strict=True)]
    query = (
        "query($pairs: [PricePairInput!]!) { personalizedPrices(pairs: $pairs) "
        "{ customerId productId price } }"
    )
    body = gql(client, query, role="reader", pairs=pairs)
    assert [(q["customerId"], q["productId"]) for q in body["data"]["personalizedPrices"]] == [
        (p["customerId"], p["productId"]) for p in pairs
    ]
    body = gql(
        client,
        query,
        role="reader",
        pairs=[*pairs, {"customerId": "C-NOPE", "productId": products[0]}],
    )
    assert codes(body) == ["NOT_FOUND"]
    assert codes(gql(client, query, role="reader", pairs=[])) == ["INVALID_INPUT"]


def test_a_reader_never_files_approvals_and_a_request_has_an_item_ceiling(
    client: httpx.Client, services: Services
) -> None:
    store = store_of(services)
    brand = str(store.node_frame("Brand")["id"].iloc[0])
    product = {
        "productId": "P-READER-1",
        "name": "Held scarf",
        "brandId": brand,
        "listPrice": 100.0,
    }
    upsert = "mutation($p: [ProductInput!]!) { upsertProducts(products: $p) { created } }"
    gql(client, upsert, role="admin", p=[product])
    markdown = (  # a list-price quote is then a +100 % change: it needs approval
        'mutation { upsertPrices(prices: [{productId: "P-READER-1", price: 50.0, '
        'kind: MARKDOWN, validFrom: "2024-06-01T00:00:00Z"}]) { created } }'
    )
    gql(client, markdown, role="pricing")
    customer = str(store.node_frame("Customer")["id"].iloc[0])
    pairs = [
        {"customerId": customer, "productId": p} for p in ["P-READER-1", *world_products(services)]
    ]
    query = (
        "query($pairs: [PricePairInput!]!) { personalizedPrices(pairs: $pairs) "
        "{ productId price listPrice needsApproval isApprovalPending approvalId } }"
    )
    pending = "{ pendingPriceChanges { productId } }"
    before = len(gql(client, pending, role="pricing")["data"]["pendingPriceChanges"])
    quotes = gql(client, query, role="reader", pairs=pairs)["data"]["personalizedPrices"]
    held = [q for q in quotes if q["needsApproval"]]
    assert [q["productId"] for q in held][:1] == ["P-READER-1"]
    assert all(q["approvalId"] is None and not q["isApprovalPending"] for q in held)
    assert held[0]["price"] == 50.0 and held[0]["listPrice"] == 100.0  # the current price
    after = gql(client, pending, role="pricing")["data"]["pendingPriceChanges"]
    assert len(after) == before  # nothing filed for a reader
    many = [pairs[0]] * 400  # three aliases of 400: over the 1,000 items of one request
    three = (
        "query($pairs: [PricePairInput!]!) { a: personalizedPrices(pairs: $pairs) { price } "
        "b: personalizedPrices(pairs: $pairs) { price } "
        "c: personalizedPrices(pairs: $pairs) { price } }"
    )
    body = gql(client, three, role="reader", pairs=many)
    assert codes(body) == ["INVALID_INPUT"] and body["errors"][0]["message"].startswith("pairs:")
    assert "more than 1000 quotes or written items" in body["errors"][0]["message"]


def test_record_events_validates_and_is_idempotent(
    client: httpx.Client, services: Services
) -> None:
    store = store_of(services)
    customer = str(store.node_frame("Customer")["id"].iloc[4])
    product = str(store.node_frame("Product")["id"].iloc[5])
    events = [
        {"eventId": "api-e1", "eventType": "VIEW", "customerId": customer, "productId": product,
         "ts": "2024-05-01T10:00:00Z"},
        {"eventId": "api-e2", "eventType": "PURCHASE", "customerId": customer,
         "productId": product, "ts": "2024-05-01T10:05:00+02:00", "orderId": "api-o1",
         "qty": 1, "unitPrice": 99.5},
        {"eventId": "api-e3", "eventType": "VIEW", "customerId": customer,
         "productId": "P-NOPE", "ts": "2024-05-01T10:00:00Z"},
    ]  # fmt: skip
    mutation = (
        "mutation($events: [EventInput!]!) { recordEvents(events: $events) "
        "{ created updated unchanged rejected errors { index field message } } }"
    )
    first = gql(client, mutation, role="pricing", events=events)["data"]["recordEvents"]
    assert (first["created"], first["rejected"]) == (2, 1)
    assert first["errors"][0]["index"] == 2 and first["errors"][0]["field"] == "productId"
    again = gql(client, mutation, role="pricing", events=events)["data"]["recordEvents"]
    assert (again["created"], again["unchanged"], again["rejected"]) == (0, 2, 1)
    bought = store.purchase_history(customer)
    assert "api-e2" in set(bought["event_id"])


def test_purchases_show_discounts_and_only_admins_see_customer_attributes(
    client: httpx.Client, services: Services
) -> None:
    store = store_of(services)
    customer = str(store.node_frame("Customer")["id"].iloc[7])
    product = str(store.node_frame("Product")["id"].iloc[3])
    event = {"eventId": "api-d1", "eventType": "PURCHASE", "customerId": customer,
             "productId": product, "ts": "2030-01-01T09:00:00Z", "orderId": "api-o9", "qty": 2,
             "unitPrice": 40.0,
             "discount": 10.0, "promotionId": "COUPON-7", "storeId": "s-12",
             "channel": "store"}  # fmt: skip
    mutation = (
        "mutation($events: [EventInput!]!) { recordEvents(events: $events) "
        "{ created rejected errors { message } } }"
    )
    written = gql(client, mutation, role="pricing", events=[event])["data"]["recordEvents"]
    assert (written["created"], written["rejected"]) == (1, 0), written["errors"]
    store.upsert_nodes(
        "Customer",
        pd.DataFrame({"id": [customer], "attributes": ['{"age_band": "45-54", "kids": 2}']}),
    )
    purchases = (
        "query($id: String!) { customer(id: $id) { purchases(first: 1) "
        "{ eventId unitPrice discount promotionId storeId channel } } }"
    )
    (newest,) = gql(client, purchases, role="reader", id=customer)["data"]["customer"]["purchases"]
    assert newest == {"eventId": "api-d1", "unitPrice": 40.0, "discount": 10.0,
                      "promotionId": "COUPON-7", "storeId": "s-12", "channel": "store"}  # fmt: skip
    attributes = "query($id: String!) { customer(id: $id) { key attributes } }"
    for role in ("reader", "pricing"):
        assert codes(gql(client, attributes, role=role, id=customer)) == ["FORBIDDEN"]
    body = gql(client, attributes, role="admin", id=customer)
    assert body["data"]["customer"]["attributes"] == {"age_band": "45-54", "kids": 2}


def test_upsert_products_and_prices(client: httpx.Client, services: Services) -> None:
    store = store_of(services)
    brand = str(store.node_frame("Brand")["id"].iloc[0])
    mutation = (
        "mutation($p: [ProductInput!]!) { upsertProducts(products: $p) "
        "{ created updated unchanged rejected errors { index field } } }"
    )
    products = [
        {"productId": "P-API-1", "name": "API scarf", "brandId": brand, "listPrice": 120.0},
        {"productId": "P-API-2", "name": "Bad", "listPrice": -1.0},
    ]
    body = gql(client, mutation, role="admin", p=products)["data"]["upsertProducts"]
    assert body["created"] == 1 and body["errors"] == [{"index": 1, "field": "listPrice"}]
    assert codes(gql(client, mutation, role="pricing", p=products)) == ["FORBIDDEN"]
    node = gql(client, '{ product(id: "P-API-1") { name listPrice brand { key } } }')
    assert node["data"]["product"] == {
        "name": "API scarf",
        "listPrice": 120.0,
        "brand": {"key": brand},
    }
    prices = (
        'mutation { upsertPrices(prices: [{productId: "P-API-1", price: 99.0, kind: MARKDOWN, '
        'validFrom: "2024-06-01T00:00:00Z"}]) { created rejected } }'
    )
    assert gql(client, prices, role="pricing")["data"]["upsertPrices"] == {
        "created": 1,
        "rejected": 0,
    }
    history = gql(
        client, '{ priceHistory(productId: "P-API-1", kinds: [MARKDOWN]) { kind price } }'
    )
    assert history["data"]["priceHistory"] == [{"kind": "markdown", "price": 99.0}]
    # Quotes read a cached snapshot of the store: a write must make the new product quotable.
    customer = str(store.node_frame("Customer")["id"].iloc[0])
    quote = gql(
        client,
        'query($c: String!) { personalizedPrice(customerId: $c, productId: "P-API-1") '
        "{ listPrice } }",
        role="reader",
        c=customer,
    )
    assert quote["data"]["personalizedPrice"]["listPrice"] == pytest.approx(120.0)


def test_a_quote_says_its_currency_and_whether_its_cost_is_estimated(
    client: httpx.Client, services: Services
) -> None:
    mutation = (
        "mutation($p: [ProductInput!]!) { upsertProducts(products: $p) { created rejected } }"
    )
    products = [
        dict(productId="P-CUR-1", name="Kettle", listPrice=80.0, cost=30.0, currency="GBP"),
        dict(productId="P-CUR-2", name="Toaster", listPrice=50.0),  # no cost; EUR by default
    ]
    body = gql(client, mutation, role="admin", p=products)["data"]["upsertProducts"]
    assert body == {"created": 2, "rejected": 0}
    store = store_of(services)
    stored = store.get_node("Product", "P-CUR-2")
    assert stored is not None and stored["cost"] is None and stored["currency"] == "EUR"
    customer = str(store.node_frame("Customer")["id"].iloc[0])
    world_product = world_products(services)[0]
    pairs = [
        {"customerId": customer, "productId": p} for p in ("P-CUR-1", "P-CUR-2", world_product)
    ]
    query = (
        "query($pairs: [PricePairInput!]!) { personalizedPrices(pairs: $pairs) "
        "{ productId currency costEstimated rationale } }"
    )
    quotes = gql(client, query, role="reader", pairs=pairs)["data"]["personalizedPrices"]
    by_product = {q["productId"]: q for q in quotes}
    kettle, toaster, world = (by_product[p["productId"]] for p in pairs)
    assert (kettle["currency"], kettle["costEstimated"]) == ("GBP", False)
    assert "Cost: estimated" not in kettle["rationale"]
    assert (toaster["currency"], toaster["costEstimated"]) == ("EUR", True)
    assert "Cost: estimated at 30.00 (60 % of list; none stored)." in toaster["rationale"]
    world_node = store.get_node("Product", world_product)
    assert world_node is not None and world_node["currency"] == "EUR"
    assert (world["currency"], world["costEstimated"]) == ("EUR", False)


def test_small_batches_are_validated_as_pandas_would(
    client: httpx.Client, services: Services
) -> None:
    """A batch of good and bad items answers the same whether it is validated record by
    record (as deployed) or with pandas (``small_batch_rows = 0``)."""
    brand = str(store_of(services).node_frame("Brand")["id"].iloc[0])
    mutation = (
        "mutation($p: [ProductInput!]!) { upsertProducts(products: $p) "
        "{ created updated unchanged rejected errors { index field value message } } }"
    )
    products = [
        {"productId": "P-TWIN-1", "name": "Twin", "brandId": brand, "listPrice": 80.0},
        {"productId": "P-TWIN-2", "name": "  ", "listPrice": -3},
        {"productId": "P-TWIN-3", "name": "Gone", "brandId": "B-" + "x" * 5000},
        {"productId": "P-TWIN-1", "name": "Twin", "brandId": brand, "listPrice": 80.0},
        {"productId": "P-TWIN-1", "name": "Twin bis", "stockUnits": -1},
        {"productId": "P-TWIN-4", "name": "Stock", "stockUnits": 3, "cost": 0.0},
    ]
    try:
        services.small_batch_rows = 0
        by_pandas = gql(client, mutation, role="admin", p=products)["data"]["upsertProducts"]
    finally:
        services.small_batch_rows = SMALL_BATCH_ROWS
    plain = gql(client, mutation, role="admin", p=products)["data"]["upsertProducts"]
    assert plain["errors"] == by_pandas["errors"] and plain["rejected"] == 4
    assert plain["unchanged"] == by_pandas["created"] == 1 and plain["created"] == 0
    assert [(e["index"], e["field"]) for e in plain["errors"]] == [
        (1, "listPrice"),
        (1, "name"),
        (2, "brandId"),
        (4, "stockUnits"),
        (5, "cost"),
    ]
    assert plain["errors"][2]["value"] == "B-" + "x" * 37 + "\u2026"  # a short prefix


def test_amounts_are_bounded_where_they_enter(client: httpx.Client, services: Services) -> None:
    """Prices and costs outside [0.01, 1e9], unit prices outside [0, 1e9] and what-if
    values outside their range are refused, naming the item's index and the field."""
    errors = "{ created rejected errors { index field value message } }"
    products = [
        {"productId": "P-BOUND-1", "name": "Tiny", "listPrice": 5e-324},
        {"productId": "P-BOUND-2", "name": "Huge", "listPrice": 1e308},
        {"productId": "P-BOUND-3", "name": "Dear", "listPrice": 10.0, "cost": 2e9},
        {"productId": "P-BOUND-4", "name": "Edges", "listPrice": 1e9, "cost": 0.01},
    ]
    body = gql(
        client,
        "mutation($p: [ProductInput!]!) { upsertProducts(products: $p) " + errors + " }",
        role="admin",
        p=products,
    )["data"]["upsertProducts"]
    assert body["created"] == 1 and body["rejected"] == 3
    assert [(e["index"], e["field"], e["value"]) for e in body["errors"]] == [
        (0, "listPrice", "5e-324"),
        (1, "listPrice", "1e+308"),
        (2, "cost", "2000000000.0"),
    ]
    assert {e["message"] for e in body["errors"]} == {"expected a number in [0.01, 1e+09]"}
    store = store_of(services)
    customer = str(store.node_frame("Customer")["id"].iloc[0])
    buy = {"eventType": "PURCHASE", "customerId": customer, "productId": "P-BOUND-4",
           "ts": "2024-05-01T10:00:00Z", "orderId": "o-bound", "qty": 1}  # fmt: skip
    events = [
        {**buy, "eventId": "e-bound-free", "unitPrice": 0.0},
        {**buy, "eventId": "e-bound-huge", "unitPrice": 1e10},
    ]
    body = gql(
        client,
        "mutation($e: [EventInput!]!) { recordEvents(events: $e) " + errors + " }",
        role="pricing",
        e=events,
    )["data"]["recordEvents"]
    assert body["created"] == 1 and [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "unitPrice")
    ]
    assert body["errors"][0]["message"] == "expected a number in [0, 1e+09]"
    price = {"productId": "P-BOUND-4", "price": 0.001, "kind": "MARKDOWN",
             "validFrom": "2024-06-01T00:00:00Z"}  # fmt: skip
    body = gql(
        client,
        "mutation($p: [PriceInput!]!) { upsertPrices(prices: $p) " + errors + " }",
        role="pricing",
        p=[price],
    )["data"]["upsertPrices"]
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(0, "price")]
    what_if = gql(
        client,
        '{ whatIf(productIds: ["P1"], kind: PRICE, value: 1e308) { weeks } }',
        role="reader",
    )
    assert codes(what_if) == ["INVALID_INPUT"]
    assert what_if["errors"][0]["extensions"]["field"] == "value"
    assert what_if["errors"][0]["message"].startswith("value: expected a new price (gross) in")


def test_similarity_and_recommendations(client: httpx.Client, services: Services) -> None:
    key = world_products(services)[0]
    similar = gql(
        client,
        "query($id: String!) { similarProducts(productId: $id, first: 5) { key score "
        "product { name } } }",
        id=key,
    )["data"]["similarProducts"]
    assert len(similar) == 5 and key not in {s["key"] for s in similar}
    assert [s["score"] for s in similar] == sorted((s["score"] for s in similar), reverse=True)
    text = gql(client, '{ products(search: "leather bag", first: 3) { edges { node { key } } } }')
    assert len(text["data"]["products"]["edges"]) == 3
    customer = str(store_of(services).node_frame("Customer")["id"].iloc[0])
    recs = gql(
        client,
        "query($c: String!) { recommendations(customerId: $c, first: 4) { rank key reason "
        "product { key } } }",
        role="reader",
        c=customer,
    )["data"]["recommendations"]
    assert [r["rank"] for r in recs] == [1, 2, 3, 4] and all(r["reason"] for r in recs)
    both = gql(
        client, '{ recommendations(customerId: "a", productId: "b") { key } }', role="reader"
    )
    assert codes(both) == ["INVALID_INPUT"]
    query = (
        "query($c: String!, $a: Float!) { recommendations(customerId: $c, first: 4, "
        "popularityDiscount: $a) { key } }"
    )
    discounted = gql(client, query, role="reader", c=customer, a=2.0)["data"]["recommendations"]
    assert len(discounted) == 4
    recommender = services.recommender
    assert recommender is not None
    expected = recommender.for_customer(customer, 4, popularity_discount=2.0)
    assert [r["key"] for r in discounted] == [p.product_id for p in expected]
    negative = gql(client, query, role="reader", c=customer, a=-1.0)
    assert codes(negative) == ["INVALID_INPUT"]
    assert "popularityDiscount" in negative["errors"][0]["message"]
    versions = gql(client, "{ modelVersions { encoder policy demand } }")["data"]["modelVersions"]
    assert versions["encoder"] == services.checkpoint.model_version  # type: ignore[union-attr]
    assert versions["policy"] == "list-price" and versions["demand"] is None


def test_segments_members_and_profile(client: httpx.Client, services: Services) -> None:
    store = store_of(services)
    segment = str(store.node_frame("Segment")["id"].iloc[0])
    body = gql(
        client,
        "query($s: String!) { segment(id: $s) { key name members(first: 100) { edges { node "
        "{ key segment { key } } } } profile { size topCategories priceSensitivity "
        "spendMean ordersMean } } }",
        role="reader",
        s=segment,
    )["data"]["segment"]
    members = body["members"]["edges"]
    assert members and all(m["node"]["segment"]["key"] == segment for m in members)
    assert body["profile"]["size"] >= len(members)
    # the profile comes from the segment's own properties, as written by `segments`
    stored = store.get_node("Segment", segment)
    assert stored is not None and stored["price_sensitivity"] == body["profile"]["priceSensitivity"]
    assert body["profile"]["spendMean"] == pytest.approx(stored["spend_mean"])
    assert body["profile"]["ordersMean"] == pytest.approx(stored["orders_mean"])
    assert ", ".join(body["profile"]["topCategories"]) == stored["top_categories"]


def test_neighbourhood_and_what_if(client: httpx.Client, services: Services) -> None:
    customer = str(store_of(services).node_frame("Customer")["id"].iloc[0])
    graph = gql(
        client,
        "query($c: String!) { neighbourhood(customerId: $c, depth: 1, limit: 20) "
        "{ nodes { id label } edges { source target type } isTruncated } }",
        role="reader",
        c=customer,
    )["data"]["neighbourhood"]
    assert graph["nodes"][0]["id"] == f"Customer:{customer}"
    ids = {n["id"] for n in graph["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])
    what_if = gql(
        client, '{ whatIf(productIds: ["P1"], kind: PERCENT_OFF, value: 10) { weeks } }',
        role="reader",
    )  # fmt: skip
    assert codes(what_if) == ["UNAVAILABLE"]


def test_approvals(client: httpx.Client) -> None:
    pending = gql(client, "{ pendingPriceChanges { approvalId } }", role="pricing")
    assert isinstance(pending["data"]["pendingPriceChanges"], list)
    body = gql(client, 'mutation { approvePriceChange(id: "nope") { status } }', role="pricing")
    assert codes(body) == ["NOT_FOUND"]
    body = gql(client, 'mutation { rejectPriceChange(id: "nope", reason: "x") { status } }')
    assert codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    "body", [b"\xff\xfe{}", b'"a string"', b"42", b"null", b"{not json"]
)  # fmt: skip
def test_a_bad_body_is_a_400_not_a_500(client: httpx.Client, body: bytes) -> None:
    response = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "offset", ["9" * 40, "\u0663", "\u00b2", "-1", "1e3"]
)  # fmt: skip
def test_a_crafted_offset_cursor_is_invalid_input(client: httpx.Client, offset: str) -> None:
    cursor = base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()
    body = gql(
        client,
        "query($a: String) { auditLog(after: $a) { edges { cursor } } }",
        "pricing",
        a=cursor,
    )
    assert codes(body) == ["INVALID_INPUT"] and body["errors"][0]["message"].startswith("after:")


def test_a_global_id_of_an_unknown_type_is_invalid_input(client: httpx.Client) -> None:
    for type_name in ("Nope", "Query", "PersonalizedPrice"):
        node_id = base64.b64encode(f"{type_name}:P00001".encode()).decode()
        body = gql(client, "query($i: ID!) { node(id: $i) { id } }", "reader", i=node_id)
        assert codes(body) == ["INVALID_INPUT"], body
        assert body["errors"][0]["message"].startswith("id:")


def test_in_prod_metrics_need_an_admin_key_and_introspection_is_off(services: Services) -> None:
    from starlette.testclient import TestClient

    prod = services.config.model_copy(update={"environment": "prod"})
    with TestClient(create_app(Settings(), config=prod, services=services)) as http:
        assert http.get("/metrics").status_code == 403
        assert http.get("/metrics", headers={"X-API-Key": KEYS["reader"]}).status_code == 403
        metrics = http.get("/metrics", headers={"X-API-Key": KEYS["admin"]})
        assert metrics.status_code == 200 and "pricegraph_http_requests_total" in metrics.text
        body = http.post("/graphql", json={"query": "{ __schema { queryType { name } } }"}).json()
        assert "introspection has been disabled" in body["errors"][0]["message"]


def test_written_events_reach_the_quotes_by_a_refresh_ahead(
    client: httpx.Client, services: Services
) -> None:
    """recordEvents marks the quotes' snapshot stale instead of dropping it: the next
    quote is not the one that reads the store; a refresh ahead brings the purchase in."""
    store = store_of(services)
    customer = str(store.node_frame("Customer")["id"].iloc[9])
    product = str(store.node_frame("Product")["id"].iloc[9])
    builder = services.quotes.builder
    now = datetime(2031, 1, 1, tzinfo=UTC)
    (before,) = builder.build([(customer, product)], now)
    event = {"eventId": "api-stale-1", "eventType": "PURCHASE", "customerId": customer,
             "productId": product, "ts": "2030-12-31T12:00:00Z", "orderId": "api-o-stale",
             "qty": 1, "unitPrice": 10.0}  # fmt: skip
    mutation = "mutation($e: [EventInput!]!) { recordEvents(events: $e) { created } }"
    assert gql(client, mutation, role="pricing", e=[event])["data"]["recordEvents"]["created"] == 1
    (at_once,) = builder.build([(customer, product)], now)
    assert at_once.customer == before.customer  # the write did not drop the snapshot
    builder.cache.stale_refresh_s = 0.0  # (a second by default)
    builder.build([(customer, product)], now)  # starts the refresh ahead
    assert builder.cache.wait_for_refresh(30)
    (after,) = builder.build([(customer, product)], now)
    assert after.customer.days_since_last_purchase == pytest.approx(0.5)
    assert after.customer.days_since_last_purchase != before.customer.days_since_last_purchase
