"""The oracle: the best season-long prices under the market's true parameters.

Over the episode's periods ``t``, price rows ``r`` (segments or groups) and products
``j``, with prices inside the same bounds the policies get, the oracle solves the
fluid (expected-demand) problem

.. math::

    \\max_{p} \\; \\sum_j (p_j - k_j) \\, \\min\\big(q_j(p), I_j\\big)

(written per product for brevity; prices and demand are per period ``t`` and
group ``g``), with :math:`q_{gjt} = n_g v_{gt} u P_{gjt}` (:mod:`~.model`): sales
are demand capped by stock :math:`I_j`, the rest is rationed away. The effective
unit cost :math:`k_{jt} = c_j (1 + salvage - holding \\cdot (T - t))` counts that a
unit sold forgoes its salvage value and saves holding until the end (:math:`k =
c` for unlimited stock). Inventory is priced by a Lagrange multiplier (shadow
price) :math:`\\lambda_j \\ge 0` per product: for given :math:`\\lambda` the problem
separates into independent ``(period, row)`` blocks of :math:`\\max \\sum_g n_g
\\sum_j P_{gj}(p_j - k_j - \\lambda_j)`, solved together by projected Newton steps
on :math:`x = \\log p` (:func:`optimise_prices`) with the exact gradient

.. math::

    \\frac{\\partial}{\\partial x_j} = \\sum_{g} n_g P_{gj}
        \\big[p_j - b_{gj} (m_{gj} - \\textstyle\\sum_k P_{gk} m_{gk})\\big],
    \\qquad m = p - k - \\lambda.

:func:`solve_oracle` finds the multipliers (bisection rounds, then the dual by
L-BFGS-B) and certifies its plan with the dual value
(:attr:`PricePlan.dual_bound`). The optimum of this fluid problem bounds the
expected profit of any policy in the deterministic environment
(``is_stochastic=False``) and, by the usual fluid-relaxation argument,
approximately in the stochastic one; :class:`OraclePolicy` plays the plan open
loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import MarketModel, mnl_probabilities
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
    dual_bound: float = float("nan")
    """Lagrangian dual value at :attr:`shadow_price` with the effective unit costs:
    an upper bound on the fluid optimum when the inner per-period solve is global."""


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
        low: ``[P]`` (or ``[T, R, P]``) lowest allowed prices (> 0).
        high: ``[P]`` (or ``[T, R, P]``) highest allowed prices.
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
    env: MarketEnv,
    bisection_steps: int = 16,
    bisection_rounds: int = 4,
    dual_iterations: int = 60,
    gap_tolerance: float = 1e-3,
    tolerance_units: float = 1e-3,
    row_bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> PricePlan:
    """Solve the season-long fluid problem for ``env``'s market, bounds and config.

    Two stages find the shadow prices :math:`\\lambda`:

    1. Products whose demand at :math:`\\lambda = 0` exceeds their stock get their
       multiplier by simultaneous bisection (demand falls as its own
       :math:`\\lambda_j` rises). Exact without substitution; with it, products
       that now oversell join the set and the bisection runs again, in rounds.
    2. With substitution, dearer scarce products push demand onto others, so the
       first stage's multipliers are still no optimum. L-BFGS-B then minimises the
       Lagrangian dual :math:`D(\\lambda) = \\max_p \\sum (p - k - \\lambda)^+ q(p) +
       \\lambda^\\top I` over :math:`\\lambda \\ge 0` (convex, with gradient
       :math:`I - q` over the units whose margin is positive), every evaluation
       warm-started from the last prices. The positive part is rationing: demand
       beyond stock, e.g. at the price ceiling, is simply not served.

    Every evaluated price plan is scored by its fluid profit with oversold products
    rationed to their stock; the best one is returned, with the least dual value
    seen as :attr:`PricePlan.dual_bound`.

    Args:
        env: The environment the plan will be played in (its true market).
        bisection_steps: Halvings of each binding product's shadow-price bracket.
        bisection_rounds: Rounds of stage 1 at most; each adds the products that
            oversell at the last round's prices to the bisected set.
        dual_iterations: L-BFGS-B iterations on the dual at most (0 skips stage 2).
        gap_tolerance: Stop once the best plan is within this fraction of the least
            dual value (a certificate of near-optimality).
        tolerance_units: Slack (units) before a product counts as stock-bound.
        row_bounds: ``(low, high)`` prices ``[T, R, P]`` inside the environment's
            bounds, tighter per period and row (e.g. the personal band around a
            segment plan, :func:`~.headroom.personalisation_headroom`); default: the
            environment's ``[P]`` bounds everywhere.
    """
    import time

    from scipy.optimize import minimize

    started = time.perf_counter()
    market, config = env.market, env.config
    horizon = config.horizon_periods
    periods = slice(config.start_period, config.start_period + horizon)
    blocks = market_blocks(market, periods, env.row_of_group, env.num_rows)
    remaining = horizon - np.arange(horizon)  # periods of holding a sale saves
    stock = market.initial_inventory
    finite = np.isfinite(stock)  # unlimited stock is neither held nor salvaged
    finite_stock = np.where(finite, stock, 0.0)
    adjustment = config.salvage_value_pct / 100 - config.holding_cost_pct / 100 * remaining[:, None]
    base_cost = market.unit_cost * (1 + finite * adjustment)  # [T, P]
    low, high = (env.price_low, env.price_high) if row_bounds is None else row_bounds
    args = (market.list_price, low, high)
    state = {"prices": None, "best": (-np.inf, None, None, None), "dual": np.inf}

    def solve(shadow: np.ndarray) -> np.ndarray:
        """Inner solve at ``shadow``; record the plan and dual value; return demand."""
        cost = base_cost + shadow
        prices, units = optimise_prices(blocks, cost, *args, start=state["prices"])
        state["prices"] = prices
        demand = units.sum(axis=(0, 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            fill = np.where(demand > stock, stock / demand, 1.0)
        margin = prices[:, env.row_of_group] - base_cost[:, None, :]
        profit = float((units * fill * margin).sum())
        if profit > state["best"][0]:
            state["best"] = (profit, prices, shadow.copy(), demand)
        # sales beyond stock are rationed away, so a unit whose price does not cover
        # k + lambda is simply not sold: D uses the positive part of the margin
        dual_margin = prices[:, env.row_of_group] - cost[:, None, :]
        is_paying = dual_margin > 0
        state["dual_value"] = float((units * dual_margin * is_paying).sum() + shadow @ finite_stock)
        state["dual"] = min(state["dual"], state["dual_value"])
        state["paying_demand"] = (units * is_paying).sum(axis=(0, 1))
        return demand

    shadow = np.zeros(market.num_products)
    demand = solve(shadow)
    bound = np.zeros(market.num_products, dtype=bool)
    for _ in range(bisection_rounds):
        is_new = finite & ~bound & (demand > stock + tolerance_units)
        if not is_new.any():
            break
        bound |= is_new
        lo, hi = np.zeros(market.num_products), np.where(bound, env.price_high, 0.0)
        for _ in range(bisection_steps):
            shadow = np.where(bound, (lo + hi) / 2, 0.0)
            is_over = solve(shadow) > stock + tolerance_units
            lo, hi = np.where(bound & is_over, shadow, lo), np.where(bound & ~is_over, shadow, hi)
        shadow = np.where(bound, hi, 0.0)  # the feasible end of each bracket
        demand = solve(shadow)
    is_close = state["dual"] - state["best"][0] <= gap_tolerance * abs(state["dual"])
    if dual_iterations > 0 and finite.any() and not is_close:
        index = np.flatnonzero(finite)
        # past the ceiling's margin a higher multiplier only raises D
        margin_room = np.maximum(env.price_high - base_cost.min(axis=0), 0.0)

        def dual(values: np.ndarray) -> tuple[float, np.ndarray]:
            full = np.zeros(market.num_products)
            full[index] = values
            solve(full)
            return state["dual_value"], (stock - state["paying_demand"])[index]

        def stop_when_close(_: np.ndarray) -> None:
            if state["dual"] - state["best"][0] <= gap_tolerance * abs(state["dual"]):
                raise StopIteration

        minimize(
            dual,
            shadow[index],
            jac=True,
            method="L-BFGS-B",
            bounds=list(zip(np.zeros(index.size), margin_room[index], strict=True)),
            options={"maxiter": dual_iterations},
            callback=stop_when_close,
        )
    _, prices, shadow, demand = state["best"]
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(demand > stock, stock / demand, 1.0)
    units = blocks.scale[:, :, None] * mnl_probabilities(
        blocks.log_attraction,
        blocks.slope,
        np.log(prices[:, env.row_of_group] / market.list_price),
    )
    margin = prices[:, env.row_of_group] - market.unit_cost
    profit = float((units * fill * margin).sum())
    return PricePlan(
        prices=prices,
        shadow_price=shadow,
        expected_profit=profit,
        expected_units=demand,
        solve_seconds=time.perf_counter() - started,
        dual_bound=state["dual"],
    )


def season_profit_bound(plan: PricePlan, env: MarketEnv) -> float:
    """Return an upper bound on the expected season profit of any policy on ``env``.

    The season profit is the episode's summed reward (:mod:`~.simulator`). With
    holding ``h`` and salvage ``s`` (fractions of unit cost), sales :math:`y_{jt}`
    and finite stock :math:`I_j`, it equals

    .. math::

        \\sum_{t, j} (p_{jt} - k_{jt}) \\, y_{jt} + \\sum_j c_j I_j (s - h T),

    with the effective unit cost :math:`k_{jt}` of :func:`solve_oracle`. The dual
    value bounds the first sum for every policy that prices before demand is drawn:
    sales never exceed demand nor, over the season, stock, and demand has the mean
    :math:`q(p)` at the prices set, so the bound holds for the profit under expected
    demand (``is_stochastic=False``) and for the expected profit under Poisson
    demand; one sampled episode can exceed it. Like :attr:`PricePlan.dual_bound` it
    assumes the inner per-period price solve is global.

    Args:
        plan: ``solve_oracle(env)`` (or a plan for the same market, bounds and config).
        env: The environment whose season profit is bounded.

    Returns:
        The bound in currency: ``plan.dual_bound`` plus the constant above.
    """
    market, config = env.market, env.config
    stock = market.initial_inventory
    finite_stock = np.where(np.isfinite(stock), stock, 0.0)
    horizon = config.horizon_periods
    per_unit = config.salvage_value_pct / 100 - config.holding_cost_pct / 100 * horizon
    return float(plan.dual_bound + per_unit * (market.unit_cost * finite_stock).sum())


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
    "season_profit_bound",
    "solve_oracle",
]
