"""Protocols of the embedding layer: the text encoder and the vector store.

Items are identified by their graph key (``"P00042"``); backends map keys to
Qdrant point ids (UUID5 of collection and key) and keep the key in the payload
field ``key``, so callers never see Qdrant ids. Vectors are named: ``text``
(sentence embeddings) now, ``graph`` (GNN vectors) reserved. Scores are cosine
similarities in [-1, 1], higher is closer; results are ordered by score
descending, ties by key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

PayloadType = Literal["keyword", "float", "integer", "bool"]


@dataclass(frozen=True)
class VectorPoint:
    """One item: its key, named vectors (float32 ``[dim]``) and payload."""

    key: str
    vectors: Mapping[str, np.ndarray]
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoredItem:
    """A search hit: the item's key, its cosine score and its payload (``key`` removed)."""

    key: str
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class SearchFilter:
    """Conditions on payload fields, all of which must hold.

    Attributes:
        equals: Field -> value (keyword, integer or bool). A list value means
            "any of"; an array field matches when any element matches.
        ranges: Field -> ``(low, high)`` inclusive bounds; ``None`` leaves a side open.
        exclude_keys: Items never returned (e.g. the query item itself).
    """

    equals: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    exclude_keys: Sequence[str] = ()

    @property
    def is_empty(self) -> bool:
        """Whether the filter has no condition."""
        return not (self.equals or self.ranges or self.exclude_keys)


@dataclass(frozen=True)
class CollectionSpec:
    """A collection: named vector sizes (cosine distance) and indexed payload fields."""

    name: str
    vector_sizes: Mapping[str, int]
    payload_indexes: Mapping[str, PayloadType] = field(default_factory=dict)


@runtime_checkable
class VectorStore(Protocol):
    """A vector database (Qdrant Edge embedded, or a Qdrant server).

    Every method raises :class:`pricegraph.errors.VectorStoreError` when the
    backend fails or refuses (unknown collection, wrong vector size, ...).
    """

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the collection and its payload indexes if missing (idempotent)."""

    def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points by key (vectors and payload replaced whole)."""

    def delete(self, collection: str, keys: Sequence[str]) -> None:
        """Delete points by key; unknown keys are ignored."""

    def payloads(self, collection: str, fields: Sequence[str] | None = None) -> dict[str, dict]:
        """Key -> payload (only ``fields`` when given) of every point."""

    def vectors(self, collection: str, keys: Sequence[str], using: str) -> dict[str, np.ndarray]:
        """Key -> vector ``using`` of the points that exist and have it."""

    def search(
        self,
        collection: str,
        vector: np.ndarray,
        *,
        using: str = "text",
        limit: int = 10,
        where: SearchFilter | None = None,
    ) -> list[ScoredItem]:
        """The ``limit`` nearest points to ``vector`` that pass ``where``."""

    def recommend(
        self,
        collection: str,
        positive: Sequence[str],
        negative: Sequence[str] = (),
        *,
        using: str = "text",
        limit: int = 10,
        where: SearchFilter | None = None,
    ) -> list[ScoredItem]:
        """Points like the ``positive`` keys and unlike the ``negative`` ones (Qdrant's
        recommend query, average-vector strategy); the examples are excluded.
        Raises ``VectorStoreError`` naming keys that are not in the collection."""

    def count(self, collection: str) -> int:
        """Number of points (0 for a collection that does not exist)."""

    def optimize(self, collection: str) -> None:
        """Build or refresh search indexes after bulk writes (no-op where automatic)."""

    def close(self) -> None:
        """Release files or connections."""


class TextEncoder(Protocol):
    """Turns texts into L2-normalised vectors."""

    @property
    def dimension(self) -> int:
        """Vector size."""

    @property
    def model_name(self) -> str:
        """Model name or path, recorded beside the vectors."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``float32 [len(texts), dimension]``, unit length rows."""


__all__ = [
    "CollectionSpec",
    "PayloadType",
    "ScoredItem",
    "SearchFilter",
    "TextEncoder",
    "VectorPoint",
    "VectorStore",
]
