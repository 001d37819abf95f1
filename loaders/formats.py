"""Canonical file formats: the columns each kind of input file has after mapping.

A user's files may name their columns anything; a mapping (file or CLI options)
renames them to the canonical names below. Types: ``str``, ``float``, ``int``,
``bool``, ``datetime`` (ISO 8601 or a format given in the mapping; UTC, or local
times converted with the mapping's ``timezone``). Money is a gross amount in
``currency`` (ISO 4217, default ``EUR``).

Amounts are bounded where they enter (files and API writes alike): prices and costs
(``list_price``, ``max_price``, ``cost``, ``price``) lie in [:data:`MIN_PRICE`,
:data:`MAX_AMOUNT`] = [0.01, 1e9], a cent to the largest amount the guardrails accept;
an event's ``unit_price`` lies in [0, :data:`MAX_AMOUNT`], since free items (0) and
fractions of a cent (the UCI Online Retail file has a few) are real transactions.
Dates lie in the years :data:`MIN_YEAR` to :data:`MAX_YEAR`; ids are keys (1 to
:data:`MAX_KEY_LENGTH` printable characters) and texts have a longest length per field
(``FieldSpec.max_length``); :mod:`~pricegraph.loaders.value_rules` checks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["str", "float", "int", "bool", "datetime"]

MIN_PRICE = 0.01
"""Smallest price or cost accepted (shop currency, gross): a cent, the unit prices are
rounded to; below it a price cannot be quoted."""
MAX_AMOUNT = 1e9
"""Largest price, cost or unit price accepted (shop currency): the guardrails refuse
larger amounts (``pricing.guardrails_batch.MAX_AMOUNT``), so a larger one is a mistake."""
MIN_YEAR = 1900
"""Earliest year of a stored date-time (UTC), files and API writes alike."""
MAX_YEAR = 2199
"""Latest year of a stored date-time (UTC): outside, a date moved to another zone or
formatted may overflow, and no retailer's data lies there."""
MAX_KEY_LENGTH = 200
"""Longest id (``*_id`` columns): a key is 1 to 200 printable characters, the rule the
API reads keys by (``api.schema.inputs.check_key``), so every stored row can be fetched."""
MAX_NAME_LENGTH = 500
"""Longest name (of a brand, category, product or competitor)."""
MAX_CODE_LENGTH = 200
"""Longest short text: tier, country, price source, event channel."""
MAX_TEXT_LENGTH = 10_000
"""Longest description, profile text or attributes value (a few pages)."""
CURRENCY_PATTERN = "[A-Z]{3}"
"""The shape of an ISO 4217 code (``EUR``), matched whole; lower case is refused."""


@dataclass(frozen=True)
class FieldSpec:
    """One canonical column.

    Args:
        name: Canonical column name.
        type: Value type after parsing.
        is_required: Whether a row without a value is rejected.
        min_value: Smallest allowed value (numbers), inclusive unless ``is_strict``.
        max_value: Largest allowed value (numbers), inclusive; infinities are refused.
        is_strict: Whether ``min_value`` itself is excluded (e.g. a number > 0).
        choices: Allowed values (strings).
        references: ``Label`` whose ``id`` this column must name.
        default: Value used when the column is absent or empty.
        is_key: Whether values are ids: 1 to :data:`MAX_KEY_LENGTH` printable characters.
        max_length: Longest text value, in characters (after trimming).
        pattern: Regular expression a text value must match whole.
    """

    name: str
    type: FieldType = "str"
    is_required: bool = False
    min_value: float | None = None
    max_value: float | None = None
    is_strict: bool = False
    choices: tuple[str, ...] | None = None
    references: str | None = None
    default: object = None
    is_key: bool = False
    max_length: int | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class KindSpec:
    """One kind of input file: its fields and the key that identifies a row."""

    name: str
    fields: tuple[FieldSpec, ...]
    key: str | None
    description: str

    def field(self, name: str) -> FieldSpec:
        """Return the field called ``name``."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Canonical column names in order."""
        return [f.name for f in self.fields]


_PRICE = dict(type="float", min_value=MIN_PRICE, max_value=MAX_AMOUNT)
_KEY = dict(is_key=True, max_length=MAX_KEY_LENGTH)
_NAME = dict(max_length=MAX_NAME_LENGTH)
_CODE = dict(max_length=MAX_CODE_LENGTH)
_TEXT = dict(max_length=MAX_TEXT_LENGTH)
_CURRENCY = dict(default="EUR", pattern=CURRENCY_PATTERN)

KINDS: dict[str, KindSpec] = {
    k.name: k
    for k in [
        KindSpec(
            "brands",
            (
                FieldSpec("brand_id", is_required=True, **_KEY),  # type: ignore[arg-type]
                FieldSpec("name", is_required=True, **_NAME),  # type: ignore[arg-type]
                FieldSpec("tier", **_CODE),  # type: ignore[arg-type]
                FieldSpec("description", **_TEXT),  # type: ignore[arg-type]
            ),
            key="brand_id",
            description="Brands: id, name, tier (e.g. mass, premium, luxury), description.",
        ),
        KindSpec(
            "categories",
            (
                FieldSpec("category_id", is_required=True, **_KEY),  # type: ignore[arg-type]
                FieldSpec("name", is_required=True, **_NAME),  # type: ignore[arg-type]
                FieldSpec("parent_id", references="Category", **_KEY),  # type: ignore[arg-type]
            ),
            key="category_id",
            description="Category tree: id, name, parent_id (empty for a root).",
        ),
        KindSpec(
            "products",
            (
                FieldSpec("product_id", is_required=True, **_KEY),  # type: ignore[arg-type]
                FieldSpec("name", is_required=True, **_NAME),  # type: ignore[arg-type]
                FieldSpec("description", **_TEXT),  # type: ignore[arg-type]
                FieldSpec("brand_id", references="Brand", **_KEY),  # type: ignore[arg-type]
                FieldSpec("category_id", references="Category", **_KEY),  # type: ignore[arg-type]
                FieldSpec("attributes", **_TEXT),  # type: ignore[arg-type]
                FieldSpec("cost", **_PRICE),  # type: ignore[arg-type]
                FieldSpec("list_price", **_PRICE),  # type: ignore[arg-type]
                FieldSpec("max_price", **_PRICE),  # type: ignore[arg-type]
                FieldSpec("currency", **_CURRENCY),  # type: ignore[arg-type]
                FieldSpec("stock_units", type="int", min_value=0.0),
            ),
            key="product_id",
            description="Catalog: one product per row with its brand and category.",
        ),
        KindSpec(
            "customers",
            (
                FieldSpec("customer_id", is_required=True, **_KEY),  # type: ignore[arg-type]
                FieldSpec("country", **_CODE),  # type: ignore[arg-type]
                FieldSpec("signup_ts", type="datetime"),
                FieldSpec("is_anonymous", type="bool", default=False),
                FieldSpec("profile_text", **_TEXT),  # type: ignore[arg-type]
                FieldSpec("attributes", **_TEXT),  # type: ignore[arg-type]
            ),
            key="customer_id",
            description=(
                "Customers: id, country, signup time, anonymous flag, profile_text, "
                'attributes (a JSON object, e.g. {"household_size": 2, "age": "25-34"}; '
                "or built from columns by the mapping's [files.attributes]). Attributes "
                "that are protected or proxies of protected ones (age, marital status, "
                "income, ...) are named in the load report; no stage uses attributes as "
                "embedding text or pricing features."
            ),
        ),
        KindSpec(
            "competitors",
            (
                FieldSpec("competitor_id", is_required=True, **_KEY),  # type: ignore[arg-type]
                FieldSpec("name", is_required=True, **_NAME),  # type: ignore[arg-type]
            ),
            key="competitor_id",
            description="Competitors whose prices are tracked.",
        ),
        KindSpec(
            "prices",
            (
                FieldSpec("price_point_id", **_KEY),  # type: ignore[arg-type]
                FieldSpec("product_id", is_required=True, references="Product", **_KEY),  # type: ignore[arg-type]
                FieldSpec("price", is_required=True, **_PRICE),  # type: ignore[arg-type]
                FieldSpec("currency", **_CURRENCY),  # type: ignore[arg-type]
                FieldSpec(
                    "kind",
                    is_required=True,
                    choices=("list", "markdown", "transaction", "competitor"),
                ),
                FieldSpec("valid_from", type="datetime", is_required=True),
                FieldSpec("valid_to", type="datetime"),
                FieldSpec("source", **_CODE),  # type: ignore[arg-type]
                FieldSpec("competitor_id", references="Competitor", **_KEY),  # type: ignore[arg-type]
            ),
            key="price_point_id",
            description=(
                "Price points: a product's price of one kind over [valid_from, valid_to). "
                "competitor_id is required when kind is 'competitor'. Without "
                "price_point_id the id is derived from product, kind, competitor and valid_from."
            ),
        ),
        KindSpec(
            "competitor_prices",
            (
                FieldSpec("competitor_id", is_required=True, references="Competitor", **_KEY),  # type: ignore[arg-type]
                FieldSpec("product_id", is_required=True, references="Product", **_KEY),  # type: ignore[arg-type]
                FieldSpec("price", is_required=True, **_PRICE),  # type: ignore[arg-type]
                FieldSpec("currency", **_CURRENCY),  # type: ignore[arg-type]
                FieldSpec("valid_from", type="datetime", is_required=True),
                FieldSpec("valid_to", type="datetime"),
                FieldSpec("source", **_CODE),  # type: ignore[arg-type]
            ),
            key=None,
            description="Competitor prices: stored as price points of kind 'competitor'.",
        ),
        KindSpec(
            "events",
            (
                FieldSpec("event_id", **_KEY),  # type: ignore[arg-type]
                FieldSpec(
                    "event_type", is_required=True, choices=("purchase", "return", "view", "cart")
                ),
                FieldSpec("customer_id", is_required=True, references="Customer", **_KEY),  # type: ignore[arg-type]
                FieldSpec("product_id", is_required=True, references="Product", **_KEY),  # type: ignore[arg-type]
                FieldSpec("ts", type="datetime", is_required=True),
                FieldSpec("order_id", **_KEY),  # type: ignore[arg-type]
                FieldSpec("qty", type="int", min_value=1.0, default=1),
                FieldSpec("unit_price", type="float", min_value=0.0, max_value=MAX_AMOUNT),
                FieldSpec("currency", **_CURRENCY),  # type: ignore[arg-type]
                FieldSpec("discount", type="float", min_value=0.0, max_value=MAX_AMOUNT),
                FieldSpec("promotion_id", **_KEY),  # type: ignore[arg-type]
                FieldSpec("store_id", **_KEY),  # type: ignore[arg-type]
                FieldSpec("channel", **_CODE),  # type: ignore[arg-type]
            ),
            key="event_id",
            description=(
                "Customer events: purchase, return, view, cart. Purchases and returns need "
                "order_id and unit_price (0 to 1e9; 0 for a free item): the price paid per "
                "unit, after discounts. discount is the amount taken off the whole line "
                "(0 to 1e9, in currency), promotion_id the coupon or promotion that gave it, "
                "store_id and channel where the line was sold (purchases and returns). "
                "Without event_id the id is derived from the row's values, so a re-run is "
                "idempotent."
            ),
        ),
    ]
}
"""Every kind a loader accepts, by name."""

LOAD_ORDER = (
    "brands",
    "categories",
    "competitors",
    "products",
    "customers",
    "prices",
    "competitor_prices",
    "events",
)
"""Kinds in the order a multi-file load applies them, referenced before referencing."""

ATTRIBUTE_KINDS = ("customers", "products")
"""Kinds whose ``attributes`` a mapping may build from columns (``[files.attributes]``):
customers as a JSON object (values typed: numbers stay numbers), products as the
``name=value; name=value`` text their descriptions use."""

__all__ = [
    "ATTRIBUTE_KINDS",
    "CURRENCY_PATTERN",
    "KINDS",
    "LOAD_ORDER",
    "MAX_AMOUNT",
    "MAX_CODE_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_YEAR",
    "MIN_PRICE",
    "MIN_YEAR",
    "FieldSpec",
    "FieldType",
    "KindSpec",
]
