"""Mutations: events, products and prices through the loaders' validation; guardrails;
approval decisions.

Writes go through :func:`pricegraph.loaders.service.load_records`, the same validation
and idempotent writes as file loads (a batch of up to 256 items is validated without
pandas, by the same rules and with the same messages): a bad item is rejected with the
field at fault, the good ones are written, and sending the same items again changes
nothing. The
items of one request are written in one store transaction (an item's node and edges
together); an event id re-sent with another payload fails the request with
``CONFLICT`` and writes nothing of it. References are checked by primary-key
look-ups of the keys the items name, so a write never reads whole tables. Quotes see
written products and prices at their next request
(:meth:`~pricegraph.pricing.quotes.service.QuoteService.invalidate`), written events
about a second later, read ahead of them
(:meth:`~pricegraph.pricing.quotes.service.QuoteService.mark_stale`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pandas as pd
import strawberry
from strawberry.types import Info

from ...graph.base import GraphStore, UpsertResult
from ...loaders.formats import MAX_AMOUNT, MIN_PRICE
from ...loaders.readers import LINE
from ...loaders.service import load_records
from ...loaders.validation import RefIndex, Validated
from ..arguments import REQUEST_ITEMS
from ..context import Context
from ..errors import ErrorCode, graphql_name, quoted
from ..permissions import IsAdmin, IsPricing
from ..services import Services
from .nodes import PriceKind
from .pagination import batch_size
from .pricing_types import Guardrails, PriceChange, guardrails, price_change

_AMOUNT = f"Gross, {MIN_PRICE:g} to {MAX_AMOUNT:,.0f} (shop currency); outside, rejected."


@strawberry.enum(description="Kinds of customer events.")
class EventType(Enum):
    PURCHASE = "purchase"
    RETURN = "return"
    VIEW = "view"
    CART = "cart"


@strawberry.input(
    description=(
        "A customer event; idempotent by `eventId` (derived when absent). The same `eventId` "
        "with another payload answers CONFLICT."
    )
)
class EventInput:
    event_type: EventType
    customer_id: str
    product_id: str
    ts: datetime = strawberry.field(description="UTC when no offset is given.")
    event_id: str | None = None
    order_id: str | None = strawberry.field(default=None, description="Purchases and returns.")
    qty: int | None = None
    unit_price: float | None = strawberry.field(
        default=None, description=f"Gross, 0 (a free item) to {MAX_AMOUNT:,.0f}."
    )
    currency: str | None = None
    discount: float | None = strawberry.field(
        default=None,
        description=f"Taken off the whole line, gross, 0 to {MAX_AMOUNT:,.0f} (purchases).",
    )
    promotion_id: str | None = strawberry.field(
        default=None, description="The coupon or promotion that gave the discount."
    )
    store_id: str | None = strawberry.field(default=None, description="Where the line was sold.")
    channel: str | None = strawberry.field(
        default=None, description="How the line was sold (e.g. store, online)."
    )


@strawberry.input(description="A product to create or update; absent fields keep their values.")
class ProductInput:
    product_id: str
    name: str
    description: str | None = strawberry.UNSET
    brand_id: str | None = strawberry.UNSET
    category_id: str | None = strawberry.UNSET
    attributes: str | None = strawberry.UNSET
    cost: float | None = strawberry.field(default=strawberry.UNSET, description=_AMOUNT)
    list_price: float | None = strawberry.field(default=strawberry.UNSET, description=_AMOUNT)
    currency: str | None = strawberry.UNSET
    stock_units: int | None = strawberry.UNSET


@strawberry.input(description="A price point of a product over [validFrom, validTo).")
class PriceInput:
    product_id: str
    price: float = strawberry.field(description=_AMOUNT)
    kind: PriceKind
    valid_from: datetime
    valid_to: datetime | None = None
    currency: str | None = None
    source: str | None = None
    competitor_id: str | None = strawberry.field(default=None, description="For kind COMPETITOR.")
    price_point_id: str | None = strawberry.field(default=None, description="Derived when absent.")


@strawberry.input(
    description="Guardrail changes; absent fields keep their values, null turns a rule off."
)
class GuardrailInput:
    min_margin_pct: float | None = strawberry.UNSET
    max_markup_over_list_pct: float | None = strawberry.UNSET
    max_personal_deviation_pct: float | None = strawberry.UNSET
    max_change_per_period_pct: float | None = strawberry.UNSET
    competitor_floor_pct: float | None = strawberry.UNSET
    competitor_ceiling_pct: float | None = strawberry.UNSET
    is_ladder_enabled: bool | None = strawberry.UNSET
    ladder_min_gap_pct: float | None = strawberry.UNSET
    price_endings: list[float] | None = strawberry.UNSET
    rounding_mode: str | None = strawberry.UNSET
    approval_threshold_pct: float | None = strawberry.UNSET


@strawberry.enum(description="What kind of fault rejected an item (as the error codes).")
class ItemErrorCode(Enum):
    INVALID_INPUT = ErrorCode.INVALID_INPUT.value
    NOT_FOUND = ErrorCode.NOT_FOUND.value
    CONFLICT = ErrorCode.CONFLICT.value


@strawberry.type(description="Why one item of a write was rejected.")
class ItemError:
    index: int = strawberry.field(description="0-based position in the input list.")
    code: ItemErrorCode = strawberry.field(
        description=(
            "INVALID_INPUT: a value breaks a rule; NOT_FOUND: a referenced key (product, "
            "customer, brand, ...) is not stored; CONFLICT: the item repeats the key of an "
            "earlier item of the request with other values."
        )
    )
    field: str | None = strawberry.field(
        description="The input field at fault, by its GraphQL name (e.g. listPrice)."
    )
    value: str | None
    message: str


def item_error_code(reason: str) -> ItemErrorCode:
    """The code of a validation reject's ``reason`` (the loaders' wording: ``unknown
    <label> id``, ``duplicate <key>, first at line <n>``, anything else a broken rule)."""
    if reason.startswith("unknown ") and reason.endswith(" id"):
        return ItemErrorCode.NOT_FOUND
    if reason.startswith("duplicate ") and ", first at line " in reason:
        return ItemErrorCode.CONFLICT
    return ItemErrorCode.INVALID_INPUT


@strawberry.type(description="What a write did: counts of items, and the rejects.")
class WriteResult:
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[ItemError]


@dataclass(frozen=True)
class _Outcome:
    result: UpsertResult
    errors: list[ItemError]


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.replace(tzinfo=None).isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _given(item: object) -> dict[str, Any]:
    """The fields of an input object that were sent (UNSET left out)."""
    return {
        name: _cell(value)
        for name, value in vars(item).items()
        if value is not strawberry.UNSET and not name.startswith("_")
    }


class _ItemRefs(RefIndex):
    """The keys known per label among the strings the items send (primary-key look-ups;
    a :class:`RefIndex` reads every key of a label, which is for file loads)."""

    def __init__(self, store: GraphStore, items: Sequence[dict[str, Any]]) -> None:
        super().__init__(store)
        self._graph = store
        self._candidates = sorted(
            {v for item in items for v in item.values() if isinstance(v, str)}
        )
        self._known: dict[str, set[str]] = {}

    def keys(self, label: str) -> set[str]:
        """Those of the items' strings that are keys of ``label`` (read once)."""
        if label not in self._known:
            found = self._graph.get_nodes(label, self._candidates) if self._candidates else []
            self._known[label] = {node["id"] for node in found if node is not None}
        return self._known[label]

    def add(self, label: str, keys: pd.Series | list[str]) -> None:
        """Record written keys of a label already looked up; another label's look-up, if
        one comes, finds them in the store (same transaction), so none is made now."""
        if label in self._known:
            self._known[label].update(keys)


def write_items(services: Services, kind: str, items: list[dict[str, Any]]) -> _Outcome:
    """Validate and write ``items`` of ``kind`` (write thread); see the module docstring.

    Items that send different sets of fields are written in separate groups, so an
    absent field never overwrites a stored value; all groups in one transaction. Groups
    of up to ``services.small_batch_rows`` items are validated without pandas.

    Raises:
        ConflictError: An event id is stored with another payload (nothing is written).
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for line, item in enumerate(items, start=1):
        given = {name: value for name, value in item.items() if value is not None}
        groups.setdefault(tuple(given), []).append({**given, LINE: line})
    refs = _ItemRefs(services.store, items)
    source = f"graphql-{kind}"
    rejects_path = services.settings.data_dir / "rejects" / f"{source}.rejects.csv"
    total, errors = UpsertResult(), []
    with services.store.transaction():
        for records in groups.values():
            result, validated = load_records(
                services.store,
                kind,
                records,
                refs,
                source=source,
                rejects_path=rejects_path,
                small_batch_rows=services.small_batch_rows,
            )
            total += result
            errors += _item_errors(validated)
    if total.created or total.updated:  # quotes read a cached snapshot of the store
        if kind == "events":  # a stream: refreshed within a second, ahead of the quotes
            services.quotes.mark_stale()
        else:  # read-your-writes: the next quote reads the store
            services.quotes.invalidate()
    errors.sort(key=lambda e: (e.index, e.field or ""))
    return _Outcome(total, errors)


def _item_errors(checked: Validated) -> list[ItemError]:
    if checked.rejects.empty:
        return []
    return [
        ItemError(
            index=int(line) - 1,
            code=item_error_code(str(reason)),
            field=graphql_name(str(field)),
            value=quoted(str(value)),
            message=str(reason),
        )
        for line, field, value, reason in checked.rejects[
            ["line", "field", "value", "reason"]
        ].itertuples(index=False)
    ]


async def _write(
    info: Info[Context, None], kind: str, items: list[object], field: str
) -> WriteResult:
    services = info.context.services
    batch_size(items, services.config.limits, field=field)
    info.context.spend(len(items), field)
    outcome = await services.run(write_items, services, kind, [_given(i) for i in items])
    result = outcome.result
    return WriteResult(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        rejected=len({e.index for e in outcome.errors}),
        errors=outcome.errors,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Record purchases, returns, views and carts (role pricing). An `eventId` already "
            "recorded with another payload fails the request with CONFLICT; nothing is written."
        ),
        permission_classes=[IsPricing],
        metadata={REQUEST_ITEMS: "events"},
    )
    async def record_events(
        self, info: Info[Context, None], events: list[EventInput]
    ) -> WriteResult:
        return await _write(info, "events", list(events), "events")

    @strawberry.mutation(
        description="Create or update products (role admin).",
        permission_classes=[IsAdmin],
        metadata={REQUEST_ITEMS: "products"},
    )
    async def upsert_products(
        self, info: Info[Context, None], products: list[ProductInput]
    ) -> WriteResult:
        return await _write(info, "products", list(products), "products")

    @strawberry.mutation(
        description="Add or update price points (role pricing).",
        permission_classes=[IsPricing],
        metadata={REQUEST_ITEMS: "prices"},
    )
    async def upsert_prices(
        self, info: Info[Context, None], prices: list[PriceInput]
    ) -> WriteResult:
        return await _write(info, "prices", list(prices), "prices")

    @strawberry.mutation(
        description=(
            "Change the guardrails quotes use from now on (role admin); INVALID_INPUT names "
            "each bad field. Saved: they stay in force after a restart."
        ),
        permission_classes=[IsAdmin],
    )
    async def set_guardrails(self, info: Info[Context, None], input: GuardrailInput) -> Guardrails:
        services = info.context.services
        changes = _given(input)

        def apply() -> Guardrails:
            # on the guardrails in force now, which another replica may have changed
            updated = services.current_quotes().config.guardrails.updated(**changes)
            return guardrails(services.set_guardrails(updated, info.context.principal.name))

        return await services.run(apply)

    @strawberry.mutation(
        description="Approve a pending price change (role pricing).", permission_classes=[IsPricing]
    )
    async def approve_price_change(self, info: Info[Context, None], id: str) -> PriceChange:
        services = info.context.services
        change = await services.run(services.approvals.approve, id, info.context.principal.name)
        return price_change(change)

    @strawberry.mutation(
        description="Reject a pending price change with a reason (role pricing).",
        permission_classes=[IsPricing],
    )
    async def reject_price_change(
        self, info: Info[Context, None], id: str, reason: str
    ) -> PriceChange:
        services = info.context.services
        change = await services.run(
            services.approvals.reject, id, info.context.principal.name, reason
        )
        return price_change(change)


__all__ = [
    "EventInput",
    "EventType",
    "GuardrailInput",
    "ItemError",
    "ItemErrorCode",
    "Mutation",
    "PriceInput",
    "ProductInput",
    "WriteResult",
    "item_error_code",
]
