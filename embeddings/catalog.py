"""Tables of what gets embedded, assembled from the graph with its domain operations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..graph.base import GraphStore


def _single_target(store: GraphStore, rel_type: str) -> pd.Series:
    """Source key -> target key of a one-per-source relationship."""
    arrays = store.edge_arrays(rel_type)
    return pd.Series(
        arrays.target_ids[arrays.edge_index[1]],
        index=pd.Index(arrays.source_ids[arrays.edge_index[0]], name="id"),
        dtype=object,
    )


def category_paths(store: GraphStore) -> tuple[pd.Series, pd.Series]:
    """Category key -> ``"Root > ... > Leaf"`` names, and -> ``[leaf, ..., root]`` keys."""
    categories = store.node_frame("Category").set_index("id")
    parent = _single_target(store, "CHILD_OF")
    names: dict[str, str] = {}
    chains: dict[str, list[str]] = {}
    for key in categories.index:
        chain, seen = [key], {key}
        while chain[-1] in parent.index and parent[chain[-1]] not in seen:  # cycles stop
            chain.append(parent[chain[-1]])
            seen.add(chain[-1])
        chains[key] = chain
        names[key] = " > ".join(str(categories.at[c, "name"]) for c in reversed(chain))
    return pd.Series(names, dtype=object), pd.Series(chains, dtype=object)


def product_table(store: GraphStore) -> pd.DataFrame:
    """Products with brand name and tier, category path and ancestor keys.

    Columns: the ``Product`` properties plus ``brand_id, brand_name, brand_tier,
    category_id, category_path, categories`` (a list, leaf first; empty when the
    product has no category).
    """
    products = store.node_frame("Product")
    brands = store.node_frame("Brand").set_index("id")
    brand_of = _single_target(store, "OF_BRAND")
    category_of = _single_target(store, "IN_CATEGORY")
    path_names, chains = category_paths(store)
    keys = products["id"]
    brand_id = brand_of.reindex(keys).to_numpy()
    category_id = category_of.reindex(keys).to_numpy()
    products["brand_id"] = brand_id
    products["brand_name"] = brands["name"].reindex(brand_id).to_numpy() if len(brands) else None
    products["brand_tier"] = brands["tier"].reindex(brand_id).to_numpy() if len(brands) else None
    products["category_id"] = category_id
    products["category_path"] = path_names.reindex(category_id).to_numpy()
    chain = chains.reindex(category_id).to_numpy()
    products["categories"] = [c if isinstance(c, list) else [] for c in chain]
    return products


def price_bands(prices: pd.Series) -> pd.Series:
    """``entry / mid / high / top``: the catalog's price quartiles (``unknown`` when missing)."""
    values = pd.to_numeric(prices, errors="coerce")
    known = values.dropna()
    if known.empty:
        return pd.Series("unknown", index=prices.index, dtype=object)
    cuts = np.quantile(known, [0.25, 0.5, 0.75])
    band = np.select(
        [values <= cuts[0], values <= cuts[1], values <= cuts[2], values > cuts[2]],
        ["entry", "mid", "high", "top"],
        default="unknown",
    )
    return pd.Series(band, index=prices.index, dtype=object)


def customer_table(store: GraphStore) -> pd.DataFrame:
    """Customers with their segment key (``None`` when not segmented)."""
    customers = store.node_frame("Customer")
    segment_of = store.edge_arrays("IN_SEGMENT")
    segment = pd.Series(
        segment_of.target_ids[segment_of.edge_index[1]],
        index=segment_of.source_ids[segment_of.edge_index[0]],
        dtype=object,
    )
    segment = segment[~segment.index.duplicated(keep="last")]
    customers["segment_id"] = segment.reindex(customers["id"]).to_numpy()
    return customers


__all__ = ["category_paths", "customer_table", "price_bands", "product_table"]
