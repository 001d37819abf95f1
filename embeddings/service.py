"""``embed_catalog``: one call that brings every collection in line with the graph."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from rich.progress import Progress

from ..errors import ModelError
from ..graph.base import GraphStore
from .base import TextEncoder, VectorStore
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


def embed_catalog(
    store: GraphStore,
    vectors: VectorStore,
    *,
    embedding: EmbeddingConfig,
    vector_config: VectorConfig,
    load_encoder: Callable[[], TextEncoder] | None = None,
    progress: Progress | None = None,
) -> EmbedReport:
    """Embed products, brands and customers incrementally (see :mod:`.pipeline`).

    Args:
        store: The graph to read items from.
        vectors: The vector store to write to.
        embedding: Encoder settings.
        vector_config: Collection prefix and reserved ``graph`` vector size.
        load_encoder: Loads the encoder (default: from ``embedding``); called only
            if some text needs encoding.
        progress: A rich progress display to add tasks to.

    Returns:
        What was encoded, written, deleted and left unchanged per collection.
    """
    model_name = embedding.model or DEFAULT_MODEL
    encoder = LazyEncoder(load_encoder or encoder_factory(embedding), model_name)
    specs = collection_specs(
        vector_config.collection_prefix, embedding.dimension, vector_config.graph_dim
    )
    own = progress is None
    progress = progress or Progress()
    with progress if own else contextlib.nullcontext():
        reports = {
            "products": sync_collection(
                vectors, specs["products"], product_items(store), encoder, progress
            ),
            "brands": sync_collection(
                vectors, specs["brands"], brand_items(store), encoder, progress
            ),
        }
        reports["customers"] = sync_customers(
            store,
            vectors,
            specs["customers"],
            specs["products"].name,
            encoder,
            progress,
            half_life_days=embedding.half_life_days,
        )
    return EmbedReport(reports, model_calls=encoder.calls, texts_encoded=encoder.texts_encoded)


__all__ = ["embed_catalog", "encoder_factory"]
