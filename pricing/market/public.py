"""The public facts and estimates a trained pricing policy prices with (no true demand).

Saved with every policy checkpoint (``meso.npz`` and ``manifest.json``, see
:class:`~pricegraph.pricing.policies.hierarchy.HierarchicalPolicy`). Amounts are in the shop
currency; stock in units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np


@dataclass(frozen=True, eq=False)
class PublicMarket:
    """The public facts and estimates the policy prices with (no true demand parameters)."""

    list_price: np.ndarray
    """``[P]`` list prices."""
    unit_cost: np.ndarray
    """``[P]`` unit costs."""
    product_category: np.ndarray
    """``[P]`` category index."""
    initial_inventory: np.ndarray
    """``[P]`` stock at the season's start (``inf`` = unlimited)."""
    price_low: np.ndarray
    """``[P]`` lowest allowed price."""
    price_high: np.ndarray
    """``[P]`` highest allowed price."""
    slope: np.ndarray
    """``[S]`` estimated price slope per segment."""
    delta: float
    """Estimated extra slope when a competitor is in force."""
    horizon: int
    """Periods per season."""
    segment_names: tuple[str, ...]
    """Segment names (index = segment)."""
    category_names: tuple[str, ...]
    """Category names (index = category)."""
    product_ids: tuple[str, ...]
    """Product ids (index = product)."""
    personal_band: float | None = None
    """The deployed band a personalised price keeps around list price, as a fraction
    (``max_personal_deviation_pct / 100``); ``None``: no band. The personal level acts
    only inside it (:func:`~pricegraph.pricing.policies.micro.personal_within_band`)."""
    reference_stock: np.ndarray | None = None
    """``[P]`` catalogue stock units the season's ``initial_inventory`` stands for (the
    world's stock before ``inventory_scale``); ``None``: ``initial_inventory`` itself."""

    season_start: date | None = None
    """First day (UTC) of the season's period 0, when the market's calendar is known;
    quotes then read their period from it (:class:`~pricegraph.pricing.policy.Season`)."""
    period_days: int = 7
    """Days per period."""

    @property
    def stock_reference(self) -> np.ndarray:
        """``[P]`` catalogue stock that counts as a full season's start (ratio 1)."""
        return self.initial_inventory if self.reference_stock is None else self.reference_stock


__all__ = ["PublicMarket"]
