"""The GraphQL schema: queries, mutations, limits and error handling in one object."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

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


def build_schema(limits: ApiLimits | None = None) -> strawberry.Schema:
    """The schema with its extensions: limits, coded/masked errors, parser and validation caches.

    Args:
        limits: Query limits (default: :class:`ApiLimits` defaults).
    """
    limits = limits or ApiLimits()
    extensions: list[Any] = [
        *limit_extensions(limits),
        CodedMaskErrors,
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    return strawberry.Schema(
        query=Query, mutation=Mutation, types=node_types(), extensions=extensions
    )


__all__ = ["Mutation", "Query", "build_schema"]
