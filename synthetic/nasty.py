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


__all__ = ["UNICODE_BRAND_NAME", "UNICODE_CUSTOMER_ID", "UNICODE_PRODUCT_NAME", "nasty_world"]
