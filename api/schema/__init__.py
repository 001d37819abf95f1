"""The GraphQL schema: queries, mutations, limits and error handling in one object."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache

from ..arguments import ArgumentChecks
from ..config import ApiLimits
from ..errors import CodedMaskErrors
from ..limits import limit_extensions
from .catalog import CatalogQuery
from .customers import CustomerQuery
from .mutations import Mutation
from .nodes import node_types
from .pricing import PricingQuery
from .recommend import RecommendQuery


@strawberry.type(description="Everything Pricegraph answers.")
class Query(CatalogQuery, CustomerQuery, RecommendQuery, PricingQuery):
    pass


def build_schema(
    limits: ApiLimits | None = None, *, is_introspection_enabled: bool = True
) -> strawberry.Schema:
    """The schema with its extensions: limits, coded/masked errors, parser and validation caches,
    argument checks (:mod:`pricegraph.api.arguments`).

    Args:
        limits: Query limits (default: :class:`ApiLimits` defaults).
        is_introspection_enabled: Answer ``__schema`` / ``__type`` queries (off in
            production: the SDL ships as ``api/schema.graphql`` for clients).
    """
    limits = limits or ApiLimits()
    extensions: list[Any] = [
        *limit_extensions(limits),
        CodedMaskErrors,
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: ArgumentChecks(limits.max_request_items),  # after validation (cached)
    ]
    if not is_introspection_enabled:
        extensions.insert(0, DisableIntrospection)
    return strawberry.Schema(
        query=Query, mutation=Mutation, types=node_types(), extensions=extensions
    )


__all__ = ["Mutation", "Query", "build_schema"]
