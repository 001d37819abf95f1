"""``embed_catalog``: incremental embedding of products, brands and customers.

Each point carries two hashes in its payload: ``text_hash`` (the text and the
model; equal means no model work) and ``content_hash`` (text, payload and, for
customers, the vector itself; equal means nothing to write). A run encodes only
new or changed texts, rewrites only changed points, and deletes the points of
items that are gone, so a second run over an unchanged graph does no model work
and writes nothing.

Texts are encoded and written :data:`EMBED_CHUNK` items at a time, so a run that is
stopped keeps what it wrote and the next run resumes with the rest (a point is
written only with its hashes). ``limit`` caps the items a run encodes or rewrites per
collection, customers included; those left are counted (``left``) for a later run.
Customers are synced only once every product with a text has its current text vector.

Customer vectors come from their history: with :math:`v_p` the text vector of
product :math:`p`, event weights :math:`w_e` (purchase 1.0, cart 0.5, view 0.25)
and half-life :math:`h` days before the customer's latest event :math:`t^*`,

.. math::

    u_c = \\mathrm{normalize}\\Big(\\sum_{e \\in E_c} w_e\\, 2^{-(t^* - t_e)/h}\\, v_{p_e}\\Big),
    \\qquad x_c = \\mathrm{normalize}(u_c + v^{\\text{profile}}_c)

where :math:`v^{\\text{profile}}_c` is the embedding of the customer's profile text
(omitted when there is none; a customer with neither gets no vector).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rich.progress import Progress

from ..graph.base import GraphStore
from ..plain import plain_value as _plain
from .base import CollectionSpec, TextEncoder, VectorPoint, VectorStore
from .catalog import price_bands, product_table
from .texts import brand_text, product_text, text_hash

EVENT_WEIGHTS = {"PURCHASED": 1.0, "ADDED_TO_CART": 0.5, "VIEWED": 0.25}
"""Weight of each event type in a customer's history vector."""

WRITE_BATCH = 1024
"""Points per vector-store upsert."""
EMBED_CHUNK = 2048
"""Items encoded, then written, per step of :func:`sync_collection` and of
:func:`~pricegraph.embeddings.customers.sync_customers`."""


@dataclass(frozen=True)
class CollectionReport:
    """What a run did to one collection."""

    items: int = 0
    encoded: int = 0
    written: int = 0
    deleted: int = 0
    unchanged: int = 0
    without_vector: int = 0
    left: int = 0
    """Items that need writing but were left for a later run by ``limit``."""
    withheld: int = 0
    """Customer profile texts left out because they state demographics."""


@dataclass(frozen=True)
class EmbedReport:
    """Per-collection reports and the model work of a run."""

    collections: dict[str, CollectionReport] = field(default_factory=dict)
    model_calls: int = 0
    texts_encoded: int = 0
    products_without_vector: int = 0
    """Products with a text but no current text vector when customers were asked for;
    above 0, the customers were not synced."""

    def as_frame(self) -> pd.DataFrame:
        """One row per collection."""
        return pd.DataFrame(
            [{"collection": name, **vars(report)} for name, report in self.collections.items()]
        )


def collection_specs(prefix: str, text_dim: int, graph_dim: int) -> dict[str, CollectionSpec]:
    """The ``products``, ``customers`` and ``brands`` collections and their indexes."""
    vectors = {"text": text_dim, "graph": graph_dim}
    return {
        "products": CollectionSpec(
            f"{prefix}products",
            vectors,
            {
                "brand": "keyword",
                "categories": "keyword",
                "price": "float",
                "price_band": "keyword",
                "in_stock": "bool",
            },
        ),
        "customers": CollectionSpec(
            f"{prefix}customers",
            {**vectors, "profile": text_dim},
            {"segment": "keyword", "country": "keyword", "is_anonymous": "bool"},
        ),
        "brands": CollectionSpec(f"{prefix}brands", vectors, {"tier": "keyword"}),
    }


class LazyEncoder:
    """Loads the encoder on first use, so a run with nothing to encode never loads it.

    Attributes:
        calls: Encoder forward passes (batches) run through this wrapper.
        texts_encoded: Texts encoded through this wrapper.
    """

    def __init__(self, factory: Callable[[], TextEncoder], model_name: str) -> None:
        self._factory, self._encoder = factory, None
        self.model_name = model_name
        self.calls = 0
        self.texts_encoded = 0

    @property
    def encoder(self) -> TextEncoder:
        """The loaded encoder."""
        if self._encoder is None:
            self._encoder = self._factory()
        return self._encoder

    @property
    def is_loaded(self) -> bool:
        """Whether the model has been loaded."""
        return self._encoder is not None

    def encode(
        self, texts: list[str], progress: Progress, what: str, batch: int = 512
    ) -> np.ndarray:
        """Encode with a progress bar, ``batch`` texts per step.

        Texts are encoded shortest first (as ``SentenceTransformer.encode`` does
        within one call), so steps pad little, and come back in their given order.
        """
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        task = progress.add_task(f"encoding {what}", total=len(texts))
        order = np.argsort([len(t) for t in texts], kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(texts), batch):
            rows = order[start : start + batch]
            before = getattr(self.encoder, "calls", 0)
            vectors = self.encoder.encode([texts[i] for i in rows])
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            self.calls += max(getattr(self.encoder, "calls", 0) - before, 1)
            self.texts_encoded += len(rows)
            progress.advance(task, len(rows))
        assert out is not None  # texts is not empty
        return out

    def encode_quietly(self, texts: list[str], batch: int = 512) -> np.ndarray:
        """:meth:`encode` without a progress task (the caller shows progress)."""
        quiet = Progress(disable=True)
        return self.encode(texts, quiet, "", batch)


def _content_hash(parts: list[Any]) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha1(blob).hexdigest()[:20]


def sync_collection(
    vectors: VectorStore,
    spec: CollectionSpec,
    items: pd.DataFrame,
    encoder: LazyEncoder,
    progress: Progress,
    *,
    limit: int | None = None,
) -> CollectionReport:
    """Bring a text collection in line with ``items`` (columns ``key, text, payload``).

    Items with an empty text get no vector (counted in ``without_vector``; a
    vector stored for them earlier is deleted). New or changed items are encoded
    and written :data:`EMBED_CHUNK` at a time, shortest text first.

    Args:
        vectors: The vector store.
        spec: The collection.
        items: What the collection should hold.
        encoder: Loaded on first use.
        progress: Gets one task, advanced after each written chunk.
        limit: At most this many items encoded or rewritten by this run (``None``:
            all); the rest are counted in ``left`` and written by a later run.
    """
    vectors.ensure_collection(spec)
    stored = vectors.payloads(spec.name, ["text_hash", "content_hash", *KEPT_PAYLOAD])
    known = set(items["key"])
    has_text = np.array([isinstance(t, str) and bool(t.strip()) for t in items["text"]], dtype=bool)
    without_vector = int((~has_text).sum())
    items = items[has_text]
    hashes = [text_hash(t, encoder.model_name) for t in items["text"]]
    items = items.assign(text_hash=hashes)
    items["content_hash"] = [
        _content_hash([h, p]) for h, p in zip(items["text_hash"], items["payload"], strict=True)
    ]
    # an item without text loses its text vector; one the encoder wrote keeps its graph vector
    gone = sorted(
        k
        for k in set(stored) - set(items["key"])
        if k not in known or not stored[k].get("graph_model")
    )
    if gone:
        vectors.delete(spec.name, gone)
    old = {k: stored.get(k, {}) for k in items["key"]}
    is_same = np.array(
        [
            old[k].get("content_hash") == c
            for k, c in zip(items["key"], items["content_hash"], strict=True)
        ],
        dtype=bool,
    )
    todo = items[~is_same]
    if len(todo) > 1:  # shortest texts first: each encoder batch pads little
        todo = todo.iloc[np.argsort([len(t) for t in todo["text"]], kind="stable")]
    left = 0
    if limit is not None and len(todo) > limit:
        todo, left = todo.iloc[:limit], len(todo) - limit
    needs_text = np.array(
        [old[k].get("text_hash") != h for k, h in zip(todo["key"], todo["text_hash"], strict=True)],
        dtype=bool,
    )
    task = progress.add_task(f"embedding {spec.name}", total=len(todo))
    for start in range(0, len(todo), EMBED_CHUNK):
        stop = start + EMBED_CHUNK
        points = _points(
            vectors, spec, todo.iloc[start:stop], needs_text[start:stop], old, stored, encoder
        )
        for at in range(0, len(points), WRITE_BATCH):
            vectors.upsert(spec.name, points[at : at + WRITE_BATCH])
        progress.advance(task, len(points))
    if len(todo):
        vectors.optimize(spec.name)
    return CollectionReport(
        len(items) + without_vector,
        int(needs_text.sum()),
        len(todo),
        len(gone),
        int(is_same.sum()),
        without_vector,
        left,
    )


def _points(
    vectors: VectorStore,
    spec: CollectionSpec,
    part: pd.DataFrame,
    needs_text: np.ndarray,
    old: dict[str, dict],
    stored: dict[str, dict],
    encoder: LazyEncoder,
) -> list[VectorPoint]:
    """The points of ``part`` (``key, text, payload, text_hash, content_hash``): texts
    encoded where ``needs_text``, stored text vectors reused elsewhere, other named
    vectors (the GNN's ``graph``) kept."""
    fresh = encoder.encode_quietly(part.loc[needs_text, "text"].tolist())
    kept = vectors.vectors(spec.name, part.loc[~needs_text, "key"].tolist(), "text")
    by_key = dict(zip(part.loc[needs_text, "key"], fresh, strict=True)) | kept
    others = other_vectors(vectors, spec, [k for k in part["key"] if k in stored], "text")
    return [
        VectorPoint(
            k,
            {**others.get(k, {}), "text": by_key[k]},
            {**kept_payload(old[k], others.get(k, {})), **p, "text_hash": h, "content_hash": c},
        )
        for k, p, h, c in zip(
            part["key"], part["payload"], part["text_hash"], part["content_hash"], strict=True
        )
    ]


KEPT_PAYLOAD = ("graph_model",)
"""Payload fields other writers own (the GNN's model version of the ``graph`` vector):
kept by a re-embed as long as the vector they describe is kept."""


def kept_payload(stored: dict, others: dict[str, np.ndarray]) -> dict:
    """The :data:`KEPT_PAYLOAD` fields of ``stored`` while the graph vector stays."""
    if "graph" not in others:
        return {}
    return {name: stored[name] for name in KEPT_PAYLOAD if stored.get(name) is not None}


def other_vectors(
    vectors: VectorStore, spec: CollectionSpec, keys: list[str], *written: str
) -> dict[str, dict[str, np.ndarray]]:
    """The stored vectors of ``keys`` other than ``written`` (e.g. ``graph`` vectors of
    the GNN), so that an upsert, which replaces a point whole, keeps them."""
    kept: dict[str, dict[str, np.ndarray]] = {}
    for name in spec.vector_sizes:
        if name in written or not keys:
            continue
        for key, vector in vectors.vectors(spec.name, keys, name).items():
            kept.setdefault(key, {})[name] = vector
    return kept


def product_items(store: GraphStore) -> pd.DataFrame:
    """``key, text, payload`` of every product (payload: what filters and display need)."""
    table = product_table(store)
    bands = price_bands(table["list_price"])
    texts = [
        product_text(
            r.name, r.description, r.brand_name, r.brand_tier, r.category_path, r.attributes
        )
        for r in table.itertuples()
    ]
    payloads = [
        {
            "name": _plain(r.name),
            "brand": _plain(r.brand_id),
            "brand_name": _plain(r.brand_name),
            "categories": list(r.categories),
            "category_path": _plain(r.category_path),
            "price": _plain(r.list_price),
            "currency": _plain(r.currency),
            "price_band": band,
            # no stock figure, no claim: absent (null), neither in nor out of stock
            "in_stock": None if _plain(r.stock_units) is None else int(r.stock_units) > 0,
        }
        for r, band in zip(table.itertuples(), bands, strict=True)
    ]
    return pd.DataFrame({"key": table["id"], "text": texts, "payload": payloads})


def brand_items(store: GraphStore) -> pd.DataFrame:
    """``key, text, payload`` of every brand."""
    brands = store.node_frame("Brand")
    return pd.DataFrame(
        {
            "key": brands["id"],
            "text": [brand_text(r.name, r.tier, r.description) for r in brands.itertuples()],
            "payload": [
                {"name": _plain(r.name), "tier": _plain(r.tier)} for r in brands.itertuples()
            ],
        }
    )


__all__ = [
    "EMBED_CHUNK",
    "EVENT_WEIGHTS",
    "CollectionReport",
    "EmbedReport",
    "LazyEncoder",
    "brand_items",
    "collection_specs",
    "product_items",
    "sync_collection",
]
