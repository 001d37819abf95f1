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
from .base import CollectionSpec, VectorPoint, VectorStore
from .catalog import customer_table
from .pipeline import (
    EVENT_WEIGHTS,
    KEPT_PAYLOAD,
    CollectionReport,
    LazyEncoder,
    _write,
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
) -> CollectionReport:
    """Bring the customers collection in line with the graph and the product vectors.

    Profile texts that state demographics (:func:`~pricegraph.protected.
    texts_with_demographics`) are left out unless ``allow_demographic_text``; the
    report counts them (``withheld``).
    """
    vectors.ensure_collection(spec)
    dimension = spec.vector_sizes["text"]
    customers = customer_table(store).set_index("id")
    product_keys = list(vectors.payloads(products_collection, ["text_hash"]))
    product_vectors = vectors.vectors(products_collection, product_keys, "text")
    keys, history, events = history_vectors(
        store, product_vectors, half_life_days=half_life_days, dimension=dimension
    )
    combined = pd.DataFrame({"events": events}, index=pd.Index(keys, name="id"))
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
    profile_vectors = _profile_vectors(vectors, spec.name, profiles, stored, encoder, progress)
    with_vector = sorted(set(keys) | set(profiles.index))
    history_of = dict(zip(keys, _normalise(history), strict=True)) if len(keys) else {}
    points = []
    unchanged = 0
    for key in with_vector:
        parts = [v for v in (history_of.get(key), profile_vectors.get(key)) if v is not None]
        vector = _normalise(np.sum(parts, axis=0, keepdims=True))[0]
        row = customers.loc[key] if key in customers.index else None
        payload = {
            "country": _plain(row["country"]) if row is not None else None,
            "segment": _plain(row["segment_id"]) if row is not None else None,
            "is_anonymous": bool(_plain(row["is_anonymous"])) if row is not None else False,
            "events": int(combined["events"].get(key, 0)),
            "profile_hash": text_hash(profiles[key], encoder.model_name)
            if key in profiles.index
            else None,
        }
        digest = hashlib.sha1(
            vector.astype(np.float16).tobytes() + repr(sorted(payload.items())).encode()
        ).hexdigest()[:20]
        if stored.get(key, {}).get("content_hash") == digest:
            unchanged += 1
            continue
        named = {"text": vector}
        if key in profile_vectors:
            named["profile"] = profile_vectors[key]
        points.append(VectorPoint(key, named, {**payload, "content_hash": digest}))
    graph_vectors = other_vectors(
        vectors, spec, [p.key for p in points if p.key in stored], "text", "profile"
    )
    points = [
        VectorPoint(
            p.key,
            {**graph_vectors.get(p.key, {}), **p.vectors},
            {**kept_payload(stored.get(p.key, {}), graph_vectors.get(p.key, {})), **p.payload},
        )
        for p in points
    ]
    # points that only the encoder wrote (no text to embed) keep their graph vectors
    gone = sorted(
        k
        for k in set(stored) - set(with_vector)
        if k not in customers.index or not stored[k].get("graph_model")
    )
    if gone:
        vectors.delete(spec.name, gone)
    _write(vectors, spec.name, points, progress)
    encoded = sum(
        1
        for k in profiles.index
        if stored.get(k, {}).get("profile_hash") != text_hash(profiles[k], encoder.model_name)
    )
    return CollectionReport(
        len(customers),
        encoded,
        len(points),
        len(gone),
        unchanged,
        len(customers) - len(with_vector),
        withheld=withheld,
    )


def _profile_vectors(
    vectors: VectorStore,
    collection: str,
    profiles: pd.Series,
    stored: dict[str, dict],
    encoder: LazyEncoder,
    progress: Progress,
) -> dict[str, np.ndarray]:
    """Profile text vectors: stored ones where the text is unchanged, encoded otherwise."""
    hashes = {k: text_hash(t, encoder.model_name) for k, t in profiles.items()}
    same = [k for k in profiles.index if stored.get(k, {}).get("profile_hash") == hashes[k]]
    kept = vectors.vectors(collection, same, "profile")
    todo = [k for k in profiles.index if k not in kept]
    fresh = encoder.encode([profiles[k] for k in todo], progress, "customer profiles")
    return kept | dict(zip(todo, fresh, strict=True))


__all__ = ["history_vectors", "sync_customers"]
