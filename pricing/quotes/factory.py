"""``build_quote_service``: the one way the CLI, the API and the benches build quotes.

A quote must not depend on which door it came through: ``pricegraph quote`` and the
API's ``personalizedPrice`` for the same pair give the same price, rationale and model
versions because both build their :class:`~.service.QuoteService`
here, from the same settings:

1. the guardrails saved by the API's ``setGuardrails`` replace those of the settings
   when some are saved (:meth:`PricingConfig.with_saved_guardrails`);
2. the policy is the trained checkpoint at ``pricing.policy_path`` (or the newest one
   ``pricegraph train-pricing`` wrote); with none, quotes are at list price and a
   warning says so (:func:`load_policy`);
3. the GNN ``graph`` vectors are used only when customers and products both have them
   (:func:`graph_vectors`);
4. quotes are recorded in the audit log, and large changes wait in the approval
   queue, both in the records database: the SQLite file ``pricing.audit_path``, or
   the server at ``pricing.database_url`` (:func:`open_recorders`).

No demand model is passed: the policy does not read one, so a rationale citing its
elasticity would explain something the price did not use.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from ...embeddings.base import VectorStore
from ...errors import ConfigError, VectorStoreError
from ...graph.base import GraphStore
from ..config import PricingConfig
from ..guardrails.store import GuardrailStore
from ..policy import ListPricePolicy, QuotePolicy
from .approvals import ApprovalQueue
from .audit import AuditLog
from .service import QuoteService

logger = logging.getLogger("pricegraph.pricing")


def load_policy(pricing: PricingConfig) -> QuotePolicy:
    """The trained hierarchical policy at ``pricing.policy_path``, else list price.

    ``policy_path`` unset (and no ``latest`` checkpoint under the data directory, see
    :meth:`PricingConfig.policy_folder`) is a normal first run: a warning names the folder
    looked at and quotes are at list price. A path that is set but holds no
    checkpoint is an error, never a silent fall back to list price.

    Args:
        pricing: The pricing section, paths resolved.

    Raises:
        ConfigError: ``policy_path`` is set but holds no checkpoint (names the path),
            or this build has no hierarchical policy.
        ModelError: The checkpoint is there but cannot be read.
    """
    path = pricing.policy_folder()
    if path is None:
        where = pricing.default_policy_path or "the data directory's models/pricing/latest"
        logger.warning(
            "no trained pricing policy at %s: quotes use list prices; "
            "run `pricegraph train-pricing`",
            where,
        )
        return ListPricePolicy()
    if not (path / "manifest.json").is_file():
        found = "a file" if path.is_file() else ("no manifest.json" if path.exists() else "nothing")
        raise ConfigError(
            f"pricing.policy_path={path}: expected a policy checkpoint folder, found {found}; "
            "train one with `pricegraph train-pricing` or unset PRICEGRAPH_PRICING__POLICY_PATH"
        )
    if importlib.util.find_spec("pricegraph.pricing.policies.hierarchy") is None:
        raise ConfigError(
            f"pricing.policy_path={path}: this build has no trained pricing "
            "policy; unset PRICEGRAPH_PRICING__POLICY_PATH to quote at list price"
        )
    from ..policies.hierarchy import HierarchicalPolicy

    return HierarchicalPolicy.load(path)


def graph_vectors(
    vectors: VectorStore | None, collections: Mapping[str, str]
) -> VectorStore | None:
    """``vectors`` when customers and products both have points, else ``None``.

    Before ``pricegraph embed`` the collections are empty or missing; quotes are then
    made without personal vectors rather than failing.
    """
    if vectors is None:
        return None
    try:
        has_both = all(vectors.count(collections[kind]) > 0 for kind in ("customers", "products"))
    except VectorStoreError:
        has_both = False
    return vectors if has_both else None


def open_recorders(pricing: PricingConfig) -> tuple[AuditLog, ApprovalQueue]:
    """The audit log quotes are recorded in and the approval queue large price changes
    wait in, both in the records database (:meth:`PricingConfig.records_target`); the
    caller closes them.

    Args:
        pricing: The pricing section, paths resolved.
    """
    audit = AuditLog(pricing.records_target())
    try:
        return audit, ApprovalQueue(pricing.records_target())
    except BaseException:
        audit.close()
        raise


def build_quote_service(
    store: GraphStore,
    vectors: VectorStore | None,
    pricing: PricingConfig,
    *,
    collections: Mapping[str, str],
    audit: AuditLog | None = None,
    approvals: ApprovalQueue | None = None,
    policy: QuotePolicy | None = None,
    clock: Callable[[], datetime] | None = None,
    guardrails: GuardrailStore | None = None,
    refresh_ahead: bool = True,
) -> QuoteService:
    """The quote service every entry point uses (see the module docstring).

    Args:
        store: The graph store.
        vectors: The vector store (used only when customers and products are embedded).
        pricing: The pricing section, paths resolved; saved guardrails are applied here.
        collections: ``products`` / ``customers`` / ``brands`` -> collection name.
        audit: Where quotes are recorded (``None``: not recorded, e.g. for replays);
            see :func:`open_recorders`.
        approvals: The approval queue (``None``: nothing waits for approval).
        policy: An already loaded policy (default: :func:`load_policy` of ``pricing``);
            the API passes its own so that a guardrail change does not reload it.
        clock: Returns the current aware UTC time (default: the system clock).
        guardrails: Where saved guardrails are read (default: ``pricing``'s store,
            opened for this call); the API passes the one it keeps open.
        refresh_ahead: Read the expired graph snapshot on a background thread and warm
            the policy for it (see :class:`~.service.QuoteService`); ``False``: on the
            request path.

    Raises:
        ConfigError: Unreadable saved guardrails, or a configured policy that is missing.
        ModelError: The policy checkpoint cannot be read.
    """
    pricing = pricing.with_saved_guardrails(guardrails)
    return QuoteService(
        store=store,
        vectors=graph_vectors(vectors, collections),
        policy=load_policy(pricing) if policy is None else policy,
        config=pricing,
        audit=audit,
        approvals=approvals,
        collections=collections,
        clock=clock,
        refresh_ahead=refresh_ahead,
    )


__all__ = ["build_quote_service", "graph_vectors", "load_policy", "open_recorders"]
