"""Hostile requests through the real app (a small generated world, embedded stores):
each is refused with a clear, coded error naming what is wrong, never INTERNAL or a
plain-text 500, and a refused request stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from support.cli import build_world

from pricegraph.api.config import ApiConfig, ApiKey
from pricegraph.api.limits import query_cost
from pricegraph.api.server import MAX_QUERY_STRING_BYTES, create_app
from pricegraph.api.services import Services, open_services
from pricegraph.api.settings import Settings
from pricegraph.loaders.formats import MAX_KEY_LENGTH, MAX_NAME_LENGTH, MAX_TEXT_LENGTH

ADMIN = "hostile-admin-key-0123456789abcdef"
MAX_BODY = 256 * 1024


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    root = tmp_path_factory.mktemp("hostile")
    env = build_world(root, 30, 24, 10, 2)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        keys = (ApiKey(name="hostile-admin", key=SecretStr(ADMIN), role="admin"),)
        opened = open_services(Settings(), ApiConfig(keys=keys, max_body_bytes=MAX_BODY))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services.settings, services=services)) as http:
        yield http


def post(client: TestClient, query: str, key: str | None = ADMIN, **variables: Any) -> Any:
    """The JSON answer; the body is ASCII JSON, so lone surrogates travel as escapes."""
    body = json.dumps({"query": query, "variables": variables})
    headers = {"Content-Type": "application/json", **({"X-API-Key": key} if key else {})}
    response = client.post("/graphql", content=body, headers=headers)
    assert response.status_code < 500, response.text
    return response.json()


def error(body: dict[str, Any]) -> tuple[str, str | None, str]:
    """(code, field, message) of the only error."""
    assert body.get("errors") and len(body["errors"]) == 1, body
    found = body["errors"][0]
    return found["extensions"]["code"], found["extensions"].get("field"), found["message"]


def first_ids(services: Services) -> tuple[str, str]:
    customer = str(services.store.node_frame("Customer")["id"].iloc[0])
    product = str(services.store.node_frame("Product")["id"].iloc[0])
    return customer, product


PRICES = "mutation($v: [PriceInput!]!) { upsertPrices(prices: $v) { created rejected } }"
EVENTS = "mutation($v: [EventInput!]!) { recordEvents(events: $v) { created rejected } }"


# -- 1. dates at the calendar's edge ----------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:30:00+01:00",
        "2199-12-31T23:00:00-05:00",  # 2200 in UTC, the year the loaders store
        "1900-01-01T00:30:00+01:00",  # 1899 in UTC
    ],
)
def test_dates_outside_the_years_are_invalid_input_naming_the_path(
    client: TestClient, services: Services, moment: str
) -> None:
    customer, product = first_ids(services)
    price = {"productId": product, "price": 10, "kind": "LIST", "validFrom": "2024-01-01"}
    body = post(client, PRICES, v=[price, {**price, "validFrom": moment}])
    assert error(body)[:2] == ("INVALID_INPUT", "prices[1].validFrom")
    assert "1900 to 2199" in error(body)[2] and body["data"] is None
    literal = (
        f'mutation {{ upsertPrices(prices: [{{productId: "{product}", price: 10, kind: LIST, '
        f'validFrom: "{moment}"}}]) {{ created }} }}'
    )
    assert error(post(client, literal))[:2] == ("INVALID_INPUT", "prices[0].validFrom")
    event = {"eventType": "VIEW", "customerId": customer, "productId": product, "ts": moment}
    assert error(post(client, EVENTS, v=[event]))[:2] == ("INVALID_INPUT", "events[0].ts")
    audit = "query($s: DateTime) { auditLog(since: $s) { edges { cursor } } }"
    assert error(post(client, audit, s=moment))[:2] == ("INVALID_INPUT", "since")
    assert services.store.price_history(product)["valid_from"].min().year >= 1900


# -- 2. text that is not UTF-8 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (
            "mutation($v: [ProductInput!]!) { upsertProducts(products: $v) { created } }",
            {"v": [{"productId": "P-SUR", "name": "a\udc00b"}]},
            "products[0].name",
        ),
        ("query($t: String) { products(search: $t) { edges { cursor } } }", {"t": "\udc00"},
         "search"),
        ("query($t: String) { similarProducts(text: $t) { key } }", {"t": "x\ud800"}, "text"),
        ("query($t: String) { recommendations(newProductText: $t) { key } }", {"t": "\udfff"},
         "newProductText"),
    ],
)  # fmt: skip
def test_lone_surrogates_are_invalid_input_naming_the_field(
    client: TestClient, query: str, variables: dict[str, Any], field: str
) -> None:
    code, named, message = error(post(client, query, **variables))
    assert (code, named) == ("INVALID_INPUT", field) and "UTF-8" in message


def test_lone_surrogates_in_write_items_name_the_item(
    client: TestClient, services: Services
) -> None:
    customer, product = first_ids(services)
    event = {"eventType": "VIEW", "customerId": customer, "productId": product,
             "ts": "2024-01-01T00:00:00Z", "channel": "\udc00"}  # fmt: skip
    assert error(post(client, EVENTS, v=[event]))[:2] == ("INVALID_INPUT", "events[0].channel")
    price = {"productId": product, "price": 10, "kind": "COMPETITOR",
             "validFrom": "2024-01-01", "competitorId": "\udc00"}  # fmt: skip
    assert error(post(client, PRICES, v=[price]))[:2] == (
        "INVALID_INPUT",
        "prices[0].competitorId",
    )


# -- 3, 4, 13. the HTTP request itself ---------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 3000 + b"]" * 3000,
        b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 1000 + b"]" * 1000 + b"}}",
    ],
)
def test_deeply_nested_json_is_a_400_graphql_error(client: TestClient, body: bytes) -> None:
    response = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error(response.json())[0] == "INVALID_INPUT"
    assert "nested too deeply" in error(response.json())[2]


def test_a_body_over_the_limit_is_413_before_it_is_parsed(client: TestClient) -> None:
    big = json.dumps({"query": "{ __typename }", "variables": {"unused": "x" * MAX_BODY}})
    response = client.post("/graphql", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "PRICEGRAPH_API__MAX_BODY_BYTES" in error(response.json())[2]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as the bytes arrive
        yield big[: MAX_BODY // 2].encode()
        yield big[MAX_BODY // 2 :].encode()

    response = client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413 and error(response.json())[0] == "INVALID_INPUT"
    assert client.post("/graphql", json={"query": "{ __typename }"}).status_code == 200


def test_the_largest_writes_fit_the_default_limit(services: Services) -> None:
    customer, product = first_ids(services)
    event = {
        "eventId": "e" * 64, "eventType": "PURCHASE", "customerId": customer + "c" * 40,
        "productId": product + "p" * 40, "ts": "2024-05-01T10:05:00.123456+02:00",
        "orderId": "o" * 64, "qty": 1000, "unitPrice": 123456.78, "currency": "EUR",
        "discount": 12.5, "promotionId": "promo" * 8, "storeId": "store" * 8,
        "channel": "online" * 4,
    }  # fmt: skip
    body = json.dumps({"query": EVENTS, "variables": {"v": [event] * 500}})
    assert len(body) * 4 < ApiConfig().max_body_bytes
    longest = "x" * MAX_TEXT_LENGTH  # a product's description and attributes at their maximum
    item = {"productId": "p" * MAX_KEY_LENGTH, "name": "n" * MAX_NAME_LENGTH,
            "description": longest, "attributes": json.dumps({"a": longest[:-10]})}  # fmt: skip
    upsert = "mutation($v: [ProductInput!]!) { upsertProducts(products: $v) { created } }"
    products = json.dumps({"query": upsert, "variables": {"v": [item] * 500}})
    assert len(products.encode()) < ApiConfig().max_body_bytes


def test_a_long_query_string_is_414(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": "{ " + "x" * MAX_QUERY_STRING_BYTES + " }"})
    assert response.status_code == 414 and error(response.json())[0] == "INVALID_INPUT"


def test_get_with_null_variables_is_allowed(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": "{ __typename }", "variables": "null"})
    assert response.status_code == 200 and response.json()["data"] == {"__typename": "Query"}
    response = client.get("/graphql", params={"query": "{ __typename }", "variables": "{x"})
    assert response.status_code == 400
    message = error(response.json())[2]
    assert message.startswith("Query parameter 'variables'") and "Request body" not in message


# -- 5. long texts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("query($t: String) { products(search: $t) { edges { cursor } } }", "search"),
        ("query($t: String) { similarProducts(text: $t) { key } }", "text"),
        ("query($t: String) { recommendations(newProductText: $t) { key } }", "newProductText"),
    ],
)
def test_texts_over_the_maximum_are_invalid_input(
    client: TestClient, query: str, field: str
) -> None:
    code, named, message = error(post(client, query, t="word " * 201))
    assert (code, named) == ("INVALID_INPUT", field) and "at most 1000 characters" in message


# -- 6. price history pages --------------------------------------------------------------


def test_price_history_pages_newest_first(client: TestClient, services: Services) -> None:
    product = str(services.store.node_frame("Product")["id"].iloc[1])
    prices = [
        {"productId": product, "price": 10 + day, "kind": "MARKDOWN",
         "validFrom": f"2023-01-{day:02d}T00:00:00Z", "pricePointId": f"hist-{day}"}
        for day in range(1, 29)
    ]  # fmt: skip
    assert "errors" not in post(client, PRICES, v=prices)
    query = (
        "query($p: String!) { a: priceHistory(productId: $p, kinds: [MARKDOWN]) { validFrom } "
        "b: priceHistory(productId: $p, kinds: [MARKDOWN], first: 3) { key } "
        "product(id: $p) { priceHistory(kinds: [MARKDOWN], first: 2) { key } } }"
    )
    data = post(client, query, p=product)["data"]
    assert len(data["a"]) == 20 and data["a"][0]["validFrom"].startswith("2023-01-28")
    assert [p["key"] for p in data["b"]] == ["hist-28", "hist-27", "hist-26"]
    assert [p["key"] for p in data["product"]["priceHistory"]] == ["hist-28", "hist-27"]
    body = post(
        client, "query($p: String!) { priceHistory(productId: $p, first: 101) { key } }", p=product
    )
    assert error(body)[:2] == ("INVALID_INPUT", "first")
    paged = "query($p: String!, $s: Int!) { priceHistory(productId: $p, kinds: [MARKDOWN], first: 10, skip: $s) { key } }"
    seen = [
        p["key"]
        for s in (0, 10, 20)
        for p in post(client, paged, p=product, s=s)["data"]["priceHistory"]
    ]
    assert seen == [f"hist-{day}" for day in range(28, 0, -1)]  # every point, once, by paging
    assert error(post(client, paged, p=product, s=-1))[:2] == ("INVALID_INPUT", "skip")


def test_price_history_is_priced_by_its_page(services: Services) -> None:
    from graphql import OperationDefinitionNode, parse

    from pricegraph.api.schema import build_schema

    schema = build_schema()._schema
    document = parse('{ a: priceHistory(productId: "P") { price } }')
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    assert query_cost(schema, operation, {}, 100) == 1 + 100 * 1


# -- 7. server paths ---------------------------------------------------------------------


def test_errors_and_healthz_name_settings_never_paths(client: TestClient) -> None:
    what_if = post(client, '{ whatIf(productIds: ["P1"], kind: PERCENT_OFF, value: 10) { weeks } }')
    code, _, message = error(what_if)
    assert code == "UNAVAILABLE" and "PRICEGRAPH_API__DEMAND_PATH" in message and "/" not in message
    recs = post(client, '{ recommendations(newProductText: "a red scarf") { key } }')
    code, _, message = error(recs)
    assert code == "UNAVAILABLE" and "PRICEGRAPH_API__ENCODER_PATH" in message
    assert "/" not in message
    mutation = "mutation { setGuardrails(input: {minMarginPct: 5}) { minMarginPct } }"
    assert post(client, mutation)["data"]["setGuardrails"]["minMarginPct"] == 5
    health = client.get("/healthz").json()
    assert health["models"]["guardrails"] == "saved" and "/" not in json.dumps(health)


# -- 8. examples that do not exist -------------------------------------------------------


def test_unknown_examples_are_not_found(client: TestClient, services: Services) -> None:
    body = post(client, '{ recommendFromExamples(positive: ["NOPE"]) { key } }')
    code, field, message = error(body)
    assert (code, field) == ("NOT_FOUND", "positive") and "'NOPE'" in message
    assert body["errors"][0]["extensions"]["key"] == "NOPE"
    _, product = first_ids(services)
    query = (
        'query($p: [String!]!) { recommendFromExamples(positive: $p, negative: ["N2"]) { key } }'
    )
    assert error(post(client, query, p=[product]))[:2] == ("NOT_FOUND", "negative")


# -- 9. several operations ---------------------------------------------------------------


def test_several_operations_need_an_operation_name(client: TestClient) -> None:
    document = "query A { __typename } query B { modelVersions { policy } }"
    response = client.post("/graphql", json={"query": document})
    assert response.status_code == 400
    assert error(response.json())[0] == "INVALID_INPUT"
    assert error(response.json())[2].startswith("Must provide operation name")
    named = client.post("/graphql", json={"query": document, "operationName": "B"})
    assert named.status_code == 200 and "modelVersions" in named.json()["data"]


# -- 10. GraphQL field names -------------------------------------------------------------


def test_errors_name_fields_by_their_graphql_names(client: TestClient) -> None:
    body = post(client, "mutation { setGuardrails(input: {minMarginPct: -50}) { minMarginPct } }")
    code, field, message = error(body)
    assert (code, field) == ("INVALID_INPUT", "input.minMarginPct")
    assert "input.minMarginPct" in message and "min_margin_pct" not in message
    both = "mutation { setGuardrails(input: {minMarginPct: 1000, maxMarkupOverListPct: 0}) { minMarginPct } }"
    message = error(post(client, both))[2]
    assert "minMarginPct (1000)" in message and "maxMarkupOverListPct (0)" in message
    products = (
        "mutation($v: [ProductInput!]!) { upsertProducts(products: $v) { errors { field } } }"
    )
    result = post(client, products, v=[{"productId": "P-NEG", "name": "n", "listPrice": -1.0}])
    assert [e["field"] for e in result["data"]["upsertProducts"]["errors"]] == ["listPrice"]


# -- 11. long keys are quoted by a prefix -------------------------------------------------


def test_not_found_and_conflict_quote_a_long_key_by_its_prefix(
    client: TestClient, services: Services
) -> None:
    body = post(client, "query($id: String!) { product(id: $id) { key } }", id="x" * 96)
    code, _, message = error(body)
    assert code == "NOT_FOUND" and "x" * 41 not in message
    assert body["errors"][0]["extensions"]["key"] == "x" * 39 + "\u2026"
    customer, product = first_ids(services)
    event = {"eventId": "e" * 100, "eventType": "VIEW", "customerId": customer,
             "productId": product, "ts": "2024-02-01T00:00:00Z"}  # fmt: skip
    assert "errors" not in post(client, EVENTS, v=[event])
    clash = post(client, EVENTS, v=[{**event, "ts": "2024-02-02T00:00:00Z"}])
    code, _, message = error(clash)
    assert code == "CONFLICT" and "e" * 41 not in json.dumps(clash)
    assert clash["errors"][0]["extensions"]["key"] == "e" * 39 + "\u2026"


# -- 12. the item limit holds for the whole request ---------------------------------------


def test_a_request_over_the_item_limit_does_nothing(client: TestClient, services: Services) -> None:
    customer, product = first_ids(services)
    pairs = [{"customerId": customer, "productId": product}] * 400
    three = (
        "query($pairs: [PricePairInput!]!) { a: personalizedPrices(pairs: $pairs) { price } "
        "b: personalizedPrices(pairs: $pairs) { price } "
        "c: personalizedPrices(pairs: $pairs) { price } }"
    )
    audited = len(services.audit.query(limit=100_000))
    body = post(client, three, pairs=pairs)
    code, field, message = error(body)
    assert (code, field) == ("INVALID_INPUT", "pairs") and body["data"] is None
    assert "more than 1000 quotes or written items" in message
    assert len(services.audit.query(limit=100_000)) == audited
    events = [
        {"eventId": f"limit-{i}", "eventType": "VIEW", "customerId": customer,
         "productId": product, "ts": "2024-03-01T00:00:00Z"}
        for i in range(500)
    ]  # fmt: skip
    writes = (  # batches of legal size, 1,001 items in all
        "mutation($v: [EventInput!]!, $w: [EventInput!]!) { a: recordEvents(events: $v) "
        "{ created } b: recordEvents(events: $v) { created } "
        "c: recordEvents(events: $w) { created } }"
    )
    before = services.store.counts()
    body = post(client, writes, v=events, w=[{**events[0], "eventId": "limit-last"}])
    code, field, message = error(body)
    assert (code, field) == ("INVALID_INPUT", "events") and body["data"] is None
    assert "more than 1000" in message and services.store.counts() == before


# -- 14. written values the loaders refuse, item by item ---------------------------------

WRITE = "{ created updated unchanged rejected errors { index code field message } }"


def test_written_keys_texts_amounts_and_currencies_are_item_errors(
    client: TestClient, services: Services
) -> None:
    """Ids the API could not read back, over-long texts, lines over the largest amount
    and currencies that are not ISO 4217 codes are refused per item, naming the field;
    the good items are stored and readable; sending them again changes nothing."""
    customer, product = first_ids(services)
    products = [
        {"productId": "X\u00004", "name": "Nul"},
        {"productId": "X\n5", "name": "Newline"},
        {"productId": "X\u202e6", "name": "Right-to-left"},
        {"productId": "P" * 300, "name": "Long id"},
        {"productId": "P-HOSTILE-1", "name": "n" * 501},
        {"productId": "P-HOSTILE-2", "name": "Tote", "description": "d" * 10_001},
        {"productId": "P-HOSTILE-3", "name": "Tote", "currency": "usd"},
        {"productId": "P-HOSTILE-4", "name": "Tote", "currency": "GBP", "listPrice": 20.0},
    ]
    upsert = "mutation($v: [ProductInput!]!) { upsertProducts(products: $v) " + WRITE + " }"
    result = post(client, upsert, v=products)["data"]["upsertProducts"]
    fields = ["productId"] * 4 + ["name", "description", "currency"]
    assert [(e["index"], e["code"], e["field"]) for e in result["errors"]] == [
        (i, "INVALID_INPUT", field) for i, field in enumerate(fields)
    ]
    assert "printable characters" in result["errors"][0]["message"]
    assert (result["created"], result["rejected"]) == (1, 7)
    again = post(client, upsert, v=products)["data"]["upsertProducts"]
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    found = post(client, '{ product(id: "P-HOSTILE-4") { key currency } }')["data"]
    assert found == {"product": {"key": "P-HOSTILE-4", "currency": "GBP"}}

    line = {"eventType": "PURCHASE", "customerId": customer, "productId": product,
            "ts": "2024-04-01T10:00:00Z", "orderId": "O-HOSTILE", "qty": 1, "unitPrice": 100.0}  # fmt: skip
    events = [
        {**line, "eventId": "E\u0000N"},
        {**line, "eventId": "E" * 10_000},
        {**line, "eventId": "E-HOSTILE-3", "qty": 2, "unitPrice": 6e8},
        {**line, "eventId": "E-HOSTILE-4", "discount": 1e9},
        {**line, "eventId": "E-HOSTILE-5", "currency": "not-a-currency"},
        {**line, "eventId": "E-HOSTILE-6", "channel": "c" * 201},
        {**line, "eventId": "E-HOSTILE-7", "discount": 150.0, "channel": "web"},
    ]
    record = "mutation($v: [EventInput!]!) { recordEvents(events: $v) " + WRITE + " }"
    result = post(client, record, v=events)["data"]["recordEvents"]
    fields = ["eventId", "eventId", "qty", "discount", "currency", "channel"]
    assert [(e["index"], e["field"]) for e in result["errors"]] == list(enumerate(fields))
    assert (result["created"], result["rejected"]) == (1, 6)
    again = post(client, record, v=events)["data"]["recordEvents"]
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
