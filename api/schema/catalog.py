"""Catalog queries: products, brands, categories, search and similarity (public)."""

from __future__ import annotations

from typing import TypeVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from ...embeddings.base import ScoredItem
from ...embeddings.similarity import ProductFilter
from ..context import Context
from ..errors import invalid, not_found
from ..pages import product_page
from ..services import Services
from .inputs import ProductFilterInput, check_key, check_keys, check_text, require
from .nodes import Brand, Category, PriceKind, PricePoint, Product, StoreNode, price_points
from .pagination import (
    decode_cursor,
    decode_offset,
    keyset_connection,
    offset_connection,
    page_size,
)

MAX_RANKED = 1000
"""Deepest position a ranked (vector search) list pages to."""


@strawberry.type(description="A product with its cosine similarity to the query, in [-1, 1].")
class ScoredProduct:
    key: str
    score: float

    @strawberry.field
    async def product(self, info: Info[Context, None]) -> Product | None:
        return await Product.load(info, self.key)


def recommend_examples(
    services: Services, good: list[str], bad: list[str], limit: int, where: ProductFilter
) -> list[ScoredItem]:
    """``recommend_products`` of examples that all have a text vector (a read thread).

    Raises:
        ApiError: NOT_FOUND naming ``positive`` or ``negative`` and the first example
            without a vector (the vector store would answer that as its own failure).
    """
    collection = services.collections["products"]
    for field, keys in (("positive", good), ("negative", bad)):
        found = services.vectors.vectors(collection, keys, "text") if keys else {}
        missing = [key for key in keys if key not in found]
        if missing:
            raise not_found(field, "Product", missing[0], "has no text vector")
    return services.similarity.recommend_products(good, bad, limit=limit, where=where)


def scored(hits: list[ScoredItem]) -> list[ScoredProduct]:
    """Vector hits as :class:`ScoredProduct` values."""
    return [ScoredProduct(key=str(h.key), score=float(h.score)) for h in hits]


N = TypeVar("N", bound=StoreNode)


async def load_required(info: Info[Context, None], node: type[N], key: str, field: str = "id") -> N:
    """The node of ``key`` or NOT_FOUND naming its kind and key."""
    key = check_key(key, field)
    return require(await node.load(info, key), node.LABEL, key)


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="One product by key; NOT_FOUND when unknown.")
    async def product(self, info: Info[Context, None], id: str) -> Product:
        return await load_required(info, Product, id)  # type: ignore[return-value]

    @strawberry.field(description="One brand by key; NOT_FOUND when unknown.")
    async def brand(self, info: Info[Context, None], id: str) -> Brand:
        return await load_required(info, Brand, id)  # type: ignore[return-value]

    @strawberry.field(description="One category by key; NOT_FOUND when unknown.")
    async def category(self, info: Info[Context, None], id: str) -> Category:
        return await load_required(info, Category, id)  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "Products by key, or ranked by similarity to `search` text; filtered. "
            "`first` is at most the configured page size."
        )
    )
    async def products(
        self,
        info: Info[Context, None],
        search: str | None = None,
        filter: ProductFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[Product]:
        services = info.context.services
        limit = page_size(first, services.config.limits)
        where = (filter or ProductFilterInput()).checked()
        if search is not None:
            check_text(search, "search")
            offset = decode_offset(after)
            depth = min(offset + limit + 1, MAX_RANKED)
            hits = await services.read(
                services.similarity.products_matching,
                search,
                limit=depth,
                where=where.to_product_filter(),
            )
            keys = [str(h.key) for h in hits[offset:]]
            rows = await info.context.loaders.node("Product").load_many(keys)
            nodes = [Product.from_row(r) for r in rows if r is not None]
            return offset_connection(nodes, offset, limit)
        page = await services.read(
            product_page,
            services.store,
            after=decode_cursor(after, "key"),
            limit=limit + 1,
            brands=where.brand_ids,
            categories=where.category_ids,
            min_price=where.min_price,
            max_price=where.max_price,
            is_in_stock=where.is_in_stock,
        )
        info.context.loaders.prime("Product", page)
        nodes = [Product.from_row(r) for r in page]
        return keyset_connection(nodes, [n.id for n in nodes], limit)

    @strawberry.field(
        description=(
            "Products most like `productId` (itself excluded) or like `text`: give exactly one."
        )
    )
    async def similar_products(
        self,
        info: Info[Context, None],
        product_id: str | None = None,
        text: str | None = None,
        filter: ProductFilterInput | None = None,
        first: int | None = None,
    ) -> list[ScoredProduct]:
        services = info.context.services
        limit = page_size(first, services.config.limits)
        where = (filter or ProductFilterInput()).checked().to_product_filter()
        if (product_id is None) == (text is None):
            raise invalid("productId", "give exactly one of productId and text")
        if product_id is not None:
            key = check_key(product_id, "productId")
            hits = await services.read(
                services.similarity.similar_products, key, limit=limit, where=where
            )
        else:
            text = check_text(text or "", "text")  # given: exactly one of the two is
            hits = await services.read(
                services.similarity.products_matching, text, limit=limit, where=where
            )
        return scored(hits)

    @strawberry.field(
        description="Products like the `positive` examples and unlike the `negative` ones."
    )
    async def recommend_from_examples(
        self,
        info: Info[Context, None],
        positive: list[str],
        negative: list[str] | None = None,
        filter: ProductFilterInput | None = None,
        first: int | None = None,
    ) -> list[ScoredProduct]:
        services = info.context.services
        limit = page_size(first, services.config.limits)
        good = check_keys(positive, "positive")
        bad = check_keys(negative, "negative") if negative else []
        where = (filter or ProductFilterInput()).checked().to_product_filter()
        for field, keys in (("positive", good), ("negative", bad)):
            rows = await info.context.loaders.node(Product.LABEL).load_many(keys)
            missing = [key for key, row in zip(keys, rows, strict=True) if row is None]
            if missing:
                raise not_found(field, Product.LABEL, missing[0])
        hits = await services.read(recommend_examples, services, good, bad, limit, where)
        return scored(hits)

    @strawberry.field(
        description=(
            "A product's price points, newest `validFrom` first, at most `first` (default and "
            "largest: the configured page sizes) after the `skip` newest (page back with "
            "`skip`); NOT_FOUND for an unknown product."
        )
    )
    async def price_history(
        self,
        info: Info[Context, None],
        product_id: str,
        kinds: list[PriceKind] | None = None,
        first: int | None = None,
        skip: int = 0,
    ) -> list[PricePoint]:
        await load_required(info, Product, product_id, "productId")
        key = check_key(product_id, "productId")
        return await price_points(info, key, kinds, first, skip)


__all__ = ["CatalogQuery", "ScoredProduct", "load_required", "recommend_examples", "scored"]
