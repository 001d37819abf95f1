"""Output types of the pricing fields: quotes, approvals, audit records, guardrails."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from ...pricing.guardrails.config import GuardrailConfig
from ...pricing.quotes.approvals import PriceChange as PriceChangeModel
from ...pricing.quotes.audit import AuditRecord

if TYPE_CHECKING:
    from ...pricing.quotes.service import Quote


@strawberry.type(description="A model and the version in force.")
class ModelVersion:
    name: str = strawberry.field(description="policy or encoder.")
    version: str


def versions(mapping: Mapping[str, str]) -> list[ModelVersion]:
    """Name -> version as a list sorted by name."""
    return [ModelVersion(name=k, version=str(v)) for k, v in sorted(mapping.items())]


@strawberry.type(description="The policy's three levels and the numbers each level used.")
class LevelDecision:
    zone: str = strawberry.field(description="Macro zone, e.g. `list`.")
    zone_multiplier: float = strawberry.field(description="Zone price / list price.")
    segment_multiplier: float = strawberry.field(description="Meso multiplier (1 = none).")
    personal_adjustment: float = strawberry.field(
        description="Micro, fraction of the zone x segment price (0 = none)."
    )
    is_personalized: bool = strawberry.field(description="The personal level moved the price.")
    levels: str = strawberry.field(
        description="`macro`, `macro+meso` or `full` (hierarchy), `list` (list-price "
        "fallback), empty for a policy that records no levels."
    )
    period: int | None = strawberry.field(description="Plan period used.")
    requested_period: int | None = strawberry.field(
        description="The quote's period (differs from `period` when clamped into the plan)."
    )
    category: str | None = strawberry.field(
        description="The policy's category whose zone was used (null: not one it prices)."
    )
    category_stock_ratio: float | None = strawberry.field(
        description="Macro input: mean stock on hand / season start in `category`."
    )
    category_competitor_ratio: float | None = strawberry.field(
        description="Macro input: mean cheapest competitor price / list in `category`."
    )
    priced_segments: list[str] = strawberry.field(
        description="Segments whose plan set the segment multiplier (all: their mean)."
    )
    segment_slopes: list[float] = strawberry.field(description="Their estimated price slopes.")
    micro_slope: float | None = strawberry.field(
        description="Slope input of the personal level (null: level off)."
    )
    micro_scale: float | None = strawberry.field(
        description="The validation gate on the personal level, in [0, 1]."
    )
    customer_signal: str | None = strawberry.field(
        description="What the personal level read of the customer: `graph state` (its graph "
        "vector through the policy's sensitivity model) or `fallback: <why>` (null: level off)."
    )
    customer_ratio: float | None = strawberry.field(
        description="The customer's estimated price slope over its segment's mean (1 on a "
        "fallback): the personal level's customer input."
    )
    customer_slope: float | None = strawberry.field(
        description="The customer's estimated price slope (null on a fallback)."
    )
    customer_slope_low: float | None = strawberry.field(
        description="Lower end of its interval (the model's coverage, 90 % by default)."
    )
    customer_slope_high: float | None = strawberry.field(description="Upper end of its interval.")


@strawberry.type(description="A guardrail that moved the price.")
class BoundRule:
    rule: str = strawberry.field(description="e.g. `floor`.")
    delta: float = strawberry.field(description="Price after the rule minus before, gross.")
    reason: str


@strawberry.type(description="A guarded, explained and audited price for one customer.")
class PersonalizedPrice:
    quote_id: str = strawberry.field(description="Key of the audit record.")
    customer_id: str
    product_id: str
    ts: datetime = strawberry.field(description="UTC.")
    price: float = strawberry.field(description="Price to show, gross, whole cents.")
    list_price: float
    currency: str | None = strawberry.field(
        description="ISO 4217 code of the quote's amounts: the product's stored currency; "
        "null when the product has none stored."
    )
    proposed_price: float = strawberry.field(description="The policy's price before guardrails.")
    decision: LevelDecision
    bound_rules: list[BoundRule]
    conflicts: list[str]
    rationale: str
    cost_estimated: bool = strawberry.field(
        description="The product has no stored cost: the guardrails took "
        "`PRICEGRAPH_PRICING__DEFAULT_COST_RATIO` (default 0.6) times the list price "
        "for it, and the rationale says so."
    )
    is_personalized: bool = strawberry.field(
        description="Disclosure: the shown price was personalised for this customer."
    )
    reference_price: float | None = strawberry.field(
        description="Lowest price of the previous 30 days."
    )
    announced_discount_pct: float | None
    needs_approval: bool
    is_approval_pending: bool = strawberry.field(
        description="A change waits for approval, so `price` is the current price."
    )
    approval_id: str | None
    model_versions: list[ModelVersion]


def personalized_price(quote: Quote) -> PersonalizedPrice:
    """The GraphQL view of a :class:`~pricegraph.pricing.quotes.service.Quote`."""
    decision = quote.decision
    return PersonalizedPrice(
        quote_id=quote.quote_id,
        customer_id=quote.customer_id,
        product_id=quote.product_id,
        ts=quote.ts,
        price=quote.price,
        list_price=quote.list_price,
        currency=quote.currency,
        proposed_price=quote.proposed_price,
        decision=LevelDecision(
            **{name: getattr(decision, name) for name in LevelDecision.__annotations__}
        ),
        bound_rules=[
            BoundRule(rule=b.name, delta=b.delta, reason=b.reason) for b in quote.bound_rules
        ],
        conflicts=list(quote.conflicts),
        rationale=quote.rationale,
        cost_estimated=quote.cost_estimated,
        is_personalized=quote.is_personalized,
        reference_price=quote.reference_price,
        announced_discount_pct=quote.announced_discount_pct,
        needs_approval=quote.needs_approval,
        is_approval_pending=quote.is_approval_pending,
        approval_id=quote.approval_id,
        model_versions=versions(quote.model_versions),
    )


@strawberry.type(description="A price change waiting for, or having had, a decision.")
class PriceChange:
    approval_id: str
    product_id: str
    current_price: float = strawberry.field(description="Gross, when the change was proposed.")
    proposed_price: float
    change_pct: float
    quote_id: str | None
    requested_by: str
    created_ts: datetime
    status: str = strawberry.field(description="pending, approved or rejected.")
    decided_by: str | None
    decided_ts: datetime | None
    reason: str | None


def price_change(change: PriceChangeModel) -> PriceChange:
    """The GraphQL view of an approval-queue entry."""
    return PriceChange(
        approval_id=change.approval_id,
        product_id=change.product_id,
        current_price=change.current_price,
        proposed_price=change.proposed_price,
        change_pct=change.change_pct,
        quote_id=change.quote_id,
        requested_by=change.requested_by,
        created_ts=change.created_ts,
        status=change.status,
        decided_by=change.decided_by,
        decided_ts=change.decided_ts,
        reason=change.reason,
    )


@strawberry.type(description="One recorded quote.")
class AuditEntry(relay.Node):
    id: relay.NodeID[str]
    quote_id: str = strawberry.field(description="The quote's key (`PersonalizedPrice.quoteId`).")
    ts: datetime
    requested_by: str
    customer_id: str
    product_id: str
    price: float | None
    is_approval_pending: bool | None
    model_versions: list[ModelVersion]
    output: JSON = strawberry.field(description="The quote as recorded.")
    inputs: JSON = strawberry.field(description="Everything the quote was computed from.")

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Any, node_ids: Any, required: bool = False
    ) -> list[None]:
        """Audit entries are reached through `auditLog` only."""
        return [None for _ in node_ids]


def audit_entry(record: AuditRecord) -> AuditEntry:
    """The GraphQL view of an audit record."""
    return AuditEntry(
        id=record.quote_id,
        quote_id=record.quote_id,
        ts=record.ts,
        requested_by=record.requested_by,
        customer_id=record.customer_id,
        product_id=record.product_id,
        price=record.output.get("price"),
        is_approval_pending=record.output.get("is_approval_pending"),
        model_versions=versions(record.model_versions),
        output=cast(JSON, record.output),
        inputs=cast(JSON, record.inputs),
    )


@strawberry.type(description="The guardrails in force (percentages in percent).")
class Guardrails:
    min_margin_pct: float
    max_markup_over_list_pct: float | None
    max_personal_deviation_pct: float | None
    max_change_per_period_pct: float | None
    competitor_floor_pct: float | None
    competitor_ceiling_pct: float | None
    is_ladder_enabled: bool
    ladder_min_gap_pct: float
    price_endings: list[float]
    rounding_mode: str
    approval_threshold_pct: float | None


def guardrails(config: GuardrailConfig) -> Guardrails:
    """The GraphQL view of a :class:`GuardrailConfig`."""
    return Guardrails(**{name: getattr(config, name) for name in Guardrails.__annotations__})


@strawberry.type(description="A change of the guardrails saved by `setGuardrails`.")
class GuardrailChange:
    changed_by: str = strawberry.field(description="The API key name that saved it.")
    changed_at: datetime = strawberry.field(description="When it was saved (UTC).")
    guardrails: Guardrails = strawberry.field(description="The whole set it put in force.")


def guardrail_change(saved: tuple[GuardrailConfig, dict[str, Any]]) -> GuardrailChange:
    """The GraphQL view of one saved change (:meth:`GuardrailStore.history`)."""
    config, record = saved
    changed_at = datetime.fromisoformat(str(record["changed_at"]))
    if changed_at.tzinfo is None:
        changed_at = changed_at.replace(tzinfo=UTC)
    return GuardrailChange(
        changed_by=str(record["changed_by"]), changed_at=changed_at, guardrails=guardrails(config)
    )


@strawberry.type(description="One evaluation figure of the encoder's training run.")
class EncoderMetric:
    method: str = strawberry.field(description="e.g. encoder, popularity, lightgcn.")
    name: str = strawberry.field(description="e.g. recall@20.")
    value: float


@strawberry.type(description="Versions of the models behind the answers.")
class ModelVersions:
    encoder: str | None = strawberry.field(description="GNN encoder; null before train-gnn.")
    encoder_metrics: list[EncoderMetric]
    policy: str
    demand: str | None = strawberry.field(description="Demand model; null when none is loaded.")
    quote_models: list[ModelVersion] = strawberry.field(description="What quotes record.")


__all__ = [
    "AuditEntry",
    "BoundRule",
    "EncoderMetric",
    "GuardrailChange",
    "Guardrails",
    "LevelDecision",
    "ModelVersion",
    "ModelVersions",
    "PersonalizedPrice",
    "PriceChange",
    "audit_entry",
    "guardrail_change",
    "guardrails",
    "personalized_price",
    "price_change",
    "versions",
]
