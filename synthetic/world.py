"""A seeded synthetic world for a luxury fashion retailer: catalog, customers, prices, events.

:func:`generate_world` draws brands, a category tree, products with realistic text,
customers with latent tastes, list/markdown/competitor price points and a stream
of events from a known choice model; :func:`write_world` saves the tables as files
in the canonical formats of :mod:`pricegraph.loaders.formats` together with a
``mapping.toml`` and the latent ground truth, which later work uses as a market
simulator and as an oracle. The models are documented as math in
:mod:`~pricegraph.synthetic.customers` (latent tastes),
:mod:`~pricegraph.synthetic.prices` (price points) and
:mod:`~pricegraph.synthetic.events` (visits, views, choice, returns).

The same :class:`WorldConfig` (seed included) always gives identical tables: each
stage draws from its own child of ``numpy.random.SeedSequence(config.seed)``.

Example::

    world = generate_world(WorldConfig(seed=7))
    mapping_path = write_world(world, Path("var/synthetic"))
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .catalog import Catalog, leaf_category_ids, make_catalog
from .config import SEGMENT_PRESETS, SegmentSpec, WorldConfig
from .customers import Population, make_population
from .events import WEEKDAY_FACTOR, holiday_ramp, simulate_events, weekday_factor
from .prices import (
    SaleWindow,
    daily_price_matrix,
    make_price_points,
    sale_day_mask,
    sale_windows,
)
from .text import TIERS

FORMULAS = {
    "utility": (
        "U_cjt = alpha_s + a_j + gamma * A_c[brand_j] - beta_c * log(p_jt / ref_j)"
        " + delta * log(c_jt / p_jt) + eps_cjt; U_c0t = eps_c0t; eps ~ Gumbel(0, 1) iid;"
        " p_jt = markdown price if active else list price; ref_j = list price;"
        " c_jt = cheapest competitor price in force, = p_jt when none; A = 0 for"
        " non-favourite brands; the visitor buys argmax over viewed products and outside"
    ),
    "visit": (
        "P(visit c on day t) = 1 - exp(-lambda_ct); lambda_ct = visit_rate_c"
        " * weekday_factor[dow(t)] * (1 + holiday_visit_uplift_s * holiday_ramp_t)"
        " * (1 + sale_visit_uplift_s * is_sale_t); no visits before signup"
    ),
    "views": (
        "draws per visit = min(1 + Poisson(views_mean_s - 1), max_views_per_visit); each"
        " draw: favourite brand (p=brand_focus_s, brand by affinity, product by view_weight),"
        " favourite category (p=category_focus_s, product by view_weight), else catalog"
        " (weight view_weight * tier_weight_s[tier]); repeats within a visit dropped"
    ),
    "returns": (
        "P(return) = min(return_rate_s * return_rate_scale * return_multiplier_j, 0.95);"
        " ts = purchase ts + U{return_delay_days} days + U[-6h, 6h); cut at horizon end"
    ),
    "beta": "beta_c = beta_mean_s * exp(beta_log_sd * z - beta_log_sd**2 / 2), z ~ N(0, 1)",
    "visit_rate": "visit_rate_c = visit_rate_s * visit_rate_scale * Gamma(shape=2, scale=0.5)",
}
"""The generating model in plain text, saved in ``model.json``."""

_TRUTH_TABLES = (
    "segments", "customers", "products", "brand_affinity", "category_affinity", "calendar",
)  # fmt: skip
_DATETIME_COLUMNS = {
    "customers": ("signup_ts",),
    "prices": ("valid_from", "valid_to"),
    "events": ("ts",),
}


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """The latent parameters behind a world (tables keyed by the public ids).

    Compare two with :meth:`equals` (DataFrames have no ``==``).
    """

    segments: pd.DataFrame
    """One row per segment: ``segment_id`` (0-based) and every :class:`SegmentSpec` field."""
    customers: pd.DataFrame
    """customer_id, segment_id, segment, beta (> 0), visit_rate (per day), first_day."""
    products: pd.DataFrame
    """product_id, brand_id, category_id, tier, base_utility, ref_price, list_price, cost,
    view_weight, return_multiplier; money in the world's currency."""
    brand_affinity: pd.DataFrame
    """customer_id, brand_id, affinity: the non-zero entries of :math:`A_{c,b}`."""
    category_affinity: pd.DataFrame
    """customer_id, category_id, weight: favourite categories used to draw views."""
    calendar: pd.DataFrame
    """One row per day: day, date (ISO), weekday_factor, holiday_ramp, is_sale, sale_name."""
    params: dict[str, Any] = field(default_factory=dict)
    """JSON-ready scalars: formulas, gamma, delta, config (seed included), counts."""

    def equals(self, other: GroundTruth) -> bool:
        """Whether every table and the parameters are identical."""
        return self.params == other.params and all(
            getattr(self, name).equals(getattr(other, name)) for name in _TRUTH_TABLES
        )


TABLES = ("brands", "categories", "competitors", "products", "customers", "prices", "events")
"""The world's tables, file kinds of :mod:`pricegraph.loaders.formats`, in its load order
(referenced before referencing; ``tests/synthetic/test_world.py`` checks the two agree)."""


@dataclass(frozen=True, eq=False)
class World:
    """A generated world: canonical tables (see :mod:`~pricegraph.loaders.formats`) and truth.

    Timestamps are tz-aware UTC (``datetime64[us, UTC]``); missing values are NA.
    """

    config: WorldConfig
    """The config it was generated from."""
    brands: pd.DataFrame = field(repr=False)
    """Kind ``brands``."""
    categories: pd.DataFrame = field(repr=False)
    """Kind ``categories``."""
    products: pd.DataFrame = field(repr=False)
    """Kind ``products``."""
    customers: pd.DataFrame = field(repr=False)
    """Kind ``customers``."""
    competitors: pd.DataFrame = field(repr=False)
    """Kind ``competitors``."""
    prices: pd.DataFrame = field(repr=False)
    """Kind ``prices``: list, markdown and competitor price points."""
    events: pd.DataFrame = field(repr=False)
    """Kind ``events``: view, cart, purchase, return, sorted by ts."""
    truth: GroundTruth = field(repr=False)
    """Latent parameters of the generating model."""

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the canonical tables by kind, in load order."""
        return {kind: getattr(self, kind) for kind in TABLES}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{kind}={len(df)}" for kind, df in self.tables().items())
        return f"World(seed={self.config.seed}, {sizes})"


def generate_world(config: WorldConfig) -> World:
    """Generate a world from ``config``; deterministic for a given config.

    Args:
        config: Sizes, horizon, seed and model parameters.

    Returns:
        The canonical tables and the ground truth.
    """
    catalog_seed, customer_seed, price_seed, event_seed = np.random.SeedSequence(config.seed).spawn(
        4
    )
    catalog = make_catalog(config, np.random.default_rng(catalog_seed))
    population = make_population(config, catalog, np.random.default_rng(customer_seed))
    prices = make_price_points(config, catalog, np.random.default_rng(price_seed))
    own, competitor = daily_price_matrix(
        prices, catalog.products["product_id"], config.start, config.n_days
    )
    windows = sale_windows(config.start_date, config.n_days)
    is_sale = sale_day_mask(windows, config.n_days)
    events = simulate_events(
        config, catalog, population, own, competitor, is_sale, np.random.default_rng(event_seed)
    )
    truth = _ground_truth(config, catalog, population, windows, events)
    return World(
        config=config,
        brands=catalog.brands,
        categories=catalog.categories,
        products=catalog.products,
        customers=population.customers,
        competitors=catalog.competitors,
        prices=prices,
        events=events,
        truth=truth,
    )


def _ground_truth(
    config: WorldConfig,
    catalog: Catalog,
    population: Population,
    windows: list[SaleWindow],
    events: pd.DataFrame,
) -> GroundTruth:
    """Collect the latent parameters into id-keyed tables and JSON-ready params."""
    segment_rows = []
    for i, spec in enumerate(config.segments):
        row: dict[str, Any] = {"segment_id": i, **asdict(spec)}
        weights = row.pop("tier_weights")
        row.update({f"tier_weight_{tier}": w for tier, w in zip(TIERS, weights, strict=True)})
        segment_rows.append(row)
    segments = pd.DataFrame(segment_rows)
    customer_ids = population.customers["customer_id"].to_numpy()
    brand_ids = catalog.brands["brand_id"].to_numpy()
    customers = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "segment_id": population.segment.astype(np.int64),
            "segment": segments["name"].to_numpy()[population.segment],
            "beta": population.beta,
            "visit_rate": population.visit_rate,
            "first_day": population.first_day.astype(np.int64),
        }
    )
    products = pd.DataFrame(
        {
            "product_id": catalog.products["product_id"],
            "brand_id": catalog.products["brand_id"],
            "category_id": catalog.products["category_id"],
            "tier": np.asarray(TIERS)[catalog.brand_tier[catalog.product_brand]],
            "base_utility": catalog.base_utility,
            "ref_price": catalog.list_price,
            "list_price": catalog.list_price,
            "cost": catalog.cost,
            "view_weight": catalog.view_weight,
            "return_multiplier": catalog.return_multiplier,
        }
    )
    brand_owner = np.repeat(np.arange(config.n_customers), np.diff(population.brand_indptr))
    brand_affinity = pd.DataFrame(
        {
            "customer_id": customer_ids[brand_owner],
            "brand_id": brand_ids[population.brand_index],
            "affinity": population.brand_affinity,
        }
    )
    cat_owner = np.repeat(np.arange(config.n_customers), np.diff(population.category_indptr))
    category_affinity = pd.DataFrame(
        {
            "customer_id": customer_ids[cat_owner],
            "category_id": np.asarray(leaf_category_ids())[population.category_index],
            "weight": population.category_weight,
        }
    )
    days = np.datetime64(config.start, "D") + np.arange(config.n_days)
    sale_name = np.full(config.n_days, "", dtype=object)
    for window in windows:
        sale_name[window.first_day : window.end_day] = window.name
    calendar = pd.DataFrame(
        {
            "day": np.arange(config.n_days, dtype=np.int64),
            "date": np.datetime_as_string(days, unit="D"),
            "weekday_factor": weekday_factor(config.start_date, config.n_days),
            "holiday_ramp": holiday_ramp(config.start_date, config.n_days),
            "is_sale": sale_day_mask(windows, config.n_days),
            "sale_name": sale_name,
        }
    )
    params = {
        "generator": "pricegraph.synthetic",
        "seed": config.seed,
        "config": asdict(config),
        "formulas": FORMULAS,
        "gamma_affinity": config.gamma_affinity,
        "delta_competitor": config.delta_competitor,
        "outside_utility": 0.0,
        "noise": "standard Gumbel (location 0, scale 1)",
        "reference_price": "list_price",
        "weekday_factor_monday_first": list(WEEKDAY_FACTOR),
        "sale_windows": [asdict(w) for w in windows],
        "event_counts": {k: int(v) for k, v in events["event_type"].value_counts().items()},
    }
    return GroundTruth(
        segments=segments,
        customers=customers,
        products=products,
        brand_affinity=brand_affinity,
        category_affinity=category_affinity,
        calendar=calendar,
        params=json.loads(json.dumps(params)),
    )


def _file_name(kind: str, file_format: str) -> str:
    if file_format == "parquet":
        return f"{kind}.parquet"
    return "events.csv.gz" if kind == "events" else f"{kind}.csv"


def _iso_utc(values: pd.Series) -> pd.Series:
    """Format tz-aware UTC timestamps as ``2025-01-03T14:22:05Z`` (missing stays missing)."""
    naive = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[s]")
    text = pd.Series(np.char.add(np.datetime_as_string(naive, unit="s"), "Z"), index=values.index)
    return text.where(values.notna(), None)


def write_world(
    world: World, out_dir: Path, *, file_format: Literal["csv", "parquet"] = "csv"
) -> Path:
    """Write the world's tables, its ground truth and a ``mapping.toml`` into ``out_dir``.

    CSV files hold timestamps as UTC ISO-8601 strings with a ``Z``
    (``2025-01-03T14:22:05Z``), missing values as empty fields and booleans as
    ``True``/``False``; events are gzip-compressed (``events.csv.gz``, no mtime, so
    the bytes are reproducible). Parquet files hold ``timestamp[us, UTC]``. The
    ground truth always goes to ``ground_truth/`` as Parquet plus ``model.json``.

    Args:
        world: A generated world.
        out_dir: Output folder; created if missing, existing files are overwritten.
        file_format: ``"csv"`` or ``"parquet"`` for the canonical tables.

    Returns:
        The path of ``mapping.toml``.

    Raises:
        ValueError: If ``file_format`` is neither ``"csv"`` nor ``"parquet"``.
    """
    if file_format not in ("csv", "parquet"):
        raise ValueError(f'file_format: expected "csv" or "parquet", got {file_format!r}')
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for kind, frame in world.tables().items():
        name = _file_name(kind, file_format)
        if file_format == "parquet":
            frame.to_parquet(out_dir / name, index=False)
        else:
            text = frame.copy()
            for column in _DATETIME_COLUMNS.get(kind, ()):
                text[column] = _iso_utc(frame[column])
            compression = {"method": "gzip", "mtime": 0} if name.endswith(".gz") else None
            text.to_csv(out_dir / name, index=False, compression=compression)
        entries.append(f'[[files]]\npath = "{name}"\nkind = "{kind}"\n')

    truth_dir = out_dir / "ground_truth"
    truth_dir.mkdir(exist_ok=True)
    for name in _TRUTH_TABLES:
        getattr(world.truth, name).to_parquet(truth_dir / f"{name}.parquet", index=False)
    (truth_dir / "model.json").write_text(json.dumps(world.truth.params, indent=2) + "\n")

    header = (
        "# Pricegraph load mapping: which file holds which kind, and how its columns map.\n"
        f"# Synthetic world (pricegraph.synthetic), seed {world.config.seed}; column\n"
        "# names are canonical, so no [files.columns] tables are needed.\n\n"
    )
    mapping_path = out_dir / "mapping.toml"
    mapping_path.write_text(header + "\n".join(entries))
    return mapping_path


def read_ground_truth(out_dir: Path) -> GroundTruth:
    """Load the ground truth that :func:`write_world` saved under ``out_dir/ground_truth``.

    Raises:
        FileNotFoundError: If ``out_dir/ground_truth/model.json`` does not exist.
    """
    truth_dir = Path(out_dir) / "ground_truth"
    model_path = truth_dir / "model.json"
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no ground truth here; write_world() writes it")
    tables = {name: pd.read_parquet(truth_dir / f"{name}.parquet") for name in _TRUTH_TABLES}
    return GroundTruth(**tables, params=json.loads(model_path.read_text()))


__all__ = [
    "FORMULAS",
    "SEGMENT_PRESETS",
    "TABLES",
    "GroundTruth",
    "SegmentSpec",
    "World",
    "WorldConfig",
    "generate_world",
    "read_ground_truth",
    "write_world",
]
