"""``QdrantVectorStore``: the vector store on a Qdrant server, through ``qdrant-client``.

The production backend. It receives a ``QdrantClient``; :meth:`QdrantVectorStore.from_url`
builds one and checks that the server answers. qdrant-client's local mode
(``QdrantClient(path=...)`` or ``":memory:"``) implements the same API in
process, which is how the contract suite runs this class without a server; it is
far too slow to serve (filters evaluated in Python: ~1.6 s per filtered search at
50k points), so the embedded default is :mod:`.edge_store`.

Points, filters and the recommend query are those of :mod:`.edge_store`: ids are
UUID5 of the collection name (as the caller gives it) and the key, so an item has
the same id on both. ``collection_prefix`` is prepended to names on the server
only (the tests use it for unique names); the factory passes none, as callers
already prefix their names.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import VectorStoreError
from ._qdrant_common import (
    KEY_FIELD,
    FilterParts,
    backend_errors,
    check_collection_name,
    check_examples,
    check_limit,
    check_spec,
    check_using,
    check_vector,
    filter_parts,
    point_id,
    point_vectors,
    qdrant_filter,
    result_payload,
    scored_items,
    stored_payload,
)
from .base import CollectionSpec, ScoredItem, SearchFilter, VectorPoint

_SCROLL_PAGE = 5_000


def _models() -> Any:
    try:
        from qdrant_client import models
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise VectorStoreError("the Qdrant backend needs 'pip install qdrant-client'") from exc
    return models


class QdrantVectorStore:
    """A :class:`~pricegraph.embeddings.base.VectorStore` over a ``QdrantClient``.

    Args:
        client: A connected client (server, or local mode in tests).
        collection_prefix: Prepended to collection names on the server
            (default: ``""``).
        location: Where the server is (its URL), named in error messages; never
            the API key (default: ``None``).
        api_key: Masked out of error messages if the client echoes it
            (default: ``None``).
        upsert_batch_size: Points per upsert request (default: ``512``).
        optimize_wait_s: How long :meth:`optimize` waits for the server's
            indexing to finish, in seconds (default: ``600``).
    """

    def __init__(
        self,
        client: Any,
        *,
        collection_prefix: str = "",
        location: str | None = None,
        api_key: str | None = None,
        upsert_batch_size: int = 512,
        optimize_wait_s: float = 600.0,
    ) -> None:
        if upsert_batch_size < 1:
            raise VectorStoreError(
                f"QdrantVectorStore upsert_batch_size: expected >= 1, got {upsert_batch_size}"
            )
        self._models = _models()
        self._client = client
        self.collection_prefix = collection_prefix
        self.location = location
        self._secret = api_key or None
        self.upsert_batch_size = upsert_batch_size
        self.optimize_wait_s = optimize_wait_s
        self._sizes: dict[str, dict[str, int]] = {}

    @classmethod
    def from_url(
        cls,
        url: str,
        api_key: str | None = None,
        timeout_s: float = 10.0,
        *,
        collection_prefix: str = "",
    ) -> QdrantVectorStore:
        """Connect to the server at ``url`` and check that it answers.

        Args:
            url: Server URL, e.g. ``http://qdrant:6333``.
            api_key: API key, or ``None``.
            timeout_s: Request timeout in seconds (rounded up to whole seconds).
            collection_prefix: Prepended to collection names on the server.

        Raises:
            VectorStoreError: The server does not answer or refuses the key; the
                message names the URL, never the key.
        """
        try:
            from qdrant_client import QdrantClient
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise VectorStoreError("the Qdrant backend needs 'pip install qdrant-client'") from exc
        with backend_errors(None, "connect", location=url, secret=api_key):
            client = QdrantClient(
                url=url, api_key=api_key, timeout=timeout_s, check_compatibility=False
            )
        store = cls(client, collection_prefix=collection_prefix, location=url, api_key=api_key)
        with backend_errors(None, f"connect within {timeout_s:g} s", location=url, secret=api_key):
            client.get_collections()
        return store

    def __repr__(self) -> str:
        where = self.location or "local"
        return f"{type(self).__name__}({where!r}, collection_prefix={self.collection_prefix!r})"

    def _errors(self, collection: str | None, operation: str) -> Any:
        return backend_errors(collection, operation, location=self.location, secret=self._secret)

    def _name(self, collection: str) -> str:
        return self.collection_prefix + check_collection_name(collection)

    # -- collections ------------------------------------------------------------------

    def _vector_sizes(self, collection: str) -> dict[str, int]:
        """Named vector sizes of ``collection`` (cached); raises if it does not exist."""
        sizes = self._sizes.get(collection)
        if sizes is not None:
            return sizes
        name = self._name(collection)
        with self._errors(collection, "read collection"):
            if not self._client.collection_exists(name):
                raise VectorStoreError(
                    f"unknown collection {collection!r} (Qdrant name {name!r}): "
                    "create it with ensure_collection"
                )
            vectors = self._client.get_collection(name).config.params.vectors
        if isinstance(vectors, dict):
            sizes = {str(vname): int(params.size) for vname, params in vectors.items()}
        else:  # a single unnamed vector: not made by this store
            sizes = {"": int(vectors.size)} if vectors is not None else {}
        self._sizes[collection] = sizes
        return sizes

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the collection and its payload indexes if missing (idempotent).

        Raises:
            VectorStoreError: No vectors in ``spec``, an existing collection whose
                vectors differ from ``spec`` (drop and re-create it), or the server fails.
        """
        check_spec(spec)
        models = self._models
        name = self._name(spec.name)
        self._sizes.pop(spec.name, None)
        with self._errors(spec.name, "ensure collection"):
            if not self._client.collection_exists(name):
                vectors = {
                    vname: models.VectorParams(size=size, distance=models.Distance.COSINE)
                    for vname, size in spec.vector_sizes.items()
                }
                try:
                    self._client.create_collection(name, vectors_config=vectors)
                except Exception:
                    if not self._client.collection_exists(name):  # not a lost race: a failure
                        raise
            stored = self._vector_sizes(spec.name)
            if stored != dict(spec.vector_sizes):
                self._sizes.pop(spec.name, None)
                raise VectorStoreError(
                    f"collection {spec.name!r} exists with vectors {stored}, expected "
                    f"{dict(spec.vector_sizes)}: drop it and re-create it"
                )
            existing = set(self._client.get_collection(name).payload_schema or {})
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Payload indexes have no effect")
                for field_name, kind in spec.payload_indexes.items():
                    if field_name not in existing:
                        schema = models.PayloadSchemaType(kind)
                        self._client.create_payload_index(
                            name, field_name, field_schema=schema, wait=True
                        )

    def drop_collection(self, collection: str) -> None:
        """Delete ``collection`` on the server (no-op when it does not exist)."""
        name = self._name(collection)
        self._sizes.pop(collection, None)
        with self._errors(collection, "drop collection"):
            if self._client.collection_exists(name):
                self._client.delete_collection(name)

    # -- writes -----------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points by key; returns once the server has applied them.

        Raises:
            VectorStoreError: Unknown collection, unknown vector name, a vector of
                the wrong size, a reserved ``key`` payload field, or the server fails.
        """
        sizes = self._vector_sizes(collection)
        name = self._name(collection)
        models = self._models
        batch: list[Any] = []
        for point in points:
            payload = stored_payload(collection, point.key, point.payload)
            vectors = {
                vname: vector.tolist()
                for vname, vector in point_vectors(collection, point, sizes).items()
            }
            pid = point_id(collection, point.key)
            batch.append(models.PointStruct(id=pid, vector=vectors, payload=payload))
            if len(batch) >= self.upsert_batch_size:
                self._upsert_batch(collection, name, batch)
                batch = []
        if batch:
            self._upsert_batch(collection, name, batch)

    def _upsert_batch(self, collection: str, name: str, batch: list[Any]) -> None:
        with self._errors(collection, "upsert"):
            self._client.upsert(name, points=batch, wait=True)

    def delete(self, collection: str, keys: Sequence[str]) -> None:
        """Delete points by key (unknown keys ignored)."""
        self._vector_sizes(collection)
        if not keys:
            return
        ids = [point_id(collection, key) for key in keys]
        with self._errors(collection, "delete"):
            self._client.delete(
                self._name(collection),
                points_selector=self._models.PointIdsList(points=ids),
                wait=True,
            )

    def optimize(self, collection: str) -> None:
        """Wait (up to ``optimize_wait_s``) until the server has indexed ``collection``.

        The server builds its indexes by itself; this only waits for its status to
        turn green, so that timings after it reflect the built index.
        """
        self._vector_sizes(collection)
        name = self._name(collection)
        deadline = time.monotonic() + self.optimize_wait_s
        with self._errors(collection, "optimize"):
            while time.monotonic() < deadline:
                status = self._client.get_collection(name).status
                if status == self._models.CollectionStatus.GREEN:
                    return
                time.sleep(0.5)

    # -- reads ------------------------------------------------------------------------

    def count(self, collection: str) -> int:
        """Number of points (0 for a collection that does not exist)."""
        name = self._name(collection)
        with self._errors(collection, "count"):
            if collection not in self._sizes and not self._client.collection_exists(name):
                return 0
            return int(self._client.count(name, exact=True).count)

    def payloads(self, collection: str, fields: Sequence[str] | None = None) -> dict[str, dict]:
        """Key -> payload (only ``fields`` when given, ``key`` removed) of every point."""
        self._vector_sizes(collection)
        name = self._name(collection)
        selector: Any = True if fields is None else [KEY_FIELD, *fields]
        result: dict[str, dict] = {}
        offset = None
        with self._errors(collection, "payloads"):
            while True:
                records, offset = self._client.scroll(
                    name,
                    limit=_SCROLL_PAGE,
                    offset=offset,
                    with_payload=selector,
                    with_vectors=False,
                )
                result.update(result_payload(record.payload) for record in records)
                if offset is None or not records:
                    return result

    def vectors(self, collection: str, keys: Sequence[str], using: str) -> dict[str, np.ndarray]:
        """Key -> float32 vector ``using`` (unit length: cosine stores it normalised)."""
        check_using(collection, using, self._vector_sizes(collection), "vectors")
        ids = {point_id(collection, key): key for key in keys}
        if not ids:
            return {}
        with self._errors(collection, "vectors"):
            records = self._client.retrieve(
                self._name(collection), list(ids), with_payload=False, with_vectors=[using]
            )
        found = {}
        for record in records:
            vector = record.vector.get(using) if isinstance(record.vector, dict) else None
            if vector is not None:
                found[ids[str(record.id)]] = np.asarray(vector, dtype=np.float32)
        return found

    def search(
        self,
        collection: str,
        vector: np.ndarray,
        *,
        using: str = "text",
        limit: int = 10,
        where: SearchFilter | None = None,
    ) -> list[ScoredItem]:
        """The ``limit`` nearest points to ``vector`` (cosine) that pass ``where``."""
        sizes = self._vector_sizes(collection)
        query = check_vector(vector, collection, using, sizes, "search").tolist()
        return self._query(collection, query, using, limit, filter_parts(collection, where))

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
        """Qdrant's recommend query (average-vector strategy); examples are excluded.

        Raises:
            VectorStoreError: No positive key, or example keys that are not in the
                collection (named in the message).
        """
        check_examples(collection, positive, negative)
        check_using(collection, using, self._vector_sizes(collection), "recommend")
        models = self._models
        query = models.RecommendQuery(
            recommend=models.RecommendInput(
                positive=[point_id(collection, key) for key in positive],
                negative=[point_id(collection, key) for key in negative],
                strategy=models.RecommendStrategy.AVERAGE_VECTOR,
            )
        )
        try:
            return self._query(collection, query, using, limit, filter_parts(collection, where))
        except VectorStoreError:  # name the missing examples, if that was the cause
            examples = self.vectors(collection, [*positive, *negative], using)
            check_examples(collection, positive, negative, examples)
            raise

    def close(self) -> None:
        """Close the client's connections (idempotent)."""
        with self._errors(None, "close"):
            self._client.close()

    # -- helpers ----------------------------------------------------------------------

    def _query(
        self, collection: str, query: Any, using: str, limit: int, parts: FilterParts
    ) -> list[ScoredItem]:
        check_limit(collection, limit)
        with self._errors(collection, "search"):
            response = self._client.query_points(
                self._name(collection),
                query=query,
                using=using,
                limit=limit,
                query_filter=qdrant_filter(
                    self._models,
                    parts,
                    range_type="Range",
                    has_id=lambda ids: self._models.HasIdCondition(has_id=ids),
                ),
                with_payload=True,
                with_vectors=False,
            )
        return scored_items((hit.payload, hit.score) for hit in response.points)


__all__ = ["QdrantVectorStore"]
