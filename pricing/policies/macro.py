"""Macro level: a price zone per category and period, learned by RL (SB3 PPO).

**Learned by RL** on the simulator's reward (profit). The action is
:class:`~pricegraph.pricing.market.actions.ZoneActionWrapper`'s ``MultiDiscrete([Z] * C)``: one zone
per category. PPO takes ``MultiDiscrete`` natively (a factorised categorical
policy, ``C * Z`` logits); DQN needs one ``Discrete`` space, i.e. ``Z ** C`` joint
actions (``5 ** 14`` on the synthetic world) or a per-category decomposition with
its own credit-assignment problem, hence PPO.

The observation is small and built from what a shop sees (:func:`macro_features`),
so the same policy answers quotes: ``[progress, stock_c (C), competitor_c (C)]``
with ``progress = period / horizon``, ``stock_c`` the mean stock left over
initial stock of category ``c`` and ``competitor_c`` the mean cheapest competitor
price over list price (1 where none). Rewards are divided by the mean period
profit of list prices so that PPO sees returns of order ``horizon``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor

from ..market.actions import ZONE_LEVELS, ZoneActionWrapper
from ..market.simulator import MarketEnv


@dataclass(frozen=True)
class MacroConfig:
    """PPO settings of the macro zone learner (saved with each run)."""

    total_timesteps: int = 3_000
    """Environment steps (periods) of training; an episode is ``horizon`` steps."""
    learning_rate: float = 3e-4
    """Adam step size."""
    n_steps: int = 120
    """Steps collected per PPO update (a multiple of the horizon is natural)."""
    batch_size: int = 60
    """Minibatch size of the PPO epochs."""
    n_epochs: int = 10
    """Passes over each rollout."""
    gamma: float = 0.99
    """Discount per period."""
    ent_coef: float = 0.01
    """Entropy bonus (keeps exploring zones)."""
    hidden_units: int = 64
    """Width of the two hidden layers of the policy and value networks."""
    seed: int = 0
    """Seed of the networks, the sampling and the episodes."""
    device: str = "auto"
    """Torch device passed to SB3: ``auto``, ``cpu`` or ``cuda``."""


def macro_features(
    period: int,
    inventory: np.ndarray,
    competitor_price: np.ndarray,
    horizon: int,
    product_category: np.ndarray,
    initial_inventory: np.ndarray,
    list_price: np.ndarray,
    num_categories: int,
) -> np.ndarray:
    """Return the ``[1 + 2C]`` float32 macro observation (module docstring).

    The one feature function of the macro level: the simulator's observation while
    training and evaluating, and the quotes' (:class:`~.hierarchy.HierarchicalPolicy`).

    Args:
        period: Episode period, ``progress = period / horizon``.
        inventory: ``[P]`` units on hand (``inf`` = unlimited).
        competitor_price: ``[P]`` cheapest competitor price (NaN where none).
        horizon: Periods per season.
        product_category: ``[P]`` category index.
        initial_inventory: ``[P]`` units at the season's start (``inf`` = unlimited).
        list_price: ``[P]`` list prices.
        num_categories: ``C``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        stock = np.where(np.isfinite(initial_inventory), inventory / initial_inventory, 1.0)
    stock = np.nan_to_num(stock, nan=0.0, posinf=1.0)
    comp = np.nan_to_num(competitor_price / list_price, nan=1.0)
    count = np.maximum(np.bincount(product_category, minlength=num_categories), 1)
    stock_c = np.bincount(product_category, stock, minlength=num_categories) / count
    comp_c = np.bincount(product_category, comp, minlength=num_categories) / count
    obs = np.concatenate([[period / horizon], stock_c, comp_c])
    return np.clip(obs, 0.0, 10.0).astype(np.float32)


class MacroObservation(gym.ObservationWrapper):
    """Replace the env's observation by :func:`macro_features` of its state."""

    def __init__(self, env: ZoneActionWrapper) -> None:
        super().__init__(env)
        self.market_env: MarketEnv = env.market_env
        size = 1 + 2 * self.market_env.market.num_categories
        self.observation_space = gym.spaces.Box(0.0, 10.0, shape=(size,), dtype=np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        """Features of the current state."""
        base = self.market_env
        market, state = base.market, base.state
        return macro_features(
            state.period,
            state.inventory,
            state.competitor_price,
            base.config.horizon_periods,
            market.product_category,
            market.initial_inventory,
            market.list_price,
            market.num_categories,
        )


def make_macro_env(env: MarketEnv, reward_scale: float) -> Monitor:
    """Wrap a market env for the macro learner: zones, features, scaled reward, monitor."""
    wrapped = MacroObservation(ZoneActionWrapper(env))
    scaled = gym.wrappers.TransformReward(wrapped, lambda r: r / reward_scale)
    return Monitor(scaled)


def list_price_reward_scale(env: MarketEnv, seed: int) -> float:
    """Mean period profit of list prices on one seeded episode (>= 1)."""
    env.reset(seed=seed)
    total, is_done = 0.0, False
    while not is_done:
        _, reward, is_done, _, _ = env.step(np.ones(env.action_space.shape, np.float32))
        total += reward
    return max(abs(total) / env.config.horizon_periods, 1.0)


@dataclass(frozen=True, eq=False)
class MacroResult:
    """A trained macro learner and its learning curve."""

    model: PPO
    """The trained PPO model (deterministic zones via :meth:`MacroPolicy.zones`)."""
    episode_returns: np.ndarray
    """``[episodes]`` training returns, in units of ``reward_scale``."""
    reward_scale: float
    """Currency per reward unit."""


def train_macro(env: MarketEnv, config: MacroConfig) -> MacroResult:
    """Train PPO on ``env`` through the zone wrapper: config -> env -> learn -> curve."""
    scale = list_price_reward_scale(env, config.seed)
    monitored = make_macro_env(env, scale)
    monitored.reset(seed=config.seed)
    model = PPO(
        "MlpPolicy",
        monitored,
        learning_rate=config.learning_rate,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        gamma=config.gamma,
        ent_coef=config.ent_coef,
        seed=config.seed,
        device=config.device,
        verbose=0,
        policy_kwargs={"net_arch": [config.hidden_units, config.hidden_units]},
    )
    model.learn(total_timesteps=config.total_timesteps)
    return MacroResult(model, np.asarray(monitored.get_episode_rewards(), float), scale)


class MacroPolicy:
    """Deterministic zones per category from a trained PPO model.

    Args:
        model: The trained PPO model.
        levels: Multiplier of list price of each zone.
    """

    def __init__(self, model: PPO, levels: tuple[float, ...] = ZONE_LEVELS) -> None:
        self.model = model
        self.levels = tuple(levels)

    def zones(self, features: np.ndarray) -> np.ndarray:
        """Return ``[C]`` zone indices (ints in ``[0, Z)``) for a macro observation."""
        obs = np.clip(np.nan_to_num(np.asarray(features, np.float32), nan=0.0), 0.0, 10.0)
        action, _ = self.model.predict(obs, deterministic=True)
        return np.clip(np.asarray(action, np.int64), 0, len(self.levels) - 1)


__all__ = [
    "MacroConfig",
    "MacroObservation",
    "MacroPolicy",
    "MacroResult",
    "list_price_reward_scale",
    "macro_features",
    "make_macro_env",
    "train_macro",
]
