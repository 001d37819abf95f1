"""Build a :class:`~.model.MarketModel` from a synthetic world or from a demand model.

**From the synthetic world** (:func:`market_from_ground_truth`): a seeded sample of
``customers_per_segment`` customers per segment stands for the whole segment
(weight :math:`n_g = N_s / k_s`). For each one, with the world's formulas:

* visits per period :math:`v_{gt} = \\sum_{d \\in t} (1 - e^{-\\lambda_{gd}}) 1[d \\ge first_g]`,
  :math:`\\lambda_{gd} = \\lambda_g w_{dow(d)} (1 + H_s h_d)(1 + U_s sale_d)`;
* consideration :math:`w_{gj} = 1 - E_n[(1 - \\pi_{gj})^n]`, ``n`` the number of view
  draws of a visit (:math:`\\min(1 + Poisson(\\bar v_s - 1), n_{max})`) and
  :math:`\\pi_{gj}` the chance that one draw is product ``j`` (favourite brand by
  affinity, favourite category, or catalog by tier weight, each then by view weight);
* units per purchase :math:`u = 1 + m + m^2 + m^3` (``m`` = ``multi_unit_prob``,
  quantity capped at 4); returns are ignored;
* the competitor price of a period is the mean over its days of the cheapest
  competitor price in force (NaN when there is none on any day).

**From a demand model** (:func:`market_from_demand`): any :class:`DemandCurve` is
matched locally at list price by one representative group whose logit has the
same units at list price and the same own-price elasticity (measured by central
differences): shares :math:`s_j = q_j / N_t` with :math:`N_t = k \\sum_j q_{jt}`
(``k`` = ``market_size_factor``, so inside shares are small and demands nearly
independent), :math:`a_j = \\log(s_j / (1 - \\sum s))` and :math:`\\beta'_j =
-\\varepsilon_j / (1 - s_j)`. Far from list price the logit is then
approximately constant-elasticity, :math:`q \\propto (p / p^{list})^{\\varepsilon}`.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy.stats import poisson

from ...errors import ConfigError, DataValidationError
from ...synthetic import GroundTruth, read_ground_truth
from ...synthetic.prices import daily_price_matrix
from .model import MarketModel


@dataclass(frozen=True)
class GroundTruthMarketConfig:
    """How a synthetic world becomes a market (sampling, periods, inventory)."""

    customers_per_segment: int = 64
    """Representative customers sampled per segment (all of them when fewer)."""
    seed: int = 0
    """Seed of the sample of representative customers."""
    period_days: int = 7
    """Days per period (one simulator step)."""
    num_periods: int = 12
    """Periods of the exogenous path (visits, competitor prices)."""
    start_day: int = 0
    """First world day (0 = the world's ``start``) of period 0."""
    inventory_scale: float = 1.0
    """Factor on the world's ``stock_units`` (then rounded); < 1 makes stock bind."""

    def __post_init__(self) -> None:
        """Reject values outside their ranges, naming the field."""
        for name, is_ok, expected in (
            ("customers_per_segment", self.customers_per_segment >= 1, ">= 1"),
            ("period_days", self.period_days >= 1, ">= 1"),
            ("num_periods", self.num_periods >= 1, ">= 1"),
            ("start_day", self.start_day >= 0, ">= 0"),
            ("inventory_scale", self.inventory_scale >= 0, ">= 0"),
        ):
            if not is_ok:
                value = getattr(self, name)
                raise ConfigError(
                    f'GroundTruthMarketConfig field "{name}": expected {expected}, got {value!r}'
                )


@runtime_checkable
class DemandCurve(Protocol):
    """Expected demand of an estimated model (the contract ``pricing.demand`` models meet).

    ``units(product_index, price, period)`` returns ``[n]`` expected units sold in
    ``period`` (0-based) of the products ``product_index`` (int ``[n]``, rows of
    the catalog) at ``price`` (``[n]``, currency, > 0), each priced alone with
    the others at list price. Pure: no randomness, no I/O.
    """

    def units(self, product_index: np.ndarray, price: np.ndarray, period: int) -> np.ndarray:
        """Return ``[n]`` expected units per period."""
        ...


@dataclass(frozen=True, eq=False)
class ConstantElasticityDemand:
    """Constant-elasticity demand :math:`q_{jt} = q_j s_t (p / p^{list}_j)^{\\varepsilon_j}`."""

    units_at_list: np.ndarray
    """``[num_products]`` expected units per period at list price (before seasonality)."""
    elasticity: np.ndarray
    """``[num_products]`` own-price elasticity :math:`\\varepsilon_j` (< 0; e.g. -2.5)."""
    list_price: np.ndarray
    """``[num_products]`` list price in currency."""
    seasonality: np.ndarray
    """``[num_periods]`` multiplier :math:`s_t` on demand per period."""

    def units(self, product_index: np.ndarray, price: np.ndarray, period: int) -> np.ndarray:
        """Return ``[n]`` expected units per period."""
        ratio = np.asarray(price, float) / self.list_price[product_index]
        scale = self.units_at_list[product_index] * self.seasonality[period]
        return scale * ratio ** self.elasticity[product_index]


def market_from_ground_truth(
    truth: GroundTruth,
    *,
    prices: pd.DataFrame | None = None,
    stock_units: np.ndarray | None = None,
    config: GroundTruthMarketConfig | None = None,
) -> MarketModel:
    """Build the true market of a synthetic world (see the module docstring).

    Args:
        truth: The world's ground truth.
        prices: The world's ``prices`` table (canonical columns, tz-aware
            ``valid_from``/``valid_to``) for competitor prices; none when omitted.
        stock_units: ``[num_products]`` units on hand, in ``truth.products`` order;
            unlimited (``inf``) when omitted.
        config: Sampling, period and inventory settings.

    Raises:
        ConfigError: If the periods run past the world's horizon.
    """
    config = config or GroundTruthMarketConfig()
    params = truth.params
    world = params["config"]
    n_days = int(world["n_days"])
    first, days = config.start_day, config.num_periods * config.period_days
    if first + days > n_days:
        raise ConfigError(
            f"GroundTruthMarketConfig: start_day + num_periods * period_days = {first + days}"
            f" runs past the world's n_days = {n_days}"
        )
    rng = np.random.default_rng(config.seed)
    customers, segments, products = truth.customers, truth.segments, truth.products
    chosen, weight = [], []
    for s in range(len(segments)):
        members = np.flatnonzero(customers["segment_id"].to_numpy() == s)
        take = min(config.customers_per_segment, members.size)
        if take:
            chosen.append(np.sort(rng.choice(members, size=take, replace=False)))
            weight.append(np.full(take, members.size / take))
    rows = np.concatenate(chosen)
    group = customers.iloc[rows]
    seg = group["segment_id"].to_numpy(np.int64)

    product_ids = products["product_id"].astype(str).to_numpy()
    brand_ids = np.unique(products["brand_id"].astype(str))
    cat_ids = np.unique(products["category_id"].astype(str))
    product_brand = np.searchsorted(brand_ids, products["brand_id"].astype(str))
    product_cat = np.searchsorted(cat_ids, products["category_id"].astype(str))
    affinity = _dense(truth.brand_affinity, group["customer_id"], "brand_id", "affinity", brand_ids)
    cat_weight = _dense(
        truth.category_affinity, group["customer_id"], "category_id", "weight", cat_ids
    )

    consideration = _consideration(
        segments,
        seg,
        affinity,
        cat_weight,
        products,
        product_brand,
        product_cat,
        int(world["max_views_per_visit"]),
    )
    visits = _visits(truth.calendar, segments, group, seg, first, config)

    competitor = np.full((len(products), config.num_periods), np.nan)
    if prices is not None and len(prices):
        _, daily = daily_price_matrix(prices, product_ids, world["start"], n_days)
        window = daily[:, first : first + days].reshape(len(products), config.num_periods, -1)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN periods stay NaN
            competitor = np.nanmean(window, axis=2)
    inventory = np.full(len(products), np.inf)
    catalog_stock: dict[str, list[float]] = {}
    if stock_units is not None:
        inventory = np.round(np.asarray(stock_units, float) * config.inventory_scale)
        # the catalogue stock this season's inventory stands for (read at quote time)
        catalog_stock = {"catalog_stock_units": np.asarray(stock_units, float).tolist()}
    multi = float(world["multi_unit_prob"])
    return MarketModel(
        list_price=products["list_price"].to_numpy(float),
        unit_cost=products["cost"].to_numpy(float),
        product_brand=product_brand,
        product_category=product_cat,
        initial_inventory=inventory,
        base_utility=products["base_utility"].to_numpy(float),
        product_beta=np.zeros(len(products)),
        group_segment=seg,
        group_weight=np.concatenate(weight),
        alpha=segments["alpha"].to_numpy(float)[seg],
        beta=group["beta"].to_numpy(float),
        brand_affinity=affinity,
        consideration=consideration,
        visits=visits,
        competitor_price=competitor,
        gamma=float(params["gamma_affinity"]),
        delta=float(params["delta_competitor"]),
        units_per_purchase=1.0 + multi + multi**2 + multi**3,
        period_days=config.period_days,
        segment_names=tuple(segments["name"].astype(str)),
        category_names=tuple(cat_ids),
        product_ids=tuple(product_ids),
        meta={
            "source": "ground_truth",
            "world_seed": params.get("seed"),
            "season_start": str(pd.Timestamp(world["start"]).date() + timedelta(days=first)),
            **asdict(config),
            **catalog_stock,
            "group_customer_ids": group["customer_id"].astype(str).tolist(),
        },
    )


def market_from_world_dir(
    world_dir: Path, *, config: GroundTruthMarketConfig | None = None
) -> MarketModel:
    """Read a ``write_world`` folder (ground truth, prices, stock) and build its market.

    Raises:
        FileNotFoundError: If the folder has no ground truth.
    """
    world_dir = Path(world_dir)
    truth = read_ground_truth(world_dir)
    prices = _read_table(world_dir, "prices")
    products = _read_table(world_dir, "products")
    stock = None
    if products is not None and "stock_units" in products:
        by_id = products.set_index(products["product_id"].astype(str))["stock_units"]
        stock = by_id.reindex(truth.products["product_id"].astype(str)).to_numpy(float)
    return market_from_ground_truth(truth, prices=prices, stock_units=stock, config=config)


def market_from_demand(
    demand: DemandCurve,
    *,
    list_price: np.ndarray,
    unit_cost: np.ndarray,
    num_periods: int,
    initial_inventory: np.ndarray | None = None,
    product_category: np.ndarray | None = None,
    market_size_factor: float = 20.0,
    relative_step: float = 0.01,
    period_days: int = 7,
) -> MarketModel:
    """Match a logit market to an estimated demand model at list price (module docstring).

    Args:
        demand: The estimated model.
        list_price: ``[num_products]`` list price in currency (> 0).
        unit_cost: ``[num_products]`` unit cost in currency.
        num_periods: Periods to evaluate ``demand`` over.
        initial_inventory: ``[num_products]`` units on hand (``inf`` when omitted).
        product_category: ``[num_products]`` int category index (all 0 when omitted).
        market_size_factor: ``k``: visits per period over units per period (> 1).
        relative_step: Relative price step of the elasticity's central difference.
        period_days: Days per period (for reporting).

    Raises:
        ConfigError: If ``market_size_factor <= 1``.
        DataValidationError: If the model gives units <= 0 or an elasticity >= 0.
    """
    if market_size_factor <= 1:
        raise ConfigError(f"market_size_factor: expected > 1, got {market_size_factor!r}")
    list_price = np.asarray(list_price, float)
    n = list_price.size
    index = np.arange(n)
    step_up, step_down = list_price * (1 + relative_step), list_price * (1 - relative_step)
    at_list, slope = np.empty((num_periods, n)), np.empty((num_periods, n))
    for t in range(num_periods):
        at_list[t] = demand.units(index, list_price, t)
        up, down = demand.units(index, step_up, t), demand.units(index, step_down, t)
        with np.errstate(all="ignore"):
            slope[t] = np.log(up / down) / np.log((1 + relative_step) / (1 - relative_step))
    if not np.all(at_list > 0):
        raise DataValidationError("expected units > 0 at list price", field="units")
    elasticity = slope.mean(axis=0)
    if not np.all(elasticity < 0):
        bad = int(np.flatnonzero(~(elasticity < 0))[0])
        raise DataValidationError(
            f"product {bad}: expected a negative own-price elasticity, got {elasticity[bad]!r}",
            field="elasticity",
        )
    size = market_size_factor * at_list.sum(axis=1)  # [T] visits
    share = (at_list / size[:, None]).mean(axis=0)
    inventory = np.full(n, np.inf) if initial_inventory is None else initial_inventory
    return MarketModel(
        list_price=list_price,
        unit_cost=unit_cost,
        product_brand=np.zeros(n, np.int64),
        product_category=np.zeros(n, np.int64) if product_category is None else product_category,
        initial_inventory=inventory,
        base_utility=np.log(share / (1 - share.sum())),
        product_beta=-elasticity / (1 - share),
        group_segment=np.zeros(1, np.int64),
        group_weight=np.ones(1),
        alpha=np.zeros(1),
        beta=np.zeros(1),
        brand_affinity=np.zeros((1, 1)),
        consideration=np.ones((1, n)),
        visits=size[None, :],
        competitor_price=np.full((n, num_periods), np.nan),
        gamma=0.0,
        delta=0.0,
        period_days=period_days,
        segment_names=("all",),
        meta={"source": "demand", "market_size_factor": market_size_factor},
    )


def _dense(
    table: pd.DataFrame, customer_ids: pd.Series, key: str, value: str, keys: np.ndarray
) -> np.ndarray:
    """Return ``[len(customer_ids), len(keys)]`` values of a sparse (customer, key) table."""
    row_of = pd.Index(customer_ids.astype(str))
    row = row_of.get_indexer(table["customer_id"].astype(str))
    col = np.searchsorted(keys, table[key].astype(str))
    keep = row >= 0
    dense = np.zeros((len(row_of), len(keys)))
    np.add.at(dense, (row[keep], col[keep]), table[value].to_numpy(float)[keep])
    return dense


def _consideration(
    segments: pd.DataFrame,
    seg: np.ndarray,
    affinity: np.ndarray,
    cat_weight: np.ndarray,
    products: pd.DataFrame,
    product_brand: np.ndarray,
    product_cat: np.ndarray,
    max_views: int,
) -> np.ndarray:
    """Return ``[G, P]`` P(product viewed | visit) from the world's view-draw model."""
    view = products["view_weight"].to_numpy(float)
    brand_total = np.bincount(product_brand, weights=view)
    cat_total = np.bincount(product_cat, weights=view, minlength=cat_weight.shape[1])
    by_brand = affinity / np.maximum(affinity.sum(1, keepdims=True), 1e-300)
    by_cat = cat_weight / np.maximum(cat_weight.sum(1, keepdims=True), 1e-300)
    tiers = ("contemporary", "premium", "luxury", "haute")
    tier_index = pd.Index(tiers).get_indexer(products["tier"].astype(str))
    tier_w = segments[[f"tier_weight_{t}" for t in tiers]].to_numpy(float)[seg][:, tier_index]
    catalog = tier_w * view
    catalog /= catalog.sum(1, keepdims=True)
    focus_b = segments["brand_focus"].to_numpy(float)[seg][:, None]
    focus_c = segments["category_focus"].to_numpy(float)[seg][:, None]
    draw = (
        focus_b * by_brand[:, product_brand] * (view / brand_total[product_brand])
        + focus_c * by_cat[:, product_cat] * (view / np.maximum(cat_total[product_cat], 1e-300))
        + (1 - focus_b - focus_c) * catalog
    )
    views_mean = segments["views_mean"].to_numpy(float)[seg]
    k = np.arange(1, max_views + 1)
    pmf = poisson.pmf(k[None, :] - 1, views_mean[:, None] - 1)  # [G, K] P(n = k), k < max
    pmf[:, -1] = 1 - pmf[:, :-1].sum(1)
    miss = np.zeros_like(draw)
    for i, n in enumerate(k):
        miss += pmf[:, i, None] * (1 - draw) ** n
    return np.clip(1 - miss, 0.0, 1.0)


def _visits(
    calendar: pd.DataFrame,
    segments: pd.DataFrame,
    group: pd.DataFrame,
    seg: np.ndarray,
    first: int,
    config: GroundTruthMarketConfig,
) -> np.ndarray:
    """Return ``[G, T]`` expected visits per customer per period."""
    days = slice(first, first + config.num_periods * config.period_days)
    weekday = calendar["weekday_factor"].to_numpy(float)[days]
    ramp = calendar["holiday_ramp"].to_numpy(float)[days]
    sale = calendar["is_sale"].to_numpy(float)[days]
    holiday = segments["holiday_visit_uplift"].to_numpy(float)[seg][:, None] * ramp
    uplift = segments["sale_visit_uplift"].to_numpy(float)[seg][:, None] * sale
    rate = group["visit_rate"].to_numpy(float)[:, None] * weekday * (1 + holiday) * (1 + uplift)
    day_index = np.arange(first, days.stop)
    is_active = group["first_day"].to_numpy()[:, None] <= day_index
    daily = -np.expm1(-rate) * is_active
    return daily.reshape(len(seg), config.num_periods, config.period_days).sum(axis=2)


def _read_table(world_dir: Path, kind: str) -> pd.DataFrame | None:
    """Read ``kind.parquet`` or ``kind.csv`` of a world folder (UTC timestamps), or None."""
    if (world_dir / f"{kind}.parquet").is_file():
        return pd.read_parquet(world_dir / f"{kind}.parquet")
    if not (world_dir / f"{kind}.csv").is_file():
        return None
    frame = pd.read_csv(world_dir / f"{kind}.csv")
    for column in ("valid_from", "valid_to"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


__all__ = [
    "ConstantElasticityDemand",
    "DemandCurve",
    "GroundTruthMarketConfig",
    "market_from_demand",
    "market_from_ground_truth",
    "market_from_world_dir",
]
