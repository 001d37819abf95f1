"""The ``recommendations`` field refuses a popularity discount on a new product's text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from pricegraph.api.config import ApiConfig, ApiKey
from pricegraph.api.server import create_app
from pricegraph.api.services import open_services
from pricegraph.api.settings import Settings

READER = "reader-key-0123456789abcdefgh"
QUERY = (
    "query($t: String!, $a: Float!) { recommendations(newProductText: $t, "
    "popularityDiscount: $a) { key } }"
)


@pytest.fixture
def client(env: Path) -> Iterator[TestClient]:
    """The API over an empty data directory (no encoder trained)."""
    keys = (ApiKey(name="desk", key=SecretStr(READER), role="reader"),)
    services = open_services(Settings(), ApiConfig(keys=keys))
    try:
        with TestClient(create_app(services.settings, services=services)) as http:
            yield http
    finally:
        services.close()


def _errors(client: TestClient, **variables: Any) -> list[dict[str, Any]]:
    response = client.post(
        "/graphql", json={"query": QUERY, "variables": variables}, headers={"X-API-Key": READER}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["errors"])


def test_popularity_discount_with_new_product_text_is_invalid_input(client: TestClient) -> None:
    (error,) = _errors(client, t="black leather bag", a=1.5)
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["field"] == "popularityDiscount"
    assert error["message"] == (
        "popularityDiscount: applies to customerId and productId lists only, not to newProductText"
    )
    # without a discount the text is accepted: it fails only for want of a trained encoder
    (error,) = _errors(client, t="black leather bag", a=0.0)
    assert error["extensions"]["code"] == "UNAVAILABLE"
