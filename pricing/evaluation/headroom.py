"""Personalisation headroom: what pricing per customer could add over pricing per segment.

A fact of the world, not of any policy: the certified oracle
(:func:`~.oracle.solve_oracle`) is solved twice on the same market, bounds and expected
demand, once with one price per segment (``price_level="segment"``) and once with one
price per representative customer group (``price_level="group"``). The headroom is
the second profit over the first, minus one. A personal pricing level is then measured
by the share of that headroom it captures (the gap between a segment-level and a
group-level policy over the gap between the two oracles). Deployed personal prices
stay within a band around the list price; the headroom inside that band (``band``) is
the one a deployed personal level can reach, the unconstrained one what the world holds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..market.model import MarketModel
from ..market.oracle import OraclePolicy, solve_oracle
from ..market.simulator import MarketEnv, PriceBounds, SimulatorConfig
from .compare import run_episode


@dataclass(frozen=True)
class Headroom:
    """The oracles' season profits (currency, expected demand)."""

    segment_profit: float
    """Oracle with one price per segment and product."""
    group_profit: float
    """Oracle with one price per representative customer group and product."""
    band_profit: float = float("nan")
    """Group oracle held to the personal band around the segment oracle's prices (NaN:
    not solved)."""

    @property
    def pct(self) -> float:
        """``100 * (group_profit / segment_profit - 1)``: percent, what the world holds."""
        return 100.0 * (self.group_profit / self.segment_profit - 1.0)

    @property
    def band_pct(self) -> float:
        """``100 * (band_profit / segment_profit - 1)``: percent, what the band allows."""
        return 100.0 * (self.band_profit / self.segment_profit - 1.0)

    def captured_pct(
        self, segment_policy_profit: float, personal_policy_profit: float, *, band: bool = False
    ) -> float:
        """Share of the headroom, percent, that a personal level captures: its profit gain
        over the same policy without it, over ``group_profit - segment_profit`` (with
        ``band``: ``band_profit - segment_profit``); NaN when there is no headroom."""
        top = self.band_profit if band else self.group_profit
        gap = top - self.segment_profit
        if not gap > 1e-9 * abs(self.segment_profit):
            return float("nan")
        return 100.0 * (personal_policy_profit - segment_policy_profit) / gap


def band_bounds(
    segment_prices: np.ndarray,
    group_segment: np.ndarray,
    list_price: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    band: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group price bounds ``[T, G, P]`` of the deployed personal band.

    A personal price stays within ``list x (1 +- band)``; so where the segment's price
    (``segment_prices [T, S, P]``) lies inside the band a group may move inside it
    (and inside ``[low, high]``, ``[P]``), and elsewhere it keeps the segment's price:
    the rule the personal level follows (:func:`~.micro.personal_within_band`).
    """
    base = segment_prices[:, group_segment, :]
    inside = np.abs(base / list_price - 1.0) <= band + 1e-12
    lowest = np.minimum(np.maximum(low, (1.0 - band) * list_price), base)
    highest = np.maximum(np.minimum(high, (1.0 + band) * list_price), base)
    return np.where(inside, lowest, base), np.where(inside, highest, base)


def personalisation_headroom(
    market: MarketModel,
    bounds: PriceBounds,
    simulator: SimulatorConfig,
    band: float | None = None,
) -> Headroom:
    """Solve the segment-level and the group-level oracle of ``market`` (module docstring).

    With ``band`` (a fraction, the deployed ``max_personal_deviation_pct / 100``) a
    third oracle prices per group but may only move the segment oracle's prices as a
    personal price may (:func:`band_bounds`): :attr:`Headroom.band_profit`, the
    headroom that deployed personalisation can reach.
    """
    envs = {
        level: MarketEnv(market, bounds, replace(simulator, is_stochastic=False, price_level=level))
        for level in ("segment", "group")
    }
    segment_plan = solve_oracle(envs["segment"])
    profits = {
        "segment": run_episode(envs["segment"], OraclePolicy(segment_plan), 0)["profit"],
        "group": run_episode(envs["group"], OraclePolicy(solve_oracle(envs["group"])), 0)["profit"],
    }
    if band is not None:
        group = envs["group"]
        row_bounds = band_bounds(
            segment_plan.prices,
            market.group_segment,
            market.list_price,
            group.price_low,
            group.price_high,
            band,
        )
        plan = solve_oracle(group, row_bounds=row_bounds)
        profits["band"] = run_episode(group, OraclePolicy(plan), 0)["profit"]
    return Headroom(profits["segment"], profits["group"], profits.get("band", float("nan")))


__all__ = ["Headroom", "band_bounds", "personalisation_headroom"]
