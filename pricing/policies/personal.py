"""The personal level per customer: its signal on a market's groups, its gate, its worth.

A market built from the synthetic world stands each segment's customers by
representative groups of real customers (``meta["group_customer_ids"]``). The personal
level is trained on them with their customer signal (:func:`group_signal`), played on a
simulator that prices per group (:class:`PerCustomerPolicy`), switched on only when it
gains beyond noise on validation (:func:`choose_micro_scale`), and measured by the share
of the world's personalisation headroom it captures (:func:`personal_evaluation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from ...errors import DataValidationError
from ..customers.sensitivity import CustomerSignal, SensitivityModel
from ..evaluation.baselines import PricingPolicy
from ..evaluation.compare import evaluate_policy, mean_ci95, run_episode
from ..evaluation.deployed import GuardedPolicy, deployed_bounds
from ..evaluation.headroom import personalisation_headroom
from ..guardrails.config import GuardrailConfig
from ..market.model import MarketModel
from ..market.simulator import MarketEnv, MarketState, SimulatorConfig
from .hierarchy import HierarchicalPolicy


class PerCustomerPolicy:
    """The hierarchy priced per customer group: a simulator policy for ``price_level="group"``.

    Args:
        policy: The hierarchy.
        group_segment: ``[G]`` the policy's segment index of each group.
        group_ratio: ``[G]`` each group's customer signal (ratio 1: none).
        name: Label in evaluation tables (default: the policy's).
    """

    def __init__(
        self,
        policy: HierarchicalPolicy,
        group_segment: np.ndarray,
        group_ratio: np.ndarray,
        name: str | None = None,
    ) -> None:
        self.policy, self.group_segment, self.group_ratio = policy, group_segment, group_ratio
        self.name = name or policy.name

    def prices(self, state: MarketState) -> np.ndarray:
        """``[G, P]`` prices of the period."""
        return self.prices_and_flags(state)[0]

    def prices_and_flags(self, state: MarketState) -> tuple[np.ndarray, np.ndarray]:
        """``[G, P]`` prices and personalised flags (:class:`~.deployed.GuardedPolicy`)."""
        return self.policy.group_prices_and_flags(state, self.group_segment, self.group_ratio)


def group_signal(
    market: MarketModel, sensitivity: SensitivityModel, vectors: Mapping[str, np.ndarray]
) -> tuple[CustomerSignal, np.ndarray]:
    """The customer signal built on the market's representative customers, and their ratios.

    Raises:
        DataValidationError: The market does not name its groups' customers.
    """
    customers = market.meta.get("group_customer_ids")
    if customers is None:
        raise DataValidationError(
            "a customer signal needs a market of real customers (meta['group_customer_ids'], "
            "e.g. market_from_ground_truth)"
        )
    width = sensitivity.reducer.mean.size
    states = np.full((len(customers), width), np.nan)
    for g, key in enumerate(customers):
        vector = vectors.get(str(key))
        if vector is not None and np.asarray(vector).size == width:
            states[g] = vector
    signal = CustomerSignal.build(sensitivity, states, market.group_segment, market.segment_names)
    return signal, signal.read(states, market.group_segment)["ratio"]


def personal_evaluation(
    policy: HierarchicalPolicy,
    market: MarketModel,
    group_ratio: np.ndarray,
    simulator: SimulatorConfig,
    guardrails: GuardrailConfig,
) -> dict[str, float]:
    """The personal level per customer group, expected demand, as deployed.

    Returns:
        ``headroom_pct`` (group oracle over segment oracle, :mod:`~.evaluation.headroom`, inside the
        deployed bounds: what the world holds), ``band_headroom_pct`` (the group oracle
        held to the deployed personal band: what deployed personalisation can reach),
        the season profits of ``macro+meso`` and ``full`` priced per group through the
        guardrails, ``captured_pct``, the share of the band's headroom the personal
        level adds, and ``captured_world_pct``, its share of the world's.
    """
    bounds = deployed_bounds(market, guardrails)
    config = replace(simulator, is_stochastic=False, price_level="group")
    band = guardrails.personal_band
    headroom = personalisation_headroom(market, bounds, config, band=band)
    profits = {}
    for levels in ("macro+meso", "full"):
        per_customer = PerCustomerPolicy(
            policy.with_levels(levels, levels), market.group_segment, group_ratio
        )
        env = MarketEnv(market, bounds, config)
        profits[levels] = run_episode(env, GuardedPolicy(per_customer, market, guardrails), 0)[
            "profit"
        ]
    gain = (profits["macro+meso"], profits["full"])
    return {
        "headroom_pct": headroom.pct,
        "band_headroom_pct": headroom.band_pct if band is not None else headroom.pct,
        "segment_oracle_profit": headroom.segment_profit,
        "group_oracle_profit": headroom.group_profit,
        "band_oracle_profit": headroom.band_profit,
        "macro_meso_profit": profits["macro+meso"],
        "full_profit": profits["full"],
        "captured_pct": headroom.captured_pct(*gain, band=band is not None),
        "captured_world_pct": headroom.captured_pct(*gain),
    }


def choose_micro_scale(
    policy: HierarchicalPolicy,
    env_factory: Callable[[], MarketEnv],
    scales: Sequence[float],
    seeds: Sequence[int],
    wrap: Callable[[HierarchicalPolicy], PricingPolicy] | None = None,
) -> tuple[float, dict[float, float]]:
    """Pick the micro scale with the best mean simulator profit on ``seeds`` (paired),
    among those that beat scale 0 beyond noise.

    Every candidate plays the same seeded episodes (common random numbers). A scale
    qualifies only when its paired gain over scale 0 has a 95 % lower bound above 0
    (t over the seeds; with one seed, a positive gain); among qualifying scales the best
    mean wins, ties to the smaller. So micro stays off unless it gains real profit.

    Args:
        policy: The hierarchy.
        env_factory: The validation environment.
        scales: Candidate scales in ``[0, 1]`` (0 is always tried).
        seeds: Validation episode seeds.
        wrap: Applied to each candidate before it plays, e.g. the deployed guardrails
            (:class:`~.deployed.GuardedPolicy`; ``train_pricing`` tunes as deployed).

    Returns:
        ``(best scale, {scale: mean profit in currency})``.
    """
    per_seed = {}
    for scale in sorted({0.0, *map(float, scales)}):
        candidate = policy.with_micro(policy.micro.with_scale(scale))
        player = candidate if wrap is None else wrap(candidate)
        per_seed[scale] = evaluate_policy(env_factory, player, seeds)["profit"].to_numpy(float)
    profits = {scale: float(values.mean()) for scale, values in per_seed.items()}
    qualifying = [0.0]
    for scale, values in per_seed.items():
        gain = values - per_seed[0.0]
        mean, half = mean_ci95(gain)
        low = mean - half if np.isfinite(half) else mean
        if scale > 0 and low > 0:
            qualifying.append(scale)
    best = max(qualifying, key=lambda s: (profits[s], -s))
    return best, profits


__all__ = [
    "PerCustomerPolicy",
    "choose_micro_scale",
    "group_signal",
    "personal_evaluation",
]
