"""The graph's nodes as Relay ``Node`` types: products, brands, categories, customers,
segments, and what hangs off them.

``id`` is the Relay global id; ``key`` is the store's natural key (``P00042``), the
one every query argument takes. Nested nodes come through the request's DataLoaders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Self, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ..context import Context
from ..errors import invalid
from ..loaders import Row, plain_row
from ..pages import customer_page
from ..permissions import IsAdmin, IsPricing, IsReader
from .pagination import decode_cursor, keyset_connection, page_size


@strawberry.enum(description="Kinds of price points.")
class PriceKind(Enum):
    """The kinds of :data:`~pricegraph.graph.schema.PRICE_KINDS`, in its order (tested)."""

    LIST = "list"
    MARKDOWN = "markdown"
    TRANSACTION = "transaction"
    COMPETITOR = "competitor"


class StoreNode:
    """Builds a node type from its store row and resolves Relay ids via the loaders."""

    LABEL: ClassVar[str]
    FIELDS: ClassVar[tuple[str, ...]]

    @classmethod
    def from_row(cls, row: Row) -> Self:
        """The node of a store row (properties named as in the graph schema)."""
        return cls(id=str(row["id"]), **{f: row.get(f) for f in cls.FIELDS})  # type: ignore[call-arg]

    @classmethod
    async def load(cls, info: Info[Context, None], key: str | None) -> Self | None:
        """The node of ``key`` through the request's loader, or ``None``."""
        if key is None:
            return None
        row = await info.context.loaders.node(cls.LABEL).load(key)
        return cls.from_row(row) if row is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        """Relay: the nodes of ``node_ids`` (``None`` where missing)."""
        rows = await info.context.loaders.node(cls.LABEL).load_many(list(node_ids))
        return [cls.from_row(r) if r is not None else None for r in rows]


@strawberry.type(description="A brand.")
class Brand(StoreNode, relay.Node):  # type: ignore[misc]  # resolve_nodes: StoreNode's
    LABEL: ClassVar[str] = "Brand"
    FIELDS: ClassVar[tuple[str, ...]] = ("name", "tier", "description")

    id: relay.NodeID[str]
    name: str | None
    tier: str | None = strawberry.field(description="e.g. mass, premium, luxury.")
    description: str | None

    @strawberry.field(description="The brand's key in the graph.")
    def key(self) -> str:
        return self.id


@strawberry.type(description="A category of the catalog tree.")
class Category(StoreNode, relay.Node):  # type: ignore[misc]  # resolve_nodes: StoreNode's
    LABEL: ClassVar[str] = "Category"
    FIELDS: ClassVar[tuple[str, ...]] = ("name",)

    id: relay.NodeID[str]
    name: str | None

    @strawberry.field(description="The category's key in the graph.")
    def key(self) -> str:
        return self.id

    @strawberry.field(description="The parent category; null for a root.")
    async def parent(self, info: Info[Context, None]) -> Category | None:
        parent = await info.context.loaders.targets["parent_of_category"].load(self.id)
        return await Category.load(info, parent)


@strawberry.type(description="A price point of a product over [validFrom, validTo).")
class PricePoint:
    key: str
    kind: str
    price: float = strawberry.field(description="Gross, in `currency`.")
    currency: str | None
    valid_from: datetime | None = strawberry.field(description="UTC.")
    valid_to: datetime | None = strawberry.field(description="UTC; null: open-ended.")
    source: str | None
    competitor_id: str | None


@strawberry.type(description="A product of the catalog.")
class Product(StoreNode, relay.Node):  # type: ignore[misc]  # resolve_nodes: StoreNode's
    LABEL: ClassVar[str] = "Product"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "description",
        "attributes",
        "list_price",
        "currency",
        "stock_units",
    )

    id: relay.NodeID[str]
    name: str | None
    description: str | None
    attributes: str | None = strawberry.field(description="Free-form attributes as text.")
    list_price: float | None = strawberry.field(description="Gross list price, in `currency`.")
    currency: str | None
    stock_units: int | None
    unit_cost: strawberry.Private[float | None] = None

    @classmethod
    def from_row(cls, row: Row) -> Self:
        product = super().from_row(row)
        product.unit_cost = row.get("cost")
        return product

    @strawberry.field(description="The product's key in the graph.")
    def key(self) -> str:
        return self.id

    @strawberry.field(description="Whether units are in stock (null: stock unknown).")
    def is_in_stock(self) -> bool | None:
        return None if self.stock_units is None else self.stock_units > 0

    @strawberry.field(
        description="Unit cost, gross, in `currency` (role pricing).",
        permission_classes=[IsPricing],
    )
    def cost(self) -> float | None:
        return self.unit_cost

    @strawberry.field
    async def brand(self, info: Info[Context, None]) -> Brand | None:
        key = await info.context.loaders.targets["brand_of_product"].load(self.id)
        return await Brand.load(info, key)

    @strawberry.field(description="The product's (leaf) category.")
    async def category(self, info: Info[Context, None]) -> Category | None:
        key = await info.context.loaders.targets["category_of_product"].load(self.id)
        return await Category.load(info, key)

    @strawberry.field(
        description=(
            "Price points, newest `validFrom` first, at most `first` (default and largest: "
            "the configured page sizes) after the `skip` newest (page back with `skip`)."
        )
    )
    async def price_history(
        self,
        info: Info[Context, None],
        kinds: list[PriceKind] | None = None,
        first: int | None = None,
        skip: int = 0,
    ) -> list[PricePoint]:
        return await price_points(info, self.id, kinds, first, skip)


async def price_points(
    info: Info[Context, None],
    product_id: str,
    kinds: list[PriceKind] | None,
    first: int | None,
    skip: int = 0,
) -> list[PricePoint]:
    """Price points of ``product_id``, newest ``valid_from`` first: ``first`` (checked as a
    page size) after the ``skip`` newest, so that every point can be paged to."""
    if skip < 0:
        raise invalid("skip", "expected 0 or more", skip)
    services = info.context.services
    limit = page_size(first, services.config.limits)
    wanted = [k.value for k in kinds] if kinds else None
    frame = await services.read(
        services.store.price_history, product_id, kinds=wanted, newest=limit, skip=skip
    )
    return [price_point(plain_row(r)) for r in frame.to_dict("records")]


def price_point(row: Row) -> PricePoint:
    """A :class:`PricePoint` of a ``price_history`` row."""
    return PricePoint(
        key=str(row["id"]),
        kind=str(row["kind"]),
        price=float(row["price"]),
        currency=row.get("currency"),
        valid_from=row.get("valid_from"),
        valid_to=row.get("valid_to"),
        source=row.get("source"),
        competitor_id=row.get("competitor_id"),
    )


@strawberry.type(description="A purchase line.")
class Purchase:
    event_id: str
    order_id: str | None
    product_id: str
    qty: int | None
    unit_price: float | None = strawberry.field(description="Gross, in `currency`.")
    currency: str | None
    ts: datetime | None = strawberry.field(description="UTC.")
    discount: float | None = strawberry.field(
        default=None, description="Taken off the whole line, gross, in `currency`."
    )
    promotion_id: str | None = strawberry.field(
        default=None, description="The coupon or promotion that gave the discount."
    )
    store_id: str | None = strawberry.field(default=None, description="Where the line was sold.")
    channel: str | None = strawberry.field(
        default=None, description="How the line was sold (e.g. store, online)."
    )

    @strawberry.field
    async def product(self, info: Info[Context, None]) -> Product | None:
        return await Product.load(info, self.product_id)


@strawberry.type(description="A customer (role reader; `attributes` role admin).")
class Customer(StoreNode, relay.Node):  # type: ignore[misc]  # resolve_nodes: StoreNode's
    LABEL: ClassVar[str] = "Customer"
    FIELDS: ClassVar[tuple[str, ...]] = ("country", "signup_ts", "is_anonymous", "profile_text")

    id: relay.NodeID[str]
    country: str | None
    signup_ts: datetime | None = strawberry.field(description="UTC.")
    is_anonymous: bool | None
    profile_text: str | None
    attributes_json: strawberry.Private[str | None] = None

    @classmethod
    def from_row(cls, row: Row) -> Self:
        customer = super().from_row(row)
        customer.attributes_json = row.get("attributes")
        return customer

    @strawberry.field(description="The customer's key in the graph.")
    def key(self) -> str:
        return self.id

    @strawberry.field(
        description=(
            "The customer's attributes as loaded (a JSON object; null: none). Role admin: "
            "they may hold demographics (age, income, household), which the load report "
            "flags and which no pricing or embedding input uses."
        ),
        permission_classes=[IsAdmin],
    )
    def attributes(self) -> JSON | None:
        if not self.attributes_json:
            return None
        return cast(JSON, json.loads(self.attributes_json))

    @strawberry.field(description="The segment with the highest membership score.")
    async def segment(self, info: Info[Context, None]) -> Segment | None:
        key = await info.context.loaders.targets["segment_of_customer"].load(self.id)
        return await Segment.load(info, key)

    @strawberry.field(description="Purchases, newest first.", permission_classes=[IsReader])
    async def purchases(
        self, info: Info[Context, None], first: int | None = None
    ) -> list[Purchase]:
        services = info.context.services
        limit = page_size(first, services.config.limits)
        frame = await services.read(services.store.purchase_history, self.id, limit=limit)
        rows = [plain_row(r) for r in frame.to_dict("records")]
        return [
            Purchase(
                event_id=str(r["event_id"]),
                order_id=r.get("order_id"),
                product_id=str(r["product_id"]),
                qty=r.get("qty"),
                unit_price=r.get("unit_price"),
                currency=r.get("currency"),
                ts=r.get("ts"),
                discount=r.get("discount"),
                promotion_id=r.get("promotion_id"),
                store_id=r.get("store_id"),
                channel=r.get("channel"),
            )
            for r in rows
        ]


@strawberry.type(description="What a segment's members are like.")
class SegmentProfile:
    size: int = strawberry.field(description="Members now.")
    spend_mean: float | None = strawberry.field(description="Net spend per member, mean.")
    spend_median: float | None
    orders_mean: float | None = strawberry.field(description="Orders per member, mean.")
    recency_days_mean: float | None = strawberry.field(description="Days since last purchase.")
    discount_share: float | None = strawberry.field(description="Share of spend on discount.")
    price_sensitivity: str | None = strawberry.field(
        description="price-sensitive, price-neutral, price-insensitive or price-unknown."
    )
    top_categories: list[str]
    top_brands: list[str]


_PROFILE = re.compile(
    r"net spend mean (?P<spend_mean>[\d.]+), median (?P<spend_median>[\d.]+); "
    r"(?P<orders>[\d.]+) orders; last purchase (?P<recency>[\d.]+|nan) days ago; "
    r"discount share (?P<share>[\d.]+%|-); top categories: (?P<cats>[^;]*); "
    r"top brands: (?P<brands>.*)$"
)


PROFILE_FIELDS = (
    "spend_mean",
    "spend_median",
    "orders_mean",
    "recency_days_mean",
    "discount_share",
    "price_sensitivity",
    "top_categories",
    "top_brands",
)
"""Segment properties that hold the profile (written by ``pricegraph segments``)."""


def segment_profile(
    description: str | None, name: str | None, size: int, stored: dict[str, Any] | None = None
) -> SegmentProfile:
    """The profile written with the segment (see :mod:`pricegraph.segments.profiles`):
    its properties, or, for segments stored before they existed, parsed from the
    description."""
    stored = stored or {}
    if stored.get("price_sensitivity") is not None:

        def value(field: str) -> float | None:
            number = stored.get(field)
            return None if number is None or number != number else float(number)  # NaN

        def listed(field: str) -> list[str]:
            text = (stored.get(field) or "").strip()
            return [part.strip() for part in text.split(",")] if text else []

        return SegmentProfile(
            size=size,
            spend_mean=value("spend_mean"),
            spend_median=value("spend_median"),
            orders_mean=value("orders_mean"),
            recency_days_mean=value("recency_days_mean"),
            discount_share=value("discount_share"),
            price_sensitivity=str(stored["price_sensitivity"]),
            top_categories=listed("top_categories"),
            top_brands=listed("top_brands"),
        )
    found = _PROFILE.search(description or "")

    def number(group: str) -> float | None:
        if found is None or found.group(group) in ("nan", "-"):
            return None
        return float(found.group(group).rstrip("%")) / (100 if group == "share" else 1)

    def names(group: str) -> list[str]:
        text = found.group(group).strip() if found else "-"
        return [] if text in ("", "-") else [part.strip() for part in text.split(",")]

    parts = (name or "").split(" · ")
    return SegmentProfile(
        size=size,
        spend_mean=number("spend_mean"),
        spend_median=number("spend_median"),
        orders_mean=number("orders"),
        recency_days_mean=number("recency"),
        discount_share=number("share"),
        price_sensitivity=parts[-1] if parts[-1].startswith("price-") else None,
        top_categories=names("cats"),
        top_brands=names("brands"),
    )


@strawberry.type(description="A customer segment (role reader).")
class Segment(StoreNode, relay.Node):  # type: ignore[misc]  # resolve_nodes: StoreNode's
    LABEL: ClassVar[str] = "Segment"
    FIELDS: ClassVar[tuple[str, ...]] = ("name", "description", "version")

    id: relay.NodeID[str]
    name: str | None
    description: str | None
    version: str | None
    stored_profile: strawberry.Private[dict[str, Any] | None] = None

    @classmethod
    def from_row(cls, row: Row) -> Self:
        segment = super().from_row(row)
        segment.stored_profile = {f: row.get(f) for f in PROFILE_FIELDS}
        return segment

    @strawberry.field(description="The segment's key in the graph.")
    def key(self) -> str:
        return self.id

    @strawberry.field(description="Members by key.", permission_classes=[IsReader])
    async def members(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> relay.Connection[Customer]:
        services = info.context.services
        limit = page_size(first, services.config.limits)
        start = decode_cursor(after, "key")
        rows = await services.read(
            customer_page, services.store, after=start, limit=limit + 1, segment=self.id
        )
        info.context.loaders.prime("Customer", rows)
        nodes = [Customer.from_row(r) for r in rows]
        return keyset_connection(nodes, [n.id for n in nodes], limit)

    @strawberry.field(description="Size, spend, recency, tops and price sensitivity.")
    async def profile(self, info: Info[Context, None]) -> SegmentProfile:
        services = info.context.services
        size = await services.read(services.store.segment_size, self.id)
        return segment_profile(self.description, self.name, size, self.stored_profile)


def node_types() -> list[Any]:
    """Every Relay node type (for the schema's ``types``)."""
    return [Brand, Category, Product, Customer, Segment]


__all__ = [
    "Brand",
    "Category",
    "Customer",
    "PriceKind",
    "PricePoint",
    "Product",
    "Purchase",
    "Segment",
    "SegmentProfile",
    "node_types",
    "price_point",
    "price_points",
    "segment_profile",
]
