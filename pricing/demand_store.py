"""Fit the demand model on the purchase history in the graph store.

The store's ``PURCHASED`` edges (``qty``, ``unit_price``, ``ts``) become the
purchase lines of :func:`~.demand_data.build_panel`; the catalog (list price,
cost, brand, category) comes from the ``Product`` nodes and their ``OF_BRAND`` /
``IN_CATEGORY`` edges, and the ``IN_SEGMENT`` edges of a segmentation version,
when given, split each product's series by customer segment. What-if
(``whatIf`` in the API, :mod:`.whatif`) reads the saved model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ..graph.base import GraphStore
from .demand import DemandConfig, DemandModel
from .demand_data import PanelConfig, build_panel
from .demand_fit import fit_demand


def _edge_frame(store: GraphStore, rel_type: str) -> pd.DataFrame:
    edges = store.edge_arrays(rel_type)
    frame = pd.DataFrame(
        {
            "source": edges.source_ids[edges.edge_index[0]].astype(str),
            "target": edges.target_ids[edges.edge_index[1]].astype(str),
        }
    )
    for name, values in edges.properties.items():
        frame[name] = values
    return frame


def purchases_from_store(store: GraphStore) -> pd.DataFrame:
    """Purchase lines ``customer_id, product_id, ts, qty, unit_price`` of the store.

    Lines without a positive quantity, a positive price or a time are left out
    (returns are separate edges, so nothing is netted here).

    Raises:
        DataValidationError: The store holds no usable purchase line.
    """
    edges = _edge_frame(store, "PURCHASED")
    if edges.empty:
        raise DataValidationError("the graph has no PURCHASED edges to fit on", field="PURCHASED")
    frame = pd.DataFrame(
        {
            "customer_id": edges["source"],
            "product_id": edges["target"],
            "ts": pd.to_datetime(edges.get("ts"), errors="coerce", utc=True).dt.tz_localize(None),
            "qty": pd.to_numeric(edges.get("qty"), errors="coerce"),
            "unit_price": pd.to_numeric(edges.get("unit_price"), errors="coerce"),
        }
    )
    keep = frame["ts"].notna() & (frame["qty"] > 0) & (frame["unit_price"] > 0)
    if not keep.any():
        raise DataValidationError(
            "no PURCHASED edge has a positive qty, a positive unit_price and a ts",
            field="PURCHASED",
        )
    return frame[keep].reset_index(drop=True)


def catalog_from_store(store: GraphStore) -> pd.DataFrame:
    """Per product: ``product_id, list_price, cost, brand, category`` (NaN where unknown)."""
    products = store.node_frame("Product")
    catalog = pd.DataFrame({"product_id": products["id"].astype(str)})
    for column in ("list_price", "cost"):
        values = products[column] if column in products.columns else np.nan
        catalog[column] = pd.to_numeric(values, errors="coerce")
    for rel_type, name in (("OF_BRAND", "brand"), ("IN_CATEGORY", "category")):
        edges = _edge_frame(store, rel_type).drop_duplicates("source")
        catalog[name] = catalog["product_id"].map(edges.set_index("source")["target"])
    catalog["category"] = catalog["category"].fillna("uncategorised")
    return catalog


def segments_from_store(store: GraphStore, version: str) -> pd.DataFrame:
    """``customer_id, segment_id`` of segmentation ``version`` (empty when absent)."""
    segments = store.node_frame("Segment")
    if segments.empty or "version" not in segments.columns:
        return pd.DataFrame({"customer_id": [], "segment_id": []})
    ids = set(segments.loc[segments["version"] == version, "id"].astype(str))
    edges = _edge_frame(store, "IN_SEGMENT")
    edges = edges[edges["target"].isin(ids)]
    return pd.DataFrame({"customer_id": edges["source"], "segment_id": edges["target"]})


def fit_demand_from_store(
    store: GraphStore,
    config: DemandConfig | None = None,
    *,
    segment_version: str | None = None,
    panel_config: PanelConfig | None = None,
) -> tuple[DemandModel, pd.DataFrame]:
    """Build the weekly panel from the store and fit the demand model on it.

    Args:
        store: The graph store.
        config: Estimation options (``None``: the defaults).
        segment_version: Split the series by the segments of this version
            (``None``: one series per product).
        panel_config: Panel options (``None``: the defaults).

    Returns:
        The fitted model and the panel it was fitted on.
    """
    segments = None
    if segment_version is not None:
        segments = segments_from_store(store, segment_version)
        if segments.empty:
            raise DataValidationError(
                f"no customer is IN_SEGMENT of version {segment_version!r}; "
                "run 'pricegraph segments' first",
                field="segment_version",
            )
    panel = build_panel(
        purchases_from_store(store),
        catalog=catalog_from_store(store),
        segments=segments,
        config=panel_config or PanelConfig(),
    )
    return fit_demand(panel, config), panel


def save_demand(model: DemandModel, path: Path) -> Path:
    """Write ``model`` to ``path`` (JSON) through a temporary file, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    model.save(partial)
    partial.replace(path)
    return path


__all__ = [
    "catalog_from_store",
    "fit_demand_from_store",
    "purchases_from_store",
    "save_demand",
    "segments_from_store",
]
