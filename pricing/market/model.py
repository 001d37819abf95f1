"""A frozen, pure description of a market as arrays, and its exact MNL expectations.

A :class:`MarketModel` holds products, representative customer groups and the
exogenous path of a selling season (visits, competitor prices) over ``T``
periods. Group ``g`` of segment ``s(g)`` stands for ``n_g`` customers; in period
``t`` each of them makes :math:`v_{gt}` visits in expectation. On a visit the
customer considers product ``j`` with probability :math:`w_{gj}` and buys at most
one product by a consideration-weighted multinomial logit:

.. math::

    V_{gjt}(p) = \\alpha_g + a_j + \\gamma A_{g,b(j)}
                 - (\\beta_g + \\beta'_j) \\log\\frac{p}{p^{list}_j}
                 + \\delta h_{jt} \\log\\frac{c_{jt}}{p},

    P_{gjt}(p) = \\frac{w_{gj} e^{V_{gjt}(p_{gj})}}{1 + \\sum_k w_{gk} e^{V_{gkt}(p_{gk})}},

with :math:`h_{jt} = 1` when a competitor price :math:`c_{jt}` is in force
(else the term is 0, as in the synthetic world), and expected units

.. math::

    q_{gjt} = n_g \\, v_{gt} \\, u \\, P_{gjt},

``u`` the expected units per purchase. Writing :math:`b_{gjt} = \\beta_g + \\beta'_j
+ \\delta h_{jt}` and :math:`L_{gjt} = \\log w_{gj} + V_{gjt}(p^{list}_j)`, the
attraction is :math:`e^{L_{gjt} - b_{gjt} \\log(p / p^{list}_j)}`; the oracle and
the myopic baseline use these two arrays directly.

**Consideration (a documented simplification).** The synthetic world lets a
visitor choose among the few products actually viewed (:math:`S_v`), i.e.
:math:`E_{S}[e^{V_j} 1[j \\in S] / (1 + \\sum_{k \\in S} e^{V_k})]`. We replace the
random set by its marginals :math:`w_{gj} = P(j \\in S_v)`; with the world's small
utilities (:math:`e^{V} \\approx 0.02`) the two agree to first order, and the
model keeps the closed-form MNL expectations and substitution between products.

Money is in the world's currency (EUR gross for the synthetic world); a period
is ``period_days`` days. Everything here is pure NumPy (no I/O, no randomness).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np

from ...errors import DataValidationError

_PRODUCT_FIELDS = (
    "list_price",
    "unit_cost",
    "product_brand",
    "product_category",
    "initial_inventory",
    "base_utility",
    "product_beta",
)
_GROUP_FIELDS = ("group_segment", "group_weight", "alpha", "beta")


@dataclass(frozen=True)
class MarketOutcome:
    """Units, revenue and profit of one period, per product and per segment.

    Money in the market's currency; units are expected (or realised) item counts.
    Profit is revenue minus unit cost times units (holding and salvage are the
    simulator's business).
    """

    units: np.ndarray
    """``[num_products]`` units sold."""
    revenue: np.ndarray
    """``[num_products]`` revenue."""
    profit: np.ndarray
    """``[num_products]`` revenue minus cost of the units sold."""
    segment_units: np.ndarray
    """``[num_segments]`` units sold to each segment."""
    segment_revenue: np.ndarray
    """``[num_segments]`` revenue from each segment."""
    segment_profit: np.ndarray
    """``[num_segments]`` profit from each segment."""

    @property
    def total_profit(self) -> float:
        """Profit summed over products."""
        return float(self.profit.sum())

    @property
    def total_revenue(self) -> float:
        """Revenue summed over products."""
        return float(self.revenue.sum())

    @property
    def total_units(self) -> float:
        """Units summed over products."""
        return float(self.units.sum())


@dataclass(frozen=True, eq=False)
class MarketModel:
    """The market's true (or estimated) parameters; see the module docstring for the model.

    Build one with :meth:`from_ground_truth` (synthetic world) or :meth:`from_demand`
    (a demand model estimated on real data). Arrays are read-only NumPy arrays.
    """

    list_price: np.ndarray
    """``[num_products]`` list price (> 0), also the reference price :math:`p^{list}`."""
    unit_cost: np.ndarray
    """``[num_products]`` unit cost (>= 0)."""
    product_brand: np.ndarray
    """``[num_products]`` int brand index into ``brand_affinity``'s columns."""
    product_category: np.ndarray
    """``[num_products]`` int category index into ``category_names``."""
    initial_inventory: np.ndarray
    """``[num_products]`` units on hand at the start (``inf`` = unlimited)."""
    base_utility: np.ndarray
    """``[num_products]`` :math:`a_j`, base utility of buying the product."""
    product_beta: np.ndarray
    """``[num_products]`` :math:`\\beta'_j`, extra price sensitivity (0 in the synthetic world)."""
    group_segment: np.ndarray
    """``[num_groups]`` int segment of each representative group, sorted ascending."""
    group_weight: np.ndarray
    """``[num_groups]`` :math:`n_g`, number of customers the group stands for (> 0)."""
    alpha: np.ndarray
    """``[num_groups]`` :math:`\\alpha_g`, intercept of buying anything."""
    beta: np.ndarray
    """``[num_groups]`` :math:`\\beta_g` (>= 0), price sensitivity."""
    brand_affinity: np.ndarray
    """``[num_groups, num_brands]`` :math:`A_{g,b}` (0 for non-favourite brands)."""
    consideration: np.ndarray
    """``[num_groups, num_products]`` :math:`w_{gj}` in [0, 1], P(product considered | visit)."""
    visits: np.ndarray
    """``[num_groups, num_periods]`` :math:`v_{gt}`, expected visits per customer per period."""
    competitor_price: np.ndarray
    """``[num_products, num_periods]`` cheapest competitor price, NaN when none."""
    gamma: float
    """:math:`\\gamma`, utility weight of brand affinity."""
    delta: float
    """:math:`\\delta`, utility weight of :math:`\\log(c / p)`."""
    units_per_purchase: float = 1.0
    """``u``, expected units per purchase line (>= 1)."""
    period_days: int = 7
    """Length of one period in days (for reporting)."""
    segment_names: tuple[str, ...] = ()
    """Name of each segment (index = segment id)."""
    category_names: tuple[str, ...] = ()
    """Name (id) of each category (index = category index)."""
    product_ids: tuple[str, ...] = ()
    """Public id of each product, if known."""
    meta: dict[str, Any] = field(default_factory=dict)
    """JSON-ready description of how the market was built."""

    def __post_init__(self) -> None:
        """Coerce arrays to read-only float/int arrays and check their shapes."""
        num_products, num_groups = np.shape(self.list_price)[0], np.shape(self.group_segment)[0]
        for name in (*_PRODUCT_FIELDS, *_GROUP_FIELDS):
            is_int = name in ("product_brand", "product_category", "group_segment")
            value = np.array(getattr(self, name), dtype=np.int64 if is_int else float)
            expected = num_products if name in _PRODUCT_FIELDS else num_groups
            _check_shape(name, value, (expected,))
            object.__setattr__(self, name, _frozen(value))
        num_periods = np.shape(self.visits)[1]
        for name, shape in (
            ("brand_affinity", (num_groups, np.shape(self.brand_affinity)[1])),
            ("consideration", (num_groups, num_products)),
            ("visits", (num_groups, num_periods)),
            ("competitor_price", (num_products, num_periods)),
        ):
            value = np.array(getattr(self, name), dtype=float)
            _check_shape(name, value, shape)
            object.__setattr__(self, name, _frozen(value))
        if np.any(self.list_price <= 0):
            raise DataValidationError("expected every list price > 0", field="list_price")
        if np.any(np.diff(self.group_segment) < 0):
            raise DataValidationError("expected groups sorted by segment", field="group_segment")
        if np.any(self.group_weight <= 0):
            raise DataValidationError("expected weights > 0", field="group_weight")
        if np.any(self.product_brand >= self.brand_affinity.shape[1]):
            raise DataValidationError("brand index out of range", field="product_brand")
        if not self.segment_names:
            names = tuple(f"segment {s}" for s in range(int(self.group_segment.max()) + 1))
            object.__setattr__(self, "segment_names", names)
        if not self.category_names:
            names = tuple(str(c) for c in range(int(self.product_category.max()) + 1))
            object.__setattr__(self, "category_names", names)

    # ----------------------------------------------------------------- sizes
    @property
    def num_products(self) -> int:
        """Number of products ``P``."""
        return int(self.list_price.shape[0])

    @property
    def num_groups(self) -> int:
        """Number of representative customer groups ``G``."""
        return int(self.group_segment.shape[0])

    @property
    def num_segments(self) -> int:
        """Number of segments ``S``."""
        return len(self.segment_names)

    @property
    def num_categories(self) -> int:
        """Number of categories ``C``."""
        return len(self.category_names)

    @property
    def num_periods(self) -> int:
        """Number of periods ``T`` the exogenous path covers."""
        return int(self.visits.shape[1])

    @cached_property
    def segment_group_start(self) -> np.ndarray:
        """``[num_segments]`` index of the first group of each segment (for ``reduceat``)."""
        return np.searchsorted(self.group_segment, np.arange(self.num_segments))

    @cached_property
    def seasonality(self) -> np.ndarray:
        """``[num_periods]`` customer-weighted visits per period over their mean (mean 1)."""
        total = self.group_weight @ self.visits
        return total / max(float(total.mean()), 1e-12)

    # ----------------------------------------------------------- model terms
    def log_attraction(self, period: int | slice) -> np.ndarray:
        """Return :math:`L_{gjt}`, the log attraction at list price.

        Args:
            period: A period index (``[G, P]`` result) or a slice (``[T', G, P]``).
        """
        comp = self.competitor_price[:, period].T  # [P] or [T', P]
        has_comp = ~np.isnan(comp)
        comp_term = self.delta * np.where(has_comp, np.log(np.where(has_comp, comp, 1.0)), 0.0)
        comp_term = comp_term - self.delta * has_comp * np.log(self.list_price)
        return self._static_log_attraction + comp_term[..., None, :]

    def price_slope(self, period: int | slice) -> np.ndarray:
        """Return the price slope :math:`b_{gjt} = \\beta_g + \\beta'_j + \\delta h_{jt}`.

        Args:
            period: A period index (``[G, P]`` result) or a slice (``[T', G, P]``).
        """
        has_comp = ~np.isnan(self.competitor_price[:, period].T)
        base = self.beta[:, None] + self.product_beta[None, :]
        return base + self.delta * has_comp[..., None, :]

    @cached_property
    def _static_log_attraction(self) -> np.ndarray:
        """``[G, P]`` :math:`\\log w + \\alpha + a + \\gamma A` (``-inf``: never considered)."""
        affinity = self.brand_affinity[:, self.product_brand]
        with np.errstate(divide="ignore"):
            log_w = np.log(self.consideration)
        return log_w + self.alpha[:, None] + self.base_utility[None, :] + self.gamma * affinity

    def group_prices(self, prices: np.ndarray) -> np.ndarray:
        """Broadcast ``[P]`` or ``[G, P]`` prices, or expand ``[S, P]`` ones, to ``[G, P]``.

        ``[S, P]`` is recognised only when ``S != G``; pass ``[G, P]`` otherwise.
        """
        prices = np.asarray(prices, dtype=float)
        if prices.shape == (self.num_products,):
            return np.broadcast_to(prices, (self.num_groups, self.num_products))
        if prices.shape == (self.num_groups, self.num_products):
            return prices
        if prices.shape == (self.num_segments, self.num_products):
            return prices[self.group_segment]
        raise DataValidationError(
            f"expected shape ({self.num_products},), ({self.num_segments}, {self.num_products})"
            f" or ({self.num_groups}, {self.num_products}), got {prices.shape}",
            field="prices",
        )

    def choice_probabilities(self, prices: np.ndarray, period: int) -> np.ndarray:
        """Return ``[G, P]`` :math:`P_{gjt}`, the probability that a visit buys product ``j``.

        Args:
            prices: ``[P]``, ``[S, P]`` or ``[G, P]`` prices (> 0) in currency.
            period: Period index in ``[0, num_periods)``.
        """
        log_ratio = np.log(self.group_prices(prices) / self.list_price)
        return mnl_probabilities(self.log_attraction(period), self.price_slope(period), log_ratio)

    def expected_units(self, prices: np.ndarray, period: int) -> np.ndarray:
        """Return ``[G, P]`` expected units :math:`q_{gjt}` (uncapped by inventory)."""
        scale = self.group_weight * self.visits[:, period] * self.units_per_purchase
        return scale[:, None] * self.choice_probabilities(prices, period)

    def outcome(self, prices: np.ndarray, units: np.ndarray) -> MarketOutcome:
        """Aggregate ``[G, P]`` units sold at ``prices`` into a :class:`MarketOutcome`."""
        group_prices = self.group_prices(prices)
        revenue = group_prices * units
        profit = revenue - self.unit_cost * units
        start = self.segment_group_start
        return MarketOutcome(
            units=units.sum(axis=0),
            revenue=revenue.sum(axis=0),
            profit=profit.sum(axis=0),
            segment_units=_segment_sum(units.sum(axis=1), start),
            segment_revenue=_segment_sum(revenue.sum(axis=1), start),
            segment_profit=_segment_sum(profit.sum(axis=1), start),
        )

    # ------------------------------------------------------------- saving
    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """``(arrays, info)``: every array field by name, and the other fields as JSON.

        :meth:`from_arrays` rebuilds an equal market (e.g. from ``np.savez`` and a
        JSON manifest).
        """
        arrays, info = {}, {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, np.ndarray):
                arrays[spec.name] = value
            else:
                info[spec.name] = list(value) if isinstance(value, tuple) else value
        return arrays, info

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], info: Mapping[str, Any]) -> MarketModel:
        """The market :meth:`to_arrays` described.

        Raises:
            DataValidationError: A field is missing or has the wrong shape.
        """
        values: dict[str, Any] = {}
        for spec in fields(cls):
            source = arrays if spec.name in arrays else info
            if spec.name not in source:
                if spec.name in ("meta", "segment_names", "category_names", "product_ids"):
                    continue
                raise DataValidationError("missing from the saved market", field=spec.name)
            value = source[spec.name]
            values[spec.name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)

    def expected_outcome(
        self, prices: np.ndarray, period: int, inventory: np.ndarray | None = None
    ) -> MarketOutcome:
        """Return the exact expected outcome of a period at ``prices``.

        Args:
            prices: ``[P]``, ``[S, P]`` or ``[G, P]`` prices (> 0) in currency.
            period: Period index in ``[0, num_periods)``.
            inventory: ``[P]`` units available; when given, sales are capped by
                :func:`ration` (fluid approximation: ``min(E[D], inventory)``).
        """
        units = self.expected_units(prices, period)
        if inventory is not None:
            units = ration(units, inventory)
        return self.outcome(prices, units)


def mnl_probabilities(
    log_attraction: np.ndarray, price_slope: np.ndarray, log_price_ratio: np.ndarray
) -> np.ndarray:
    """Return MNL purchase probabilities with an outside option of utility 0.

    .. math::

        P_j = \\frac{e^{L_j - b_j r_j}}{1 + \\sum_k e^{L_k - b_k r_k}},
        \\quad r = \\log(p / p^{list})

    Args:
        log_attraction: ``[..., P]`` :math:`L` (``-inf`` allowed: never bought).
        price_slope: ``[..., P]`` :math:`b` (>= 0).
        log_price_ratio: ``[..., P]`` :math:`r`.

    Returns:
        ``[..., P]`` probabilities; the last axis sums to less than 1.
    """
    utility = log_attraction - price_slope * log_price_ratio
    shift = np.maximum(utility.max(axis=-1, keepdims=True), 0.0)  # overflow guard
    attraction = np.exp(utility - shift)
    return attraction / (np.exp(-shift) + attraction.sum(axis=-1, keepdims=True))


def ration(units: np.ndarray, inventory: np.ndarray) -> np.ndarray:
    """Cap ``[G, P]`` demand by ``[P]`` inventory, rationing groups proportionally.

    .. math:: s_{gj} = d_{gj} \\min(1, I_j / \\sum_g d_{gj})
    """
    total = units.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(total > inventory, inventory / total, 1.0)
    return units * fill


def _segment_sum(values: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Sum ``[G]`` values over the contiguous groups of each segment (empty segments: 0)."""
    padded = np.append(values, 0.0)
    sums = np.add.reduceat(padded, start)
    is_empty = np.append(start[1:], values.size) == start
    return np.where(is_empty, 0.0, sums)


def _check_shape(name: str, value: np.ndarray, shape: tuple[int, ...]) -> None:
    if value.shape != shape:
        raise DataValidationError(f"expected shape {shape}, got {value.shape}", field=name)


def _frozen(value: np.ndarray) -> np.ndarray:
    value.setflags(write=False)
    return value


__all__ = ["MarketModel", "MarketOutcome", "mnl_probabilities", "ration"]
