"""The synthetic world: determinism, canonical tables, integrity, and the model behind events."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from pricegraph.errors import ConfigError
from pricegraph.graph import GraphStore
from pricegraph.loaders import KINDS, LOAD_ORDER, load_files, read_mapping
from pricegraph.synthetic import (
    TABLES,
    World,
    WorldConfig,
    generate_world,
    read_ground_truth,
    write_world,
)
from pricegraph.synthetic.events import choice_utility
from pricegraph.synthetic.prices import daily_price_matrix
from pricegraph.synthetic.text import TIER_PRICE_MULTIPLIER, TIERS

SMALL = WorldConfig(
    seed=11, n_brands=8, n_products=120, n_customers=600, n_days=60, visit_rate_scale=2.0
)
TINY = WorldConfig(seed=3, n_brands=5, n_products=40, n_customers=150, n_days=45)
KIND_NAMES = ("brands", "categories", "competitors", "products", "customers", "prices", "events")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(SMALL)


def _assert_same_world(left: World, right: World) -> None:
    for kind in KIND_NAMES:
        pd.testing.assert_frame_equal(getattr(left, kind), getattr(right, kind), obj=kind)
    assert left.truth.equals(right.truth)


def test_same_seed_gives_identical_world(world: World) -> None:
    _assert_same_world(world, generate_world(SMALL))


def test_other_seed_gives_other_world(world: World) -> None:
    other = generate_world(WorldConfig(**{**SMALL.__dict__, "seed": 12}))
    assert len(other.products) == len(world.products)
    assert not other.products["list_price"].equals(world.products["list_price"])
    assert not other.products["name"].equals(world.products["name"])
    assert len(other.events) != len(world.events)
    assert not np.allclose(other.truth.customers["beta"], world.truth.customers["beta"])


NOT_SIMULATED = {
    "customers": ["attributes"],
    "events": ["discount", "promotion_id", "store_id", "channel"],
}
"""Optional retail fields the synthetic world has no data for (absent from its files)."""


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_columns_are_exactly_canonical(world: World, kind: str) -> None:
    skipped = NOT_SIMULATED.get(kind, [])
    assert not any(KINDS[kind].field(name).is_required for name in skipped)
    expected = [name for name in KINDS[kind].names if name not in skipped]
    assert list(getattr(world, kind).columns) == expected


def test_sizes_ids_and_keys(world: World) -> None:
    assert (len(world.brands), len(world.products), len(world.customers)) == (8, 120, 600)
    assert len(world.competitors) == 3
    patterns = {
        "brands": ("brand_id", r"B\d{3}"),
        "categories": ("category_id", r"CAT-[a-z-]+"),
        "products": ("product_id", r"P\d{5}"),
        "customers": ("customer_id", r"C\d{5}"),
        "competitors": ("competitor_id", r"COMP\d"),
        "events": ("event_id", r"E\d{7}"),
        "prices": ("price_point_id", r"PP-P\d{5}-(list|markdown|competitor)-(COMP\d)?-\d{8}"),
    }
    for kind, (key, pattern) in patterns.items():
        ids = getattr(world, kind)[key]
        assert ids.is_unique, kind
        assert ids.str.fullmatch(pattern).all(), kind
    assert set(world.events["event_type"]) == {"view", "cart", "purchase", "return"}
    assert 5_000 < len(world.events) < 50_000
    assert not world.customers["is_anonymous"].any()
    countries = {"DE", "FR", "IT", "GB", "US", "ES", "NL", "CH", "BE", "AT"}
    assert set(world.customers["country"]) <= countries


def test_referential_integrity(world: World) -> None:
    products, categories = world.products, world.categories
    assert products["brand_id"].isin(world.brands["brand_id"]).all()
    assert set(products["brand_id"]) == set(world.brands["brand_id"])  # every brand sells
    parents = categories["parent_id"].dropna()
    assert parents.isin(categories["category_id"]).all()
    assert categories["parent_id"].isna().sum() == 3  # Women, Men, Accessories
    leaves = categories.loc[~categories["category_id"].isin(parents), "category_id"]
    assert products["category_id"].isin(leaves).all()
    for frame in (world.events, world.prices):
        assert frame["product_id"].isin(products["product_id"]).all()
    assert world.events["customer_id"].isin(world.customers["customer_id"]).all()
    competitor = world.prices[world.prices["kind"] == "competitor"]
    assert len(competitor) > 0
    assert competitor["competitor_id"].isin(world.competitors["competitor_id"]).all()
    assert (competitor["source"] == "scrape").all()
    assert world.prices.loc[world.prices["kind"] != "competitor", "competitor_id"].isna().all()


def test_prices_positive_and_cost_below_list(world: World) -> None:
    products, prices = world.products, world.prices
    assert (products["cost"] > 0).all()
    assert (products["cost"] < products["list_price"]).all()
    assert (products["stock_units"] >= 0).all()
    assert (prices["price"] > 0).all()
    assert set(prices["kind"]) == {"list", "markdown", "competitor"}
    lists = prices[prices["kind"] == "list"].set_index("product_id")
    assert len(lists) == len(products)
    assert lists["price"].to_dict() == products.set_index("product_id")["list_price"].to_dict()
    assert (lists["valid_from"] == pd.Timestamp(SMALL.start, tz="UTC")).all()
    markdowns = prices[prices["kind"] == "markdown"]
    assert (markdowns["price"].to_numpy() < lists.loc[markdowns["product_id"], "price"]).all()
    bounded = prices.dropna(subset=["valid_to"])
    assert (bounded["valid_to"] > bounded["valid_from"]).all()
    assert markdowns["valid_to"].notna().all()


def _price_in_force(prices: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The markdown active at each row's ts, else the list price (computed from price rows)."""
    rows = rows.reset_index(drop=True).assign(row=lambda d: np.arange(len(d)))
    md = prices[prices["kind"] == "markdown"][["product_id", "price", "valid_from", "valid_to"]]
    hits = rows.merge(md, on="product_id")
    hits = hits[(hits["valid_from"] <= hits["ts"]) & (hits["ts"] < hits["valid_to"])]
    assert hits["row"].is_unique  # markdowns of a product never overlap
    list_price = prices[prices["kind"] == "list"].set_index("product_id")["price"]
    expected = list_price.loc[rows["product_id"]].to_numpy().copy()
    expected[hits["row"].to_numpy()] = hits["price"].to_numpy()
    return expected


def test_purchase_unit_price_is_price_in_force(world: World) -> None:
    purchases = world.events[world.events["event_type"] == "purchase"]
    expected = _price_in_force(world.prices, purchases)
    np.testing.assert_array_equal(purchases["unit_price"].to_numpy(), expected)
    list_price = world.products.set_index("product_id")["list_price"]
    on_markdown = purchases["unit_price"].to_numpy() < list_price.loc[purchases["product_id"]]
    assert 0.1 < on_markdown.mean() < 0.9
    assert (purchases["currency"] == "EUR").all()
    assert purchases["order_id"].is_unique
    assert purchases["qty"].between(1, 4).all() and (purchases["qty"] == 1).mean() > 0.85


def test_funnel_and_returns(world: World) -> None:
    events = world.events.assign(day=world.events["ts"].dt.floor("D"))
    assert events["ts"].is_monotonic_increasing
    first = events.groupby(["customer_id", "product_id", "day", "event_type"])["ts"].min()
    first = first.unstack("event_type")
    bought = first.dropna(subset=["purchase"])
    assert (bought["view"] < bought["cart"]).all() and (bought["cart"] < bought["purchase"]).all()
    assert events.loc[events["event_type"].isin(["view", "cart"]), "order_id"].isna().all()

    returns = events[events["event_type"] == "return"]
    assert 0 < len(returns) < (events["event_type"] == "purchase").sum() * 0.4
    purchases = events[events["event_type"] == "purchase"].set_index("order_id")
    matched = purchases.loc[returns["order_id"]]
    for column in ("customer_id", "product_id", "unit_price", "qty"):
        np.testing.assert_array_equal(matched[column].to_numpy(), returns[column].to_numpy())
    delay = returns["ts"].to_numpy() - matched["ts"].to_numpy()
    assert (delay >= np.timedelta64(3 * 24 - 6, "h")).all()
    assert (delay <= np.timedelta64(21 * 24 + 6, "h")).all()
    assert returns["order_id"].is_unique
    horizon_end = pd.Timestamp(SMALL.start, tz="UTC") + pd.Timedelta(days=SMALL.n_days)
    assert (events["ts"] < horizon_end).all()


def _views_with_truth(world: World) -> pd.DataFrame:
    """Views joined with the truth: segment, purchase flag, markdown flag."""
    events = world.events.assign(day=world.events["ts"].dt.floor("D"))
    key = ["customer_id", "product_id", "day"]
    bought = events.loc[events["event_type"] == "purchase", key].assign(is_bought=True)
    views = events[events["event_type"] == "view"].merge(bought, on=key, how="left")
    views["is_bought"] = views["is_bought"].fillna(False).astype(bool)
    list_price = world.products.set_index("product_id")["list_price"]
    is_markdown = views["unit_price"].to_numpy() < list_price.loc[views["product_id"]].to_numpy()
    views["is_markdown"] = is_markdown
    return views.merge(world.truth.customers, on="customer_id")


def test_markdowns_lift_conversion_more_for_price_sensitive_segment(world: World) -> None:
    views = _views_with_truth(world)
    conversion = views.groupby(["segment_id", "is_markdown"])["is_bought"].mean().unstack()
    lift = conversion[True] / conversion[False]
    beta_mean = world.truth.segments.set_index("segment_id")["beta_mean"]
    most, least = beta_mean.idxmax(), beta_mean.idxmin()
    assert lift[most] > 3.0  # random choices would give a lift near 1
    assert lift[most] > 2.0 * lift[least]
    purchases = views[views["is_bought"]]
    paid = purchases.groupby("segment_id")["is_markdown"].mean()
    assert paid[most] > paid[least]


def test_truth_predicts_purchase_counts(world: World) -> None:
    """The saved truth plus the prices reproduce the expected number of purchases (MNL)."""
    truth = world.truth
    views = _views_with_truth(world)
    products = truth.products.set_index("product_id")
    brand = products.loc[views["product_id"], "brand_id"].to_numpy()
    affinity = (
        pd.DataFrame({"customer_id": views["customer_id"], "brand_id": brand})
        .merge(truth.brand_affinity, on=["customer_id", "brand_id"], how="left")["affinity"]
        .fillna(0.0)
        .to_numpy()
    )
    _, competitor = daily_price_matrix(world.prices, products.index, SMALL.start, SMALL.n_days)
    day = ((views["day"] - pd.Timestamp(SMALL.start, tz="UTC")).dt.days).to_numpy()
    utility = choice_utility(
        products.loc[views["product_id"], "base_utility"].to_numpy(),
        affinity,
        views["beta"].to_numpy(),
        views["unit_price"].to_numpy(),
        products.loc[views["product_id"], "ref_price"].to_numpy(),
        competitor[products.index.get_indexer(views["product_id"]), day],
        alpha=truth.segments.set_index("segment_id").loc[views["segment_id"], "alpha"].to_numpy(),
        gamma=truth.params["gamma_affinity"],
        delta=truth.params["delta_competitor"],
    )
    views["weight"] = np.exp(utility)
    visits = views.groupby(["customer_id", "day"])
    views["p_buy"] = views["weight"] / (1.0 + visits["weight"].transform("sum"))
    assert visits["is_bought"].sum().max() == 1  # at most one purchase per visit
    actual = views["is_bought"].sum()
    assert abs(views["p_buy"].sum() - actual) < 0.1 * actual
    for is_markdown, group in views.groupby("is_markdown"):
        actual = group["is_bought"].sum()
        assert abs(group["p_buy"].sum() - actual) < 0.15 * actual, is_markdown


def test_ground_truth_content(world: World) -> None:
    truth = world.truth
    assert len(truth.segments) == SMALL.n_segments
    assert truth.segments["share"].sum() == pytest.approx(1.0)
    assert list(truth.customers["customer_id"]) == list(world.customers["customer_id"])
    assert (truth.customers["beta"] > 0).all() and (truth.customers["visit_rate"] > 0).all()
    by_segment = truth.customers.groupby("segment_id")["beta"].mean()
    expected = truth.segments.set_index("segment_id")["beta_mean"]
    np.testing.assert_allclose(by_segment, expected, rtol=0.15)
    assert truth.brand_affinity["brand_id"].isin(world.brands["brand_id"]).all()
    assert (truth.brand_affinity["affinity"] > 0).all()
    assert truth.brand_affinity.groupby("customer_id").size().between(1, 6).all()
    assert truth.category_affinity["category_id"].isin(world.products["category_id"]).all()
    assert len(truth.calendar) == SMALL.n_days and truth.calendar["is_sale"].iloc[0]
    assert truth.params["seed"] == 11 and truth.params["config"]["n_customers"] == 600
    assert "beta_c * log(p_jt / ref_j)" in truth.params["formulas"]["utility"]
    counts = world.events["event_type"].value_counts().to_dict()
    assert truth.params["event_counts"] == counts


def test_product_text_follows_vocabulary(world: World) -> None:
    products = world.products.merge(
        world.brands[["brand_id", "name"]].rename(columns={"name": "brand"}), on="brand_id"
    )
    for row in products.itertuples():
        assert row.name.startswith(row.brand + " ")
        attributes = dict(pair.split("=") for pair in row.attributes.split("; "))
        assert set(attributes) == {"material", "colour", "style", "occasion", "season"}
        assert attributes["material"] in row.description
        assert attributes["material"].title() in row.name
        assert attributes["colour"] in row.description
        assert re.fullmatch(r"(AW|SS)\d\d", attributes["season"])
    bags = products[products["category_id"] == "CAT-women-bags"]
    nouns = ("Shoulder Bag", "Tote", "Crossbody Bag", "Clutch", "Top-Handle Bag", "Bucket Bag")
    assert bags["name"].map(lambda name: name.endswith(nouns)).all()


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_write_world_round_trip(tmp_path: Path, file_format: str) -> None:
    world = generate_world(TINY)
    mapping_path = write_world(world, tmp_path / "out", file_format=file_format)
    out = tmp_path / "out"
    assert mapping_path == out / "mapping.toml"

    document = tomllib.loads(mapping_path.read_text())
    entries = document["files"]
    assert [e["kind"] for e in entries] == list(KIND_NAMES)  # load order
    listed = {e["path"] for e in entries}
    on_disk = {p.name for p in out.iterdir() if p.is_file() and p.name != "mapping.toml"}
    assert listed == on_disk
    suffix = ".parquet" if file_format == "parquet" else ".csv"
    assert {e["kind"]: e["path"] for e in entries}["events"] == (
        "events.parquet" if file_format == "parquet" else "events.csv.gz"
    )
    assert all(p.endswith(suffix) or p == "events.csv.gz" for p in listed)

    truth = read_ground_truth(out)
    assert truth.equals(world.truth)
    assert (out / "ground_truth" / "model.json").is_file()

    events_path = out / {e["kind"]: e["path"] for e in entries}["events"]
    if file_format == "parquet":
        events = pd.read_parquet(events_path)
        assert str(events["ts"].dtype) == "datetime64[us, UTC]"
        pd.testing.assert_frame_equal(events, world.events)
    else:
        events = pd.read_csv(events_path, dtype=str, keep_default_na=False)
        assert events["ts"].str.match(ISO_UTC).all()
        assert events["ts"].iloc[0] == world.events["ts"].iloc[0].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert set(events.loc[events["event_type"] == "view", "order_id"]) == {""}
        prices = pd.read_csv(out / "prices.csv", dtype=str, keep_default_na=False)
        assert prices["valid_from"].str.match(ISO_UTC).all()
        open_ended = prices["valid_to"] == ""
        assert open_ended.sum() == world.prices["valid_to"].isna().sum()
        assert prices.loc[~open_ended, "valid_to"].str.match(ISO_UTC).all()
        assert list(pd.read_csv(out / "products.csv")["list_price"]) == list(
            world.products["list_price"]
        )


def test_written_csv_bytes_are_reproducible(tmp_path: Path) -> None:
    world = generate_world(TINY)
    write_world(world, tmp_path / "a")
    write_world(generate_world(TINY), tmp_path / "b")
    for name in ("products.csv", "prices.csv", "events.csv.gz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_project_loader_accepts_written_world(tmp_path: Path, embedded: GraphStore) -> None:
    world = generate_world(TINY)
    mapping_path = write_world(world, tmp_path / "out")
    report = load_files(embedded, read_mapping(mapping_path), rejects_dir=tmp_path / "rejects")
    frame = report.as_frame().set_index("kind")
    assert (frame["rejected"] == 0).all() and (frame["skipped"] == 0).all()
    for kind in KIND_NAMES:
        assert frame.loc[kind, "loaded"] == len(getattr(world, kind))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_segments", 7),
        ("n_products", 3),
        ("start", "2025-13-01"),
        ("markdown_share", 1.5),
        ("return_delay_days", (5, 2)),
    ],
)
def test_config_rejects_out_of_range_values(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f'"{field}"'):
        WorldConfig(**{field: value})


def test_write_world_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file_format"):
        write_world(generate_world(TINY), tmp_path, file_format="xlsx")  # type: ignore[arg-type]


def test_beta_tier_link_ties_sensitivity_to_the_brand_tiers_favoured() -> None:
    levels = dict(zip(TIERS, np.log(TIER_PRICE_MULTIPLIER), strict=True))
    found = {}
    for link in (0.0, 2.0):
        world = generate_world(WorldConfig(seed=3, n_customers=600, n_products=120, n_days=20,
                                           beta_tier_link=link))  # fmt: skip
        truth = world.truth
        favoured = truth.brand_affinity.merge(world.brands[["brand_id", "tier"]], on="brand_id")
        level = favoured.assign(level=favoured["tier"].map(levels)).groupby("customer_id")["level"]
        customers = truth.customers.set_index("customer_id")
        relative = np.log(customers["beta"]) - np.log(
            customers.groupby("segment_id")["beta"].transform("mean")
        )
        mean_level = level.mean()
        found[link] = spearmanr(relative.reindex(mean_level.index), mean_level).statistic
    assert abs(found[0.0]) < 0.15 and found[2.0] < -0.5


def test_world_tables_are_loader_kinds_in_load_order() -> None:
    assert [kind for kind in LOAD_ORDER if kind in TABLES] == list(TABLES)
