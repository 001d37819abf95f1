"""Property test: generated queries and mutations never get a 5xx or an unmasked error.

Queries come from hypothesis-graphql (schemathesis' GraphQL generator) over the
committed SDL, against a small loaded world without vectors or models, so the
UNAVAILABLE paths are exercised too. Sent with an admin key, so that auth does not
stop them before the resolvers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes
from pydantic import SecretStr
from starlette.testclient import TestClient
from support.cli import build_world

from pricegraph.api.config import ApiConfig, ApiKey
from pricegraph.api.errors import ErrorCode
from pricegraph.api.schema_export import SDL_PATH
from pricegraph.api.server import create_app
from pricegraph.api.services import Services, open_services
from pricegraph.api.settings import Settings

ADMIN_KEY = "fuzz-admin-key-0123456789abcdef"
CODES = {code.value for code in ErrorCode}
SCALARS = {
    "DateTime": st.datetimes().map(lambda t: nodes.String(t.isoformat() + "Z")),
    "JSON": st.just(nodes.Null),
}


@pytest.fixture(scope="module")
def fuzz_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    root = tmp_path_factory.mktemp("fuzz")
    build_world(root, 40, 40, 40, 9)
    settings_ = Settings(data_dir=root / "var", graph={"path": root / "var" / "graph"})
    config = ApiConfig(keys=(ApiKey(name="fuzzer", key=SecretStr(ADMIN_KEY), role="admin"),))
    services = open_services(settings_, config)
    yield services
    services.close()


@pytest.fixture(scope="module")
def http(fuzz_services: Services) -> Iterator[TestClient]:
    app = create_app(fuzz_services.settings, services=fuzz_services)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if not response.headers.get("content-type", "").startswith("application/json"):
        assert response.status_code >= 400  # e.g. an empty query: a plain 400
        return
    body: dict[str, Any] = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in CODES, error
        assert code != ErrorCode.INTERNAL.value, error


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=from_schema(SDL_PATH.read_text(), custom_scalars=SCALARS, allow_x00=False))
def test_generated_operations_never_fail_unmasked(http: TestClient, query: str) -> None:
    response = http.post("/graphql", json={"query": query}, headers={"X-API-Key": ADMIN_KEY})
    _check(response)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=st.text(max_size=200))
def test_arbitrary_text_is_refused_cleanly(http: TestClient, query: str) -> None:
    _check(http.post("/graphql", json={"query": query}))
