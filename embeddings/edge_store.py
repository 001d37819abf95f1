"""``EdgeVectorStore``: the embedded vector store on Qdrant Edge (``qdrant-edge-py``).

Each collection is one Edge shard in its own folder, ``path/<collection>``, with
named cosine vectors and payload indexes, so points, filters and recommend
queries behave as on a Qdrant server (:mod:`.qdrant_store`).

How Edge searches (measured on 384-d vectors by ``bench/bench_vectors.py``):

* Written points land in a plain segment, searched exactly (brute force, ~3 ms
  at 50k points). ``optimize()`` builds the HNSW graph, only for segments above
  Edge's indexing threshold (10 MB of vectors: ~6.6k points at 384-d, ~160k at
  16-d): smaller collections stay exact. Points written after ``optimize()`` go
  to a new plain segment, searched exactly beside the graph.
* A filtered search whose payload-index estimate keeps fewer than
  ``full_scan_max_points`` points is scored exactly through the index (recall
  1.0, ~2 ms at 50k); larger ones walk the graph with the filter, which lost up
  to 10% of the true neighbours in our measurements.

Writes go to Edge's write-ahead log (which survives a killed process) and each
``upsert``/``delete`` call ends with ``flush()``, so data is on disk when it
returns; a flush costs 10-20 ms, so pass large batches. The WAL of a collection
is ~100-150 MB of sparse files (tens of MB really used).

The store belongs to one process: Edge locks each shard folder, and a second
process (or a second store on the same folder) gets a :class:`VectorStoreError`.
"""

from __future__ import annotations

import json
import math
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VectorStoreError
from ._qdrant_common import (
    KEY_FIELD,
    FilterParts,
    average_vector,
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

_CONFIG_FILE = "edge_config.json"
_SCROLL_PAGE = 10_000


class EdgeVectorStore:
    """A :class:`~pricegraph.embeddings.base.VectorStore` in local Qdrant Edge shards.

    Args:
        path: Folder holding one shard folder per collection (created if missing).
        hnsw_m: Edges per node of the HNSW graph (default: ``16``).
        ef_construct: Candidates while building the graph (default: ``100``).
        search_ef: Candidates while searching the graph; higher is slower and
            closer to exact (default: ``256``).
        full_scan_max_points: Filtered searches expected to keep fewer points, and
            segments with fewer points, are scored exactly; Qdrant's
            ``full_scan_threshold`` in points, converted to KB per vector size
            (default: ``20_000``).
        upsert_batch_size: Points per Edge update call (default: ``2048``).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        hnsw_m: int = 16,
        ef_construct: int = 100,
        search_ef: int = 256,
        full_scan_max_points: int = 20_000,
        upsert_batch_size: int = 2048,
    ) -> None:
        try:
            import qdrant_edge
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise VectorStoreError("the embedded store needs 'pip install qdrant-edge-py'") from exc
        self._edge = qdrant_edge
        self.path = Path(path)
        self.hnsw_m = hnsw_m
        self.ef_construct = ef_construct
        self.search_ef = search_ef
        self.full_scan_max_points = full_scan_max_points
        self.upsert_batch_size = upsert_batch_size
        if min(hnsw_m, ef_construct, search_ef, full_scan_max_points, upsert_batch_size) < 1:
            raise VectorStoreError(f"parameters must be >= 1, got {self!r}")
        self._shards: dict[str, Any] = {}
        self._sizes: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()
        self._is_closed = False
        with backend_errors(None, f"create the vector store folder {self.path}"):
            self.path.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.path)!r}, hnsw_m={self.hnsw_m}, "
            f"ef_construct={self.ef_construct}, search_ef={self.search_ef}, "
            f"full_scan_max_points={self.full_scan_max_points}, "
            f"upsert_batch_size={self.upsert_batch_size})"
        )

    # -- shards -----------------------------------------------------------------------

    def _folder(self, collection: str) -> Path:
        return self.path / check_collection_name(collection)

    def _exists(self, collection: str) -> bool:
        return collection in self._shards or (self._folder(collection) / _CONFIG_FILE).exists()

    def _check_open(self) -> None:
        if self._is_closed:
            raise VectorStoreError(f"the vector store at {self.path} is closed")

    def _open(self, collection: str, config: Any | None) -> Any:
        """Load an existing shard (with ``config``: also check it and store it)."""
        try:
            return self._edge.EdgeShard.load(str(self._folder(collection)), config)
        except Exception as exc:
            hint = " (open in another process or store?)" if "WouldBlock" in str(exc) else ""
            raise VectorStoreError(
                f"open collection {collection!r} at {self._folder(collection)} failed: {exc}{hint}"
            ) from exc

    def _shard(self, collection: str) -> Any:
        """The open shard of ``collection``, loaded from disk on first use."""
        self._check_open()
        if collection in self._shards:
            return self._shards[collection]
        with self._lock:
            if collection not in self._shards:
                if not self._exists(collection):
                    raise VectorStoreError(
                        f"unknown collection {collection!r}: no shard at "
                        f"{self._folder(collection)} (create it with ensure_collection)"
                    )
                self._shards[collection] = self._open(collection, None)
                self._sizes.setdefault(collection, _stored_sizes(self._folder(collection)))
            return self._shards[collection]

    def _config(self, spec: CollectionSpec) -> Any:
        edge = self._edge
        vectors = {}
        for name, size in spec.vector_sizes.items():
            threshold_kb = math.ceil(self.full_scan_max_points * size * 4 / 1024)
            hnsw = edge.HnswIndexConfig(
                m=self.hnsw_m, ef_construct=self.ef_construct, full_scan_threshold=threshold_kb
            )
            vectors[name] = edge.EdgeVectorParams(size, edge.Distance.Cosine, hnsw_config=hnsw)
        return edge.EdgeConfig(vectors=vectors)

    def ensure_collection(self, spec: CollectionSpec) -> None:
        """Create the shard and its payload indexes if missing (idempotent).

        A shard opened here gets this store's index parameters (the next
        :meth:`optimize` rebuilds a graph built with others). Payload indexes are
        created before points are written, so Edge fills them as points arrive.

        Raises:
            VectorStoreError: An invalid spec, vector sizes that differ from the
                stored ones (drop and re-create), or Edge fails.
        """
        self._check_open()
        check_spec(spec)
        edge, folder = self._edge, self._folder(spec.name)
        with self._lock:
            exists = (folder / _CONFIG_FILE).exists()
            stored = (self._sizes.get(spec.name) or _stored_sizes(folder)) if exists else {}
            if stored and stored != dict(spec.vector_sizes):
                raise VectorStoreError(
                    f"collection {spec.name!r} exists with vectors {stored}, expected "
                    f"{dict(spec.vector_sizes)}: drop it and re-create it"
                )
            if spec.name not in self._shards:
                config = self._config(spec)
                if exists:
                    self._shards[spec.name] = self._open(spec.name, config)
                else:
                    with backend_errors(spec.name, "create collection"):
                        self._shards[spec.name] = edge.EdgeShard.create(str(folder), config)
            self._sizes[spec.name] = dict(spec.vector_sizes)
            shard = self._shards[spec.name]
        with backend_errors(spec.name, "create payload indexes"):
            existing = set(shard.info().payload_schema)
            for field_name, kind in spec.payload_indexes.items():
                if field_name not in existing:
                    schema = getattr(edge.PayloadSchemaType, kind.capitalize())
                    shard.update(edge.UpdateOperation.create_field_index(field_name, schema))
            shard.flush()

    def drop_collection(self, collection: str) -> None:
        """Delete ``collection`` and its folder (no-op when it does not exist)."""
        self._check_open()
        folder = self._folder(collection)
        with self._lock, backend_errors(collection, "drop collection"):
            shard = self._shards.pop(collection, None)
            self._sizes.pop(collection, None)
            if shard is not None:
                shard.close()
            if folder.exists():
                shutil.rmtree(folder)

    # -- writes -----------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[VectorPoint]) -> None:
        """Insert or replace points by key, then flush (durable on return).

        Raises:
            VectorStoreError: Unknown collection, unknown vector name, a vector of
                the wrong size, a reserved ``key`` payload field, or Edge fails.
        """
        shard, edge = self._shard(collection), self._edge
        sizes = self._sizes.get(collection, {})
        batch: list[Any] = []
        with backend_errors(collection, "upsert"):
            for point in points:
                payload = stored_payload(collection, point.key, point.payload)
                vectors = point_vectors(collection, point, sizes)
                batch.append(edge.Point(point_id(collection, point.key), vectors, payload))
                if len(batch) >= self.upsert_batch_size:
                    shard.update(edge.UpdateOperation.upsert_points(batch))
                    batch = []
            if batch:
                shard.update(edge.UpdateOperation.upsert_points(batch))
            if points:
                shard.flush()

    def delete(self, collection: str, keys: Sequence[str]) -> None:
        """Delete points by key (unknown keys ignored), then flush."""
        shard = self._shard(collection)
        if keys:
            with backend_errors(collection, "delete"):
                ids = [point_id(collection, key) for key in keys]
                shard.update(self._edge.UpdateOperation.delete_points(ids))
                shard.flush()

    def optimize(self, collection: str) -> None:
        """Build the HNSW graph of segments above the indexing threshold, and merge.

        Blocking: 11-22 s for 50k 384-d points on 2 cores (m=16, ef_construct=100);
        ~0 s when nothing changed or only a small plain segment was added. Until it
        has run, searches are exact (brute force).
        """
        shard = self._shard(collection)
        with backend_errors(collection, "optimize"):
            shard.optimize()
            shard.flush()

    # -- reads ------------------------------------------------------------------------

    def count(self, collection: str) -> int:
        """Number of points (0 for a collection that does not exist)."""
        self._check_open()
        if not self._exists(collection):
            return 0
        shard = self._shard(collection)
        with backend_errors(collection, "count"):
            return int(shard.count(self._edge.CountRequest(exact=True)))

    def payloads(self, collection: str, fields: Sequence[str] | None = None) -> dict[str, dict]:
        """Key -> payload (only ``fields`` when given, ``key`` removed) of every point."""
        shard, edge = self._shard(collection), self._edge
        selector = True if fields is None else edge.PayloadSelector.Include([KEY_FIELD, *fields])
        result: dict[str, dict] = {}
        offset = None
        with backend_errors(collection, "payloads"):
            while True:
                request = edge.ScrollRequest(
                    offset=offset, limit=_SCROLL_PAGE, with_payload=selector, with_vector=False
                )
                records, offset = shard.scroll(request)
                result.update(result_payload(record.payload) for record in records)
                if offset is None or not records:
                    return result

    def vectors(self, collection: str, keys: Sequence[str], using: str) -> dict[str, np.ndarray]:
        """Key -> float32 vector ``using`` (unit length: cosine stores it normalised)."""
        shard = self._shard(collection)
        check_using(collection, using, self._sizes.get(collection, {}), "vectors")
        ids = {point_id(collection, key): key for key in keys}
        if not ids:
            return {}
        with backend_errors(collection, "vectors"):
            records = shard.retrieve(list(ids), with_payload=False, with_vector=[using])
        return {
            ids[str(record.id)]: np.asarray(record.vector[using], dtype=np.float32)
            for record in records
            if record.vector and using in record.vector
        }

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
        shard = self._shard(collection)
        query = check_vector(vector, collection, using, self._sizes.get(collection, {}), "search")
        return self._nearest(
            shard, collection, query, using, limit, filter_parts(collection, where)
        )

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
        """Points near ``2·mean(positive) − mean(negative)``, examples excluded.

        Qdrant's average-vector recommend query, computed from the stored
        (normalised) example vectors as the server does.

        Raises:
            VectorStoreError: No positive key, or example keys that are not in the
                collection (named in the message).
        """
        check_examples(collection, positive, negative)
        examples = self.vectors(collection, [*positive, *negative], using)
        check_examples(collection, positive, negative, examples)
        query = average_vector(
            np.stack([examples[key] for key in positive]),
            np.stack([examples[key] for key in negative]) if negative else None,
        )
        parts = filter_parts(collection, where)
        parts.exclude_ids.extend(point_id(collection, key) for key in (*positive, *negative))
        return self._nearest(self._shard(collection), collection, query, using, limit, parts)

    def close(self) -> None:
        """Flush and close every open shard (idempotent); the store is unusable after."""
        errors = []
        with self._lock:
            for name, shard in self._shards.items():
                try:
                    shard.flush()
                    shard.close()
                except Exception as exc:  # keep closing the others
                    errors.append(f"{name}: {exc}")
            self._shards.clear()
            self._is_closed = True
        if errors:
            raise VectorStoreError(f"close of the vector store at {self.path} failed: {errors}")

    def _nearest(
        self, shard: Any, collection: str, query: np.ndarray, using: str, limit: int, parts: Any
    ) -> list[ScoredItem]:
        check_limit(collection, limit)
        edge = self._edge
        request = edge.QueryRequest(
            limit=limit,
            query=edge.Query.Nearest(query, using=using),
            filter=_edge_filter(edge, parts),
            with_payload=True,
            params=edge.SearchParams(hnsw_ef=max(self.search_ef, limit)),
        )
        with backend_errors(collection, "search"):
            hits = shard.query(request)
        return scored_items((hit.payload, hit.score) for hit in hits)


def _edge_filter(edge: Any, parts: FilterParts) -> Any | None:
    """The Edge filter of ``parts``.

    qdrant-edge-py 0.9 reads a Python bool in ``MatchValue`` as an integer
    (True -> 1), which matches no bool payload; a numpy bool is read as a bool.
    """
    return qdrant_filter(
        edge,
        parts,
        range_type="RangeFloat",
        has_id=lambda ids: edge.HasIdCondition(point_ids=set(ids)),
        match_value=lambda value: np.bool_(value) if isinstance(value, bool) else value,
    )


def _stored_sizes(folder: Path) -> dict[str, int]:
    """Vector sizes in a shard's config file ({} if unreadable: Edge then checks)."""
    try:
        vectors = json.loads((folder / _CONFIG_FILE).read_text())["vectors"]
        return {str(name): int(params["size"]) for name, params in vectors.items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


__all__ = ["EdgeVectorStore"]
