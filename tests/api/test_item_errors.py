"""Per-item rejects of batch writes carry a code: INVALID_INPUT for a broken rule,
NOT_FOUND for a reference to a key that is not stored, CONFLICT for a key repeated in
the batch with other values; the good items are written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from support.cli import build_world

from pricegraph.api.config import ApiConfig, ApiKey
from pricegraph.api.schema.mutations import ItemErrorCode, item_error_code
from pricegraph.api.server import create_app
from pricegraph.api.services import open_services
from pricegraph.api.settings import Settings

ADMIN = "items-admin-key-0123456789abcdef"
RESULT = "{ created updated unchanged rejected errors { index code field value message } }"
PRODUCTS = "mutation($v: [ProductInput!]!) { upsertProducts(products: $v) " + RESULT + " }"
PRICES = "mutation($v: [PriceInput!]!) { upsertPrices(prices: $v) " + RESULT + " }"
EVENTS = "mutation($v: [EventInput!]!) { recordEvents(events: $v) " + RESULT + " }"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("items")
    env = build_world(root, 30, 24, 10, 2)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        keys = (ApiKey(name="items-admin", key=SecretStr(ADMIN), role="admin"),)
        services = open_services(Settings(), ApiConfig(keys=keys))
    try:
        with TestClient(create_app(services.settings, services=services)) as http:
            yield http
    finally:
        services.close()


def _write(client: TestClient, query: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": {"v": items}}, headers={"X-API-Key": ADMIN}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return dict(next(iter(body["data"].values())))


def _codes(result: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(e["index"], e["code"], e["field"]) for e in result["errors"]]


def test_products_invalid_and_missing_references(client: TestClient) -> None:
    result = _write(
        client,
        PRODUCTS,
        [
            {"productId": "P-ITEM-1", "name": "Scarf", "listPrice": 25.0},
            {"productId": "P-ITEM-2", "name": "Hat", "listPrice": -3.0},
            {"productId": "P-ITEM-3", "name": "Belt", "brandId": "B-NOPE"},
        ],
    )
    assert result["created"] == 1 and result["rejected"] == 2
    assert _codes(result) == [(1, "INVALID_INPUT", "listPrice"), (2, "NOT_FOUND", "brandId")]


def test_prices_of_unknown_products_are_not_found(client: TestClient) -> None:
    result = _write(
        client,
        PRICES,
        [
            {
                "productId": "P-NOPE",
                "price": 10.0,
                "kind": "LIST",
                "validFrom": "2031-01-01T00:00:00Z",
            }
        ],
    )
    assert _codes(result) == [(0, "NOT_FOUND", "productId")]
    assert result["errors"][0]["value"] and "P-NOPE" in result["errors"][0]["value"]


def test_a_key_repeated_with_other_values_is_a_conflict(client: TestClient) -> None:
    product = {"productId": "P-ITEM-1", "name": "Scarf", "listPrice": 25.0}
    result = _write(client, PRODUCTS, [product, {**product, "listPrice": 30.0}])
    assert _codes(result) == [(1, "CONFLICT", "productId")]
    assert "duplicate" in result["errors"][0]["message"]


def test_events_codes(client: TestClient) -> None:
    event = {"eventType": "VIEW", "productId": "P-NOPE", "ts": "2031-01-02T10:00:00Z"}
    result = _write(
        client,
        EVENTS,
        [
            {**event, "eventId": "E-ITEM-1", "customerId": "C-NOPE"},
            {**event, "eventId": "E-ITEM-2", "customerId": "C-NOPE", "qty": -1},
        ],
    )
    assert result["rejected"] == 2
    assert {code for _, code, _ in _codes(result)} >= {"NOT_FOUND", "INVALID_INPUT"}


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("unknown product id", ItemErrorCode.NOT_FOUND),
        ("unknown brand id", ItemErrorCode.NOT_FOUND),
        ("duplicate product_id, first at line 1", ItemErrorCode.CONFLICT),
        ("expected a number from 0.01 to 1,000,000", ItemErrorCode.INVALID_INPUT),
        ("missing required value", ItemErrorCode.INVALID_INPUT),
        ("must be after valid_from", ItemErrorCode.INVALID_INPUT),
    ],
)
def test_item_error_code(reason: str, code: ItemErrorCode) -> None:
    assert item_error_code(reason) is code
