"""``query_cost``: each field costs one plus its page size times what it selects."""

from __future__ import annotations

import pytest
from graphql import (
    FragmentDefinitionNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    parse,
)

from pricegraph.api.limits import query_cost


def _schema() -> GraphQLSchema:
    """``products(first = 20)``, ``item``, ``any(first)`` and ``Product.similar(limit = 5)``,
    built in code as strawberry builds it (argument defaults as values)."""
    product = GraphQLObjectType(
        "Product",
        lambda: {
            "id": GraphQLField(GraphQLID),
            "name": GraphQLField(GraphQLString),
            "similar": GraphQLField(
                GraphQLList(product), args={"limit": GraphQLArgument(GraphQLInt, default_value=5)}
            ),
        },
    )
    edge = GraphQLObjectType("Edge", {"node": GraphQLField(product)})
    page = GraphQLObjectType("ProductPage", {"edges": GraphQLField(GraphQLList(edge))})
    query = GraphQLObjectType(
        "Query",
        {
            "products": GraphQLField(
                page, args={"first": GraphQLArgument(GraphQLInt, default_value=20)}
            ),
            "item": GraphQLField(product, args={"id": GraphQLArgument(GraphQLID)}),
            "any": GraphQLField(product, args={"first": GraphQLArgument(GraphQLInt)}),
        },
    )
    return GraphQLSchema(query)


SCHEMA = _schema()
MAX_PAGE = 100


def _cost(document: str, cap: int = 2**62) -> int:
    parsed = parse(document)
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return query_cost(SCHEMA, operations[0], fragments, MAX_PAGE, cap)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ item(id: 1) { id } }", 2),  # item: 1 + 1 * (id: 1)
        ("{ products(first: 10) { edges { node { id } } } }", 1 + 10 * (1 + (1 + 1))),
        ("{ products { edges { node { id } } } }", 1 + 20 * 3),  # the argument's default
        ("query ($n: Int) { products(first: $n) { edges { node { id } } } }", 1 + MAX_PAGE * 3),
        ("{ any { id } }", 1 + MAX_PAGE * 1),  # a page argument without default: the largest
        ("{ item(id: 1) { similar { name } } }", 1 + (1 + 5 * 1)),  # nested pages multiply
        ("{ products(first: 0) { edges { node { id } } } }", 1 + 1 * 3),  # at least 1
        ("{ __typename item(id: 1) { id name } }", 1 + (1 + 2)),
        (
            "{ products(first: 2) { edges { node { ...F } } } } fragment F on Product { id name }",
            1 + 2 * (1 + (1 + 2)),
        ),
    ],
)
def test_cost_of_documents(document: str, expected: int) -> None:
    assert _cost(document) == expected


def test_cost_saturates_at_the_cap() -> None:
    assert _cost("{ products(first: 10) { edges { node { id } } } }", cap=5) == 5
