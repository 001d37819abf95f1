"""A nasty catalogue: a generated world with the data quirks real retailers send.

The synthetic world is clean: every product has a distinct name, a list price, a cost
and text; every price is positive; quantities are small. A retailer's files are not.
:func:`nasty_world` takes a generated world and breaks it the way real files break,
so that tests can run every stage on data that is valid but unkind:

* **duplicated names**: every ``duplicate_every``-th product is renamed to the first
  product's name (ids stay distinct);
* **missing list prices**: every ``missing_price_every``-th product (offset by one)
  has no list price, no maximum price and no cost, and no ``list`` price points;
* **products without text**: one product has no description;
* **unicode**: one product, one brand and one customer use accents, guillemets,
  CJK and an emoji in their names or ids;
* **huge quantities**: ``huge_lines`` purchase lines buy ``huge_qty`` units (fuel
  sold by the litre, a wholesale order);
* **free items**: ``free_lines`` other purchase lines have a unit price of 0;
* **customers without purchases**: ``idle_customers`` customers with no events at all.

Categories that recur under different parents (``Shoes`` under women and men, with
distinct ids) are already in every world. The ground truth is the clean world's:
compare models against it only on a clean world. The same world and arguments give
the same tables (the picks are by position, not random).

Example::

    world = nasty_world(generate_world(WorldConfig(seed=3, n_products=40)))
    mapping_path = write_world(world, Path("var/nasty"))
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..outliers import OutlierLines
from .world import World

UNICODE_PRODUCT_NAME = "Écharpe « Nœud » 围巾 🧣"
"""The name one product gets (accents, guillemets, CJK, an emoji)."""
UNICODE_BRAND_NAME = "Maison Ørsted-Þórsdóttir"
"""The name one brand gets."""
UNICODE_CUSTOMER_ID = "kund-ø-日本"
"""The id of one of the customers without purchases."""


def nasty_world(
    world: World,
    *,
    duplicate_every: int = 5,
    missing_price_every: int = 4,
    huge_lines: int = 2,
    huge_qty: int = 5_000,
    free_lines: int = 2,
    idle_customers: int = 3,
) -> World:
    """The world with the quirks of the module docstring.

    Args:
        world: A generated world (not changed).
        duplicate_every: Every n-th product (from the n-th) takes the first one's name.
        missing_price_every: Every n-th product (from the second) has no list price,
            maximum price or cost, and no ``list`` price points.
        huge_lines: Purchase lines (the first ones in time) that buy ``huge_qty`` units.
        huge_qty: Units of a huge line (at least 1).
        free_lines: Purchase lines (the last ones in time) with a unit price of 0.
        idle_customers: Customers added without any event (at least 1: one has the
            unicode id).

    Returns:
        A new world; ``truth`` and ``config`` are the original's.

    Raises:
        ValueError: An argument is out of range, naming it and its value.
    """
    for name, value, least in [
        ("duplicate_every", duplicate_every, 2),
        ("missing_price_every", missing_price_every, 2),
        ("huge_qty", huge_qty, 1),
        ("idle_customers", idle_customers, 1),
        ("huge_lines", huge_lines, 0),
        ("free_lines", free_lines, 0),
    ]:
        if value < least:
            raise ValueError(f"nasty_world: {name}: expected >= {least}, got {value}")
    products = world.products.copy()
    positions = pd.RangeIndex(len(products))
    is_duplicate = (positions % duplicate_every == 0) & (positions > 0)
    products.loc[is_duplicate, "name"] = products["name"].iloc[0]
    is_unpriced = positions % missing_price_every == 1
    products.loc[is_unpriced, ["list_price", "max_price", "cost"]] = pd.NA
    products.loc[products.index[-1], ["name", "description"]] = [UNICODE_PRODUCT_NAME, pd.NA]
    unpriced = set(products.loc[is_unpriced, "product_id"])
    prices = world.prices[
        ~((world.prices["kind"] == "list") & world.prices["product_id"].isin(unpriced))
    ].reset_index(drop=True)

    brands = world.brands.copy()
    brands.loc[brands.index[-1], "name"] = UNICODE_BRAND_NAME

    events = world.events.copy()
    purchases = events.index[events["event_type"] == "purchase"]
    if huge_lines + free_lines > len(purchases):
        raise ValueError(
            f"nasty_world: huge_lines + free_lines: expected <= {len(purchases)} purchase "
            f"lines of the world, got {huge_lines + free_lines}"
        )
    events.loc[purchases[:huge_lines], "qty"] = huge_qty
    events.loc[purchases[len(purchases) - free_lines :], "unit_price"] = 0.0

    idle_ids = [UNICODE_CUSTOMER_ID] + [f"idle-{i}" for i in range(1, idle_customers)]
    idle = pd.DataFrame(
        {
            "customer_id": pd.array(idle_ids, dtype=world.customers["customer_id"].dtype),
            "country": world.customers["country"].iloc[0],
            "signup_ts": world.customers["signup_ts"].iloc[0],
            "is_anonymous": False,
        }
    )
    customers = pd.concat([world.customers, idle], ignore_index=True)
    return replace(
        world, brands=brands, products=products, prices=prices, events=events, customers=customers
    )


def _non_ascii(values: pd.Series) -> list[str]:
    return [value for value in values.dropna().astype(str) if not value.isascii()]


def nasty_quirks(world: World) -> list[str]:
    """The quirks of the module docstring that ``world``'s tables hold, in words.

    Each quirk is counted on the tables themselves (not taken from the arguments of
    :func:`nasty_world`), so the words hold for any world; a quirk the world does not
    hold is left out. Huge quantities use the loader's rule
    (:class:`~pricegraph.outliers.OutlierLines`).

    Returns:
        One line per quirk, e.g. ``"free items: 2 purchase lines with a unit price of
        0"``, in the order of the module docstring, then recurring category names.
    """
    products, events, customers = world.products, world.events, world.customers
    quirks = []
    names = products["name"].dropna().value_counts()
    shared = names[names > 1]
    if len(shared):
        quirks.append(
            f"duplicated names: {int(shared.sum())} products share {len(shared)} name(s) "
            f"(ids stay distinct), e.g. {int(shared.iloc[0])} are named {shared.index[0]!r}"
        )
    is_unpriced = products[["list_price", "max_price", "cost"]].isna().all(axis=1)
    if is_unpriced.any():
        unpriced = products.loc[is_unpriced, "product_id"]
        list_prices = world.prices[world.prices["kind"] == "list"]
        has_points = list_prices["product_id"].isin(unpriced).any()
        quirks.append(
            f"missing list prices: {int(is_unpriced.sum())} products have no list price, "
            "maximum price or cost" + ("" if has_points else ", and no list price points")
        )
    has_no_text = products["description"].fillna("").astype(str).str.strip() == ""
    if has_no_text.any():
        quirks.append(f"products without text: {int(has_no_text.sum())} without a description")
    unicode = [
        f"{what} {value!r}"
        for what, values in (
            ("product name", products["name"]),
            ("brand name", world.brands["name"]),
            ("customer id", customers["customer_id"]),
        )
        for value in _non_ascii(values)
    ]
    if unicode:
        quirks.append("unicode: " + ", ".join(unicode))
    purchases = events[events["event_type"] == "purchase"]
    outliers = OutlierLines.of(purchases[["product_id", "qty"]])
    if outliers.is_outlier.any():
        quirks.append(
            f"huge quantities: {int(outliers.is_outlier.sum())} purchase lines above "
            f"{outliers.limit:g} units (the loader's outlier limit), up to "
            f"{purchases['qty'].max():,.0f}"
        )
    num_free = int((purchases["unit_price"] == 0).sum())
    if num_free:
        quirks.append(f"free items: {num_free} purchase lines with a unit price of 0")
    is_idle = ~customers["customer_id"].isin(events["customer_id"])
    if is_idle.any():
        quirks.append(f"customers without purchases: {int(is_idle.sum())} without any event")
    parents = world.categories.groupby("name")["parent_id"].nunique()
    recurring = sorted(parents.index[parents > 1])
    if recurring:
        quirks.append(
            "recurring categories: " + ", ".join(map(repr, recurring)) + " under several "
            "parents, with distinct ids"
        )
    return quirks


__all__ = [
    "UNICODE_BRAND_NAME",
    "UNICODE_CUSTOMER_ID",
    "UNICODE_PRODUCT_NAME",
    "nasty_quirks",
    "nasty_world",
]
