"""Text embeddings of products, brands and customers, stored in Qdrant; similarity.

The public names below are imported on first use (:func:`pricegraph.lazy_exports`):
reading the settings (``embeddings.config``) does not load numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegraph import lazy_exports

if TYPE_CHECKING:
    from .base import (
        CollectionSpec,
        ScoredItem,
        SearchFilter,
        TextEncoder,
        VectorPoint,
        VectorStore,
    )
    from .config import EmbeddingConfig, VectorConfig

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".base": (
            "CollectionSpec",
            "ScoredItem",
            "SearchFilter",
            "TextEncoder",
            "VectorPoint",
            "VectorStore",
        ),
        ".config": ("EmbeddingConfig", "VectorConfig"),
    },
)

__all__ = [
    "CollectionSpec",
    "EmbeddingConfig",
    "ScoredItem",
    "SearchFilter",
    "TextEncoder",
    "VectorConfig",
    "VectorPoint",
    "VectorStore",
]
