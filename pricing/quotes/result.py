"""What the quote service returns: a :class:`Quote` and the guardrails that bound it.

:meth:`Quote.output` is the JSON-ready part recorded in the audit log and compared by
replays. Amounts are gross, in the quote's ``currency`` (the product's); times are
aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from ..policy import LevelDecision

_NOT_OUTPUT = ("quote_id", "ts", "customer_id", "product_id", "model_versions")
LATER_OUTPUT = ("currency", "cost_estimated")
"""Output fields added after the audit log first recorded quotes: a replay compares them
only where the record has them."""
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_LEAVES = frozenset({str, int, float, bool, type(None)})


@dataclass(frozen=True)
class BoundRule:
    """A guardrail that moved the price."""

    name: str
    """Rule label, e.g. ``"floor"``."""
    delta: float
    """``price_after - price_before`` of the rule's step."""
    reason: str


@dataclass(frozen=True)
class Quote:
    """A quoted price with its decisions, bounds, flags and rationale."""

    quote_id: str
    ts: datetime
    customer_id: str
    product_id: str
    price: float
    """The price to show: whole cents (the current price while a change is pending)."""
    list_price: float
    currency: str | None
    """ISO 4217 code of the quote's amounts: the product's stored currency (``None``:
    the product has none stored)."""
    proposed_price: float
    """The policy's price before the guardrails."""
    guarded_price: float
    """The price after the guardrails (equals ``price`` unless approval is pending)."""
    decision: LevelDecision
    bound_rules: tuple[BoundRule, ...]
    conflicts: tuple[str, ...]
    rationale: str
    cost_estimated: bool
    """The product has no stored cost: the guardrails used ``default_cost_ratio`` times
    the list price, and the rationale says so."""
    is_personalized: bool
    """Disclosure flag: the shown price was personalised for this customer."""
    reference_price: float | None
    """Lowest price of the previous 30 days (the only allowed discount reference)."""
    announced_discount_pct: float | None
    needs_approval: bool
    """The guarded price moves more than the approval threshold."""
    is_approval_pending: bool
    """A change of this product waits for approval, so ``price`` is the current price."""
    approval_id: str | None
    model_versions: Mapping[str, str] = field(default_factory=dict)

    def output(self, *, is_json: bool = False) -> dict[str, Any]:
        """The JSON-ready output recorded in the audit log.

        Args:
            is_json: Lists for tuples, as the output reads back from JSON.
        """
        data = to_plain(self, is_json=is_json)
        for key in _NOT_OUTPUT:
            data.pop(key)
        return data


def to_plain(value: Any, *, is_json: bool = False) -> Any:
    """``dataclasses.asdict`` without its deep copies (the leaves here are immutable).

    Args:
        value: A dataclass, tuple, list, dict or leaf value.
        is_json: Give lists for tuples and string keys, as a JSON round trip would.
    """
    kind = type(value)
    if kind in _LEAVES:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and hasattr(value, "__dataclass_fields__"):
        names = _FIELD_NAMES.setdefault(kind, tuple(spec.name for spec in fields(value)))
    if names is not None:
        out = {}
        for name in names:
            item = getattr(value, name)
            out[name] = item if type(item) in _LEAVES else to_plain(item, is_json=is_json)
        return out
    if isinstance(value, tuple | list):
        items = [to_plain(v, is_json=is_json) for v in value]
        return items if is_json or kind is list else kind(items)
    if isinstance(value, dict):
        return {
            (str(k) if is_json else to_plain(k)): to_plain(v, is_json=is_json)
            for k, v in value.items()
        }
    return value


__all__ = ["LATER_OUTPUT", "BoundRule", "Quote", "to_plain"]
