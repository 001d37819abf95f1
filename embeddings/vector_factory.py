"""``make_vector_store``: the one place that picks a vector backend."""

from __future__ import annotations

from pathlib import Path

from .base import VectorStore
from .config import VectorConfig


def make_vector_store(config: VectorConfig, *, data_dir: Path | None = None) -> VectorStore:
    """Open the vector store ``config`` describes.

    A ``url`` selects the Qdrant server (checked to answer within ``timeout_s``);
    otherwise the embedded Qdrant Edge store opens at ``path``. Neither store
    applies ``collection_prefix``: callers put it in the collection names
    (:func:`~pricegraph.embeddings.pipeline.collection_specs`), the same on both.

    Args:
        config: The vectors section of the settings.
        data_dir: Base folder for a relative embedded ``path`` (default: cwd).

    Returns:
        A :class:`~pricegraph.embeddings.qdrant_store.QdrantVectorStore` or an
        :class:`~pricegraph.embeddings.edge_store.EdgeVectorStore`.

    Raises:
        VectorStoreError: The server does not answer (the message names the URL,
            never the API key), or the embedded folder cannot be created.
    """
    if config.url:
        from .qdrant_store import QdrantVectorStore

        api_key = config.api_key.get_secret_value() if config.api_key is not None else None
        return QdrantVectorStore.from_url(config.url, api_key=api_key, timeout_s=config.timeout_s)
    from .edge_store import EdgeVectorStore

    path = config.path if config.path.is_absolute() or data_dir is None else data_dir / config.path
    return EdgeVectorStore(path)


__all__ = ["make_vector_store"]
