"""``Services``: everything the API serves from, opened once per server process.

The embedded graph (LadybugDB), the embedded vectors (Qdrant Edge) and the SQLite
audit log each hold one connection that must not be used from two threads at once,
and SQLite refuses use from any thread but its own. So every service call runs on
one dedicated thread (:meth:`Services.run`): the event loop never blocks on I/O,
and store calls are serialised. With ``api.workers > 1`` each worker process opens
its own stores, which only the server backends (Neo4j, a Qdrant URL) allow.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
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
from ..graph.base import GraphStore
from ..graph.factory import make_graph_store
from ..loaders.record_validation import SMALL_BATCH_ROWS
from ..pricing.approvals import ApprovalQueue
from ..pricing.audit import AuditLog
from ..pricing.config import PricingConfig
from ..pricing.demand import DemandModel
from ..pricing.guardrail_config import GuardrailConfig
from ..pricing.policy import QuotePolicy
from ..pricing.quote_factory import build_quote_service, load_policy
from . import model_files
from .config import ApiConfig
from .settings import Settings

if TYPE_CHECKING:
    from ..pricing.quote import QuoteService

logger = logging.getLogger("pricegraph.api")

P = ParamSpec("P")
R = TypeVar("R")


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


@dataclass
class Services:
    """The stores, models and pricing services behind the API.

    Build with :func:`open_services`; every attribute is used on the service thread
    only, through :meth:`run`.

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
        policy: The pricing policy quotes use.
        demand: The demand model for what-if (``None`` when none is saved).
        quotes: The quote service (rebuilt when the guardrails change).
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
    policy: QuotePolicy
    demand: DemandModel | None
    quotes: QuoteService = field(init=False)
    small_batch_rows: int = field(default=SMALL_BATCH_ROWS, init=False)
    _executor: ThreadPoolExecutor = field(init=False, repr=False)
    _encoder: TextEncoder | None = field(default=None, init=False, repr=False)

    async def run(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``func(*args, **kwargs)`` on the service thread and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))

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
        loaded); ``guardrails`` is ``"settings"``, or the path of the file saved by
        ``setGuardrails`` when that is in force.
        """
        saved = self.pricing.guardrails_path
        return {
            "policy": str(self.policy.version),
            "encoder": self.checkpoint.model_version if self.checkpoint else "none",
            "demand": self.demand_version,
            "guardrails": str(saved) if saved.is_file() else "settings",
        }

    def encoder(self) -> TextEncoder:
        """The text encoder, loaded on first use (a few seconds) and kept."""
        if self._encoder is None:
            self._encoder = encoder_factory(self.settings.embeddings)()
        return self._encoder

    def set_guardrails(self, guardrails: GuardrailConfig, changed_by: str) -> GuardrailConfig:
        """Quote with ``guardrails`` from now on and save them for the next start
        (service thread); ``changed_by`` is the principal's name."""
        from ..pricing.guardrail_store import save_guardrails

        save_guardrails(self.quotes.config.guardrails_path, guardrails, changed_by)
        pricing = self.quotes.config.model_copy(update={"guardrails": guardrails})
        self.quotes = self._quote_service(pricing)
        return guardrails

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
        )

    def close(self) -> None:
        """Close every store (on the service thread) and stop the thread."""

        def close_all() -> None:
            for part in (self.audit, self.approvals, self.vectors, self.store):
                try:
                    part.close()
                except Exception:
                    logger.exception("closing %r failed", part)

        self._executor.submit(close_all).result()
        self._executor.shutdown(wait=True)


def open_services(settings: Settings, config: ApiConfig | None = None) -> Services:
    """Open the stores and load the models on a new service thread.

    Args:
        settings: The root settings.
        config: The API section (default: ``settings``' own).

    Raises:
        ConfigError: Several workers over embedded stores, or a policy that cannot load.
        GraphStoreError, VectorStoreError, ModelError: A store or model cannot open.
    """
    config = (config or api_section(settings)).resolved(settings.data_dir)
    check_deployment(settings, config)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pricegraph-services")
    try:
        services = executor.submit(_open, settings, config).result()
    except BaseException:
        executor.shutdown(wait=False)
        raise
    services._executor = executor
    return services


def _open(settings: Settings, config: ApiConfig) -> Services:
    store = make_graph_store(settings.graph)
    try:
        vectors = make_vector_store(settings.vectors)
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
        services = Services(
            settings=settings,
            config=config,
            store=store,
            vectors=vectors,
            collections=collections,
            similarity=Similarity(vectors, collections, lambda: services.encoder()),
            checkpoint=checkpoint,
            recommender=recommender,
            audit=AuditLog(settings.pricing.audit_path),
            approvals=ApprovalQueue(settings.pricing.audit_path),
            policy=load_policy(settings.pricing),
            demand=demand,
        )
        services.quotes = services._quote_service(settings.pricing)
    except BaseException:
        store.close()
        raise
    return services


def encode_text(services: Services, text: str) -> Any:
    """The text vector ``float32 [dimension]`` of ``text`` (service thread)."""
    return services.encoder().encode([text])[0]


__all__ = [
    "Services",
    "api_section",
    "check_deployment",
    "encode_text",
    "open_services",
]
