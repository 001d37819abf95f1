"""``embed_catalog``: one call that brings every collection in line with the graph."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import pandas as pd
from rich.progress import Progress

from ..errors import ConfigError, ModelError
from ..graph.base import GraphStore
from .base import CollectionSpec, TextEncoder, VectorStore
from .config import EmbeddingConfig, VectorConfig
from .customers import sync_customers
from .encoder import DEFAULT_MODEL, SentenceEncoder
from .pipeline import (
    EmbedReport,
    LazyEncoder,
    brand_items,
    collection_specs,
    product_items,
    sync_collection,
)
from .texts import text_hash


def encoder_factory(config: EmbeddingConfig) -> Callable[[], TextEncoder]:
    """A function that loads the configured encoder and checks its dimension."""

    def load() -> TextEncoder:
        encoder = SentenceEncoder(config.model, device=config.device, batch_size=config.batch_size)
        if encoder.dimension != config.dimension:
            raise ModelError(
                f"the model {encoder.model_name!r} gives {encoder.dimension}-d vectors but "
                f"PRICEGRAPH_EMBEDDINGS__DIMENSION is {config.dimension}"
            )
        return encoder

    return load


COLLECTIONS = ("products", "brands", "customers")
"""The collections ``embed_catalog`` syncs, in order (customers read product vectors)."""


def embed_catalog(
    store: GraphStore,
    vectors: VectorStore,
    *,
    embedding: EmbeddingConfig,
    vector_config: VectorConfig,
    load_encoder: Callable[[], TextEncoder] | None = None,
    progress: Progress | None = None,
    limit: int | None = None,
    collections: Sequence[str] = COLLECTIONS,
) -> EmbedReport:
    """Embed products, brands and customers incrementally (see :mod:`.pipeline`).

    Each collection is written in chunks as it goes, so a stopped run keeps its work
    and the next run encodes only the rest (items whose stored ``text_hash`` matches
    are skipped). Customers are synced only while every product with a text has its
    current text vector stored, since their vectors are sums of product vectors;
    otherwise the report counts those products (``products_without_vector``) and the
    customers are left as they are.

    Args:
        store: The graph to read items from.
        vectors: The vector store to write to.
        embedding: Encoder settings.
        vector_config: Collection prefix and reserved ``graph`` vector size.
        load_encoder: Loads the encoder (default: from ``embedding``); called only
            if some text needs encoding.
        progress: A rich progress display to add tasks to (:class:`~pricegraph.progress.LinePrinter`
            where no terminal shows a live display).
        limit: At most this many items encoded or rewritten per collection by this
            run, customers included (``None``: all); the rest are reported as ``left``.
        collections: Which of :data:`COLLECTIONS` to sync.

    Returns:
        What was encoded, written, deleted, left unchanged and left for a later run,
        per collection synced.

    Raises:
        ConfigError: An unknown collection or a ``limit`` below 1.
    """
    unknown = sorted(set(collections) - set(COLLECTIONS))
    if unknown:
        raise ConfigError(f"unknown collections {unknown}; known: {', '.join(COLLECTIONS)}")
    if limit is not None and limit < 1:
        raise ConfigError(f"limit: expected a number of items >= 1, got {limit}")
    model_name = embedding.model or DEFAULT_MODEL
    encoder = LazyEncoder(load_encoder or encoder_factory(embedding), model_name)
    specs = collection_specs(
        vector_config.collection_prefix, embedding.dimension, vector_config.graph_dim
    )
    own = progress is None
    progress = progress or Progress()
    with progress if own else contextlib.nullcontext():
        reports = {}
        products = None
        for kind, items in (("products", product_items), ("brands", brand_items)):
            if kind in collections:
                frame = items(store)
                products = frame if kind == "products" else products
                reports[kind] = sync_collection(
                    vectors, specs[kind], frame, encoder, progress, limit=limit
                )
        waiting = 0
        if "customers" in collections:
            waiting = products_without_vector(
                product_items(store) if products is None else products,
                vectors,
                specs["products"],
                model_name,
            )
        if "customers" in collections and not waiting:
            reports["customers"] = sync_customers(
                store,
                vectors,
                specs["customers"],
                specs["products"].name,
                encoder,
                progress,
                half_life_days=embedding.half_life_days,
                allow_demographic_text=embedding.allow_demographic_text,
                limit=limit,
            )
    return EmbedReport(
        reports,
        model_calls=encoder.calls,
        texts_encoded=encoder.texts_encoded,
        products_without_vector=waiting,
    )


def products_without_vector(
    items: pd.DataFrame, vectors: VectorStore, spec: CollectionSpec, model_name: str
) -> int:
    """Products with a text whose current text vector is not stored (missing or stale).

    Args:
        items: :func:`~pricegraph.embeddings.pipeline.product_items` of the graph.
        vectors: The vector store.
        spec: The products collection.
        model_name: The encoder's model (part of each stored ``text_hash``).
    """
    vectors.ensure_collection(spec)
    stored = vectors.payloads(spec.name, ["text_hash"])
    return sum(
        1
        for key, text in zip(items["key"], items["text"], strict=True)
        if isinstance(text, str)
        and text.strip()
        and stored.get(key, {}).get("text_hash") != text_hash(text, model_name)
    )


__all__ = ["COLLECTIONS", "embed_catalog", "encoder_factory", "products_without_vector"]
