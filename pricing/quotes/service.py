"""The quote service: state -> policy -> guardrails -> explanation -> audit.

One quote and a batch share one code path (a single quote is a batch of one), so a
batch gives exactly the quotes the single calls give:

1. :class:`~.state.StateBuilder` builds the states and facts with
   vectorised code from its cached snapshot of the graph store (read once per kind of
   fact, reloaded after ``store_cache_ttl_s`` seconds, by default ahead on a background
   thread that also warms the policy, or at the next request after
   :meth:`QuoteService.invalidate`);
2. the policy decides the zone, segment multiplier and personal adjustment;
3. the guardrails clamp the proposed prices in one vectorised call
   (:func:`~pricegraph.pricing.guardrails.batch.trace_guardrails`, the arithmetic of
   ``apply_guardrails_batch`` with the per-rule steps kept for the bound-rule deltas);
4. a change above ``approval_threshold_pct`` against the current price is filed in the
   :class:`~.approvals.ApprovalQueue` (all of a batch's changes in one
   transaction, the first quote of each product filing it); while a change of a product
   is pending, its quotes return the current price and say so;
5. each quote gets a rationale (:mod:`~.explain`), and the batch is
   appended to the :class:`~.audit.AuditLog` in one insert.

Amounts are gross, in the shop currency; times are aware UTC. I/O happens only through
the stores, the approval queue and the audit log.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ...embeddings.base import VectorStore
from ...errors import ConfigError, DataValidationError, ModelError, VectorStoreError
from ...graph.base import GraphStore
from ..config import PricingConfig
from ..guardrails.apply import PriceContext, explain_guardrails
from ..guardrails.config import GuardrailConfig
from ..guardrails.memory import PriceMemory, announced_discount
from ..guardrails.result import GuardrailResult
from ..policy import LevelDecision, QuotePolicy, deciding_within
from ..records.sqlite import format_ts, parse_ts
from .approvals import ApprovalQueue, ChangeRequest, PriceChange
from .audit import AuditLog, AuditRecord
from .explain import PendingApproval, SegmentProfile, rationale
from .inputs import QuoteInput, input_from_dict, input_to_dict, vector_hash
from .result import BoundRule, Quote, to_plain
from .state import DEFAULT_CACHE_TTL_S, StateBuilder


@dataclass(frozen=True)
class _Row:
    """One quote's inputs beyond the state (all recorded for replays)."""

    item: QuoteInput
    previous_price: float
    lowest_price_30d: float | None
    pending: PendingApproval | None


class QuoteService:
    """Quotes prices for (customer, product) pairs (see the module docstring).

    Args:
        store: The graph store.
        vectors: The vector store with the GNN ``graph`` vectors, or ``None``.
        policy: The pricing policy.
        config: The pricing section.
        audit: Where quotes are recorded (``None``: not recorded).
        price_memory: Published prices to consider for the 30-day lowest price,
            besides the store's own price points.
        approvals: The approval queue (``None``: nothing waits for approval).
        collections: ``{"customers": name, "products": name}`` in ``vectors``.
        encoder_version: Version of the GNN encoder; ``None``: read from the vectors'
            ``graph_model`` payload.
        clock: Returns the current aware UTC time (for tests).
        period_start_stock: Product -> stock at the period start (inventory ratio).
        store_cache_ttl_s: Age in seconds after which the cached graph snapshot is read
            again (``0``: every request; ``None``: only after :meth:`invalidate` or
            :meth:`mark_stale`); see :mod:`.state`.
        refresh_ahead: Read an expired snapshot on a background thread, and warm the
            policy for it (its ``prepare(market, period)`` where it has one), while
            requests keep the snapshot in hand; ``False``: the first request past the
            TTL reads it (see :mod:`.snapshot_cache`).

    Raises:
        ConfigError: ``policy`` does not implement :class:`QuotePolicy`.
        GuardrailError: The policy declares a protected input.
    """

    def __init__(
        self,
        store: GraphStore,
        vectors: VectorStore | None,
        policy: QuotePolicy,
        config: PricingConfig,
        *,
        audit: AuditLog | None = None,
        price_memory: PriceMemory | None = None,
        approvals: ApprovalQueue | None = None,
        collections: Mapping[str, str] | None = None,
        encoder_version: str | None = None,
        clock: Callable[[], datetime] | None = None,
        period_start_stock: Mapping[str, float] | None = None,
        store_cache_ttl_s: float | None = DEFAULT_CACHE_TTL_S,
        refresh_ahead: bool = True,
    ) -> None:
        if not isinstance(policy, QuotePolicy):
            raise ConfigError(f"policy {policy!r}: expected a QuotePolicy (version, decide_many)")
        self.policy = deciding_within(policy, config.guardrails.personal_band)
        self.config, self.audit = config, audit
        self.price_memory, self.approvals = price_memory, approvals
        self.clock = clock or (lambda: datetime.now(UTC))
        self.builder = StateBuilder(
            store,
            vectors,
            config,
            collections=collections,
            feature_names=tuple(getattr(policy, "feature_names", ())),
            period_start_stock=period_start_stock,
            cache_ttl_s=store_cache_ttl_s,
            season=getattr(policy, "season", None),
            refresh_ahead=refresh_ahead,
            warm_up=getattr(self.policy, "prepare", None),
        )
        self.model_versions = {
            "policy": str(policy.version),
            "encoder": encoder_version or _encoder_version(vectors, collections),
        }

    def invalidate(self) -> None:
        """Drop the cached graph snapshot: the next quote reads the store (call after
        writing prices, products, customers or segments)."""
        self.builder.invalidate()

    def mark_stale(self) -> None:
        """Say events were written (purchases, views): the snapshot is read again within
        about a second, ahead of the quotes (:meth:`StateBuilder.mark_stale`), so a
        stream of events does not make every next quote read the store."""
        self.builder.mark_stale()

    def close(self) -> None:
        """Start no more background snapshot refreshes and wait for the one in flight
        (call before closing the graph store); quotes still work afterwards."""
        self.builder.close()

    def quote(
        self, customer_id: str, product_id: str, *, requested_by: str, now: datetime | None = None
    ) -> Quote:
        """One quote (a batch of one).

        Raises:
            NotFoundError: Unknown customer or product (``kind`` and ``key`` set).
            DataValidationError: The product has no list price (``field`` is
                ``list_price``); see :func:`_require_list_prices`.
            ModelError: The policy returned a non-positive or non-finite multiplier.
        """
        return self.quote_batch([(customer_id, product_id)], requested_by=requested_by, now=now)[0]

    def quote_batch(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        requested_by: str,
        now: datetime | None = None,
        may_file_approvals: bool = True,
    ) -> list[Quote]:
        """Quotes for ``(customer_id, product_id)`` pairs, aligned with ``pairs``.

        Args:
            pairs: ``(customer_id, product_id)`` keys.
            requested_by: Who asks (recorded).
            now: Quote time (default: the clock).
            may_file_approvals: Whether a change that needs approval is filed in the
                queue (``False``, e.g. for a reader: it is not filed, the current price is
                quoted and the rationale says so).

        Raises:
            NotFoundError, DataValidationError, ModelError: As :meth:`quote`.
        """
        now = self.clock() if now is None else now
        items = self.builder.build(list(pairs), now)
        _require_list_prices(items)
        product_ids = list(dict.fromkeys(p for _, p in pairs))
        approved = self.approvals.approved_prices(product_ids) if self.approvals else {}
        pending = self.approvals.pending_for(product_ids) if self.approvals else {}
        rows = [
            _Row(
                item,
                previous_price=approved.get(item.product.product_id, item.product.current_price),
                lowest_price_30d=self._lowest(item, now),
                pending=None,
            )
            for item in items
        ]
        decisions = self._decide([row.item.state for row in rows])
        results = _guard(rows, decisions, self.config.guardrails)
        quote_ids = [str(uuid.uuid4()) for _ in rows]
        waits = self._file_changes(
            rows, results, quote_ids, pending, requested_by, now, may_file_approvals
        )
        shared = {  # the recorded inputs every quote of the batch has in common
            "now": format_ts(now),
            "has_approvals": self.approvals is not None,
            "may_file_approvals": may_file_approvals,
            "guardrails": self.config.guardrails.model_dump(mode="json"),
        }
        quotes, records = [], []
        for at, (row, decision, result) in enumerate(zip(rows, decisions, results, strict=True)):
            row = _Row(row.item, row.previous_price, row.lowest_price_30d, waits[at][0])
            quote = self._finish(row, decision, result, quote_ids[at], now, waits[at][1])
            quotes.append(quote)
            if self.audit is not None:
                records.append(self._record(quote, row, requested_by, shared))
        if self.audit is not None:
            self.audit.append(records)
        return quotes

    def _file_changes(
        self,
        rows: Sequence[_Row],
        results: Sequence[GuardrailResult],
        quote_ids: Sequence[str],
        pending: Mapping[str, PriceChange],
        requested_by: str,
        now: datetime,
        may_file: bool = True,
    ) -> list[tuple[PendingApproval | None, PendingApproval | None]]:
        """File the batch's changes that need approval, in one transaction.

        The first quote of a product that needs approval files the change; it waits
        for it, and the product's later quotes find it pending. When ``may_file`` is
        false nothing is filed: such quotes hold the current price (an unfiled change).

        Returns:
            Per row: the change pending before its quote, and the one its quote waits for.
        """
        found = {pid: _pending(change) for pid, change in pending.items()}
        first: dict[str, int] = {}
        if self.approvals is not None and not may_file:  # an unfiled change holds the price
            held = []
            for row, result in zip(rows, results, strict=True):
                change = found.get(row.item.product.product_id)
                if change is None and result.needs_approval:
                    hold = PendingApproval("", row.previous_price, result.price, is_filed=False)
                    held.append((None, hold))
                else:
                    held.append((change, change))
            return held
        if self.approvals is not None:
            for at, (row, result) in enumerate(zip(rows, results, strict=True)):
                if result.needs_approval and row.item.product.product_id not in found:
                    first.setdefault(row.item.product.product_id, at)
            requests = [
                ChangeRequest(pid, rows[at].previous_price, results[at].price, quote_ids[at])
                for pid, at in first.items()
            ]
            filed = self.approvals.request_many(requests, requested_by=requested_by, now=now)
            found.update({pid: _pending(change) for pid, change in filed.items()})
        waits = []
        for at, row in enumerate(rows):
            change = found.get(row.item.product.product_id)
            filing = first.get(row.item.product.product_id, -1)
            waits.append((None if at <= filing else change, None if at < filing else change))
        return waits

    def recompute(self, inputs: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Recompute a recorded quote's output from its inputs (for replays).

        Returns:
            The output (see :meth:`Quote.output`) and the inputs that changed since
            (vectors whose hash differs, a market observation whose digest differs).
        """
        state = inputs["state"]
        now = parse_ts(inputs["now"])
        vectors = self.builder.vectors_for(state["customer_id"], state["product_id"])
        differences = [
            f"{name}: recorded hash {state[f'{name}_hash']}, now {vector_hash(vector)}"
            for name, vector in vectors.items()
            if vector_hash(vector) != state[f"{name}_hash"]
        ]
        market = self.builder.market(now)
        if state.get("market_digest") != market.digest:
            differences.append(
                f"market: recorded digest {state.get('market_digest')}, now {market.digest}"
            )
        pending = inputs["pending_approval"]
        row = _Row(
            input_from_dict(inputs, vectors, market),
            previous_price=inputs["previous_price"],
            lowest_price_30d=inputs["lowest_price_30d"],
            pending=None if pending is None else PendingApproval(**pending),
        )
        config = GuardrailConfig.model_validate(inputs["guardrails"])
        policy = deciding_within(self.policy, config.personal_band)  # the recorded band
        decision = self._decide([row.item.state], policy)[0]
        result = _guard([row], [decision], config)[0]
        waiting = row.pending
        if waiting is None and result.needs_approval and inputs["has_approvals"]:
            is_filed = inputs.get("may_file_approvals", True)
            waiting = PendingApproval("", row.previous_price, result.price, is_filed=is_filed)
        quote = self._finish(row, decision, result, "", now, waiting)
        output = json.loads(json.dumps(quote.output()))
        output["approval_id"] = None
        return output, differences

    def _finish(
        self,
        row: _Row,
        decision: LevelDecision,
        result: GuardrailResult,
        quote_id: str,
        now: datetime,
        waiting: PendingApproval | None,
    ) -> Quote:
        item, is_pending = row.item, waiting is not None
        price = row.previous_price if is_pending else result.price
        reference, discount = None, None
        if row.lowest_price_30d is not None:
            reference, discount = announced_discount(price, row.lowest_price_30d)
        customer = item.customer
        segment = (
            None
            if customer.segment_id is None
            else SegmentProfile(
                customer.segment_id, customer.segment_name, customer.segment_description
            )
        )
        text = rationale(
            item.state, decision, result, product=item.product, segment=segment, pending=waiting
        )
        return Quote(
            quote_id=quote_id,
            ts=now,
            customer_id=item.state.customer_id,
            product_id=item.state.product_id,
            price=price,
            list_price=item.state.list_price,
            currency=item.product.currency,
            proposed_price=result.proposed_price,
            guarded_price=result.price,
            decision=decision,
            bound_rules=tuple(BoundRule(b.rule.label, b.delta, b.reason) for b in result.bindings),
            conflicts=tuple(c.describe() for c in result.conflicts),
            rationale=text,
            cost_estimated=item.product.is_cost_estimated,
            is_personalized=decision.is_personalized and not is_pending,
            reference_price=reference,
            announced_discount_pct=discount,
            needs_approval=result.needs_approval,
            is_approval_pending=is_pending and waiting.is_filed,
            approval_id=waiting.approval_id if waiting and waiting.is_filed else None,
            model_versions=dict(self.model_versions),
        )

    def _record(
        self, quote: Quote, row: _Row, requested_by: str, shared: Mapping[str, Any]
    ) -> AuditRecord:
        inputs = input_to_dict(row.item)
        inputs.update(
            shared,
            previous_price=row.previous_price,
            lowest_price_30d=row.lowest_price_30d,
            pending_approval=to_plain(row.pending),
        )
        output = quote.output(is_json=True)  # as it reads back from JSON, without a round trip
        return AuditRecord(
            quote.quote_id,
            quote.ts,
            requested_by,
            quote.customer_id,
            quote.product_id,
            inputs,
            dict(self.model_versions),
            output,
        )

    def _lowest(self, item: QuoteInput, now: datetime) -> float | None:
        found = [item.product.lowest_price_30d]
        if self.price_memory is not None:
            found.append(self.price_memory.lowest(item.product.product_id, now))
        known = [p for p in found if p is not None]
        return min(known) if known else None

    def _decide(
        self, states: Sequence[Any], policy: QuotePolicy | None = None
    ) -> list[LevelDecision]:
        policy = self.policy if policy is None else policy
        decisions = list(policy.decide_many(states))
        if len(decisions) != len(states):
            raise ModelError(
                f"policy {policy.version!r}: decide_many returned {len(decisions)} "
                f"decisions for {len(states)} states"
            )
        return decisions


def _require_list_prices(items: Sequence[QuoteInput]) -> None:
    """Refuse products without a list price before any level divides by it.

    The catalog's ``list_price`` is optional (a load accepts products without one,
    and the graph snapshot reads a missing one as 0), but every quote is a multiple of
    it: zone, segment and personal multipliers, the guardrails' ratios and the
    rationale's percentages. Quoting such a product would price it at 0 or divide by
    zero, so it is refused with the product and the field named.

    Raises:
        DataValidationError: ``field="list_price"``, ``value`` the product id; the API
            answers ``INVALID_INPUT``, the CLI one line and exit code 2.
    """
    for item in items:
        price = item.state.list_price
        if not (np.isfinite(price) and price > 0):
            product_id = item.product.product_id
            raise DataValidationError(
                f"product {product_id!r} has no list price, and a quote is a multiple of "
                "it; load the product with a list_price > 0 (products file, column "
                "list_price) and quote again",
                field="list_price",
                value=product_id,
            )


def _guard(
    rows: Sequence[_Row], decisions: Sequence[LevelDecision], config: GuardrailConfig
) -> list[GuardrailResult]:
    """Check the policy's multipliers, then guardrail and explain every row at once."""
    multipliers = np.array([d.multiplier for d in decisions], dtype=np.float64)
    bad = ~(np.isfinite(multipliers) & (multipliers > 0))
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        state = rows[at].item.state
        raise ModelError(
            f"policy decision for customer {state.customer_id!r}, product {state.product_id!r}: "
            f"expected a finite multiplier > 0, got {decisions[at]!r}"
        )
    contexts = [
        PriceContext(
            product_id=row.item.product.product_id,
            list_price=row.item.state.list_price,
            unit_cost=row.item.state.unit_cost,
            previous_price=row.previous_price,
            competitor_price=row.item.product.competitor_price,
            ladder_lower=row.item.product.ladder_lower,
            ladder_upper=row.item.product.ladder_upper,
            ceiling_price=row.item.product.ceiling_price,
            lowest_price_30d=row.lowest_price_30d,
            is_personalized=bool(d.is_personalized),
        )
        for row, d in zip(rows, decisions, strict=True)
    ]
    proposed = np.array([c.list_price for c in contexts]) * multipliers
    return explain_guardrails(proposed, contexts, config)


def _pending(change: PriceChange) -> PendingApproval:
    return PendingApproval(change.approval_id, change.current_price, change.proposed_price)


def _encoder_version(vectors: VectorStore | None, collections: Mapping[str, str] | None) -> str:
    if vectors is None or not collections or "customers" not in collections:
        return "none"
    try:
        payloads = vectors.payloads(collections["customers"], ["graph_model"])
    except VectorStoreError:  # no collection yet: no encoder has run
        return "none"
    found = sorted({str(p["graph_model"]) for p in payloads.values() if p.get("graph_model")})
    return "+".join(found) if found else "none"


__all__ = ["BoundRule", "Quote", "QuoteService"]
