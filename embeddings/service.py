"""``embed_catalog``: one call that brings every collection in line with the graph."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from rich.progress import Progress, TaskID

from ..errors import ConfigError, ModelError
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


COLLECTIONS = ("products", "brands", "customers")
"""The collections ``embed_catalog`` syncs, in order (customers read product vectors)."""


class LineProgress(Progress):
    """A progress display that writes plain lines, for logs and pipes (no terminal).

    Each task gets a line when it starts, at most every ``every_s`` seconds while it
    advances, and when it completes: ``embedding t_products: 4096/92000 (4.5 %),
    61 texts/s, 35 s, about 1450 s left``.

    Args:
        stream: Where lines go (default: standard error).
        every_s: Least seconds between two lines of one task.
        clock: Seconds, monotonic (tests pass a fake).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(disable=True)
        self._stream = stream
        self.every_s, self._clock = every_s, clock
        self._started: dict[TaskID, float] = {}
        self._last: dict[TaskID, float] = {}

    def add_task(self, description: str, *args: Any, **kwargs: Any) -> TaskID:
        """Start a task and say so."""
        task = super().add_task(description, *args, **kwargs)
        self._started[task] = self._last[task] = self._clock()
        self._say(task)
        return task

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        """Advance a task; write its line if ``every_s`` passed or it is complete."""
        super().advance(task_id, advance)
        now = self._clock()
        done = self._tasks[task_id]
        if now - self._last[task_id] >= self.every_s or done.completed >= (done.total or 0):
            self._last[task_id] = now
            self._say(task_id)

    def _say(self, task_id: TaskID) -> None:
        task = self._tasks[task_id]
        elapsed = self._clock() - self._started[task_id]
        total = int(task.total or 0)
        line = f"{task.description}: {int(task.completed)}/{total}"
        if total:
            line += f" ({100 * task.completed / total:.1f} %)"
        if elapsed > 0 and task.completed:
            rate = task.completed / elapsed
            line += f", {rate:.0f}/s, {elapsed:.0f} s"
            if total > task.completed:
                line += f", about {(total - task.completed) / rate:.0f} s left"
        print(line, file=self._stream or sys.stderr, flush=True)


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
    are skipped). Customers are embedded only once no product is left for a later
    run, since their vectors are sums of product vectors.

    Args:
        store: The graph to read items from.
        vectors: The vector store to write to.
        embedding: Encoder settings.
        vector_config: Collection prefix and reserved ``graph`` vector size.
        load_encoder: Loads the encoder (default: from ``embedding``); called only
            if some text needs encoding.
        progress: A rich progress display to add tasks to (:class:`LineProgress`
            where no terminal shows a live display).
        limit: At most this many items encoded or rewritten per text collection by
            this run (``None``: all); the rest are reported as ``left``.
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
        for kind, items in (("products", product_items), ("brands", brand_items)):
            if kind in collections:
                reports[kind] = sync_collection(
                    vectors, specs[kind], items(store), encoder, progress, limit=limit
                )
        products_left = reports["products"].left if "products" in reports else 0
        if "customers" in collections and not products_left:
            reports["customers"] = sync_customers(
                store,
                vectors,
                specs["customers"],
                specs["products"].name,
                encoder,
                progress,
                half_life_days=embedding.half_life_days,
                allow_demographic_text=embedding.allow_demographic_text,
            )
    return EmbedReport(reports, model_calls=encoder.calls, texts_encoded=encoder.texts_encoded)


__all__ = ["COLLECTIONS", "LineProgress", "embed_catalog", "encoder_factory"]
