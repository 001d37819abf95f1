"""Pure parts of similarity: filters and exact top-k."""

from __future__ import annotations

import numpy as np
import pytest

from pricegraph.embeddings.similarity import ProductFilter, top_k_similar
from pricegraph.errors import DataValidationError


def test_product_filter_to_search_filter() -> None:
    where = ProductFilter(
        brand=["B1", "B2"], category="CAT-bags", min_price=100.0, is_in_stock=True
    ).to_search_filter(exclude_keys=["P1"])
    assert where.equals == {"brand": ["B1", "B2"], "categories": "CAT-bags", "in_stock": True}
    assert where.ranges == {"price": (100.0, None)}
    assert list(where.exclude_keys) == ["P1"]
    assert ProductFilter().to_search_filter().is_empty


def test_empty_price_range_is_refused() -> None:
    with pytest.raises(DataValidationError, match="min_price <= max_price"):
        ProductFilter(min_price=10.0, max_price=5.0).to_search_filter()


def test_top_k_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(50, 8)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    keys = [f"p{i:02d}" for i in range(50)]
    edges = top_k_similar(keys, matrix, k=3, chunk_rows=7)
    assert len(edges) == 150 and not (edges["source"] == edges["target"]).any()
    scores = matrix @ matrix.T
    np.fill_diagonal(scores, -np.inf)
    for i in (0, 17, 49):
        expected = [keys[j] for j in np.argsort(-scores[i])[:3]]
        assert edges[edges["source"] == keys[i]]["target"].tolist() == expected
    first = edges[edges["source"] == "p00"]["score"].tolist()
    assert first == sorted(first, reverse=True)
