"""``Services``: everything the API serves from, opened once per server process.

Store calls run off the event loop on three kinds of threads:

* **the write thread** (one): writes, quotes (they append to the audit log and may
  file approvals), guardrail changes and approval decisions, one after the other, as
  the embedded stores need (LadybugDB and SQLite take one writer);
* **the read threads** (:data:`READ_THREADS`): lookups, lists, similarity, what-if,
  the audit log and the approval queue, concurrently with each other and with the
  write. LadybugDB gives each thread its own read connection beside the write
  connection, SQLite in WAL mode likewise (readers never wait for the writer), a
  PostgreSQL records database gives each a pooled connection, and Qdrant Edge shards
  may be searched from several threads while one writes (each read sees whole
  committed writes). The text encoder is used by one thread at a time;
* **the quotes' snapshot refresh** (at most one at a time, a daemon thread): reads the
  graph snapshot again when it expires, while quotes keep the one in hand
  (:mod:`~pricegraph.pricing.quotes.snapshot_cache`); :meth:`Services.close` waits for it
  before closing the stores.

When the graph store declares no concurrent readers
(:func:`~pricegraph.graph.base.concurrent_readers`, e.g. Neo4j today), every call runs
on the write thread, as before, and quotes read the expired snapshot themselves. With
``api.workers > 1`` each worker process opens its own stores, which only the server
backends (Neo4j, a Qdrant URL) allow. Every worker or replica quotes with the
guardrails saved last, by whichever one saved them (:meth:`Services.current_quotes`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from ..embeddings.base import TextEncoder, VectorStore
from ..embeddings.pipeline import collection_specs
from ..embeddings.service import encoder_factory
from ..embeddings.similarity import Similarity
from ..embeddings.vector_factory import make_vector_store
from ..errors import ConfigError
from ..gnn.checkpoint import EncoderCheckpoint, load_checkpoint
from ..gnn.recommend import Recommender
from ..gnn.recommend_service import build_recommender
from ..graph.base import READ_METHODS, GraphStore, concurrent_readers
from ..graph.factory import make_graph_store
from ..loaders.record_validation import SMALL_BATCH_ROWS
from ..pricing.config import PricingConfig
from ..pricing.demand.model import DemandModel
from ..pricing.guardrails.config import GuardrailConfig
from ..pricing.guardrails.store import GuardrailStore
from ..pricing.policy import QuotePolicy
from ..pricing.quotes.approvals import ApprovalQueue
from ..pricing.quotes.audit import AuditLog
from ..pricing.quotes.factory import build_quote_service, load_policy, open_recorders
from . import model_files
from .config import ApiConfig
from .settings import Settings

if TYPE_CHECKING:
    from ..pricing.quotes.service import QuoteService

logger = logging.getLogger("pricegraph.api")

P = ParamSpec("P")
R = TypeVar("R")

READ_THREADS = max(1, min(4, (os.cpu_count() or 2) - 1))
"""Threads that serve reads beside the write thread: one per core beside the event
loop's, at least 1 and at most 4 (fewer if the graph store allows fewer concurrent
readers; none, reads on the write thread, if it allows none).

Measured on 2 cores (``bench_api.py --only load --scenario mixed``, 32 connections):
1 read thread keeps the read throughput of one shared thread and takes writes out of
the read queue (plain single-item write p50 23 ms instead of 160 ms); 2 or 4 read
threads cut read throughput by about half, as the busy threads starve the event loop
of the GIL."""


def api_section(settings: Settings) -> ApiConfig:
    """The ``api`` section of ``settings`` (defaults until the root settings declare it)."""
    config = getattr(settings, "api", None)
    return config if isinstance(config, ApiConfig) else ApiConfig()


def check_deployment(settings: Settings, config: ApiConfig) -> None:
    """Refuse several workers over embedded stores.

    Raises:
        ConfigError: ``workers > 1`` without Neo4j and a Qdrant URL; names the variables.
    """
    if config.workers == 1:
        return
    missing = []
    if settings.graph.backend != "neo4j":
        missing.append("PRICEGRAPH_GRAPH__BACKEND=neo4j (with PRICEGRAPH_GRAPH__NEO4J_URI)")
    if not settings.vectors.url:
        missing.append("PRICEGRAPH_VECTORS__URL")
    if missing:
        raise ConfigError(
            f"api.workers={config.workers}: the embedded graph and vector stores belong to "
            f"one process; run one worker, or set {' and '.join(missing)}"
        )


_NOT_BUILT = object()
"""The saved guardrails' version before the first quote service is built."""


@dataclass
class Services:
    """The stores, models and pricing services behind the API.

    Build with :func:`open_services`; the stores are used off the event loop only,
    through :meth:`run` (the write thread) and :meth:`read` (the read threads).

    Attributes:
        settings: The settings it was opened with.
        config: The API section (paths resolved).
        store: The graph store.
        vectors: The vector store.
        collections: ``products`` / ``customers`` / ``brands`` -> collection name.
        similarity: Vector similarity queries.
        checkpoint: The encoder checkpoint (``None`` until ``pricegraph train-gnn``).
        recommender: Recommendations from ``checkpoint`` (``None`` without it).
        audit: The quote audit log.
        approvals: The approval queue of large price changes.
        guardrail_store: Where ``setGuardrails`` saves guardrails (the file, or the
            records database's table that every replica shares).
        policy: The pricing policy quotes use.
        demand: The demand model for what-if (``None`` when none is saved).
        quotes: The quote service (rebuilt when the saved guardrails change: use
            :meth:`current_quotes`, which notices a change made by another worker or
            replica).
        small_batch_rows: Write batches up to this many items are validated without
            pandas (same rules and messages, faster for a few items); 0 validates every
            batch with pandas (the benchmark's baseline).
    """

    settings: Settings
    config: ApiConfig
    store: GraphStore
    vectors: VectorStore
    collections: dict[str, str]
    similarity: Similarity
    checkpoint: EncoderCheckpoint | None
    recommender: Recommender | None
    audit: AuditLog
    approvals: ApprovalQueue
    guardrail_store: GuardrailStore
    policy: QuotePolicy
    demand: DemandModel | None
    quotes: QuoteService = field(init=False)
    small_batch_rows: int = field(default=SMALL_BATCH_ROWS, init=False)
    _guardrails_version: object = field(default=_NOT_BUILT, init=False, repr=False)
    _writer: ThreadPoolExecutor = field(init=False, repr=False)
    _readers: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)
    _encoder: TextEncoder | None = field(default=None, init=False, repr=False)
    _encoder_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    async def run(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``func(*args, **kwargs)`` on the write thread and await its result.

        The graph store's own read methods (:data:`~pricegraph.graph.base.READ_METHODS`
        of :attr:`store`, e.g. a DataLoader's ``get_nodes``) go to the read threads
        instead; anything else not known to only read is serialised here.
        """
        is_store_read = getattr(func, "__self__", None) is self.store and (
            getattr(func, "__name__", "") in READ_METHODS
        )
        executor = self._readers if is_store_read and self._readers else self._writer
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(func, *args, **kwargs))

    async def read(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``func(*args, **kwargs)``, which must only read, on a read thread (the
        write thread when the graph store allows no concurrent readers)."""
        loop = asyncio.get_running_loop()
        executor = self._readers or self._writer
        return await loop.run_in_executor(executor, functools.partial(func, *args, **kwargs))

    @property
    def read_threads(self) -> int:
        """How many threads serve reads beside the write thread (0: reads on it)."""
        return self._readers._max_workers if self._readers else 0

    @property
    def pricing(self) -> PricingConfig:
        """The pricing section in force (guardrails included)."""
        return self.quotes.config

    @functools.cached_property
    def demand_version(self) -> str:
        """``demand-<12 hex>`` of :attr:`demand`'s content, or ``"none"``."""
        return model_files.demand_version(self.demand)

    @property
    def models(self) -> dict[str, str]:
        """Which models are in force, for ``/healthz``.

        ``policy``, ``encoder`` and ``demand`` are versions (``"none"`` when not
        loaded); ``guardrails`` is ``"settings"``, or ``"saved"`` when guardrails saved
        by ``setGuardrails`` were in force at the last quote (where they are saved is
        never shown to clients).
        """
        return {
            "policy": str(self.policy.version),
            "encoder": self.checkpoint.model_version if self.checkpoint else "none",
            "demand": self.demand_version,
            "guardrails": "settings" if self._guardrails_version is None else "saved",
        }

    def encoder(self) -> TextEncoder:
        """The text encoder, loaded on first use (a few seconds) and kept; it encodes for
        one thread at a time (a tokenizer must not be shared by concurrent calls)."""
        with self._encoder_lock:
            if self._encoder is None:
                self._encoder = _SerialEncoder(encoder_factory(self.settings.embeddings)())
            return self._encoder

    def current_quotes(self) -> QuoteService:
        """The quote service with the guardrails saved now (write thread).

        One look at the store's :meth:`~GuardrailStore.version` (a read of the small
        file, or one indexed query of the database) per call; when another worker or replica
        saved guardrails since the last call, the service is rebuilt over them first.
        """
        version = self.guardrail_store.version()
        if version != self._guardrails_version:
            replaced = getattr(self, "quotes", None)
            self.quotes = self._quote_service(self.settings.pricing)
            self._guardrails_version = version
            if replaced is not None:  # its snapshot refresh, if in flight, ends first
                replaced.close()
        return self.quotes

    def set_guardrails(self, guardrails: GuardrailConfig, changed_by: str) -> GuardrailConfig:
        """Save ``guardrails`` and quote with them from now on, here and, at their next
        request, in every worker or replica that shares the store (write thread);
        ``changed_by`` is the principal's name."""
        self.guardrail_store.save(guardrails, changed_by)
        self.current_quotes()
        return self.quotes.config.guardrails

    def _quote_service(self, pricing: PricingConfig) -> QuoteService:
        """The quote service over ``pricing`` (saved guardrails applied), as the CLI's."""
        return build_quote_service(
            self.store,
            self.vectors,
            pricing,
            collections=self.collections,
            audit=self.audit,
            approvals=self.approvals,
            policy=self.policy,
            guardrails=self.guardrail_store,
        )

    def close(self) -> None:
        """Let the reads in flight finish, wait for the quotes' background snapshot
        refresh, then close every store (on the write thread) and stop the threads."""

        def close_all() -> None:
            parts = (self.audit, self.approvals, self.guardrail_store, self.vectors, self.store)
            for part in parts:
                try:
                    part.close()
                except Exception:
                    logger.exception("closing %r failed", part)

        if self._readers is not None:
            self._readers.shutdown(wait=True)
        self._writer.submit(self.quotes.close).result()  # after the quotes in flight
        self._writer.submit(close_all).result()
        self._writer.shutdown(wait=True)


class _SerialEncoder:
    """A :class:`~pricegraph.embeddings.base.TextEncoder` that encodes for one thread at
    a time (HF tokenizers raise "Already borrowed" when shared by concurrent calls)."""

    def __init__(self, encoder: TextEncoder) -> None:
        self._encoder = encoder
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        """See :attr:`TextEncoder.dimension`."""
        return self._encoder.dimension

    @property
    def model_name(self) -> str:
        """See :attr:`TextEncoder.model_name`."""
        return self._encoder.model_name

    def encode(self, texts: Sequence[str]) -> Any:
        """See :meth:`TextEncoder.encode`."""
        with self._lock:
            return self._encoder.encode(texts)


def open_services(
    settings: Settings, config: ApiConfig | None = None, *, read_threads: int = READ_THREADS
) -> Services:
    """Open the stores and load the models on a new write thread, and start the read
    threads.

    Args:
        settings: The root settings.
        config: The API section (default: ``settings``' own).
        read_threads: Threads serving reads beside the write thread, at most what the
            graph store allows; 0 runs every call on the write thread.

    Raises:
        ConfigError: Several workers over embedded stores, or a policy that cannot load.
        GraphStoreError, VectorStoreError, ModelError: A store or model cannot open.
    """
    config = (config or api_section(settings)).resolved(settings.data_dir)
    check_deployment(settings, config)
    if read_threads < 0:
        raise ConfigError(f"read_threads: expected an integer >= 0, got {read_threads}")
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pricegraph-write")
    try:
        services = writer.submit(_open, settings, config).result()
    except BaseException:
        writer.shutdown(wait=False)
        raise
    services._writer = writer
    readers = min(read_threads, concurrent_readers(services.store))
    if readers:
        services._readers = ThreadPoolExecutor(readers, thread_name_prefix="pricegraph-read")
    return services


def _open(settings: Settings, config: ApiConfig) -> Services:
    store = make_graph_store(settings.graph)
    opened: list[Any] = [store]  # closed in reverse when opening fails
    try:
        vectors = make_vector_store(settings.vectors)
        opened.append(vectors)
        specs = collection_specs(
            settings.vectors.collection_prefix,
            settings.embeddings.dimension,
            settings.vectors.graph_dim,
        )
        collections = {kind: spec.name for kind, spec in specs.items()}
        configured = config.model_fields_set
        has_encoder = model_files.optional_model_file(
            config.encoder_path,
            setting="api.encoder_path",
            is_configured="encoder_path" in configured,
            instead="recommendations answer UNAVAILABLE",
            hint="run `pricegraph train-gnn`",
        )
        checkpoint = load_checkpoint(config.encoder_path) if has_encoder else None
        recommender = build_recommender(store, checkpoint) if checkpoint is not None else None
        has_demand = model_files.optional_model_file(
            config.demand_path,
            setting="api.demand_path",
            is_configured="demand_path" in configured,
            instead="what-if answers UNAVAILABLE",
            hint="run `pricegraph fit-demand`",
        )
        demand = DemandModel.load(config.demand_path) if has_demand else None
        audit, approvals = open_recorders(settings.pricing)
        opened.extend([audit, approvals])
        guardrail_store = settings.pricing.guardrail_store()
        opened.append(guardrail_store)
        services = Services(
            settings=settings,
            config=config,
            store=store,
            vectors=vectors,
            collections=collections,
            similarity=Similarity(vectors, collections, lambda: services.encoder()),
            checkpoint=checkpoint,
            recommender=recommender,
            audit=audit,
            approvals=approvals,
            guardrail_store=guardrail_store,
            policy=load_policy(settings.pricing),
            demand=demand,
        )
        services.current_quotes()
    except BaseException:
        for part in reversed(opened):
            part.close()
        raise
    return services


def encode_text(services: Services, text: str) -> Any:
    """The text vector ``float32 [dimension]`` of ``text`` (any service thread)."""
    return services.encoder().encode([text])[0]


__all__ = [
    "READ_THREADS",
    "Services",
    "api_section",
    "check_deployment",
    "encode_text",
    "open_services",
]
