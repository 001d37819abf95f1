"""Fit the demand model on the purchase history in the graph store and save it.

The panel comes from :func:`~.panel.panel_from_store` (``PURCHASED`` edges,
the catalog, competitor price points); the ``IN_SEGMENT`` edges of one
segmentation version, when asked for, split each product's series by segment.
What-if (``whatIf`` in the API, :mod:`~.whatif`) reads the saved model.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import DataValidationError
from ...graph.base import GraphStore
from .fit import fit_demand
from .model import DemandConfig, DemandModel
from .panel import PanelConfig, panel_from_store, segments_from_store


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

    Raises:
        DataValidationError: The graph has no purchases, or no segment of
            ``segment_version`` (the message names it).
    """
    if store.edge_arrays("PURCHASED").num_edges == 0:
        raise DataValidationError("the graph has no PURCHASED edges to fit on", field="PURCHASED")
    segments = None
    if segment_version is not None:
        segments = segments_from_store(store)
        segments = segments[segments["segment_id"].str.startswith(f"SEG-{segment_version}-")]
        if segments.empty:
            raise DataValidationError(
                f"no customer is IN_SEGMENT of version {segment_version!r}; "
                "run 'pricegraph segments' first",
                field="segment_version",
            )
    panel = panel_from_store(store, segments=segments, config=panel_config or PanelConfig())
    return fit_demand(panel, config), panel


def save_demand(model: DemandModel, path: Path) -> Path:
    """Write ``model`` to ``path`` (JSON) through a temporary file, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    model.save(partial)
    partial.replace(path)
    return path


__all__ = ["fit_demand_from_store", "save_demand"]
