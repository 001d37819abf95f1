"""Personalisation headroom: what pricing per customer could add over pricing per segment.

A fact of the world, not of any policy: the certified oracle
(:func:`~.oracle.solve_oracle`) is solved twice on the same market, bounds and expected
demand, once with one price per segment (``price_level="segment"``) and once with one
price per representative customer group (``price_level="group"``). The headroom is
the second profit over the first, minus one. A personal pricing level is then measured
by the share of that headroom it captures (the gap between a segment-level and a
group-level policy over the gap between the two oracles).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .evaluation import run_episode
from .market import MarketModel
from .oracle import OraclePolicy, solve_oracle
from .simulator import MarketEnv, PriceBounds, SimulatorConfig


@dataclass(frozen=True)
class Headroom:
    """The two oracles' season profits (currency, expected demand)."""

    segment_profit: float
    """Oracle with one price per segment and product."""
    group_profit: float
    """Oracle with one price per representative customer group and product."""

    @property
    def pct(self) -> float:
        """``100 * (group_profit / segment_profit - 1)``: percent."""
        return 100.0 * (self.group_profit / self.segment_profit - 1.0)

    def captured_pct(self, segment_policy_profit: float, personal_policy_profit: float) -> float:
        """Share of the headroom, percent, that a personal level captures: its profit gain
        over the same policy without it, over ``group_profit - segment_profit`` (NaN when
        the world has no headroom: nothing to capture)."""
        gap = self.group_profit - self.segment_profit
        if gap <= 1e-9 * abs(self.segment_profit):
            return float("nan")
        return 100.0 * (personal_policy_profit - segment_policy_profit) / gap


def personalisation_headroom(
    market: MarketModel, bounds: PriceBounds, simulator: SimulatorConfig
) -> Headroom:
    """Solve the segment-level and the group-level oracle of ``market`` (module docstring)."""
    profits = {}
    for level in ("segment", "group"):
        config = replace(simulator, is_stochastic=False, price_level=level)
        env = MarketEnv(market, bounds, config)
        profits[level] = run_episode(env, OraclePolicy(solve_oracle(env)), 0)["profit"]
    return Headroom(profits["segment"], profits["group"])


__all__ = ["Headroom", "personalisation_headroom"]
