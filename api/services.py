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
import importlib.util
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
from ..errors import ConfigError, VectorStoreError
from ..gnn.checkpoint import EncoderCheckpoint, load_checkpoint
from ..gnn.recommend import Recommender
from ..gnn.recommend_service import build_recommender
from ..graph.base import GraphStore
from ..graph.factory import make_graph_store
from ..pricing.approvals import ApprovalQueue
from ..pricing.audit import AuditLog
from ..pricing.config import PricingConfig
from ..pricing.demand import DemandModel
from ..pricing.guardrail_config import GuardrailConfig
from ..pricing.policy import ListPricePolicy, QuotePolicy
from .config import ApiConfig
from .settings import Settings

if TYPE_CHECKING:  # the quote service loads with the first Services, not at import
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


def load_policy(pricing: PricingConfig) -> QuotePolicy:
    """The trained hierarchical policy when ``pricing.policy_path`` is set, else list price.

    Raises:
        ConfigError: A policy path is set but this build has no hierarchical policy.
        ModelError: The checkpoint cannot be read.
    """
    if pricing.policy_path is None:
        return ListPricePolicy()
    if importlib.util.find_spec("pricegraph.pricing.hierarchy") is None:
        raise ConfigError(
            f"pricing.policy_path={pricing.policy_path}: this build has no trained pricing "
            "policy; unset PRICEGRAPH_PRICING__POLICY_PATH to quote at list price"
        )
    from ..pricing.hierarchy import HierarchicalPolicy

    return HierarchicalPolicy.load(pricing.policy_path)


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
        from ..pricing.quote import QuoteService

        return QuoteService(
            self.store,
            _graph_vectors(self.vectors, self.collections),
            self.policy,
            pricing,
            self.demand,
            self.audit,
            approvals=self.approvals,
            collections=self.collections,
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
        checkpoint = load_checkpoint(config.encoder_path) if config.encoder_path.exists() else None
        recommender = build_recommender(store, checkpoint) if checkpoint is not None else None
        demand = DemandModel.load(config.demand_path) if config.demand_path.exists() else None
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
        services.quotes = services._quote_service(settings.pricing.with_saved_guardrails())
    except BaseException:
        store.close()
        raise
    return services


def _graph_vectors(vectors: VectorStore, collections: dict[str, str]) -> VectorStore | None:
    """``vectors`` when customers and products are embedded, else ``None``."""
    try:
        has_both = all(vectors.count(collections[kind]) > 0 for kind in ("customers", "products"))
    except VectorStoreError:
        has_both = False
    return vectors if has_both else None


def encode_text(services: Services, text: str) -> Any:
    """The text vector ``float32 [dimension]`` of ``text`` (service thread)."""
    return services.encoder().encode([text])[0]


__all__ = [
    "Services",
    "api_section",
    "check_deployment",
    "encode_text",
    "load_policy",
    "open_services",
]
