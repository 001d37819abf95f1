"""Macro, meso and micro action levels over :class:`~.simulator.MarketEnv`'s core action.

The core action is a ``[R, P]`` matrix of multipliers of list price. The levels of
the hierarchical policies map onto it:

* **macro** (:class:`ZoneActionWrapper`): ``MultiDiscrete([Z] * C)``, one price zone
  per category; zone ``z`` multiplies list price by ``zone_levels[z]``;
* **meso** (:class:`SegmentActionWrapper`): ``Box(-1, 1, (S, C))``, per segment and
  category, :math:`m = m^{zone}_c (1 + d \\, a_{sc})` (``d`` = ``max_deviation``);
* **micro** (:class:`PersonalActionWrapper`, ``price_level="group"`` only):
  ``Box(-1, 1, (G, P))``, :math:`m_{gj} = m^{base}_{s(g)j} + d \\, a_{gj}`, a personal
  adjustment of at most ``d`` (default 15 %) of list price.

Upper levels are given to lower ones as callables of the :class:`~.simulator.MarketState`
(e.g. a trained macro policy), or fixed. The env clips every resulting price into
its bounds, so all actions are safe.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from ...errors import ConfigError
from .simulator import MarketEnv, MarketState

ZONE_NAMES: tuple[str, ...] = ("deep discount", "discount", "list", "above list", "well above list")
"""Names of the default price zones, cheapest first."""
ZONE_LEVELS: tuple[float, ...] = (0.7, 0.85, 1.0, 1.15, 1.3)
"""Default multiplier of list price of each zone in :data:`ZONE_NAMES`."""
LIST_ZONE = 2
"""Index of the list-price zone in the defaults."""


def zone_multipliers(
    zones: np.ndarray, product_category: np.ndarray, levels: tuple[float, ...] = ZONE_LEVELS
) -> np.ndarray:
    """Return ``[P]`` multipliers of list price for ``[C]`` zone indices per category."""
    zones = np.clip(np.asarray(zones, dtype=np.int64), 0, len(levels) - 1)
    return np.asarray(levels, float)[zones][product_category]


def _market_env(env: gym.Env) -> MarketEnv:
    base = env.unwrapped
    if not isinstance(base, MarketEnv):
        raise ConfigError(f"expected a MarketEnv underneath, got {type(base).__name__}")
    return base


class ZoneActionWrapper(gym.ActionWrapper):
    """Macro level: one discrete price zone per category (same for every price row).

    Args:
        env: A :class:`MarketEnv` (possibly wrapped).
        levels: Multiplier of list price of each zone, cheapest first.
    """

    def __init__(self, env: gym.Env, levels: tuple[float, ...] = ZONE_LEVELS) -> None:
        super().__init__(env)
        self.market_env = _market_env(env)
        self.levels = tuple(levels)
        market = self.market_env.market
        self.action_space = gym.spaces.MultiDiscrete([len(self.levels)] * market.num_categories)

    def action(self, action: np.ndarray) -> np.ndarray:
        """Map ``[C]`` zone indices to the core ``[R, P]`` multipliers."""
        base = self.market_env
        multiplier = zone_multipliers(action, base.market.product_category, self.levels)
        return np.broadcast_to(multiplier, base.action_space.shape).astype(np.float32)


class SegmentActionWrapper(gym.ActionWrapper):
    """Meso level: a multiplier per segment and category around the category's zone.

    Args:
        env: A :class:`MarketEnv` (possibly wrapped).
        zones: ``[C]`` fixed zone indices, or a callable of the state returning them
            (e.g. a trained macro policy); default: the list zone everywhere.
        max_deviation: ``d``: the largest relative deviation from the zone (0.15 = 15 %).
        levels: Multiplier of list price of each zone.
    """

    def __init__(
        self,
        env: gym.Env,
        zones: np.ndarray | Callable[[MarketState], np.ndarray] | None = None,
        max_deviation: float = 0.15,
        levels: tuple[float, ...] = ZONE_LEVELS,
    ) -> None:
        super().__init__(env)
        if max_deviation < 0:
            raise ConfigError(f"max_deviation: expected >= 0, got {max_deviation!r}")
        self.market_env = _market_env(env)
        market = self.market_env.market
        self.zones = np.full(market.num_categories, LIST_ZONE) if zones is None else zones
        self.max_deviation = max_deviation
        self.levels = tuple(levels)
        shape = (market.num_segments, market.num_categories)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=shape, dtype=np.float32)

    def action(self, action: np.ndarray) -> np.ndarray:
        """Map ``[S, C]`` values in [-1, 1] to the core ``[R, P]`` multipliers."""
        base = self.market_env
        market = base.market
        zones = self.zones(base.state) if callable(self.zones) else self.zones
        zone = zone_multipliers(zones, market.product_category, self.levels)  # [P]
        unit = np.clip(np.nan_to_num(np.asarray(action, float), nan=0.0), -1.0, 1.0)
        segment = zone * (1 + self.max_deviation * unit[:, market.product_category])  # [S, P]
        rows = market.group_segment if base.config.price_level == "group" else slice(None)
        return segment[rows].astype(np.float32)


class PersonalActionWrapper(gym.ActionWrapper):
    """Micro level: a personal adjustment per customer group and product.

    Args:
        env: A :class:`MarketEnv` with ``price_level="group"`` (possibly wrapped).
        base: ``[S, P]`` segment multipliers, or a callable of the state returning
            them (e.g. the macro and meso policies); default: list price.
        max_adjustment: ``d``: the largest adjustment, as a fraction of list price.

    Raises:
        ConfigError: If the env prices per segment rather than per group.
    """

    def __init__(
        self,
        env: gym.Env,
        base: np.ndarray | Callable[[MarketState], np.ndarray] | None = None,
        max_adjustment: float = 0.15,
    ) -> None:
        super().__init__(env)
        self.market_env = _market_env(env)
        if self.market_env.config.price_level != "group":
            raise ConfigError('PersonalActionWrapper: expected price_level="group" in the env')
        market = self.market_env.market
        self.base = np.ones((market.num_segments, market.num_products)) if base is None else base
        self.max_adjustment = max_adjustment
        shape = (market.num_groups, market.num_products)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=shape, dtype=np.float32)

    def action(self, action: np.ndarray) -> np.ndarray:
        """Map ``[G, P]`` values in [-1, 1] to the core ``[G, P]`` multipliers."""
        env = self.market_env
        base = self.base(env.state) if callable(self.base) else self.base
        base = np.broadcast_to(base, (env.market.num_segments, env.market.num_products))
        unit = np.clip(np.nan_to_num(np.asarray(action, float), nan=0.0), -1.0, 1.0)
        return (base[env.market.group_segment] + self.max_adjustment * unit).astype(np.float32)


__all__ = [
    "LIST_ZONE",
    "ZONE_LEVELS",
    "ZONE_NAMES",
    "PersonalActionWrapper",
    "SegmentActionWrapper",
    "ZoneActionWrapper",
    "zone_multipliers",
]
