"""Synthetic customer events (view, cart, purchase, return) drawn from a known choice model.

**Visits.** Customer ``c`` of segment ``s`` visits on day ``t`` (at most once) with
probability :math:`1 - e^{-\\lambda_{ct}}`, where

.. math::

    \\lambda_{ct} = \\lambda_c \\, w_{dow(t)} \\, (1 + H_s h_t) \\, (1 + U_s \\, sale_t),

:math:`w` is the weekday factor, :math:`h_t \\in [0, 1]` the holiday ramp (0 on
15 November rising to 1 on 24 December, 0 otherwise), :math:`sale_t` is 1 on sale
days, and :math:`H_s, U_s` are the segment's holiday and sale uplifts. Nobody
visits before signing up.

**Views.** A visit draws ``min(1 + Poisson(v_s - 1), max_views_per_visit)``
products; each draw comes from a favourite brand (probability ``brand_focus``;
brand by affinity, then product by view weight), a favourite category
(``category_focus``; product by view weight) or the whole catalog (weights view
weight times the segment's tier weight). Repeats within a visit are dropped; the
distinct products form the choice set :math:`S_v`.

**Choice.** The visitor buys at most one product, by multinomial logit:

.. math::

    U_{cjt} = \\alpha_s + a_j + \\gamma A_{c,b(j)} - \\beta_c \\log\\frac{p_{jt}}{p^{ref}_j}
              + \\delta \\log\\frac{c_{jt}}{p_{jt}} + \\varepsilon_{cjt},
    \\qquad U_{c0t} = \\varepsilon_{c0t},

with :math:`\\varepsilon` i.i.d. standard Gumbel, :math:`p_{jt}` the price in force
(markdown if active, else list), :math:`p^{ref}_j` the list price, :math:`c_{jt}`
the cheapest competitor price in force (:math:`c_{jt} = p_{jt}` when none, so the
term is 0) and :math:`A_{c,b}` the brand affinity (0 for non-favourite brands).
So :math:`P(j \\mid S_v) = e^{V_j} / (1 + \\sum_{k \\in S_v} e^{V_k})`.

**Carts, orders, returns.** The bought product is carted, then purchased (one
order per buying visit, qty geometric with ``multi_unit_prob``, max 4, at
``unit_price = p_{jt}``). Other viewed products are carted and abandoned with
``cart_abandon_prob``. A purchase line is returned with probability
``return_rate_s * return_rate_scale * m_line`` (capped at 0.95) after
``return_delay_days`` plus a random time of day; returns after the horizon are cut.
Views and carts carry the displayed price in ``unit_price`` and qty 1.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from .catalog import Catalog
from .config import WorldConfig
from .customers import Population

EVENT_TYPES = ("view", "cart", "purchase", "return")
"""Event types, in the order used to break ties between events at the same second."""
WEEKDAY_FACTOR = (0.95, 0.92, 0.95, 1.0, 1.03, 1.05, 1.10)
"""Visit factor :math:`w` by weekday, Monday first."""
_HOUR_WEIGHT = np.array(
    [1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.0, 2.2, 2.3, 2.4,
     2.6, 2.5, 2.3, 2.2, 2.3, 2.6, 3.0, 3.4, 3.6, 3.4, 2.6]
)  # fmt: skip
"""Relative chance that a visit starts in hour 0..22 (none at 23 h, so it ends the same day)."""
_DAY_S = 86_400


def choice_utility(
    base_utility: np.ndarray,
    affinity: np.ndarray,
    beta: np.ndarray,
    price: np.ndarray,
    ref_price: np.ndarray,
    competitor_price: np.ndarray,
    *,
    alpha: np.ndarray | float,
    gamma: float,
    delta: float,
) -> np.ndarray:
    """Return the deterministic utility :math:`V` of buying (no Gumbel noise).

    .. math::

        V = \\alpha + a + \\gamma A - \\beta \\log(p / p^{ref}) + \\delta \\log(c / p)

    All arrays broadcast together; prices in the same currency, > 0. A NaN
    ``competitor_price`` means no competitor price (the term is 0). The outside
    option has :math:`V = 0`.
    """
    comp = np.where(np.isnan(competitor_price), price, competitor_price)
    return (
        alpha
        + base_utility
        + gamma * affinity
        - beta * np.log(price / ref_price)
        + delta * np.log(comp / price)
    )


def holiday_ramp(start: date, n_days: int) -> np.ndarray:
    """Return ``[n_days]`` :math:`h_t`: 0, rising linearly from 15 Nov (0) to 24 Dec (1)."""
    ramp = np.zeros(n_days)
    for t in range(n_days):
        day = start + timedelta(days=t)
        first, peak = date(day.year, 11, 15), date(day.year, 12, 24)
        if first <= day <= peak:
            ramp[t] = (day - first).days / (peak - first).days
    return ramp


def weekday_factor(start: date, n_days: int) -> np.ndarray:
    """Return ``[n_days]`` :math:`w_{dow(t)}` from :data:`WEEKDAY_FACTOR`."""
    return np.asarray(WEEKDAY_FACTOR)[(start.weekday() + np.arange(n_days)) % 7]


def _sample_groups(
    ptr: np.ndarray, cum_weight: np.ndarray, group: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw one position per entry of ``group`` within ``[ptr[g], ptr[g + 1])`` by weight.

    ``cum_weight`` is the cumulative sum of positive weights over all positions;
    every group must be non-empty.
    """
    lo, hi = ptr[group], ptr[group + 1]
    base = np.where(lo > 0, cum_weight[np.maximum(lo - 1, 0)], 0.0)
    target = base + rng.random(group.size) * (cum_weight[hi - 1] - base)
    return np.clip(np.searchsorted(cum_weight, target, side="right"), lo, hi - 1)


def _grouped_sampler(
    keys: np.ndarray, weights: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(order, ptr, cum_weight)`` sampling items grouped by ``keys``."""
    order = np.argsort(keys, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=n_groups))])
    return order, ptr, np.cumsum(weights[order])


def _draw_views(
    config: WorldConfig,
    catalog: Catalog,
    population: Population,
    visit_customer: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(visit, product)`` of the distinct products viewed, sorted by visit."""
    segments = config.segments
    n_products = len(catalog.list_price)
    seg = population.segment[visit_customer]
    views_mean = np.array([s.views_mean for s in segments])[seg]
    n_draws = np.minimum(1 + rng.poisson(views_mean - 1.0), config.max_views_per_visit)
    draw_visit = np.repeat(np.arange(visit_customer.size), n_draws)
    customer = visit_customer[draw_visit]
    draw_seg = seg[draw_visit]
    brand_focus = np.array([s.brand_focus for s in segments])[draw_seg]
    cat_focus = np.array([s.category_focus for s in segments])[draw_seg]
    u = rng.random(draw_visit.size)
    product = np.empty(draw_visit.size, dtype=np.int64)

    by_brand = u < brand_focus
    pos = _sample_groups(
        population.brand_indptr, np.cumsum(population.brand_affinity), customer[by_brand], rng
    )
    n_brands = len(catalog.brand_tier)
    order, ptr, cum = _grouped_sampler(catalog.product_brand, catalog.view_weight, n_brands)
    product[by_brand] = order[_sample_groups(ptr, cum, population.brand_index[pos], rng)]

    by_cat = ~by_brand & (u < brand_focus + cat_focus)
    pos = _sample_groups(
        population.category_indptr, np.cumsum(population.category_weight), customer[by_cat], rng
    )
    n_leaves = int(catalog.product_leaf.max()) + 1
    order, ptr, cum = _grouped_sampler(catalog.product_leaf, catalog.view_weight, n_leaves)
    product[by_cat] = order[_sample_groups(ptr, cum, population.category_index[pos], rng)]

    by_all = ~by_brand & ~by_cat
    tier_weight = np.array([s.tier_weights for s in segments])[:, catalog.brand_tier]
    weight = (tier_weight[:, catalog.product_brand] * catalog.view_weight).ravel()  # [S * P]
    ptr = np.arange(len(segments) + 1) * n_products
    product[by_all] = _sample_groups(ptr, np.cumsum(weight), draw_seg[by_all], rng) % n_products

    key = np.sort(draw_visit * n_products + product)
    is_first = np.ones(key.size, dtype=bool)
    is_first[1:] = key[1:] != key[:-1]
    key = key[is_first]  # distinct, sorted by visit
    return key // n_products, key % n_products


def simulate_events(
    config: WorldConfig,
    catalog: Catalog,
    population: Population,
    own_price: np.ndarray,
    competitor_price: np.ndarray,
    is_sale_day: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Simulate visits, views, carts, purchases and returns (module docstring has the model).

    Args:
        config: World configuration.
        catalog: Catalog arrays (base utility, list price, brands, view weights).
        population: Customers' latent parameters.
        own_price: ``[num_products, n_days]`` price in force (markdown or list).
        competitor_price: ``[num_products, n_days]`` cheapest competitor price, NaN if none.
        is_sale_day: ``[n_days]`` bool, sale days.
        rng: Generator used for every draw of the events.

    Returns:
        Events (kind ``events``, canonical columns) sorted by ``ts``; ``ts`` is UTC,
        ``order_id`` is missing for views and carts.
    """
    segments = config.segments
    n_days, n_customers = config.n_days, config.n_customers
    start = config.start_date
    holiday = np.array([s.holiday_visit_uplift for s in segments])[:, None] * holiday_ramp(
        start, n_days
    )
    sale = np.array([s.sale_visit_uplift for s in segments])[:, None] * is_sale_day
    factor = weekday_factor(start, n_days) * (1 + holiday) * (1 + sale)  # [S, T]

    visit_customer, visit_day = [], []
    for t in range(n_days):
        rate = population.visit_rate * factor[population.segment, t]
        is_visit = (rng.random(n_customers) < -np.expm1(-rate)) & (population.first_day <= t)
        who = np.flatnonzero(is_visit)
        visit_customer.append(who)
        visit_day.append(np.full(who.size, t))
    v_cust, v_day = np.concatenate(visit_customer), np.concatenate(visit_day)
    hour = rng.choice(_HOUR_WEIGHT.size, size=v_cust.size, p=_HOUR_WEIGHT / _HOUR_WEIGHT.sum())
    v_start = (
        config.start_epoch_s + v_day * _DAY_S + hour * 3600 + rng.integers(0, 3600, v_cust.size)
    )

    if v_cust.size == 0:  # nobody visited: no events
        none = np.zeros(0, dtype=np.int64)
        return _event_frame(config, catalog, population, (none,) * 5, none, none, np.zeros(0))
    view_visit, product = _draw_views(config, catalog, population, v_cust, rng)
    customer, day = v_cust[view_visit], v_day[view_visit]
    price = own_price[product, day]
    n_brands = len(catalog.brand_tier)
    aff_key = (
        np.repeat(np.arange(n_customers), np.diff(population.brand_indptr)) * n_brands
        + population.brand_index
    )
    aff_order = np.argsort(aff_key)
    query = customer * n_brands + catalog.product_brand[product]
    hit = np.minimum(np.searchsorted(aff_key[aff_order], query), aff_key.size - 1)
    is_fav = aff_key[aff_order][hit] == query
    affinity = np.where(is_fav, population.brand_affinity[aff_order][hit], 0.0)
    alpha = np.array([s.alpha for s in segments])[population.segment[customer]]
    utility = choice_utility(
        catalog.base_utility[product],
        affinity,
        population.beta[customer],
        price,
        catalog.list_price[product],
        competitor_price[product, day],
        alpha=alpha,
        gamma=config.gamma_affinity,
        delta=config.delta_competitor,
    )
    utility = utility + rng.gumbel(size=product.size)
    outside = rng.gumbel(size=v_cust.size)
    first_row = np.searchsorted(view_visit, np.arange(v_cust.size))
    best = np.maximum.reduceat(utility, first_row)
    is_best = utility == best[view_visit]
    best_visit, best_pos = np.unique(view_visit[is_best], return_index=True)
    chosen = np.flatnonzero(is_best)[best_pos][best[best_visit] > outside[best_visit]]
    is_chosen = np.zeros(product.size, dtype=bool)
    is_chosen[chosen] = True
    is_cart = is_chosen | (rng.random(product.size) < config.cart_abandon_prob)

    # Timestamps: views in random order 20-180 s apart; cart 5-60 s after its view.
    order = np.lexsort((rng.random(product.size), view_visit))
    cum_gap = np.cumsum(rng.integers(20, 181, size=product.size))
    offset_sorted = cum_gap - np.where(first_row > 0, cum_gap[first_row - 1], 0)[view_visit[order]]
    view_ts = np.empty(product.size, dtype=np.int64)
    view_ts[order] = v_start[view_visit[order]] + offset_sorted
    cart_ts = view_ts + rng.integers(5, 61, size=product.size)
    visit_end = np.maximum.reduceat(np.maximum(view_ts, np.where(is_cart, cart_ts, 0)), first_row)
    buy_ts = visit_end[view_visit[chosen]] + rng.integers(60, 301, size=chosen.size)
    qty = np.minimum(rng.geometric(1.0 - config.multi_unit_prob, size=chosen.size), 4)

    buy_order = np.lexsort((customer[chosen], buy_ts))
    order_no = np.empty(chosen.size, dtype=np.int64)
    order_no[buy_order] = np.arange(chosen.size)
    return_rate = np.array([s.return_rate for s in segments])[population.segment[customer[chosen]]]
    return_prob = np.minimum(
        return_rate * config.return_rate_scale * catalog.return_multiplier[product[chosen]], 0.95
    )
    low, high = config.return_delay_days
    return_ts = buy_ts + rng.integers(low, high + 1, chosen.size) * _DAY_S
    return_ts += rng.integers(-6 * 3600, 6 * 3600, chosen.size)
    horizon_end = config.start_epoch_s + n_days * _DAY_S
    is_return = (rng.random(chosen.size) < return_prob) & (return_ts < horizon_end)
    returned = np.flatnonzero(is_return)

    rows = np.concatenate(
        [np.arange(product.size), np.flatnonzero(is_cart), chosen, chosen[returned]]
    )
    type_code = np.repeat(np.arange(4), [product.size, is_cart.sum(), chosen.size, returned.size])
    ts = np.concatenate([view_ts, cart_ts[is_cart], buy_ts, return_ts[returned]])
    order_col = np.concatenate(
        [np.full(product.size + is_cart.sum(), -1), order_no, order_no[returned]]
    )
    qty_col = np.concatenate([np.ones(product.size + is_cart.sum(), np.int64), qty, qty[returned]])
    columns = (rows, type_code, ts, order_col, qty_col)
    return _event_frame(config, catalog, population, columns, customer, product, price)


def _event_frame(
    config: WorldConfig,
    catalog: Catalog,
    population: Population,
    columns: tuple[np.ndarray, ...],
    customer: np.ndarray,
    product: np.ndarray,
    price: np.ndarray,
) -> pd.DataFrame:
    """Sort events by time (then type, customer, product) and build the canonical frame.

    Args:
        config: World configuration (currency, start).
        catalog: Catalog (product ids).
        population: Population (customer ids).
        columns: Per event ``(view row, type code, ts in epoch s, order number or -1, qty)``.
        customer: ``[num_views]`` customer row of each view.
        product: ``[num_views]`` product row of each view.
        price: ``[num_views]`` price in force at each view.
    """
    rows, type_code, ts, order_no, qty = columns
    cust, prod = customer[rows], product[rows]
    order = np.lexsort((prod, cust, type_code, ts))
    n = order.size
    width = max(7, len(str(n)))
    order_ids = np.asarray(
        [None if o < 0 else f"O{o + 1:07d}" for o in order_no[order].tolist()], dtype=object
    )
    frame = pd.DataFrame(
        {
            "event_id": [f"E{i + 1:0{width}d}" for i in range(n)],
            "event_type": np.asarray(EVENT_TYPES)[type_code[order]],
            "customer_id": population.customers["customer_id"].to_numpy()[cust[order]],
            "product_id": catalog.products["product_id"].to_numpy()[prod[order]],
            "ts": pd.Series(
                ts[order].astype("datetime64[s]").astype("datetime64[us]")
            ).dt.tz_localize("UTC"),
            "order_id": order_ids,
            "qty": qty[order].astype(np.int64),
            "unit_price": price[rows][order],
            "currency": config.currency,
        }
    )
    if n == 0:  # give empty text columns the text dtype they have otherwise
        text = ("event_id", "event_type", "customer_id", "product_id", "order_id", "currency")
        frame = frame.astype(dict.fromkeys(text, population.customers["customer_id"].dtype))
    return frame


__all__ = [
    "EVENT_TYPES",
    "WEEKDAY_FACTOR",
    "choice_utility",
    "holiday_ramp",
    "simulate_events",
    "weekday_factor",
]
