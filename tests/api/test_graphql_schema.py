"""The schema's SDL, the cost estimate, the API settings and key checks (no server)."""

from __future__ import annotations

import pytest
from graphql import parse
from pydantic import SecretStr, ValidationError

from pricegraph.api.config import ApiConfig, ApiKey, Role
from pricegraph.api.context import principal_of
from pricegraph.api.limits import query_cost
from pricegraph.api.schema import build_schema
from pricegraph.api.schema.nodes import segment_profile
from pricegraph.api.schema_export import SDL_PATH, schema_sdl
from pricegraph.api.services import check_deployment
from pricegraph.api.settings import Settings
from pricegraph.errors import ConfigError


def test_committed_sdl_is_current() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == schema_sdl(), (
        "api/schema.graphql is stale: run python -m pricegraph.api.schema_export --write"
    )


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("{ modelVersions { policy } }", 2),
        ("{ products(first: 10) { edges { node { key } } } }", 1 + 10 + 10 + 10),
        ("query($n: Int) { products(first: $n) { edges { cursor } } }", 1 + 100 + 100),
        ("{ products { edges { cursor } } }", 1 + 100 + 100),
        (
            "{ customers(first: 2) { edges { node { purchases(first: 3) { qty } } } } }",
            1 + 2 + 2 + 2 + 6,
        ),
        ("{ ...F } fragment F on Query { products(first: 5) { edges { cursor } } }", 11),
    ],
)
def test_query_cost(query: str, cost: int) -> None:
    schema = build_schema()._schema
    document = parse(query)
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    operation = next(d for d in document.definitions if d.kind == "operation_definition")
    assert query_cost(schema, operation, fragments, max_page=100) == cost


def test_production_refuses_graphiql_and_needs_keys() -> None:
    with pytest.raises(ValidationError, match="is_graphiql_enabled"):
        ApiConfig(
            environment="prod",
            is_graphiql_enabled=True,
            keys=(ApiKey(name="a", key=SecretStr("x" * 30)),),
        )
    with pytest.raises(ValidationError, match="at least one API key"):
        ApiConfig(environment="prod")
    with pytest.raises(ValidationError, match="shorter than 24"):
        ApiConfig(environment="prod", keys=(ApiKey(name="a", key=SecretStr("short")),))


def test_keys_map_to_principals() -> None:
    config = ApiConfig(
        keys=(
            ApiKey(name="desk", key=SecretStr("k1"), role="pricing"),
            ApiKey(name="ops", key=SecretStr("k2"), role="admin"),
        )
    )
    assert principal_of("k1", config).role == Role.PRICING
    assert principal_of("k2", config).name == "ops"
    assert principal_of("nope", config).role is None and principal_of(None, config).role is None
    assert "k1" not in repr(config)


def test_several_workers_need_server_backends() -> None:
    with pytest.raises(ConfigError, match="PRICEGRAPH_VECTORS__URL"):
        check_deployment(Settings(), ApiConfig(workers=2))
    check_deployment(Settings(), ApiConfig(workers=1))


def test_segment_profile_reads_the_stored_description() -> None:
    profile = segment_profile(
        "40 customers; net spend mean 1200, median 900; 2.5 orders; last purchase 30 days "
        "ago; discount share 12%; top categories: Bags, Shoes; top brands: Aurel",
        "high spend · recent · price-insensitive",
        38,
    )
    assert profile.size == 38 and profile.spend_mean == 1200 and profile.discount_share == 0.12
    assert profile.top_categories == ["Bags", "Shoes"] and profile.top_brands == ["Aurel"]
    assert profile.price_sensitivity == "price-insensitive"


def test_introspection_is_off_when_asked() -> None:
    closed = build_schema(is_introspection_enabled=False).execute_sync(
        "{ __schema { types { name } } }"
    )
    assert closed.errors and "introspection has been disabled" in closed.errors[0].message
    assert closed.data is None
    opened = build_schema().execute_sync("{ __schema { queryType { name } } }")
    assert opened.errors is None and opened.data == {"__schema": {"queryType": {"name": "Query"}}}


def test_price_kinds_are_the_graph_schemas() -> None:
    from pricegraph.api.schema.nodes import PriceKind
    from pricegraph.graph.schema import PRICE_KINDS

    assert tuple(kind.value for kind in PriceKind) == PRICE_KINDS
    assert [kind.name for kind in PriceKind] == [kind.upper() for kind in PRICE_KINDS]
