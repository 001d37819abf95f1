"""Meso level: segment x product multipliers within the zone, from a demand model
estimated on interaction data, planned with inventory shadow prices (no RL here).

**Estimated from data, not learned by RL.** :func:`explore` plays seeded episodes
of random prices (one multiplier per segment and product, log-uniform in
``[explore_low, explore_high]``) and records what a shop observes: its own
prices, units sold per product and to each segment (a shop knows who bought),
competitor prices and stock. :func:`fit_market` fits by penalised Poisson maximum
likelihood (L-BFGS, exact gradient) the logit model

.. math::

    E[q_{sjt}] = N_{st} P_{sjt}, \\quad P_{sjt} = \\frac{e^{U_{sjt}}}{1 + \\sum_k
        e^{U_{skt}}}, \\quad U_{sjt} = a_j + e_{sj} + \\sigma_s
        - (b_s + \\delta h_{jt}) x_{sjt} + \\delta h_{jt} \\ell_{jt},

with :math:`e_{sj}` the segment's preference for the product beyond the product's
and the segment's levels, shrunk to 0 by an L2 penalty
(:attr:`MesoConfig.preference_ridge`; segments buy different products, and pooling
them biases the slopes), :math:`x = \\log(p / p^{list})`,
:math:`\\ell = \\log(c / p^{list})`, :math:`h = 1` when a competitor price ``c`` is
in force and :math:`\\sigma_0 = \\tau_0 = 0`. A visit of segment ``s`` buys product
``j`` with the logit probability :math:`P_{sjt}`, the outside option (not buying)
at utility 0, and segment ``s`` makes :math:`N_{st} = e^{\\kappa_t + \\tau_s}` visits
in period ``t``, so raising every price of a segment moves less demand than raising
one (which also sends buyers to the other products). Exploration moves all of a
segment's prices by a common random shock each period (``explore_common``), which
identifies that split; without it the model confuses the two and prices too low
(the myopic price on the estimate: 72.1 % of the oracle with unlimited stock before,
94.8 % now; ``bench/bench_pricing.py --world-seed 2027 --inventory-scale 1.0``).
Product-periods that sold out are right-censored (their likelihood is
:math:`P(Y \\ge y)` of the total over segments); those that started without stock
are left out. The fit is a :class:`~.model.MarketModel` with one group per segment
(the :math:`e_{sj}` become its consideration weights); :class:`MesoPlanner` solves
the season-long fluid problem on it (the same solver as the oracle, but on the
*estimated* model: :func:`~.oracle.solve_oracle`), which prices stock by shadow
prices. Only public facts of the true market are read (list prices, unit costs,
categories, stock, segment names); never its demand parameters.

Played closed loop (:attr:`MesoConfig.is_closed_loop`), the planner re-solves the
rest of the season every period from the stock on hand (about 0.1 s for 600
products and 4 segments), so that an estimate that sells too fast or too slow is
corrected as the season goes, as a merchant re-plans markdowns.

The meso multiplier is the planned price over the zone's price, per segment
*and product*, clipped to ``[meso_low, meso_high]``. A multiplier per segment and
category (the :class:`~pricegraph.pricing.market.actions.SegmentActionWrapper` shape) caps the
synthetic world at 85 % of the oracle even with the true plan (its optimal prices
spread +-30 % within a category), hence the per-product refinement.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize
from scipy.stats import poisson

from ...errors import ModelError
from ..market.model import MarketModel
from ..market.oracle import PricePlan, solve_oracle
from ..market.simulator import MarketEnv, PriceBounds, SimulatorConfig

_START_INSIDE_SHARE = 0.15
"""Share of a period's visits that buy anything, where the fit starts."""


@dataclass(frozen=True)
class MesoConfig:
    """How the meso level is estimated and planned (saved with each run)."""

    explore_episodes: int = 60
    """Episodes of random prices played to collect data."""
    explore_low: float = 0.7
    """Lowest random multiplier of list price while exploring."""
    explore_high: float = 1.4
    """Highest random multiplier of list price while exploring."""
    explore_common: float = 0.25
    """Half-width of the common log shock per segment and period while exploring."""
    meso_low: float = 0.5
    """Lowest meso multiplier (planned price over zone price)."""
    meso_high: float = 2.0
    """Highest meso multiplier."""
    preference_ridge: float = 1.0
    """L2 weight on the segment x product preferences :math:`e_{sj}` (large: every
    segment shares the products' intercepts, the factorised model)."""
    seed: int = 0
    """Seed of the exploration prices and episodes."""
    is_closed_loop: bool = True
    """Re-plan every period from the stock actually on hand (model predictive control)
    instead of playing the first plan: the estimated model errs, so stock runs out
    early or is left over, and the rest of the season is re-planned. Needs the
    estimated market, which checkpoints keep (quotes re-plan as training did)."""


@dataclass(frozen=True, eq=False)
class ExplorationData:
    """What exploration observed: ``N`` episodes, ``T`` periods, ``S`` segments, ``P`` products."""

    log_price_ratio: np.ndarray
    """``[N, T, S, P]`` :math:`\\log(p / p^{list})` played."""
    units: np.ndarray
    """``[N, T, P]`` units sold."""
    segment_units: np.ndarray
    """``[N, T, S, P]`` units sold to each segment (a shop knows who bought)."""
    is_censored: np.ndarray
    """``[N, T, P]`` True where the product sold out in the period (demand >= units)."""
    is_empty: np.ndarray
    """``[N, T, P]`` True where the product had no stock at the period's start (no data)."""
    competitor_price: np.ndarray
    """``[T, P]`` cheapest competitor price in force (NaN when none)."""


def explore(env: MarketEnv, config: MesoConfig) -> ExplorationData:
    """Play ``config.explore_episodes`` seeded episodes of random prices on ``env``."""
    rng = np.random.default_rng(config.seed)
    horizon = env.config.horizon_periods
    shape = (config.explore_episodes, horizon, env.num_rows, env.market.num_products)
    low, high = np.log(config.explore_low), np.log(config.explore_high)
    # a common shock per segment and period moves all its prices together: it identifies
    # how much buying shifts to other products and how much to not buying (substitution)
    common = rng.uniform(-config.explore_common, config.explore_common, size=(*shape[:3], 1))
    log_ratio = np.clip(rng.uniform(low, high, size=shape) + common, low, high)
    units = np.zeros((shape[0], horizon, shape[3]))
    segment_units = np.zeros(shape)
    censored = np.zeros_like(units, dtype=bool)
    empty = np.zeros_like(units, dtype=bool)
    comp = np.full((horizon, shape[3]), np.nan)
    for n in range(shape[0]):
        env.reset(seed=config.seed * 100_003 + n)
        for t in range(horizon):
            comp[t] = env.state.competitor_price
            empty[n, t] = env.state.inventory <= 1e-9
            prices = np.exp(log_ratio[n, t]) * env.market.list_price
            action = env.action_from_prices(prices)
            log_ratio[n, t] = np.log(env.prices_from_action(action) / env.market.list_price)
            *_, info = env.step(action)
            units[n, t] = info["units"]
            segment_units[n, t] = info["segment_product_units"]
            censored[n, t] = (env.state.inventory <= 1e-9) & ~empty[n, t]
    return ExplorationData(log_ratio, units, segment_units, censored, empty, comp)


def _unpack(theta: np.ndarray, horizon: int, num_segments: int, num_products: int):
    """``a [P], kappa [T], tau [S], sigma [S], slope [S], delta, e [S, P]`` from the flat
    vector (``tau_0 = sigma_0 = 0``)."""
    sizes = (num_products, horizon, num_segments - 1, num_segments - 1, num_segments, 1)
    parts = np.split(theta, np.cumsum(sizes))
    a, kappa, tau, sigma, slope, delta, e = parts
    zero = np.zeros(1)
    return (
        a,
        kappa,
        np.concatenate([zero, tau]),
        np.concatenate([zero, sigma]),
        slope,
        float(delta[0]),
        e.reshape(num_segments, num_products),
    )


def _negative_log_likelihood(
    theta: np.ndarray,
    data: ExplorationData,
    comp_term: np.ndarray,
    has_comp: np.ndarray,
    ridge: float,
) -> tuple[float, np.ndarray]:
    """Penalised Poisson NLL of the logit model (module docstring) and its gradient.

    Product-periods with stock: one Poisson term per segment's units; sold out: the
    total's survival :math:`P(Y \\ge y)` (how the rationing split it is not modelled).
    """
    _, horizon, num_segments, num_products = data.log_price_ratio.shape
    a, kappa, tau, sigma, slope, delta, e_sp = _unpack(theta, horizon, num_segments, num_products)
    x = data.log_price_ratio
    eff_slope = slope[:, None] + delta * has_comp[:, None, :]  # [T, S, P]
    utility = a + sigma[:, None] + e_sp - eff_slope * x + delta * comp_term[:, None, :]
    top = np.maximum(utility.max(axis=3, keepdims=True), 0.0)  # stable softmax with outside 0
    expu = np.exp(utility - top)
    share = expu / (np.exp(-top) + expu.sum(axis=3, keepdims=True))  # [N, T, S, P]
    log_n = kappa[:, None] + tau[None, :]  # [T, S]
    mu_s = np.maximum(np.exp(np.minimum(log_n, 50.0))[:, :, None] * share, 1e-300)
    mu = mu_s.sum(axis=2)  # [N, T, P]
    keep = ~data.is_censored & ~data.is_empty
    y = data.segment_units
    loss = float(np.where(keep[:, :, None, :], mu_s - y * np.log(mu_s), 0.0).sum())
    d_mu = np.where(keep[:, :, None, :], 1.0 - y / mu_s, 0.0)  # d loss / d mu_sj
    cens = data.is_censored
    level = np.ceil(data.units[cens] - 1e-9) - 1
    survival = np.maximum(poisson.sf(level, mu[cens]), 1e-300)
    loss -= float(np.log(survival).sum())
    resid = np.zeros_like(mu)
    resid[cens] = -poisson.pmf(level, mu[cens]) / survival
    d_mu += resid[:, :, None, :]
    weighted = d_mu * mu_s  # d loss / d log mu_sj
    total = weighted.sum(axis=3, keepdims=True)
    g = weighted - share * total  # d loss / d utility_sk
    loss += 0.5 * ridge * float((e_sp**2).sum())
    g_n = total[..., 0]  # [N, T, S]: d loss / d log N_ts
    grad = np.concatenate(
        [
            g.sum(axis=(0, 1, 2)),
            g_n.sum(axis=(0, 2)),
            g_n.sum(axis=(0, 1))[1:],
            g.sum(axis=(0, 1, 3))[1:],
            -(g * x).sum(axis=(0, 1, 3)),
            [(g * has_comp[:, None, :] * (comp_term[:, None, :] - x)).sum()],
            (g.sum(axis=(0, 1)) + ridge * e_sp).ravel(),
        ]
    )
    return loss, grad


def fit_market(
    data: ExplorationData, public: MarketModel, start_period: int = 0, ridge: float = 1.0
) -> MarketModel:
    """Fit the logit demand model to exploration data; return it as a market.

    Args:
        data: Exploration records (:func:`explore`).
        public: The true market, of which only public facts are read: list prices,
            unit costs, categories, initial stock and names.
        start_period: Market period of episode period 0 (the fit covers the
            episode's periods only; other periods get the mean level).
        ridge: :attr:`MesoConfig.preference_ridge`.

    Raises:
        ModelError: If the likelihood cannot be optimised.
    """
    _, horizon, num_segments, num_products = data.log_price_ratio.shape
    has_comp = ~np.isnan(data.competitor_price)
    ratio = np.where(has_comp, data.competitor_price, public.list_price) / public.list_price
    comp_term = np.log(ratio)
    seen = ~data.is_empty
    per_segment = np.where(seen[:, :, None, :], data.segment_units, 0.0).sum(axis=3)  # [N,T,S]
    volume = np.maximum(per_segment.mean(axis=0), 1e-3)  # [T, S] units per period
    kappa0 = np.log(volume[:, 0] / _START_INSIDE_SHARE)
    tau0 = np.log(volume.mean(axis=0)[1:] / volume.mean(axis=0)[0])
    kept = np.where(seen, data.units, 0.0).sum(axis=(0, 1))
    share0 = (kept / np.maximum(seen.sum(axis=(0, 1)), 1) + 0.05) / volume.sum(axis=1).mean()
    a0 = np.log(share0 * _START_INSIDE_SHARE)
    theta0 = np.concatenate(
        [
            a0,
            kappa0,
            tau0,
            np.zeros(num_segments - 1),
            np.full(num_segments, 2.0),
            [0.5],
            np.zeros(num_segments * num_products),
        ]
    )
    bounds = [(-30.0, 10.0)] * num_products + [(-10.0, 40.0)] * horizon
    bounds += [(-10.0, 10.0)] * (2 * num_segments - 2)
    bounds += [(0.05, 15.0)] * num_segments + [(0.0, 5.0)]
    bounds += [(-20.0, 10.0)] * (num_segments * num_products)
    result = minimize(
        _negative_log_likelihood,
        theta0,
        args=(data, comp_term, has_comp, ridge),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 500},
    )
    if not np.all(np.isfinite(result.x)):
        raise ModelError(f"meso demand fit failed: {result.message}")
    a, kappa, tau, sigma, slope, delta, e_sp = _unpack(
        result.x, horizon, num_segments, num_products
    )
    top = e_sp.max()
    periods = public.num_periods
    visits = np.exp(np.full((num_segments, periods), kappa.mean()) + tau[:, None])
    visits[:, start_period : start_period + horizon] = np.exp(kappa[None, :] + tau[:, None])
    competitor = np.full((num_products, periods), np.nan)
    competitor[:, start_period : start_period + horizon] = data.competitor_price.T
    return MarketModel(
        list_price=public.list_price,
        unit_cost=public.unit_cost,
        product_brand=np.zeros(num_products, np.int64),
        product_category=public.product_category,
        initial_inventory=public.initial_inventory,
        base_utility=a + top,
        product_beta=np.zeros(num_products),
        group_segment=np.arange(num_segments),
        group_weight=np.ones(num_segments),
        alpha=sigma,
        beta=slope,
        brand_affinity=np.zeros((num_segments, 1)),
        consideration=np.exp(e_sp - top),  # the segment x product preferences, in (0, 1]
        visits=visits,
        competitor_price=competitor,
        gamma=0.0,
        delta=delta,
        period_days=public.period_days,
        segment_names=public.segment_names,
        category_names=public.category_names,
        product_ids=public.product_ids,
        meta={"source": "meso_fit", "nll": float(result.fun), "iterations": int(result.nit)},
    )


class MesoPlanner:
    """Plan on an estimated market and turn the plan into meso multipliers.

    Args:
        estimated: The estimated market (:func:`fit_market`).
        env: The environment to be priced (its bounds and config are used).
        config: Clipping range of the multipliers.
    """

    def __init__(self, estimated: MarketModel, env: MarketEnv, config: MesoConfig) -> None:
        sim = env.config
        simulator = SimulatorConfig(
            horizon_periods=sim.horizon_periods,
            start_period=sim.start_period,
            min_multiplier=sim.min_multiplier,
            max_multiplier=sim.max_multiplier,
            is_stochastic=False,
            holding_cost_pct=sim.holding_cost_pct,
            salvage_value_pct=sim.salvage_value_pct,
        )
        plan_env = MarketEnv(estimated, env.bounds, simulator)
        self._set(solve_oracle(plan_env), estimated, plan_env, config)

    def _set(
        self, plan: PricePlan, estimated: MarketModel, plan_env: MarketEnv, config: MesoConfig
    ) -> None:
        self.plan = plan
        self.estimated = estimated
        self.config = config
        self._plan_env = plan_env
        self._replans: dict[tuple[int, bytes], np.ndarray] = {}
        self._replan_lock = threading.Lock()  # quotes decide on several read threads

    def forget_replans(self) -> None:
        """Drop the cached re-plans (the next period's prices are solved again)."""
        with self._replan_lock:
            self._replans.clear()

    @property
    def plan_env(self) -> MarketEnv:
        """The deterministic environment on the estimated market that the planner solves."""
        return self._plan_env

    @classmethod
    def restore(
        cls,
        plan: PricePlan,
        estimated: MarketModel,
        bounds: PriceBounds,
        simulator: SimulatorConfig,
        config: MesoConfig,
    ) -> MesoPlanner:
        """A planner from its saved parts (a checkpoint): the same plan, and the same
        re-plans from the stock on hand as the planner that was saved."""
        planner = cls.__new__(cls)
        planner._set(plan, estimated, MarketEnv(estimated, bounds, simulator), config)
        return planner

    def period_prices(self, period: int, inventory: np.ndarray | None = None) -> np.ndarray:
        """``[S, P]`` planned prices of episode ``period``; re-planned from ``inventory``
        (units on hand) for the rest of the season when closed loop (see
        :attr:`MesoConfig.is_closed_loop`), else the first plan's."""
        t = int(np.clip(period, 0, self.plan.prices.shape[0] - 1))
        if inventory is None or not self.config.is_closed_loop or t == 0:
            return self.plan.prices[t]
        stock = np.asarray(inventory, dtype=float)
        key = (t, stock.tobytes())
        prices = self._replans.get(key)  # a solved one: no wait for a solve of another key
        if prices is not None:
            return prices
        with self._replan_lock:  # one solve per (period, stock), whichever thread asks
            prices = self._replans.get(key)
            if prices is None:
                if len(self._replans) > 256:  # one episode's periods, a few episodes
                    self._replans.clear()
                env = self._plan_env
                rest = replace(
                    env.config,
                    horizon_periods=env.config.horizon_periods - t,
                    start_period=env.config.start_period + t,
                )
                market = replace(self.estimated, initial_inventory=stock)
                prices = solve_oracle(MarketEnv(market, env.bounds, rest)).prices[0]
                self._replans[key] = prices
        return prices

    def multipliers(
        self,
        period: int,
        zone_price_ratio: np.ndarray,
        list_price: np.ndarray,
        inventory: np.ndarray | None = None,
    ):
        """Return ``[S, P]`` meso multipliers: planned price over the zone's price, clipped.

        Args:
            period: Episode period (clipped into the plan).
            zone_price_ratio: ``[P]`` zone multiplier of each product's category.
            list_price: ``[P]`` list prices.
            inventory: ``[P]`` units on hand, to re-plan from (``None``: the first plan).
        """
        ratio = self.period_prices(period, inventory) / (list_price * zone_price_ratio)
        return np.clip(ratio, self.config.meso_low, self.config.meso_high)


__all__ = ["ExplorationData", "MesoConfig", "MesoPlanner", "explore", "fit_market"]
