"""Checks shared by resolvers: natural keys and product filters."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from ...embeddings.similarity import ProductFilter
from ...errors import NotFoundError
from ...loaders.value_rules import KEY_REASON, is_key
from ..errors import invalid

MAX_FILTER_VALUES = 100
MAX_TEXT_CHARS = 1000
"""Longest search or product text (the encoder reads a few hundred words at most)."""


def check_key(value: str, field: str) -> str:
    """A natural key: 1-200 printable characters, surrounding blanks removed; the rule
    the loaders write ids by
    (:func:`pricegraph.loaders.value_rules.is_key`).

    Raises:
        ApiError: INVALID_INPUT naming ``field``.
    """
    key = value.strip()
    if not is_key(key):
        raise invalid(field, KEY_REASON, value)
    return key


def check_text(value: str, field: str) -> str:
    """A search or product text: not blank, at most :data:`MAX_TEXT_CHARS` characters.

    Raises:
        ApiError: INVALID_INPUT naming ``field``.
    """
    if not value.strip():
        raise invalid(field, "expected a non-empty text", value)
    if len(value) > MAX_TEXT_CHARS:
        raise invalid(
            field, f"expected at most {MAX_TEXT_CHARS} characters, got {len(value)}", value
        )
    return value


def check_keys(values: list[str], field: str, max_count: int = MAX_FILTER_VALUES) -> list[str]:
    """Several keys (1 to ``max_count``), each checked by :func:`check_key`."""
    if not 1 <= len(values) <= max_count:
        raise invalid(field, f"expected 1 to {max_count} keys, got {len(values)}", len(values))
    return [check_key(v, field) for v in values]


V = TypeVar("V")


def require(row: V | None, kind: str, key: str) -> V:
    """``row``, or NOT_FOUND naming ``kind`` and ``key`` when it is ``None``."""
    if row is None:
        raise NotFoundError(kind, key)
    return row


@strawberry.input(description="Product filters; every given condition must hold.")
class ProductFilterInput:
    brand_ids: list[str] | None = strawberry.field(default=None, description="Any of these.")
    category_ids: list[str] | None = strawberry.field(
        default=None, description="Any of these, subcategories included."
    )
    min_price: float | None = strawberry.field(default=None, description="List price >=, gross.")
    max_price: float | None = strawberry.field(default=None, description="List price <=, gross.")
    is_in_stock: bool | None = None

    def checked(self) -> ProductFilterInput:
        """This filter with its keys and price range checked."""
        for name, price in (("minPrice", self.min_price), ("maxPrice", self.max_price)):
            if price is not None and not price >= 0:
                raise invalid(f"filter.{name}", f"expected a price >= 0, got {price}", price)
        is_empty = self.min_price is not None and self.max_price is not None
        if is_empty and self.min_price > self.max_price:  # type: ignore[operator]
            raise invalid(
                "filter.minPrice",
                f"expected minPrice <= maxPrice, got {self.min_price} > {self.max_price}",
                self.min_price,
            )
        return ProductFilterInput(
            brand_ids=check_keys(self.brand_ids, "filter.brandIds") if self.brand_ids else None,
            category_ids=(
                check_keys(self.category_ids, "filter.categoryIds") if self.category_ids else None
            ),
            min_price=self.min_price,
            max_price=self.max_price,
            is_in_stock=self.is_in_stock,
        )

    def to_product_filter(self) -> ProductFilter:
        """The vector-search filter."""
        return ProductFilter(
            brand=self.brand_ids,
            category=self.category_ids,
            min_price=self.min_price,
            max_price=self.max_price,
            is_in_stock=self.is_in_stock,
        )


__all__ = [
    "MAX_TEXT_CHARS",
    "ProductFilterInput",
    "check_key",
    "check_keys",
    "check_text",
    "require",
]
