"""The synthetic catalog: category tree, brands, products and competitors.

Brands have a tier (:data:`~pricegraph.synthetic.text.TIERS`) and a few
product lines they specialise in. A product's list price is

.. math::

    p^{list}_j = \\mathrm{round}\\big(B_{line(j)} \\cdot T_{tier(j)} \\cdot M_{material(j)}
                 \\cdot e^{0.25 z_j}\\big), \\quad z_j \\sim N(0, 1),

with ``B`` the line's base price, ``T`` the tier factor and ``M`` the material
factor, rounded to 5 (below 1,000) or 50 (from 1,000). Unit cost is the tier's
cost ratio times list price with 8 % log-normal noise, at most 85 % of list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .config import WorldConfig
from .names import brand_description, brand_name, competitor_name
from .text import (
    LEAVES,
    ROOTS,
    TIER_COST_RATIO,
    TIER_PRICE_MULTIPLIER,
    TIERS,
    VOCABULARY,
    compose_product_text,
    material_multiplier,
)

_TIER_SHARES = np.array([0.3, 0.35, 0.25, 0.1])
_STOCK_MEAN_BY_TIER = np.array([40.0, 25.0, 12.0, 4.0])


@dataclass(frozen=True)
class Catalog:
    """Catalog tables (canonical columns) plus the arrays the simulation needs.

    Arrays are indexed by product row ``j`` (``[num_products]``) or brand row ``b``
    (``[num_brands]``), in the order of the tables.
    """

    brands: pd.DataFrame
    """Kind ``brands``: brand_id, name, tier, description."""
    categories: pd.DataFrame
    """Kind ``categories``: roots first, then leaves; parent_id missing for roots."""
    products: pd.DataFrame
    """Kind ``products``."""
    competitors: pd.DataFrame
    """Kind ``competitors``."""
    brand_tier: np.ndarray
    """``[num_brands]`` int, index into TIERS."""
    product_brand: np.ndarray
    """``[num_products]`` int, brand row."""
    product_leaf: np.ndarray
    """``[num_products]`` int, index into LEAVES."""
    list_price: np.ndarray
    """``[num_products]`` float, list price in ``currency``; the reference price."""
    cost: np.ndarray
    """``[num_products]`` float, unit cost in ``currency``."""
    base_utility: np.ndarray
    """``[num_products]`` float, :math:`a_j`."""
    view_weight: np.ndarray
    """``[num_products]`` float > 0, relative chance of being viewed (popularity)."""
    return_multiplier: np.ndarray
    """``[num_products]`` float, factor on the segment return rate (by product line)."""


def leaf_category_ids() -> list[str]:
    """Return the leaf category ids in :data:`LEAVES` order (``"CAT-women-bags"``, ...)."""
    return [f"CAT-{root}-{line}" for root, line, _ in LEAVES]


def make_categories() -> pd.DataFrame:
    """Return the category tree: three roots (Women, Men, Accessories) and their leaves."""
    ids = [f"CAT-{slug}" for slug, _ in ROOTS] + leaf_category_ids()
    names = [name for _, name in ROOTS] + [name for _, _, name in LEAVES]
    parents = [None] * len(ROOTS) + [f"CAT-{root}" for root, _, _ in LEAVES]
    return pd.DataFrame({"category_id": ids, "name": names, "parent_id": parents})


def _seasons(start: date) -> tuple[str, str]:
    """Return (current, next) season codes; SS runs February-July, AW August-January."""
    if 2 <= start.month <= 7:
        return f"SS{start.year % 100:02d}", f"AW{start.year % 100:02d}"
    year = start.year if start.month >= 8 else start.year - 1
    return f"AW{year % 100:02d}", f"SS{(year + 1) % 100:02d}"


def _round_price(raw: np.ndarray) -> np.ndarray:
    """Round list prices to 5 below 1,000 and to 50 from 1,000 (minimum 25)."""
    step = np.where(raw < 1000.0, 5.0, 50.0)
    return np.maximum(np.round(raw / step) * step, 25.0)


def make_catalog(config: WorldConfig, rng: np.random.Generator) -> Catalog:
    """Draw brands, products and competitors.

    Args:
        config: World configuration (sizes, currency, utility parameters).
        rng: Generator used for every draw of the catalog.

    Returns:
        The catalog tables and arrays.
    """
    n_brands, n_products = config.n_brands, config.n_products
    n_leaves = len(LEAVES)
    leaf_lines = [line for _, line, _ in LEAVES]

    brand_tier = rng.choice(len(TIERS), size=n_brands, p=_TIER_SHARES)
    if n_brands >= len(TIERS):  # every tier present
        brand_tier[: len(TIERS)] = np.arange(len(TIERS))
        brand_tier = rng.permutation(brand_tier)
    brand_weight = rng.lognormal(0.0, 0.8, size=n_brands)
    brand_mix = rng.dirichlet(np.full(n_leaves, 0.5), size=n_brands)  # [brands, leaves]
    brand_city = rng.integers(0, 1_000, size=n_brands)
    names = [brand_name(b) for b in range(n_brands)]
    top_lines = np.argsort(-brand_mix, axis=1)[:, :2]
    brands = pd.DataFrame(
        {
            "brand_id": [f"B{b + 1:03d}" for b in range(n_brands)],
            "name": names,
            "tier": [TIERS[t] for t in brand_tier],
            "description": [
                brand_description(
                    names[b],
                    int(brand_tier[b]),
                    int(brand_city[b]),
                    (leaf_lines[top_lines[b, 0]], leaf_lines[top_lines[b, -1]]),
                )
                for b in range(n_brands)
            ],
        }
    )

    product_brand = np.concatenate(
        [
            np.arange(n_brands),
            rng.choice(n_brands, size=n_products - n_brands, p=brand_weight / brand_weight.sum()),
        ]
    )
    product_brand = rng.permutation(product_brand)
    cum_mix = np.cumsum(brand_mix[product_brand], axis=1)
    draws = rng.random(n_products)[:, None] * cum_mix[:, -1:]
    product_leaf = np.minimum((draws > cum_mix).sum(axis=1), n_leaves - 1)
    product_tier = brand_tier[product_brand]
    picks = rng.integers(0, 1_000_000, size=(n_products, 6))
    seasons = _seasons(config.start_date)
    season_pick = rng.integers(0, 2, size=n_products)

    texts = []
    material_factor = np.empty(n_products)
    return_multiplier = np.empty(n_products)
    for j in range(n_products):
        root, line, _ = LEAVES[product_leaf[j]]
        texts.append(
            compose_product_text(
                names[product_brand[j]],
                line,
                tuple(int(v) for v in picks[j]),  # type: ignore[arg-type]
                seasons[season_pick[j]],
                is_menswear=root == "men",
            )
        )
        material_factor[j] = material_multiplier(line, int(picks[j, 1]))
        return_multiplier[j] = VOCABULARY[line].return_multiplier

    line_base = np.array([VOCABULARY[line].base_price for line in leaf_lines])
    raw_price = (
        line_base[product_leaf]
        * np.asarray(TIER_PRICE_MULTIPLIER)[product_tier]
        * material_factor
        * rng.lognormal(0.0, 0.25, size=n_products)
    )
    list_price = _round_price(raw_price)
    cost_ratio = np.asarray(TIER_COST_RATIO)[product_tier] * rng.lognormal(0.0, 0.08, n_products)
    cost = np.round(list_price * np.minimum(cost_ratio, 0.85), 2)
    stock_units = rng.poisson(_STOCK_MEAN_BY_TIER[product_tier]).astype(np.int64)

    z_pop = rng.standard_normal(n_products)
    z_own = rng.standard_normal(n_products)
    rho = config.popularity_correlation
    base_utility = config.base_utility_mean + config.base_utility_sd * (
        rho * z_pop + np.sqrt(1.0 - rho**2) * z_own
    )
    view_weight = np.exp(0.8 * z_pop)

    leaf_ids = np.asarray(leaf_category_ids())
    products = pd.DataFrame(
        {
            "product_id": [f"P{j + 1:05d}" for j in range(n_products)],
            "name": [t.name for t in texts],
            "description": [t.description for t in texts],
            "brand_id": brands["brand_id"].to_numpy()[product_brand],
            "category_id": leaf_ids[product_leaf],
            "attributes": [t.attributes for t in texts],
            "cost": cost,
            "list_price": list_price,
            "max_price": np.full(n_products, np.nan),  # no catalogue ceiling in this world
            "currency": config.currency,
            "stock_units": stock_units,
        }
    )
    competitors = pd.DataFrame(
        {
            "competitor_id": [f"COMP{k + 1}" for k in range(config.n_competitors)],
            "name": [competitor_name(k) for k in range(config.n_competitors)],
        }
    ).astype(brands["brand_id"].dtype)  # text columns even with no competitors
    return Catalog(
        brands=brands,
        categories=make_categories(),
        products=products,
        competitors=competitors,
        brand_tier=brand_tier,
        product_brand=product_brand,
        product_leaf=product_leaf,
        list_price=list_price,
        cost=cost,
        base_utility=base_utility,
        view_weight=view_weight,
        return_multiplier=return_multiplier,
    )


__all__ = ["Catalog", "leaf_category_ids", "make_catalog", "make_categories"]
