"""Similarity queries for analysts: products like this one or this text, customers like
this one, and recommendations from positive and negative examples.

Every result is a :class:`~pricegraph.embeddings.base.ScoredItem` carrying its
cosine score and the payload needed to show it (name, brand, price, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataValidationError, NotFoundError
from ..graph.base import GraphStore, UpsertResult
from .base import ScoredItem, SearchFilter, TextEncoder, VectorStore


@dataclass(frozen=True)
class ProductFilter:
    """Filters on products; every given condition must hold.

    Attributes:
        brand: Brand key, or several (any of them).
        category: Category key at any level of the tree (a parent matches its
            subcategories), or several.
        min_price: Lowest list price, inclusive, in the product's currency.
        max_price: Highest list price, inclusive.
        is_in_stock: Only products in stock (``True``) or out of stock (``False``).
        price_band: ``entry``, ``mid``, ``high`` or ``top`` (catalog quartiles).
    """

    brand: str | Sequence[str] | None = None
    category: str | Sequence[str] | None = None
    min_price: float | None = None
    max_price: float | None = None
    is_in_stock: bool | None = None
    price_band: str | Sequence[str] | None = None

    def to_search_filter(self, exclude_keys: Sequence[str] = ()) -> SearchFilter:
        """The vector-store filter; raises ``DataValidationError`` for an empty range."""
        is_empty_range = (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        )
        if is_empty_range:
            raise DataValidationError(
                f"expected min_price <= max_price, got {self.min_price} > {self.max_price}",
                field="min_price",
                value=self.min_price,
            )
        equals: dict[str, object] = {}
        for name, value in (
            ("brand", self.brand),
            ("categories", self.category),
            ("price_band", self.price_band),
            ("in_stock", self.is_in_stock),
        ):
            if value is not None:
                equals[name] = list(value) if isinstance(value, list | tuple) else value
        ranges = {}
        if self.min_price is not None or self.max_price is not None:
            ranges["price"] = (self.min_price, self.max_price)
        return SearchFilter(equals=equals, ranges=ranges, exclude_keys=tuple(exclude_keys))


class Similarity:
    """Similarity queries over the vector collections.

    Args:
        vectors: The vector store.
        collections: ``{"products": name, "customers": name, "brands": name}``.
        load_encoder: Loads the text encoder (only free-text queries need it).
    """

    def __init__(
        self,
        vectors: VectorStore,
        collections: dict[str, str],
        load_encoder: Callable[[], TextEncoder],
    ) -> None:
        self._vectors = vectors
        self._collections = collections
        self._load_encoder = load_encoder
        self._encoder: TextEncoder | None = None

    def _vector_of(self, kind: str, key: str, using: str = "text") -> np.ndarray:
        found = self._vectors.vectors(self._collections[kind], [key], using)
        if key not in found:
            raise NotFoundError(kind.rstrip("s").capitalize(), key)
        return found[key]

    def similar_products(
        self, product_id: str, *, limit: int = 10, where: ProductFilter | None = None
    ) -> list[ScoredItem]:
        """Products closest to ``product_id`` (itself excluded)."""
        vector = self._vector_of("products", product_id)
        search = (where or ProductFilter()).to_search_filter(exclude_keys=[product_id])
        return _shown(
            self._vectors.search(
                self._collections["products"], vector, limit=_check(limit), where=search
            )
        )

    def products_matching(
        self, text: str, *, limit: int = 10, where: ProductFilter | None = None
    ) -> list[ScoredItem]:
        """Products closest to a free-text description."""
        if not isinstance(text, str) or not text.strip():
            raise DataValidationError("expected a non-empty text", field="text", value=text)
        if self._encoder is None:
            self._encoder = self._load_encoder()
        vector = self._encoder.encode([text])[0]
        search = (where or ProductFilter()).to_search_filter()
        return _shown(
            self._vectors.search(
                self._collections["products"], vector, limit=_check(limit), where=search
            )
        )

    def similar_customers(
        self, customer_id: str, *, limit: int = 10, segment: str | None = None
    ) -> list[ScoredItem]:
        """Customers whose histories (and profiles) are closest (itself excluded)."""
        vector = self._vector_of("customers", customer_id)
        equals = {"segment": segment} if segment else {}
        search = SearchFilter(equals=equals, exclude_keys=(customer_id,))
        return _shown(
            self._vectors.search(
                self._collections["customers"], vector, limit=_check(limit), where=search
            )
        )

    def recommend_products(
        self,
        positive: Sequence[str],
        negative: Sequence[str] = (),
        *,
        limit: int = 10,
        where: ProductFilter | None = None,
    ) -> list[ScoredItem]:
        """Products like the ``positive`` ones and unlike the ``negative`` ones."""
        if not positive:
            raise DataValidationError("expected at least one positive example", field="positive")
        search = (where or ProductFilter()).to_search_filter()
        return _shown(
            self._vectors.recommend(
                self._collections["products"],
                list(positive),
                list(negative),
                limit=_check(limit),
                where=search,
            )
        )

    def products_for_customer(
        self, customer_id: str, *, limit: int = 10, where: ProductFilter | None = None
    ) -> list[ScoredItem]:
        """Products closest to a customer's vector (their taste, in product space)."""
        vector = self._vector_of("customers", customer_id)
        search = (where or ProductFilter()).to_search_filter()
        return _shown(
            self._vectors.search(
                self._collections["products"], vector, limit=_check(limit), where=search
            )
        )


_INTERNAL = ("text_hash", "content_hash", "profile_hash")


def _shown(hits: list[ScoredItem]) -> list[ScoredItem]:
    """Hits without the bookkeeping fields of the embedding pipeline."""
    return [
        ScoredItem(h.key, h.score, {k: v for k, v in h.payload.items() if k not in _INTERNAL})
        for h in hits
    ]


def _check(limit: int) -> int:
    if not 1 <= limit <= 1000:
        raise DataValidationError(
            f"expected 1 <= limit <= 1000, got {limit}", field="limit", value=limit
        )
    return limit


def top_k_similar(
    keys: Sequence[str], matrix: np.ndarray, k: int, chunk_rows: int = 2048
) -> pd.DataFrame:
    """Exact top-``k`` neighbours of every row by cosine (rows are unit vectors).

    Returns:
        ``source, target, score`` rows, ``k`` per source (fewer when there are
        fewer items), the item itself excluded.
    """
    keys = np.asarray(keys, dtype=object)
    k = min(k, len(keys) - 1)
    if k <= 0:
        return pd.DataFrame({"source": [], "target": [], "score": []})
    sources, targets, scores = [], [], []
    for start in range(0, len(keys), chunk_rows):
        block = matrix[start : start + chunk_rows] @ matrix.T
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        top, top_scores = (
            np.take_along_axis(top, order, 1),
            np.take_along_axis(top_scores, order, 1),
        )
        sources.append(np.repeat(keys[start : start + block.shape[0]], k))
        targets.append(keys[top.ravel()])
        scores.append(top_scores.ravel())
    return pd.DataFrame(
        {
            "source": np.concatenate(sources),
            "target": np.concatenate(targets),
            "score": np.concatenate(scores).astype(float),
        }
    )


def write_similar_edges(
    store: GraphStore, vectors: VectorStore, products_collection: str, k: int = 10
) -> UpsertResult:
    """Store each product's top-``k`` text neighbours as ``SIMILAR_TO`` edges (``score``),
    replacing edges that are no longer among them."""
    keys = sorted(vectors.payloads(products_collection, ["text_hash"]))
    found = vectors.vectors(products_collection, keys, "text")
    keys = [key for key in keys if key in found]
    if not keys:
        return UpsertResult()
    edges = top_k_similar(keys, np.vstack([found[key] for key in keys]), k)
    current = store.edge_arrays("SIMILAR_TO")
    old = pd.DataFrame(
        {
            "source": current.source_ids[current.edge_index[0]],
            "target": current.target_ids[current.edge_index[1]],
        }
    )
    stale = old.merge(edges[["source", "target"]], how="left", indicator=True)
    stale = stale[stale["_merge"] == "left_only"][["source", "target"]]
    if len(stale):
        store.delete_edges("SIMILAR_TO", stale)
    return store.upsert_edges("SIMILAR_TO", edges)


__all__ = ["ProductFilter", "Similarity", "top_k_similar", "write_similar_edges"]
