"""Honest discounts: the lowest price of the last 30 days, per product.

The EU Omnibus directive (2019/2161, Art. 6a of the Price Indication Directive
98/6/EC) requires an announced price reduction to be measured against the lowest
price the product had in the 30 days before the reduction. These helpers are pure:
no clock, no I/O; the caller passes ``now``.

A price history is a sequence of ``(timestamp, price)`` changes: each price took effect
at its timestamp and stayed until the next one. Timestamps are ``datetime`` values,
timezone-aware (any zone) or naive meaning UTC; prices are gross amounts in the shop
currency.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from ...errors import GuardrailError

PriceHistory = tuple[tuple[datetime, float], ...]
"""Price changes ``(effective_from, price)``, sorted by time, UTC-aware."""


def lowest_price_in_window(
    history: Iterable[tuple[datetime, float]], now: datetime, days: float = 30
) -> float | None:
    """The lowest price in force at any moment of the ``days`` before ``now``.

    Counts the changes inside ``(now - days, now)`` and the price already in force when
    the window opened (the last change at or before its start). Changes at or after
    ``now`` are ignored, so a new price recorded at ``now`` is not measured against
    itself: ask before the reduction takes effect, or with ``now`` at its start.

    Args:
        history: ``(timestamp, price)`` changes in any order.
        now: End of the window.
        days: Window length in days, ``> 0`` (default 30, the Omnibus rule).

    Returns:
        The lowest price, or ``None`` when no price was in force in the window.

    Raises:
        GuardrailError: A timestamp is not a datetime, a price is not a finite amount
            ``>= 0``, or ``days`` is not positive.
    """
    if not days > 0 or math.isinf(days):
        raise GuardrailError(f"lowest price window: expected days > 0, got {days!r}")
    end = _as_utc(now, "now")
    start = end - timedelta(days=days)
    in_force_at_start: tuple[datetime, float] | None = None
    lowest: float | None = None
    for index, (timestamp, price) in enumerate(history):
        at = _as_utc(timestamp, f"price history entry {index}")
        amount = _price(price, f"price history entry {index}")
        if at >= end:
            continue
        if at > start:
            lowest = amount if lowest is None else min(lowest, amount)
        elif in_force_at_start is None or at >= in_force_at_start[0]:
            in_force_at_start = (at, amount)
    if in_force_at_start is not None:
        lowest = in_force_at_start[1] if lowest is None else min(lowest, in_force_at_start[1])
    return lowest


def announced_discount(price: float, lowest_price_30d: float) -> tuple[float, float]:
    """The reference price and the reduction that may be announced for ``price``.

    ``discount_pct = 100 * (reference - price) / reference``, rounded down to 0.1 so an
    announced "-x %" never overstates the reduction, and 0 when ``price`` is not below
    the reference.

    Args:
        price: The new price, gross in the shop currency.
        lowest_price_30d: The lowest price of the previous 30 days (the reference).

    Returns:
        ``(reference_price, discount_pct)``; ``discount_pct`` in percent, in ``[0, 100]``.

    Raises:
        GuardrailError: An amount is NaN, infinite or negative.
    """
    price = _price(price, "price")
    reference = _price(lowest_price_30d, "lowest_price_30d")
    if reference == 0 or price >= reference:
        return reference, 0.0
    discount = math.floor((reference - price) / reference * 1000 + 1e-9) / 10
    return reference, min(discount, 100.0)


@dataclass(frozen=True)
class PriceMemory:
    """Per product, the price changes needed to answer the lowest price of the window.

    Immutable: :meth:`record` returns a new memory. It keeps the changes of the last
    ``window_days`` before each product's newest change plus the one in force when that
    window opened, so it answers :meth:`lowest` for any ``now`` at or after the newest
    change.

    Attributes:
        window_days: Window length in days (default 30).
    """

    window_days: float = 30
    _histories: Mapping[str, PriceHistory] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )

    def __post_init__(self) -> None:
        if not self.window_days > 0 or math.isinf(self.window_days):
            raise GuardrailError(
                f"PriceMemory.window_days: expected days > 0, got {self.window_days!r}"
            )

    def record(self, product_id: str, at: datetime, price: float) -> PriceMemory:
        """A memory that also knows that ``product_id`` costs ``price`` from ``at`` on.

        A change at the same timestamp as a known one replaces it.

        Raises:
            GuardrailError: ``at`` is not a datetime or ``price`` not a finite amount
                ``>= 0``.
        """
        return self.record_many([(product_id, at, price)])

    def record_many(self, changes: Iterable[tuple[str, datetime, float]]) -> PriceMemory:
        """A memory with every ``(product_id, at, price)`` change added (see :meth:`record`)."""
        merged: dict[str, dict[datetime, float]] = {}
        for index, (product_id, at, price) in enumerate(changes):
            where = f"price change {index} of product {product_id!r}"
            if product_id not in merged:
                merged[product_id] = dict(self._histories.get(product_id, ()))
            merged[product_id][_as_utc(at, where)] = _price(price, where)
        histories = dict(self._histories)
        for product_id, by_time in merged.items():
            histories[product_id] = self._pruned(tuple(sorted(by_time.items())))
        return PriceMemory(self.window_days, MappingProxyType(histories))

    def lowest(self, product_id: str, now: datetime) -> float | None:
        """The lowest price of ``product_id`` in the window ending at ``now``.

        Returns:
            The lowest price, or ``None`` for an unknown product or one without a price
            in force in the window.
        """
        return lowest_price_in_window(self.history(product_id), now, self.window_days)

    def history(self, product_id: str) -> PriceHistory:
        """The kept changes of ``product_id``, oldest first (empty when unknown)."""
        return self._histories.get(product_id, ())

    @property
    def product_ids(self) -> tuple[str, ...]:
        """The products with a recorded price, sorted."""
        return tuple(sorted(self._histories))

    def _pruned(self, history: PriceHistory) -> PriceHistory:
        start = history[-1][0] - timedelta(days=self.window_days)
        first_kept = 0
        for index, (at, _) in enumerate(history):
            if at <= start:
                first_kept = index
        return history[first_kept:]


def _as_utc(value: datetime, where: str) -> datetime:
    if not isinstance(value, datetime):
        raise GuardrailError(f"{where}: expected a datetime, got {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _price(value: float, where: str) -> float:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise GuardrailError(f"{where}: expected a price, got {value!r}") from None
    if not (math.isfinite(amount) and amount >= 0):
        raise GuardrailError(f"{where}: expected a finite price >= 0, got {value!r}")
    return amount


__all__ = ["PriceHistory", "PriceMemory", "announced_discount", "lowest_price_in_window"]
