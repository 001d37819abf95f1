"""A gymnasium market environment: one step prices one period of a :class:`MarketModel`.

**Action** (the general core): ``Box(min_multiplier, max_multiplier, shape=(R, P))``,
float32 multipliers of list price for each price row ``r`` and product ``j``; rows
are segments (``price_level="segment"``, ``R = S``) or representative customer
groups (``"group"``, ``R = G``, for personalised prices). The price is

.. math:: p_{rj} = \\mathrm{clip}(m_{rj} \\, p^{list}_j, \\; floor_j, \\; ceiling_j),

so any action (NaN included, read as list price) lands inside the bounds by
construction. :mod:`~.actions` maps zone, segment and personal actions to it.

**Observation** (float32, clipped to ``[0, 10]``, length ``3 + 3P``):

* ``[0]`` progress: periods elapsed over the horizon, in [0, 1];
* ``[1]`` seasonality of this period (customer-weighted visits over their mean);
* ``[2]`` seasonality of the next period (0 after the last);
* ``[3 : 3+P]`` inventory left over initial inventory (1 when unlimited, 0 when none);
* ``[3+P : 3+2P]`` cheapest competitor price over list price this period (1 when none);
* ``[3+2P : 3+3P]`` last period's price over list price, averaged over price rows (1 at reset).

**Reward**: the period's profit :math:`\\sum_j (p_j - c_j) s_j`, minus holding cost
``holding_cost_pct / 100 * c_j`` per unit left at the period's end, plus at the last
period the salvage value ``salvage_value_pct / 100 * c_j`` per leftover unit. Demand
is the exact MNL expectation (``is_stochastic=False``) or, from the env's seeded
generator, a Poisson draw per segment and product around it (split between the
segment's groups by their expected shares); sales are capped by inventory, shared between
groups in proportion to their demand (:func:`~.model.ration`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np

from ...errors import ConfigError
from .model import MarketModel, ration

_OBS_HIGH = 10.0
_OUTCOME_FIELDS = (
    "units",
    "revenue",
    "profit",
    "segment_units",
    "segment_revenue",
    "segment_profit",
)


@dataclass(frozen=True)
class SimulatorConfig:
    """Settings of one simulated selling season (saved with each run's results)."""

    horizon_periods: int = 12
    """Periods per episode (one step each)."""
    start_period: int = 0
    """Index of the market's period that episode period 0 uses."""
    price_level: Literal["segment", "group"] = "segment"
    """Rows of the action: one price per segment and product, or per group and product."""
    min_multiplier: float = 0.5
    """Lowest action value (multiplier of list price) before the price bounds."""
    max_multiplier: float = 1.5
    """Highest action value (multiplier of list price) before the price bounds."""
    is_stochastic: bool = True
    """Draw Poisson demand around the expectation (else use the expectation itself)."""
    holding_cost_pct: float = 0.0
    """Cost per period of holding one unit, in percent of its unit cost."""
    salvage_value_pct: float = 0.0
    """Value of a unit left at the end, in percent of its unit cost."""

    def __post_init__(self) -> None:
        """Reject values outside their ranges, naming the field."""
        checks = (
            ("horizon_periods", self.horizon_periods >= 1, ">= 1"),
            ("start_period", self.start_period >= 0, ">= 0"),
            ("price_level", self.price_level in ("segment", "group"), '"segment" or "group"'),
            ("min_multiplier", self.min_multiplier > 0, "> 0"),
            ("max_multiplier", self.max_multiplier >= self.min_multiplier, ">= min_multiplier"),
            ("holding_cost_pct", self.holding_cost_pct >= 0, ">= 0"),
            ("salvage_value_pct", self.salvage_value_pct >= 0, ">= 0"),
        )
        for name, is_ok, expected in checks:
            if not is_ok:
                value = getattr(self, name)
                raise ConfigError(
                    f'SimulatorConfig field "{name}": expected {expected}, got {value!r}'
                )


@dataclass(frozen=True, eq=False)
class PriceBounds:
    """Per-product price limits in currency (e.g. from ``pricing.guardrails``)."""

    floor: np.ndarray
    """``[num_products]`` lowest allowed price (> 0)."""
    ceiling: np.ndarray
    """``[num_products]`` highest allowed price (>= floor)."""

    def __post_init__(self) -> None:
        """Check ``0 < floor <= ceiling``."""
        floor, ceiling = np.asarray(self.floor, float), np.asarray(self.ceiling, float)
        if floor.shape != ceiling.shape or np.any(floor <= 0) or np.any(ceiling < floor):
            raise ConfigError("PriceBounds: expected equal shapes and 0 < floor <= ceiling")
        object.__setattr__(self, "floor", floor)
        object.__setattr__(self, "ceiling", ceiling)

    @classmethod
    def around_list(
        cls, market: MarketModel, low: float = 0.5, high: float = 1.5, min_margin_pct: float = 0.0
    ) -> PriceBounds:
        """Bounds ``[low, high] x list`` with the floor raised to ``cost x (1 + min_margin)``."""
        floor = np.maximum(low * market.list_price, market.unit_cost * (1 + min_margin_pct / 100))
        floor = np.maximum(floor, 1e-6)
        return cls(floor, np.maximum(high * market.list_price, floor))


@dataclass(frozen=True, eq=False)
class MarketState:
    """What a non-learned policy may look at before pricing a period."""

    period: int
    """Episode period about to be priced, in ``[0, horizon_periods)``."""
    market_period: int
    """Index of that period in the market's arrays."""
    inventory: np.ndarray
    """``[num_products]`` units on hand (``inf`` = unlimited)."""
    last_prices: np.ndarray
    """``[R, num_products]`` prices of the previous period (list price at reset)."""
    competitor_price: np.ndarray
    """``[num_products]`` cheapest competitor price this period (NaN when none)."""


class MarketEnv(gym.Env):
    """A market simulator (module docstring: action, observation, reward).

    Args:
        market: The true market.
        bounds: Price limits (default :meth:`PriceBounds.around_list`).
        config: Horizon, action range, demand noise and inventory values.

    Raises:
        ConfigError: If the horizon runs past the market's periods or the bounds
            do not match the products.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        market: MarketModel,
        bounds: PriceBounds | None = None,
        config: SimulatorConfig | None = None,
    ) -> None:
        self.market = market
        self.config = config or SimulatorConfig()
        self.bounds = bounds or PriceBounds.around_list(market)
        if self.bounds.floor.shape != (market.num_products,):
            raise ConfigError(
                f"PriceBounds: expected shape ({market.num_products},),"
                f" got {self.bounds.floor.shape}"
            )
        if self.config.start_period + self.config.horizon_periods > market.num_periods:
            raise ConfigError(
                f"SimulatorConfig: start_period + horizon_periods ="
                f" {self.config.start_period + self.config.horizon_periods} exceeds the"
                f" market's {market.num_periods} periods"
            )
        self.num_rows = (
            market.num_segments if self.config.price_level == "segment" else market.num_groups
        )
        self.row_of_group = (
            market.group_segment
            if self.config.price_level == "segment"
            else np.arange(market.num_groups)
        )
        shape = (self.num_rows, market.num_products)
        self.action_space = gym.spaces.Box(
            self.config.min_multiplier, self.config.max_multiplier, shape=shape, dtype=np.float32
        )
        size = 3 + 3 * market.num_products
        self.observation_space = gym.spaces.Box(0.0, _OBS_HIGH, shape=(size,), dtype=np.float32)
        list_price = market.list_price
        self.price_low = np.clip(
            self.config.min_multiplier * list_price, self.bounds.floor, self.bounds.ceiling
        )
        """``[P]`` lowest price any action gives."""
        self.price_high = np.clip(
            self.config.max_multiplier * list_price, self.bounds.floor, self.bounds.ceiling
        )
        """``[P]`` highest price any action gives."""
        self._period = 0
        self._inventory = market.initial_inventory.copy()
        self._last_prices = np.broadcast_to(list_price, shape).copy()
        self._totals: dict[str, float] = {}

    # ------------------------------------------------------------ mapping
    def prices_from_action(self, action: np.ndarray) -> np.ndarray:
        """Map multipliers ``[R, P]`` to prices ``[R, P]`` inside the bounds (NaN -> list)."""
        multiplier = np.nan_to_num(
            np.asarray(action, float).reshape(self.action_space.shape), nan=1.0
        )
        multiplier = np.clip(multiplier, self.config.min_multiplier, self.config.max_multiplier)
        return np.clip(multiplier * self.market.list_price, self.price_low, self.price_high)

    def action_from_prices(self, prices: np.ndarray) -> np.ndarray:
        """Return the action ``[R, P]`` nearest to ``[P]``, ``[S, P]`` or ``[R, P]`` prices."""
        prices = np.asarray(prices, float)
        if prices.ndim == 2 and prices.shape[0] == 1:
            prices = prices[0]
        if prices.ndim == 2 and prices.shape[0] != self.num_rows:
            prices = self.market.group_prices(prices)[self._first_group_of_row]
        multiplier = np.broadcast_to(prices / self.market.list_price, self.action_space.shape)
        low, high = self.config.min_multiplier, self.config.max_multiplier
        return np.clip(multiplier, low, high).astype(np.float32)

    @property
    def _first_group_of_row(self) -> np.ndarray:
        return np.searchsorted(self.row_of_group, np.arange(self.num_rows))

    @property
    def state(self) -> MarketState:
        """The current state (copies), for non-learned policies."""
        market_period = self.config.start_period + min(
            self._period, self.config.horizon_periods - 1
        )
        return MarketState(
            period=self._period,
            market_period=market_period,
            inventory=self._inventory.copy(),
            last_prices=self._last_prices.copy(),
            competitor_price=self.market.competitor_price[:, market_period].copy(),
        )

    # -------------------------------------------------------------- gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a season: full inventory, list prices; ``seed`` fixes every later draw."""
        super().reset(seed=seed)
        self._period = 0
        self._inventory = self.market.initial_inventory.copy()
        self._last_prices = np.broadcast_to(self.market.list_price, self.action_space.shape).copy()
        self._totals = dict.fromkeys(("profit", "revenue", "units", "holding_cost"), 0.0)
        return self._observation(), {"period": 0}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Price one period, draw demand, sell what inventory allows, return the profit."""
        if self._period >= self.config.horizon_periods:
            raise ConfigError("MarketEnv.step: the episode is over; call reset() first")
        market, config = self.market, self.config
        market_period = config.start_period + self._period
        prices = self.prices_from_action(action)
        group_prices = prices[self.row_of_group]
        demand = market.expected_units(group_prices, market_period)
        if config.is_stochastic:  # Poisson per segment and product, split by expected share
            expected = _segment_rows(demand, market)
            drawn = self.np_random.poisson(expected).astype(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.nan_to_num(demand / expected[market.group_segment])
            demand = share * drawn[market.group_segment]
        sales = ration(demand, self._inventory)
        outcome = market.outcome(group_prices, sales)
        self._inventory = np.maximum(self._inventory - outcome.units, 0.0)
        finite = np.isfinite(self._inventory)
        held = np.where(finite, self._inventory, 0.0)
        holding = float(config.holding_cost_pct / 100 * (market.unit_cost * held).sum())
        reward = outcome.total_profit - holding
        self._period += 1
        self._last_prices = prices
        is_done = self._period >= config.horizon_periods
        for key, value in (
            ("profit", outcome.total_profit),
            ("revenue", outcome.total_revenue),
            ("units", outcome.total_units),
            ("holding_cost", holding),
        ):
            self._totals[key] += value
        info: dict[str, Any] = {
            "period": self._period - 1,
            "prices": prices,
            **{name: getattr(outcome, name) for name in _OUTCOME_FIELDS},
            "segment_product_units": _segment_rows(sales, market),
            "demand_units": float(demand.sum()),
            "stockouts": int((demand.sum(axis=0) > outcome.units + 1e-9).sum()),
            "holding_cost": holding,
        }
        if is_done:
            salvage = float(config.salvage_value_pct / 100 * (market.unit_cost * held).sum())
            reward += salvage
            info.update(
                leftover_units=float(held.sum()),
                leftover_cost_value=float((market.unit_cost * held).sum()),
                salvage_value=salvage,
                episode={**self._totals, "salvage_value": salvage},
            )
        return self._observation(), float(reward), is_done, False, info

    def _observation(self) -> np.ndarray:
        market, config = self.market, self.config
        t = min(self._period, config.horizon_periods - 1)
        market_period = config.start_period + t
        season = market.seasonality
        following = market_period + 1
        is_last = self._period + 1 >= config.horizon_periods or following >= market.num_periods
        initial = market.initial_inventory
        with np.errstate(divide="ignore", invalid="ignore"):
            stock = np.where(np.isfinite(initial), self._inventory / initial, 1.0)
        stock = np.nan_to_num(stock, nan=0.0)
        comp = market.competitor_price[:, market_period] / market.list_price
        head = [
            self._period / config.horizon_periods,
            season[market_period],
            0.0 if is_last else season[following],
        ]
        last = (self._last_prices / market.list_price).mean(axis=0)
        obs = np.concatenate([head, stock, np.nan_to_num(comp, nan=1.0), last])
        return np.clip(obs, 0.0, _OBS_HIGH).astype(np.float32)


def _segment_rows(values: np.ndarray, market: MarketModel) -> np.ndarray:
    """Sum ``[G, P]`` over the groups of each segment -> ``[S, P]`` (groups sorted)."""
    start = market.segment_group_start
    padded = np.vstack([values, np.zeros((1, values.shape[1]))])
    sums = np.add.reduceat(padded, start, axis=0)
    sums[np.append(start[1:], values.shape[0]) == start] = 0.0
    return sums


__all__ = ["MarketEnv", "MarketState", "PriceBounds", "SimulatorConfig"]
