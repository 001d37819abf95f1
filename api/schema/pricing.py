"""Pricing queries: personalised prices, what-if, the audit log, approvals, versions."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay
from strawberry.types import Info

from ...loaders.formats import MAX_AMOUNT, MIN_PRICE
from ...pricing.demand.whatif import Scenario, WhatIfConfig, what_if
from ..arguments import REQUEST_ITEMS
from ..context import Context
from ..errors import invalid, unavailable
from ..permissions import IsAdmin, IsPricing, IsReader
from ..services import Services
from ..whatif_baseline import demand_baseline
from .inputs import check_key, check_keys
from .pagination import batch_size, decode_offset, offset_connection, page_size
from .pricing_types import (
    AuditEntry,
    EncoderMetric,
    GuardrailChange,
    Guardrails,
    ModelVersions,
    PersonalizedPrice,
    PriceChange,
    audit_entry,
    guardrail_change,
    guardrails,
    personalized_price,
    price_change,
    versions,
)

logger = logging.getLogger("pricegraph.api")

MAX_WHATIF_WEEKS = 52
MAX_SCENARIO_PCT = 1000.0
"""Largest percent change a what-if takes (the guardrails cap percentages alike)."""


@strawberry.input(description="A customer and a product to price.")
class PricePairInput:
    customer_id: str
    product_id: str


@strawberry.enum(description="What a what-if scenario does to the price.")
class ScenarioKind(Enum):
    PRICE = "price"
    PERCENT_CHANGE = "percent_change"
    PERCENT_OFF = "percent_off"
    AMOUNT_OFF = "amount_off"
    BOGO = "bogo"


@strawberry.type(description="Units, revenue and profit of a scenario against doing nothing.")
class WhatIfProduct:
    product_id: str
    category: str
    is_in_scenario: bool = strawberry.field(description="False: a neighbour hit by cross effects.")
    units_base: float
    units: float
    revenue_base: float = strawberry.field(description="Gross, shop currency.")
    revenue: float
    profit_base: float
    profit: float


@strawberry.type(description="Summed outcome of one part of a what-if.")
class WhatIfTotal:
    part: str = strawberry.field(description="scenario, cannibalised or total.")
    units_base: float
    units: float
    units_uplift: float
    revenue_base: float
    revenue: float
    revenue_uplift: float
    profit_base: float
    profit: float
    profit_uplift: float


@strawberry.type(description="A what-if over `weeks` weeks.")
class WhatIfResult:
    weeks: int
    demand_version: str
    products: list[WhatIfProduct]
    totals: list[WhatIfTotal]


_SCENARIO_VALUES = {
    # kind: (lowest, highest, what the value is)
    ScenarioKind.PRICE: (MIN_PRICE, MAX_AMOUNT, "a new price (gross)"),
    ScenarioKind.AMOUNT_OFF: (0.0, MAX_AMOUNT, "money off (gross)"),
    ScenarioKind.PERCENT_CHANGE: (-100.0, MAX_SCENARIO_PCT, "a percent change"),
    ScenarioKind.PERCENT_OFF: (0.0, 100.0, "a percent off"),
}


def check_scenario_value(kind: ScenarioKind, value: float) -> None:
    """Refuse a what-if ``value`` outside its kind's range (``BOGO`` ignores it): prices and
    amounts as the loaders bound them (:data:`~pricegraph.loaders.formats.MAX_AMOUNT`).

    Raises:
        ApiError: INVALID_INPUT naming ``value``.
    """
    if kind not in _SCENARIO_VALUES:
        return
    lowest, highest, what = _SCENARIO_VALUES[kind]
    if not lowest <= value <= highest:  # NaN too
        raise invalid(
            "value",
            f"expected {what} in [{lowest:g}, {highest:g}] for {kind.name}, got {value!r}",
            value,
        )


def run_what_if(
    services: Services, product_ids: list[str], kind: str, value: float, weeks: int
) -> WhatIfResult:
    """What-if on the loaded demand model (a read thread)."""
    model = services.demand
    if model is None:
        logger.warning("what-if: no demand model at %s", services.config.demand_path)
        raise unavailable(
            "what-if needs a demand model: none is loaded (train one, or set "
            "PRICEGRAPH_API__DEMAND_PATH)"
        )
    baseline = demand_baseline(model, product_ids, weeks)
    new_prices = {}
    if kind == "price":
        new_prices = {key: value for key in product_ids}
    scenario = Scenario(tuple(product_ids), kind, value, new_prices)  # type: ignore[arg-type]
    config = WhatIfConfig(default_cost_ratio=services.pricing.default_cost_ratio)
    result = what_if(model, baseline, scenario, config)
    products = [
        WhatIfProduct(
            product_id=str(r["product_id"]),
            category=str(r["category"]),
            is_in_scenario=bool(r["is_in_scenario"]),
            **{k: float(r[k]) for k in _METRICS},
        )
        for r in result.products.to_dict("records")
    ]
    totals = [
        WhatIfTotal(
            part=part,
            **{
                f"{m}{suffix}": result.totals[f"{m}{suffix}_{part}"]
                for m in ("units", "revenue", "profit")
                for suffix in ("_base", "", "_uplift")
            },
        )
        for part in ("scenario", "cannibalised", "total")
    ]
    return WhatIfResult(
        weeks=weeks,
        demand_version=services.demand_version,
        products=products,
        totals=totals,
    )


_METRICS = ("units_base", "units", "revenue_base", "revenue", "profit_base", "profit")


def model_versions(services: Services) -> ModelVersions:
    """Versions and encoder metrics (a read thread)."""
    checkpoint = services.checkpoint
    metrics = []
    for row in checkpoint.metrics if checkpoint is not None else []:
        for name, value in row.items():
            if name != "method" and isinstance(value, int | float) and "@" in name:
                metrics.append(
                    EncoderMetric(method=str(row.get("method")), name=name, value=float(value))
                )
    quote_models = services.quotes.model_versions
    return ModelVersions(
        encoder=checkpoint.model_version if checkpoint is not None else None,
        encoder_metrics=metrics,
        policy=str(services.policy.version),
        demand=services.demand_version if services.demand is not None else None,
        quote_models=versions(quote_models),
    )


@strawberry.type
class PricingQuery:
    @strawberry.field(
        description="A guarded, explained price for a customer; recorded in the audit log.",
        permission_classes=[IsReader],
        metadata={REQUEST_ITEMS: ""},
    )
    async def personalized_price(
        self, info: Info[Context, None], customer_id: str, product_id: str
    ) -> PersonalizedPrice:
        services, context = info.context.services, info.context
        pair = (check_key(customer_id, "customerId"), check_key(product_id, "productId"))
        context.spend(1, "personalizedPrice")
        quotes = await services.run(
            lambda: services.current_quotes().quote_batch(
                [pair],
                requested_by=context.principal.name,
                may_file_approvals=context.may_file_approvals,
            )
        )
        return personalized_price(quotes[0])

    @strawberry.field(
        description="Prices for several pairs in one batch (at most the configured batch size).",
        permission_classes=[IsReader],
        metadata={REQUEST_ITEMS: "pairs"},
    )
    async def personalized_prices(
        self, info: Info[Context, None], pairs: list[PricePairInput]
    ) -> list[PersonalizedPrice]:
        services = info.context.services
        batch_size(pairs, services.config.limits, field="pairs")
        info.context.spend(len(pairs), "pairs")
        checked = [
            (
                check_key(p.customer_id, "pairs.customerId"),
                check_key(p.product_id, "pairs.productId"),
            )
            for p in pairs
        ]
        context = info.context
        quotes = await services.run(
            lambda: services.current_quotes().quote_batch(
                checked,
                requested_by=context.principal.name,
                may_file_approvals=context.may_file_approvals,
            )
        )
        return [personalized_price(q) for q in quotes]

    @strawberry.field(
        description=(
            "Units, revenue and profit of a price change or promotion on `productIds` over "
            "`weeks` weeks, against doing nothing; UNAVAILABLE without a demand model. "
            "`value`: the new price (PRICE), percent (PERCENT_*), money (AMOUNT_OFF)."
        ),
        permission_classes=[IsReader],
    )
    async def what_if(
        self,
        info: Info[Context, None],
        product_ids: list[str],
        kind: ScenarioKind,
        value: float = 0.0,
        weeks: int = 4,
    ) -> WhatIfResult:
        services = info.context.services
        keys = check_keys(product_ids, "productIds", services.config.limits.max_batch_size)
        if not 1 <= weeks <= MAX_WHATIF_WEEKS:
            raise invalid("weeks", f"expected 1 <= weeks <= {MAX_WHATIF_WEEKS}, got {weeks}", weeks)
        check_scenario_value(kind, value)
        return await services.read(run_what_if, services, keys, kind.value, value, weeks)

    @strawberry.field(
        description="Recorded quotes, oldest first, filtered (role pricing).",
        permission_classes=[IsPricing],
    )
    async def audit_log(
        self,
        info: Info[Context, None],
        customer_id: str | None = None,
        product_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[AuditEntry]:
        services = info.context.services
        limit = page_size(first, services.config.limits)
        offset = decode_offset(after)
        records = await services.read(
            services.audit.query,
            customer_id=check_key(customer_id, "customerId") if customer_id else None,
            product_id=check_key(product_id, "productId") if product_id else None,
            since=since,
            until=until,
            limit=limit + 1,
            offset=offset,
        )
        return offset_connection([audit_entry(r) for r in records], offset, limit)

    @strawberry.field(
        description="Price changes waiting for approval, oldest first (role pricing).",
        permission_classes=[IsPricing],
    )
    async def pending_price_changes(self, info: Info[Context, None]) -> list[PriceChange]:
        services = info.context.services
        changes = await services.read(services.approvals.pending)
        return [price_change(c) for c in changes]

    @strawberry.field(
        description=(
            "The guardrails quotes use now: the settings', or the last set saved by "
            "`setGuardrails` through any replica (role pricing)."
        ),
        permission_classes=[IsPricing],
    )
    async def guardrails(self, info: Info[Context, None]) -> Guardrails:
        services = info.context.services
        return await services.run(lambda: guardrails(services.current_quotes().config.guardrails))

    @strawberry.field(
        description=(
            "Guardrail changes saved by `setGuardrails`, newest first, at most `first` "
            "(default and largest: the configured page sizes); without a records database "
            "server only the last one is kept (role admin)."
        ),
        permission_classes=[IsAdmin],
    )
    async def guardrail_changes(
        self, info: Info[Context, None], first: int | None = None
    ) -> list[GuardrailChange]:
        services = info.context.services
        limit = page_size(first, services.config.limits)
        changes = await services.read(services.guardrail_store.history, limit)
        return [guardrail_change(saved) for saved in changes]

    @strawberry.field(description="Versions of the encoder, policy and demand model.")
    async def model_versions(self, info: Info[Context, None]) -> ModelVersions:
        services = info.context.services
        return await services.read(model_versions, services)


__all__ = [
    "MAX_SCENARIO_PCT",
    "PricePairInput",
    "PricingQuery",
    "ScenarioKind",
    "WhatIfResult",
    "check_scenario_value",
    "run_what_if",
]
