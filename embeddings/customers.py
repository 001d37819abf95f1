"""Customer vectors: a recency-weighted mean of their products, plus their profile text.

The formula is in :mod:`pricegraph.embeddings.pipeline`.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from rich.progress import Progress
from scipy import sparse

from ..graph.base import GraphStore
from ..plain import plain_value as _plain
from ..protected import texts_with_demographics
from . import pipeline as _pipeline
from .base import CollectionSpec, VectorPoint, VectorStore
from .catalog import customer_table
from .pipeline import (
    EVENT_WEIGHTS,
    KEPT_PAYLOAD,
    WRITE_BATCH,
    CollectionReport,
    LazyEncoder,
    kept_payload,
    other_vectors,
)
from .texts import customer_profile_text, text_hash

_SECONDS_PER_DAY = 86_400.0


def history_vectors(
    store: GraphStore,
    product_vectors: dict[str, np.ndarray],
    *,
    half_life_days: float,
    dimension: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unnormalised history vectors of every customer with events.

    Returns:
        ``(customer_keys [n], vectors float32 [n, dimension], events int [n])``:
        only customers with at least one event on a product that has a vector.
    """
    rows, cols, stamps, weights = [], [], [], []
    customer_ids = product_ids = None
    for rel_type, weight in EVENT_WEIGHTS.items():
        arrays = store.edge_arrays(rel_type)
        customer_ids, product_ids = arrays.source_ids, arrays.target_ids
        if arrays.num_edges == 0:
            continue
        rows.append(arrays.edge_index[0])
        cols.append(arrays.edge_index[1])
        ts = arrays.properties["ts"].astype("datetime64[s]").astype(np.int64)
        stamps.append(ts.astype(np.float64))
        weights.append(np.full(arrays.num_edges, weight))
    if not rows or customer_ids is None or product_ids is None:
        empty = np.empty(0, dtype=object)
        return empty, np.zeros((0, dimension), np.float32), np.zeros(0, np.int64)
    row, col = np.concatenate(rows), np.concatenate(cols)
    ts, weight = np.concatenate(stamps), np.concatenate(weights)
    matrix = np.zeros((len(product_ids), dimension), dtype=np.float32)
    has_vector = np.zeros(len(product_ids), dtype=bool)
    for i, key in enumerate(product_ids):
        vector = product_vectors.get(key)
        if vector is not None:
            matrix[i], has_vector[i] = vector, True
    keep = has_vector[col]
    row, col, ts, weight = row[keep], col[keep], ts[keep], weight[keep]
    latest = np.full(len(customer_ids), -np.inf)
    np.maximum.at(latest, row, ts)
    age_days = (latest[row] - ts) / _SECONDS_PER_DAY
    weight = weight * np.power(0.5, age_days / half_life_days)
    mix = sparse.csr_matrix((weight, (row, col)), shape=(len(customer_ids), len(product_ids)))
    summed = np.asarray(mix @ matrix, dtype=np.float32)
    events = np.bincount(row, minlength=len(customer_ids))
    present = events > 0
    return customer_ids[present], summed[present], events[present]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def sync_customers(
    store: GraphStore,
    vectors: VectorStore,
    spec: CollectionSpec,
    products_collection: str,
    encoder: LazyEncoder,
    progress: Progress,
    *,
    half_life_days: float,
    allow_demographic_text: bool = False,
    limit: int | None = None,
) -> CollectionReport:
    """Bring the customers collection in line with the graph and the product vectors.

    Customers whose point would change (new or changed profile text, history or
    payload) are written :data:`~pricegraph.embeddings.pipeline.EMBED_CHUNK` at a
    time, in key order: the profile texts of a chunk are encoded, then the chunk is
    written, then the next chunk is encoded. Only profile texts whose stored
    ``profile_hash`` differs are encoded; the others reuse the stored ``profile``
    vector. A stopped run keeps the chunks it wrote and the next run does the rest.

    Profile texts that state demographics (:func:`~pricegraph.protected.
    texts_with_demographics`) are left out unless ``allow_demographic_text``; the
    report counts them (``withheld``).

    Args:
        store: The graph (customers, their events).
        vectors: The vector store.
        spec: The customers collection.
        products_collection: Where the product text vectors are read from.
        encoder: Encodes profile texts; loaded on first use.
        progress: Gets one task, advanced after each written chunk.
        half_life_days: Half-life of the history weights, in days.
        allow_demographic_text: Embed profile texts that state demographics too.
        limit: At most this many customers written by this run (``None``: all);
            the rest are counted in ``left`` and written by a later run.
    """
    vectors.ensure_collection(spec)
    dimension = spec.vector_sizes["text"]
    customers = customer_table(store).set_index("id")
    product_keys = list(vectors.payloads(products_collection, ["text_hash"]))
    product_vectors = vectors.vectors(products_collection, product_keys, "text")
    keys, history, events = history_vectors(
        store, product_vectors, half_life_days=half_life_days, dimension=dimension
    )
    profiles = pd.Series(
        [
            customer_profile_text(p, c)
            for p, c in zip(customers["profile_text"], customers["country"], strict=True)
        ],
        index=customers.index,
    )
    profiles = profiles[profiles != ""]
    withheld = 0
    if not allow_demographic_text and len(profiles):
        stating = texts_with_demographics(customers.loc[profiles.index, "profile_text"])
        withheld = len(stating)
        profiles = profiles.drop(stating.index)
    stored = vectors.payloads(spec.name, ["profile_hash", "content_hash", *KEPT_PAYLOAD])
    parts = _CustomerParts(
        customers,
        dict(zip(keys, _normalise(history), strict=True)) if len(keys) else {},
        dict(zip(keys, events.tolist(), strict=True)) if len(keys) else {},
        {k: text_hash(t, encoder.model_name) for k, t in profiles.items()},
    )
    with_vector = sorted(set(keys) | set(profiles.index))
    # points that only the encoder wrote (no text to embed) keep their graph vectors
    gone = sorted(
        k
        for k in set(stored) - set(with_vector)
        if k not in customers.index or not stored[k].get("graph_model")
    )
    if gone:
        vectors.delete(spec.name, gone)
    needs_text = {
        k for k, h in parts.profile_hashes.items() if stored.get(k, {}).get("profile_hash") != h
    }
    chunk = _pipeline.EMBED_CHUNK  # read at call time, like sync_collection's
    todo, unchanged = [], 0
    for start in range(0, len(with_vector), chunk):  # what changed, without the model
        block = with_vector[start : start + chunk]
        reuse = [k for k in block if k in parts.profile_hashes and k not in needs_text]
        kept = vectors.vectors(spec.name, reuse, "profile")
        for key in block:
            if key in parts.profile_hashes and key not in needs_text and key not in kept:
                needs_text.add(key)  # a stored hash without its vector: encode again
            if key in needs_text:
                todo.append(key)
                continue
            digest = parts.point(key, kept.get(key)).payload["content_hash"]
            if stored.get(key, {}).get("content_hash") == digest:
                unchanged += 1
            else:
                todo.append(key)
    left = 0
    if limit is not None and len(todo) > limit:
        todo, left = todo[:limit], len(todo) - limit
    task = progress.add_task(f"embedding {spec.name}", total=len(todo))
    encoded = 0
    for start in range(0, len(todo), chunk):
        part = todo[start : start + chunk]
        fresh_keys = [k for k in part if k in needs_text]
        fresh = encoder.encode_quietly([profiles[k] for k in fresh_keys])
        encoded += len(fresh_keys)
        reused = [k for k in part if k in parts.profile_hashes and k not in needs_text]
        profile_of = vectors.vectors(spec.name, reused, "profile") | dict(
            zip(fresh_keys, fresh, strict=True)
        )
        others = other_vectors(vectors, spec, [k for k in part if k in stored], "text", "profile")
        points = []
        for key in part:
            point = parts.point(key, profile_of.get(key))
            kept_vectors = others.get(key, {})
            points.append(
                VectorPoint(
                    key,
                    {**kept_vectors, **point.vectors},
                    {**kept_payload(stored.get(key, {}), kept_vectors), **point.payload},
                )
            )
        for at in range(0, len(points), WRITE_BATCH):
            vectors.upsert(spec.name, points[at : at + WRITE_BATCH])
        progress.advance(task, len(points))
    if todo:
        vectors.optimize(spec.name)
    return CollectionReport(
        len(customers),
        encoded,
        len(todo),
        len(gone),
        unchanged,
        len(customers) - len(with_vector),
        left,
        withheld=withheld,
    )


class _CustomerParts:
    """What a customer's point is made of: history vector, events, profile hash, table row."""

    def __init__(
        self,
        customers: pd.DataFrame,
        history_of: dict[str, np.ndarray],
        events_of: dict[str, int],
        profile_hashes: dict[str, str],
    ) -> None:
        self.customers, self.history_of = customers, history_of
        self.events_of, self.profile_hashes = events_of, profile_hashes

    def point(self, key: str, profile: np.ndarray | None) -> VectorPoint:
        """The point of ``key`` with ``profile`` (its profile text vector, if any):
        ``text`` (and ``profile``) vectors, payload with its ``content_hash``."""
        parts = [v for v in (self.history_of.get(key), profile) if v is not None]
        vector = _normalise(np.sum(parts, axis=0, keepdims=True))[0]
        row = self.customers.loc[key] if key in self.customers.index else None
        payload = {
            "country": _plain(row["country"]) if row is not None else None,
            "segment": _plain(row["segment_id"]) if row is not None else None,
            "is_anonymous": bool(_plain(row["is_anonymous"])) if row is not None else False,
            "events": int(self.events_of.get(key, 0)),
            "profile_hash": self.profile_hashes.get(key),
        }
        digest = hashlib.sha1(
            vector.astype(np.float16).tobytes() + repr(sorted(payload.items())).encode()
        ).hexdigest()[:20]
        named = {"text": vector} if profile is None else {"text": vector, "profile": profile}
        return VectorPoint(key, named, {**payload, "content_hash": digest})


__all__ = ["history_vectors", "sync_customers"]
