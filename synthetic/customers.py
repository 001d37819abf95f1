"""Synthetic customers and their latent tastes (segment, price sensitivity, affinities).

Latent values per customer ``c`` in segment ``s``:

.. math::

    \\beta_c = \\bar\\beta_s \\, e^{\\sigma z_c - \\sigma^2 / 2}, \\qquad
    \\lambda_c = r \\, \\bar\\lambda_s \\, g_c, \\quad g_c \\sim \\mathrm{Gamma}(2, 1/2),

so :math:`\\beta_c > 0` has mean :math:`\\bar\\beta_s`, and the visit rate
:math:`\\lambda_c` has mean :math:`r \\bar\\lambda_s` (``r`` = ``visit_rate_scale``).
Each customer has ``1 + Poisson(k_s - 1)`` favourite brands (at most 6), drawn
without replacement with weights brand popularity times the segment's tier weight
(times :math:`e^{-\\ell z_c m_b}` with ``beta_tier_link`` :math:`\\ell > 0`, :math:`m_b`
the centred log price factor of the brand's tier: sensitive customers favour cheaper tiers),
each with an affinity drawn from U(0.4, 1.6); every other brand has affinity 0.
Each customer also has 1-3 favourite leaf categories (equal weights), drawn with
weights proportional to the number of products in the category.

No protected attributes (gender, age, ethnicity) are generated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .catalog import Catalog
from .config import WorldConfig
from .text import LEAVES, TIER_PRICE_MULTIPLIER

_COUNTRIES = ("DE", "FR", "IT", "GB", "US", "ES", "NL", "CH", "BE", "AT")
_COUNTRY_SHARES = np.array([0.18, 0.16, 0.14, 0.14, 0.10, 0.08, 0.07, 0.05, 0.04, 0.04])
_MAX_FAVOURITE_BRANDS = 6
_HISTORY_DAYS = 4 * 365
_CHUNK = 8192


@dataclass(frozen=True)
class Population:
    """Customers (canonical table) plus their latent parameters as arrays.

    Sparse affinities are stored row-compressed: the favourites of customer ``c``
    are ``brand_index[brand_indptr[c]:brand_indptr[c + 1]]`` with weights
    ``brand_affinity[...]`` (likewise for categories).
    """

    customers: pd.DataFrame
    """Kind ``customers``."""
    segment: np.ndarray
    """``[num_customers]`` int, index into ``config.segments``."""
    beta: np.ndarray
    """``[num_customers]`` float > 0, price sensitivity."""
    visit_rate: np.ndarray
    """``[num_customers]`` float, mean visits per day before seasonal factors."""
    first_day: np.ndarray
    """``[num_customers]`` int, first day index the customer can visit (signup day)."""
    brand_indptr: np.ndarray
    """``[num_customers + 1]`` int64 row pointers into the brand arrays."""
    brand_index: np.ndarray
    """``[nnz]`` int, favourite brand rows."""
    brand_affinity: np.ndarray
    """``[nnz]`` float, affinity of the customer to that brand (> 0)."""
    category_indptr: np.ndarray
    """``[num_customers + 1]`` int64 row pointers into the category arrays."""
    category_index: np.ndarray
    """``[nnz]`` int, favourite leaf indices (into LEAVES)."""
    category_weight: np.ndarray
    """``[nnz]`` float, weight of that category in the customer's category views."""


def _top_k_without_replacement(
    log_weight_table: np.ndarray,
    table_row: np.ndarray,
    counts: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``counts[i]`` distinct columns per row with probabilities ``exp(log_weights)``.

    Uses the Gumbel-top-k trick, in chunks of rows to bound memory. Returns CSR
    ``(indptr, indices)``.

    Args:
        log_weight_table: ``[table_rows, columns]`` log weights (``-inf`` excludes).
        table_row: ``[rows]`` int, the table row holding each output row's weights.
        counts: ``[rows]`` number of columns to draw per row (<= finite columns).
        rng: Random generator.
    """
    indices = [np.zeros(0, dtype=np.int64)]
    for lo in range(0, table_row.size, _CHUNK):
        log_weights = log_weight_table[table_row[lo : lo + _CHUNK]]
        keys = log_weights + rng.gumbel(size=log_weights.shape)
        order = np.argsort(-keys, axis=1, kind="stable")
        keep = np.arange(order.shape[1])[None, :] < counts[lo : lo + _CHUNK, None]
        indices.append(order[keep])
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return indptr, np.concatenate(indices)


def make_population(config: WorldConfig, catalog: Catalog, rng: np.random.Generator) -> Population:
    """Draw customers, their segments, price sensitivities, visit rates and tastes.

    Args:
        config: World configuration.
        catalog: The catalog (brand tiers and products per category are used).
        rng: Generator used for every draw of the population.

    Returns:
        The customers table and latent arrays.
    """
    n = config.n_customers
    segments = config.segments
    shares = np.array([s.share for s in segments])
    segment = rng.choice(len(segments), size=n, p=shares)
    beta_mean = np.array([s.beta_mean for s in segments])[segment]
    sigma = config.beta_log_sd
    sensitivity_z = rng.standard_normal(n)
    beta = beta_mean * np.exp(sigma * sensitivity_z - sigma**2 / 2.0)
    rate_mean = np.array([s.visit_rate for s in segments])[segment] * config.visit_rate_scale
    visit_rate = rate_mean * rng.gamma(2.0, 0.5, size=n)

    is_new = rng.random(n) < config.new_customer_share
    signup_s = np.where(
        is_new,
        rng.integers(0, config.n_days * 86_400, size=n),
        -rng.integers(1, _HISTORY_DAYS * 86_400, size=n),
    )
    first_day = np.where(is_new, signup_s // 86_400, 0)
    signup_ts = (config.start_epoch_s + signup_s).astype("datetime64[s]")

    # Favourite brands: popularity x segment tier weight, Gumbel-top-k.
    n_brands = len(catalog.brand_tier)
    brand_popularity = np.bincount(catalog.product_brand, minlength=n_brands).astype(float)
    tier_weights = np.array([s.tier_weights for s in segments])  # [segments, tiers]
    log_w = np.log(brand_popularity)[None, :] + np.log(tier_weights[:, catalog.brand_tier])
    k_mean = np.array([s.favourite_brands_mean for s in segments])[segment]
    k_brands = np.minimum(1 + rng.poisson(k_mean - 1.0), min(_MAX_FAVOURITE_BRANDS, n_brands))
    if config.beta_tier_link > 0:  # price-sensitive customers favour cheaper tiers
        level = np.log(np.asarray(TIER_PRICE_MULTIPLIER))[catalog.brand_tier]
        tilt = -config.beta_tier_link * sensitivity_z[:, None] * (level - level.mean())[None, :]
        brand_indptr, brand_index = _top_k_without_replacement(
            log_w[segment] + tilt, np.arange(n), k_brands, rng
        )
    else:
        brand_indptr, brand_index = _top_k_without_replacement(log_w, segment, k_brands, rng)
    brand_affinity = rng.uniform(0.4, 1.6, size=brand_index.size)

    # Favourite categories: leaves that have products, by product count.
    leaf_count = np.bincount(catalog.product_leaf, minlength=len(LEAVES)).astype(float)
    with np.errstate(divide="ignore"):
        log_leaf = np.log(leaf_count)
    k_leaves = np.minimum(rng.integers(1, 4, size=n), int((leaf_count > 0).sum()))
    category_indptr, category_index = _top_k_without_replacement(
        log_leaf[None, :], np.zeros(n, dtype=np.int64), k_leaves, rng
    )
    category_weight = np.ones(category_index.size)

    country = np.asarray(_COUNTRIES)[rng.choice(len(_COUNTRIES), size=n, p=_COUNTRY_SHARES)]
    profile = _profiles(signup_ts, category_indptr, category_index, rng)
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{c + 1:05d}" for c in range(n)],
            "country": country,
            "signup_ts": pd.Series(signup_ts.astype("datetime64[us]")).dt.tz_localize("UTC"),
            "is_anonymous": np.zeros(n, dtype=bool),
            "profile_text": profile,
        }
    )
    return Population(
        customers=customers,
        segment=segment,
        beta=beta,
        visit_rate=visit_rate,
        first_day=first_day,
        brand_indptr=brand_indptr,
        brand_index=brand_index,
        brand_affinity=brand_affinity,
        category_indptr=category_indptr,
        category_index=category_index,
        category_weight=category_weight,
    )


def _profiles(
    signup_ts: np.ndarray,
    category_indptr: np.ndarray,
    category_index: np.ndarray,
    rng: np.random.Generator,
) -> list[str | None]:
    """Short optional profile texts; about 60 % of customers have none (missing)."""
    kind = rng.choice(4, size=signup_ts.size, p=[0.6, 0.15, 0.1, 0.15])
    years = signup_ts.astype("datetime64[Y]").astype(int) + 1970
    profiles: list[str | None] = []
    for c, k in enumerate(kind):
        if k == 0:
            profiles.append(None)
        elif k == 1:
            profiles.append("Newsletter subscriber.")
        elif k == 2:
            profiles.append(f"Loyalty programme member since {years[c]}.")
        else:
            favourites = category_index[category_indptr[c] : category_indptr[c + 1]]
            names = sorted({LEAVES[i][2].lower() for i in favourites})
            profiles.append(f"Interested in {' and '.join(names)}.")
    return profiles


__all__ = ["Population", "make_population"]
