"""Micro level: a personal adjustment per customer and product, learned by RL (SB3 TD3).

**Learned by RL, in the estimated model** (model-based, Dyna-style): the reward of
an adjustment comes from the demand model the meso level estimated from
interaction data (:mod:`~.meso`), never from the true parameters. Each episode of
:class:`MicroBanditEnv` is one step: a (period, segment, product) cell is drawn
with a base multiplier (the upper levels' price, perturbed log-uniformly by up to
``base_noise``); the action :math:`a \\in [-1, 1]` prices at
:math:`p = \\mathrm{clip}(p_0 (1 + d a), p^{low}, p^{high})` and the reward is the
estimated profit gain over the base price :math:`p_0`, per unit of base revenue,

.. math::

    r = \\big[(p - k)(p / p_0)^{-b} - (p_0 - k)\\big] / p_0,

with :math:`b` the customer's price slope and :math:`k = c + \\lambda` the unit cost
plus the planner's shadow price of stock. TD3's actor ends in ``tanh``, so
``d * actor`` lies in ``[-d, d]`` by construction (``d`` = 15 %).

**The customer's slope is read relative to the plan** (:func:`personal_slope`): the
upper levels price a segment's average customer, so the base price is taken as optimal
for it, which gives the elasticity it implies, :math:`e_0 = p_0 / (p_0 - k)` (the
first-order condition of :math:`(p - k) p^{-e}`), and the customer's slope is
:math:`b = \\rho_c e_0`, :math:`\\rho_c` the customer signal (below). A customer at its
segment's slope (:math:`\\rho_c = 1`) is best served at the base price, so the
personal level moves a price only by what it reads of the customer, never by a
disagreement between its one-customer model and the planner's market model (on
development world 7 of ``bench/bench_personal.py``, the optimum of this reward with the
segment's estimated slope :math:`b_s \\rho_c` instead moved prices away from the plan
for customers at ratio 1 too, and lost profit). Where the base does not exceed :math:`k` no
elasticity is implied, and the segment's estimated slope is used,
:math:`b = \\rho_c (b_s + \\delta h)` (:math:`h` = competitor in force).

**Gated on real rewards.** Without a customer signal (ratio 1) the base price is the
bandit's optimum, so it can at best learn to keep it; with one it moves each
customer's price from the segment's by its signal. Where the
estimated model or the signal is wrong the learned adjustments lose real profit
(the "micro ungated" row of ``bench/bench_pricing.py``). :class:`MicroPolicy` therefore
carries a ``scale`` in ``[0, 1]`` on its output, chosen by
:func:`~.training.train_pricing` on the *simulator*, in expectation, played as
deployed through the quote guardrails on a validation market (the same world with
other representative customers): zero adjustment is the default, and micro only
deviates when that gains real profit on validation.

**Inside the deployed band.** The quote guardrails keep a personalised price within
``list x (1 +- max_personal_deviation_pct)``; the personal level decides with that
rule (:func:`personal_within_band`, in the bandit's reward and in every decision):
it acts only where the upper levels' price already lies in the band, at most to the
band's edge, so the guardrails never undo a personal price (a price outside the band
is left the segment's, not clamped towards list).

**Input vector** (:func:`micro_features`, ``S + 10`` floats). The *customer* is its
segment one-hot, the segment's estimated price slope (/ 5) and the customer signal:
``1 + log`` of the customer's estimated slope over its segment's mean estimate, read
from the customer's graph state by :class:`~pricegraph.pricing.customers.sensitivity.CustomerSignal`
(ratio 1 without a signal or a state). Training draws customers of the market's
representative groups with their own signals (:attr:`MicroCells.group_ratio`), and
quotes read the quoted customer's, through the same function. The *product* is unit
cost and shadow price over list price. Context: competitor in force (0/1),
competitor price over list, base multiplier, stock ratio, season progress and recency
(days / 365; the simulator has none, so it is fixed at 0 in training and quotes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from stable_baselines3 import TD3
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.noise import NormalActionNoise

from ...errors import ConfigError

NUM_CONTEXT = 10
"""Features after the segment one-hot."""

MAX_IMPLIED_SLOPE = 50.0
"""Cap of the elasticity a base price just above :math:`k` implies (:func:`personal_slope`)."""


@dataclass(frozen=True)
class MicroConfig:
    """TD3 settings of the personal adjustment learner (saved with each run)."""

    total_timesteps: int = 20_000
    """Bandit steps (one cell each) of training. With a customer signal the actor must
    learn a response to the customer's ratio across products, costs and base prices;
    on the development worlds (seeds 7 and 101 of ``bench/bench_personal.py``) 3,000
    steps left that response unlearned (the gate kept the personal level off even
    with the true sensitivity), 20,000 learned it."""
    learning_rate: float = 1e-3
    """Adam step size of actor and critics."""
    learning_starts: int = 300
    """Random steps before the first update."""
    batch_size: int = 128
    """Replay minibatch size."""
    action_noise: float = 0.3
    """Std of the Gaussian exploration noise on the unit action."""
    max_adjustment: float = 0.15
    """``d``: largest personal adjustment, fraction of the base price."""
    base_noise: float = 0.15
    """Largest log perturbation of the base price in training cells."""
    hidden_units: int = 64
    """Width of the two hidden layers of actor and critics."""
    seed: int = 0
    """Seed of the networks, the noise and the cells."""
    device: str = "auto"
    """Torch device passed to SB3: ``auto``, ``cpu`` or ``cuda``."""


def micro_features(
    segment: np.ndarray,
    num_segments: int,
    slope: np.ndarray,
    customer_ratio: np.ndarray,
    cost_ratio: np.ndarray,
    shadow_ratio: np.ndarray,
    competitor_ratio: np.ndarray,
    base: np.ndarray,
    stock_ratio: np.ndarray,
    progress: np.ndarray,
    recency_days: np.ndarray,
) -> np.ndarray:
    """Return ``[n, S + 10]`` float32 inputs (module docstring); arrays broadcast to ``[n]``.

    ``segment`` is an int index (-1 = unknown: all-zero one-hot); ``customer_ratio`` the
    customer's estimated slope over its segment's (:class:`~.sensitivity.CustomerSignal`,
    1 without one); ``competitor_ratio`` is NaN where no competitor is in force.
    """
    arrays = np.broadcast_arrays(
        segment,
        slope,
        cost_ratio,
        shadow_ratio,
        competitor_ratio,
        base,
        stock_ratio,
        progress,
        recency_days,
        customer_ratio,
    )
    seg = arrays[0].astype(np.int64)
    onehot = np.zeros((seg.size, num_segments), np.float32)
    known = (seg >= 0) & (seg < num_segments)
    onehot[np.flatnonzero(known), seg[known]] = 1.0
    comp = arrays[4].astype(float)
    has_comp = ~np.isnan(comp)
    context = np.stack(
        [
            arrays[1] / 5.0,
            arrays[2],
            arrays[3],
            has_comp,
            np.nan_to_num(comp, nan=1.0),
            arrays[5],
            arrays[6],
            arrays[7],
            arrays[8] / 365.0,
            1.0 + np.log(np.clip(arrays[9].astype(float), 0.25, 4.0)),
        ],
        axis=1,
    )
    context = np.clip(np.nan_to_num(context, nan=0.0), 0.0, 10.0)
    return np.concatenate([onehot, context], axis=1).astype(np.float32)


def personal_within_band(
    base: np.ndarray, adjustment: np.ndarray, band: float | None
) -> np.ndarray:
    """The adjustment the guardrails will keep, decided before they apply (train = serve).

    A personalised price must stay within ``list x (1 +- band)`` (the deployed personal
    deviation guardrail), so the personal level acts only where the upper levels' price
    ``base`` (over list) already lies inside the band, and moves it at most to the band's
    edge; elsewhere it returns 0 and the price stays the segment's.

    Args:
        base: ``[n]`` zone x segment multiplier (price over list).
        adjustment: ``[n]`` proposed adjustment, fraction of ``base``.
        band: The band as a fraction (``None``: no band, ``adjustment`` unchanged).
    """
    base, adjustment = np.broadcast_arrays(np.asarray(base, float), np.asarray(adjustment, float))
    if band is None:
        return adjustment.copy()
    inside = np.abs(base - 1.0) <= band + 1e-12
    kept = np.clip(base * (1.0 + adjustment), 1.0 - band, 1.0 + band) / base - 1.0
    return np.where(inside & (adjustment != 0.0), kept, 0.0)


def personal_slope(
    base: np.ndarray, cost: np.ndarray, ratio: np.ndarray, fallback: np.ndarray
) -> np.ndarray:
    """The customer's price slope the personal level prices with (module docstring).

    Args:
        base: ``[n]`` upper levels' price over list (:math:`p_0`).
        cost: ``[n]`` unit cost plus shadow price of stock, over list (:math:`k`).
        ratio: ``[n]`` customer signal (:math:`\\rho_c`, 1: the segment's slope).
        fallback: ``[n]`` the segment's estimated slope, used where ``base <= cost``.

    Returns:
        ``[n]`` :math:`\\rho_c \\min(p_0 / (p_0 - k), 50)`, or ``ratio * fallback``.
    """
    base, cost, ratio, fallback = np.broadcast_arrays(
        *(np.asarray(a, float) for a in (base, cost, ratio, fallback))
    )
    margin = base - cost
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = np.minimum(base / margin, MAX_IMPLIED_SLOPE)
    return ratio * np.where(margin > 1e-9, implied, fallback)


def adjustment_reward(
    base: np.ndarray, price: np.ndarray, cost: np.ndarray, slope: np.ndarray
) -> np.ndarray:
    """Estimated profit gain of ``price`` over ``base`` per unit of base revenue (module
    docstring), all over list price, ``[n]`` each."""
    with np.errstate(over="ignore"):
        return ((price - cost) * (price / base) ** (-slope) - (base - cost)) / base


def best_adjustment(
    base: np.ndarray,
    cost: np.ndarray,
    slope: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    max_adjustment: float,
    band: float | None,
    grid: int = 121,
) -> np.ndarray:
    """``[n]`` the adjustment with the best :func:`adjustment_reward` on a grid of
    ``[-d, d]``, as the bandit plays it (band, then ``[low, high]``): the optimum the
    TD3 actor learns, for tests and benchmarks."""
    base, cost, slope, low, high = np.broadcast_arrays(
        *(np.asarray(a, float) for a in (base, cost, slope, low, high))
    )
    steps = np.linspace(-max_adjustment, max_adjustment, grid)
    kept = personal_within_band(base[:, None], steps[None, :], band)
    price = np.clip(base[:, None] * (1 + kept), low[:, None], high[:, None])
    reward = adjustment_reward(base[:, None], price, cost[:, None], slope[:, None])
    reward = np.where(np.isfinite(reward), reward, -np.inf)
    # ties (e.g. outside the band) go to the smallest move
    order = np.argsort(np.abs(steps), kind="stable")
    return steps[order][np.argmax(reward[:, order], axis=1)]


@dataclass(frozen=True, eq=False)
class MicroCells:
    """The estimated model's cells the bandit draws from (``T`` periods, ``S``, ``P``)."""

    plan_ratio: np.ndarray
    """``[T, S, P]`` planned price over list price (the upper levels' target)."""
    slope: np.ndarray
    """``[S]`` estimated price slope per segment."""
    delta: float
    """Estimated extra slope when a competitor is in force."""
    competitor_ratio: np.ndarray
    """``[T, P]`` competitor price over list (NaN where none)."""
    cost_ratio: np.ndarray
    """``[P]`` unit cost over list price."""
    shadow_ratio: np.ndarray
    """``[P]`` shadow price of stock over list price."""
    low_ratio: np.ndarray
    """``[P]`` lowest allowed price over list."""
    high_ratio: np.ndarray
    """``[P]`` highest allowed price over list."""
    group_segment: np.ndarray | None = None
    """``[G]`` segment of each customer the bandit draws (``None``: one per segment)."""
    group_ratio: np.ndarray | None = None
    """``[G]`` the customer's estimated slope over its segment's (customer signal)."""
    group_weight: np.ndarray | None = None
    """``[G]`` how many customers each stands for (draw weights)."""
    personal_band: float | None = None
    """The deployed personal band (:func:`personal_within_band`); ``None``: none."""

    def groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(segment, ratio, probability)`` ``[G]`` of the customers drawn."""
        if self.group_segment is None:
            num = self.slope.size
            return np.arange(num), np.ones(num), np.full(num, 1.0 / num)
        weight = np.asarray(self.group_weight, float)
        return self.group_segment, np.asarray(self.group_ratio, float), weight / weight.sum()


class MicroBanditEnv(gym.Env):
    """One-step episodes: price one cell of the estimated model (module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, cells: MicroCells, config: MicroConfig) -> None:
        self.cells, self.config = cells, config
        num_segments = cells.slope.size
        size = num_segments + NUM_CONTEXT
        self.observation_space = gym.spaces.Box(0.0, 10.0, shape=(size,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self._cell: tuple[int, int, int, float, float] = (0, 0, 0, 1.0, 1.0)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Draw a cell and its perturbed base multiplier."""
        super().reset(seed=seed)
        cells, rng = self.cells, self.np_random
        horizon, num_segments, num_products = cells.plan_ratio.shape
        group_segment, group_ratio, chance = cells.groups()
        g = int(rng.choice(len(chance), p=chance))
        s, ratio = int(group_segment[g]), float(group_ratio[g])
        t, j = int(rng.integers(horizon)), int(rng.integers(num_products))
        noise = rng.uniform(-self.config.base_noise, self.config.base_noise)
        base = float(
            np.clip(
                cells.plan_ratio[t, s, j] * np.exp(noise), cells.low_ratio[j], cells.high_ratio[j]
            )
        )
        self._cell = (t, s, j, base, ratio)
        obs = micro_features(
            np.array([s]),
            num_segments,
            cells.slope[s],
            ratio,
            cells.cost_ratio[j],
            cells.shadow_ratio[j],
            cells.competitor_ratio[t, j],
            base,
            rng.uniform(0.0, 1.0),
            t / horizon,
            0.0,
        )
        return obs[0], {}

    def step(self, action: np.ndarray):
        """Return the estimated profit gain of the adjusted price (one-step episode)."""
        cells = self.cells
        t, s, j, base, ratio = self._cell
        unit = float(np.clip(np.nan_to_num(np.asarray(action, float)).ravel()[0], -1.0, 1.0))
        kept = personal_within_band(base, self.config.max_adjustment * unit, cells.personal_band)
        price = np.clip(base * (1 + float(kept)), cells.low_ratio[j], cells.high_ratio[j])
        cost = cells.cost_ratio[j] + cells.shadow_ratio[j]
        segment_slope = cells.slope[s] + cells.delta * (not np.isnan(cells.competitor_ratio[t, j]))
        slope = personal_slope(base, cost, ratio, segment_slope)
        reward = adjustment_reward(base, price, cost, slope)
        obs = np.zeros(self.observation_space.shape, np.float32)
        return obs, float(reward), True, False, {}


@dataclass(frozen=True, eq=False)
class MicroResult:
    """A trained micro learner and its learning curve."""

    model: TD3
    """The trained TD3 model."""
    episode_rewards: np.ndarray
    """``[steps]`` bandit rewards during training (profit gain / base revenue)."""


def train_micro(cells: MicroCells, config: MicroConfig) -> MicroResult:
    """Train TD3 on :class:`MicroBanditEnv`: config -> env -> learn -> curve."""
    env = Monitor(MicroBanditEnv(cells, config))
    env.reset(seed=config.seed)
    noise = NormalActionNoise(np.zeros(1), np.full(1, config.action_noise))
    model = TD3(
        "MlpPolicy",
        env,
        learning_rate=config.learning_rate,
        learning_starts=config.learning_starts,
        batch_size=config.batch_size,
        gamma=0.0,
        action_noise=noise,
        seed=config.seed,
        device=config.device,
        verbose=0,
        policy_kwargs={"net_arch": [config.hidden_units, config.hidden_units]},
    )
    model.learn(total_timesteps=config.total_timesteps)
    return MicroResult(model, np.asarray(env.get_episode_rewards(), float))


class MicroPolicy:
    """Personal adjustments from a trained TD3 actor.

    Args:
        model: The trained TD3 model.
        max_adjustment: ``d``; outputs lie in ``[-d, d]``.
        scale: Validation gate in ``[0, 1]`` on the adjustment (0: micro off).

    Raises:
        ConfigError: If ``scale`` is outside ``[0, 1]``.
    """

    def __init__(self, model: TD3, max_adjustment: float = 0.15, scale: float = 1.0) -> None:
        if not 0.0 <= scale <= 1.0:
            raise ConfigError(f"MicroPolicy scale: expected a value in [0, 1], got {scale!r}")
        self.model = model
        self.max_adjustment = max_adjustment
        self.scale = float(scale)

    def with_scale(self, scale: float) -> MicroPolicy:
        """The same actor with another validation gate ``scale``."""
        return MicroPolicy(self.model, self.max_adjustment, scale)

    def adjustments(self, features: np.ndarray) -> np.ndarray:
        """Return ``[n]`` adjustments in ``[-d, d]`` (fraction of base) for ``[n, F]`` inputs."""
        obs = np.clip(np.nan_to_num(np.asarray(features, np.float32), nan=0.0), 0.0, 10.0)
        if self.scale == 0.0:
            return np.zeros(obs.shape[0])
        action, _ = self.model.predict(obs, deterministic=True)
        unit = np.clip(np.asarray(action, float).reshape(obs.shape[0]), -1.0, 1.0)
        return self.scale * self.max_adjustment * unit


__all__ = [
    "NUM_CONTEXT",
    "MicroBanditEnv",
    "MicroCells",
    "MicroConfig",
    "MicroPolicy",
    "MicroResult",
    "adjustment_reward",
    "best_adjustment",
    "micro_features",
    "personal_slope",
    "personal_within_band",
    "train_micro",
]
