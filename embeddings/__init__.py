"""Text embeddings of products, brands and customers, stored in Qdrant; similarity."""

from .base import (
    CollectionSpec,
    ScoredItem,
    SearchFilter,
    TextEncoder,
    VectorPoint,
    VectorStore,
)
from .config import EmbeddingConfig, VectorConfig

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
