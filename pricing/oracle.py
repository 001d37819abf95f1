"""The oracle: the best season-long prices under the market's true parameters.

Over the episode's periods ``t``, price rows ``r`` (segments or groups) and products
``j``, with prices inside the same bounds the policies get, the oracle solves the
fluid (expected-demand) problem

.. math::

    \\max_{p} \\; \\sum_t \\sum_g \\sum_j q_{gjt}(p_{r(g)\\cdot t}) \\, (p_{r(g)jt} - k_{jt})
    \\quad \\text{s.t.} \\quad \\sum_{t, g} q_{gjt} \\le I_j,

with :math:`q_{gjt} = n_g v_{gt} u P_{gjt}` (:mod:`.market`) and the effective unit
cost :math:`k_{jt} = c_j (1 + salvage - holding \\cdot (T - t))` (a unit sold
forgoes its salvage value and saves holding until the end; :math:`k = c` for
unlimited stock). Inventory is priced by
a Lagrange multiplier (shadow price) :math:`\\lambda_j \\ge 0` per product:
for given :math:`\\lambda` the problem separates into independent
``(period, row)`` blocks of :math:`\\max \\sum_g n_g \\sum_j P_{gj}(p_j - k_j - \\lambda_j)`,
solved together by L-BFGS-B on :math:`x = \\log p` with the exact gradient

.. math::

    \\frac{\\partial}{\\partial x_j} = \\sum_{g} n_g P_{gj}
        \\big[p_j - b_{gj} (m_{gj} - \\textstyle\\sum_k P_{gk} m_{gk})\\big],
    \\qquad m = p - k - \\lambda.

Products whose unconstrained demand exceeds their stock get :math:`\\lambda_j`
by bisection on :math:`[0, p^{high}_j]` (demand falls as :math:`\\lambda_j` rises);
the plan keeps the feasible end of each bracket. The optimum of this fluid
problem bounds the expected profit of any policy in the deterministic
environment (``is_stochastic=False``) and, by the usual fluid-relaxation
argument, approximately in the stochastic one; :class:`OraclePolicy` plays the
plan open loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .market import MarketModel, mnl_probabilities
from .simulator import MarketEnv, MarketState


@dataclass(frozen=True, eq=False)
class PricePlan:
    """Prices for every episode period, with the solver's diagnostics."""

    prices: np.ndarray
    """``[T, R, P]`` prices in currency for episode period, price row and product."""
    shadow_price: np.ndarray
    """``[P]`` :math:`\\lambda_j`, value of one more unit of stock (currency)."""
    expected_profit: float
    """Fluid profit of the plan (capped by stock), before holding and salvage."""
    expected_units: np.ndarray
    """``[P]`` expected units over the season (uncapped)."""
    solve_seconds: float
    """Wall time of the solve (reporting only)."""


@dataclass(frozen=True, eq=False)
class _Blocks:
    """The per-period model arrays of a solve: ``[T, G, P]`` and ``[T, G]``."""

    log_attraction: np.ndarray
    slope: np.ndarray
    scale: np.ndarray
    row_of_group: np.ndarray
    num_rows: int


def block_derivatives(
    log_price: np.ndarray, blocks: _Blocks, unit_cost: np.ndarray, list_price: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return per-block profit, its gradient and diagonal Hessian in log prices, and units.

    With :math:`\\phi_{gj} = p_j - b_{gj}(m_j - M_g)` and :math:`M_g = \\sum_k P_{gk} m_k`:

    .. math::

        \\frac{\\partial f}{\\partial x_j} = \\sum_g n_g P_{gj} \\phi_{gj}, \\qquad
        \\frac{\\partial^2 f}{\\partial x_j^2} = \\sum_g n_g P_{gj}
            \\big[p_j (1 - b_{gj}) - b_{gj} \\phi_{gj} (1 - 2 P_{gj})\\big].

    Args:
        log_price: ``[T, R, P]`` log prices.
        blocks: Model arrays.
        unit_cost: ``[T, P]`` effective unit cost :math:`k + \\lambda`.
        list_price: ``[P]`` list prices.

    Returns:
        ``(profit [T, R], gradient [T, R, P], hessian_diagonal [T, R, P], units [T, G, P])``.
    """
    rows = blocks.row_of_group
    price = np.exp(log_price)[:, rows]  # [T, G, P]
    prob = mnl_probabilities(blocks.log_attraction, blocks.slope, np.log(price / list_price))
    margin = price - unit_cost[:, None, :]
    mean_margin = (prob * margin).sum(axis=2, keepdims=True)
    units = blocks.scale[:, :, None] * prob
    phi = price - blocks.slope * (margin - mean_margin)
    hess = units * (price * (1 - blocks.slope) - blocks.slope * phi * (1 - 2 * prob))
    num_rows = blocks.num_rows
    profit = _sum_rows(blocks.scale[:, :, None] * mean_margin, rows, num_rows)[:, :, 0]
    return profit, _sum_rows(units * phi, rows, num_rows), _sum_rows(hess, rows, num_rows), units


def _sum_rows(values: np.ndarray, row_of_group: np.ndarray, num_rows: int) -> np.ndarray:
    """Sum ``[T, G, X]`` over the groups of each row (groups sorted by row) -> ``[T, R, X]``."""
    if num_rows == row_of_group.size:
        return values
    start = np.searchsorted(row_of_group, np.arange(num_rows))
    padded = np.concatenate([values, np.zeros_like(values[:, :1])], axis=1)
    sums = np.add.reduceat(padded, start, axis=1)
    is_empty = np.append(start[1:], row_of_group.size) == start
    sums[:, is_empty] = 0.0
    return sums


def optimise_prices(
    blocks: _Blocks,
    unit_cost: np.ndarray,
    list_price: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    start: np.ndarray | None = None,
    max_iter: int = 100,
    tolerance: float = 1e-6,
    max_step: float = 0.25,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximise expected profit over ``[T, R, P]`` prices in ``[low, high]``.

    Projected diagonal Newton ascent on log prices (products interact only through
    the logit denominators, weakly when inside shares are small): each product
    takes the step :math:`-g_j / h_j` where :math:`h_j < 0`, else ``max_step`` uphill;
    steps are capped at ``max_step`` and halved in any ``(period, row)`` block
    whose profit would fall, so the profit never decreases.

    Args:
        blocks: Model arrays (:func:`market_blocks`).
        unit_cost: ``[T, P]`` effective unit cost (cost plus shadow price).
        list_price: ``[P]`` list prices.
        low: ``[P]`` lowest allowed prices (> 0).
        high: ``[P]`` highest allowed prices.
        start: ``[T, R, P]`` starting prices (default list price, clipped).
        max_iter: Newton iterations at most.
        tolerance: Stop when no log price moves more than this.
        max_step: Largest move of a log price per iteration.

    Returns:
        ``(prices [T, R, P], units [T, G, P])`` at the optimum found.
    """
    shape = (blocks.scale.shape[0], blocks.num_rows, list_price.size)
    lower, upper = np.log(low), np.log(high)
    x = np.clip(
        np.log(np.broadcast_to(list_price if start is None else start, shape)), lower, upper
    )
    profit, grad, hess, units = block_derivatives(x, blocks, unit_cost, list_price)
    for _ in range(max_iter):
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = np.where(hess < 0, -grad / hess, np.sign(grad) * max_step)
        step = np.clip(np.nan_to_num(newton), -max_step, max_step)
        for _ in range(30):  # backtrack blocks whose profit would fall
            x_new = np.clip(x + step, lower, upper)
            result = block_derivatives(x_new, blocks, unit_cost, list_price)
            is_worse = result[0] < profit - 1e-9 * np.abs(profit)
            if not is_worse.any():
                break
            step = np.where(is_worse[:, :, None], step / 2, step)
        else:  # give up on the blocks that still fall
            x_new = np.where(is_worse[:, :, None], x, x_new)
            result = block_derivatives(x_new, blocks, unit_cost, list_price)
        moved = float(np.abs(x_new - x).max())
        x = x_new
        profit, grad, hess, units = result
        if moved < tolerance:
            break
    return np.exp(x), units


def market_blocks(
    market: MarketModel, periods: slice, row_of_group: np.ndarray, num_rows: int
) -> _Blocks:
    """Collect ``[T, G, P]`` model arrays of ``market`` for the periods in ``periods``."""
    visits = market.visits[:, periods].T  # [T, G]
    return _Blocks(
        log_attraction=market.log_attraction(periods),
        slope=market.price_slope(periods),
        scale=visits * market.group_weight * market.units_per_purchase,
        row_of_group=np.asarray(row_of_group),
        num_rows=num_rows,
    )


def solve_oracle(
    env: MarketEnv, bisection_steps: int = 16, tolerance_units: float = 1e-3
) -> PricePlan:
    """Solve the season-long fluid problem for ``env``'s market, bounds and config.

    Args:
        env: The environment the plan will be played in (its true market).
        bisection_steps: Halvings of each binding product's shadow-price bracket.
        tolerance_units: Slack (units) before a product counts as stock-bound.
    """
    import time

    started = time.perf_counter()
    market, config = env.market, env.config
    horizon = config.horizon_periods
    periods = slice(config.start_period, config.start_period + horizon)
    blocks = market_blocks(market, periods, env.row_of_group, env.num_rows)
    remaining = horizon - np.arange(horizon)  # periods of holding a sale saves
    stock = market.initial_inventory
    finite = np.isfinite(stock)  # unlimited stock is neither held nor salvaged
    adjustment = config.salvage_value_pct / 100 - config.holding_cost_pct / 100 * remaining[:, None]
    base_cost = market.unit_cost * (1 + finite * adjustment)  # [T, P]
    args = (market.list_price, env.price_low, env.price_high)
    shadow = np.zeros(market.num_products)
    prices, units = optimise_prices(blocks, base_cost, *args)
    demand = units.sum(axis=(0, 1))
    bound = demand > stock + tolerance_units
    if bound.any():
        lo, hi = np.zeros(market.num_products), np.where(bound, env.price_high, 0.0)
        for _ in range(bisection_steps):
            shadow = np.where(bound, (lo + hi) / 2, 0.0)
            prices, units = optimise_prices(blocks, base_cost + shadow, *args, start=prices)
            is_over = units.sum(axis=(0, 1)) > stock + tolerance_units
            lo, hi = np.where(bound & is_over, shadow, lo), np.where(bound & ~is_over, shadow, hi)
        shadow = np.where(bound, hi, 0.0)
        prices, units = optimise_prices(blocks, base_cost + shadow, *args, start=prices)
    demand = units.sum(axis=(0, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(demand > stock, stock / demand, 1.0)
    margin = prices[:, env.row_of_group] - market.unit_cost
    profit = float((units * fill * margin).sum())
    return PricePlan(
        prices=prices,
        shadow_price=shadow,
        expected_profit=profit,
        expected_units=demand,
        solve_seconds=time.perf_counter() - started,
    )


class OraclePolicy:
    """Play a :class:`PricePlan` open loop (the period's planned prices, whatever the state).

    Args:
        plan: The oracle's plan, e.g. ``solve_oracle(env)``.
        name: Label in evaluation tables.
    """

    def __init__(self, plan: PricePlan, name: str = "oracle") -> None:
        self.plan = plan
        self.name = name

    def prices(self, state: MarketState) -> np.ndarray:
        """Return ``[R, P]`` planned prices of ``state.period``."""
        return self.plan.prices[state.period]


__all__ = [
    "OraclePolicy",
    "PricePlan",
    "block_derivatives",
    "market_blocks",
    "optimise_prices",
    "solve_oracle",
]
