"""``pricegraph fit-demand``: the demand model from the purchase history, for what-if."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import app, clear_errors, console, frame_table, load_settings, open_store, stage

if TYPE_CHECKING:
    from ...pricing.demand.model import DemandModel
    from ..settings import Settings


def run_fit_demand(
    settings: Settings, out: Path | None = None, segment_version: str | None = None
) -> tuple[DemandModel, Path]:
    """Fit on the store's purchases, save where the API reads it, print a summary."""
    import pandas as pd

    from ...pricing.demand.panel import FREE_LINES, PanelConfig
    from ...pricing.demand.store import fit_demand_from_store, save_demand

    panel_config = PanelConfig(holiday_country=settings.pricing.holiday_country)
    with stage("fitting the demand model on the purchase history"), open_store(settings) as store:
        model, panel = fit_demand_from_store(
            store, segment_version=segment_version, panel_config=panel_config
        )
    path = out or settings.api.resolved(settings.data_dir).demand_path
    save_demand(model, path)
    summary = model.summary()
    rows = [
        ("series (product x segment)", summary["series"]),
        ("own estimate / pooled", f"{summary['per_product']} / {summary['pooled']}"),
        ("median elasticity at list price", f"{summary['median_elasticity']:.2f}"),
        ("weeks", panel["week"].nunique()),
        ("holidays of", settings.pricing.holiday_country),
        ("free lines (price 0) left out", panel.attrs.get(FREE_LINES, 0)),
        ("category groups with cross-price effect", summary["groups_with_cross"]),
    ]
    console.print(frame_table(pd.DataFrame(rows, columns=["", "value"]), title="Demand model"))
    console.print(f"demand model: {path}")
    return model, path


@app.command("fit-demand")
@clear_errors
def fit_demand_command(
    segment_version: Annotated[
        str | None,
        typer.Option(help="One series per product and segment of this version (default: none)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Model JSON (default: api.demand_path in the data dir).")
    ] = None,
) -> None:
    """Fit the demand model (elasticities, calendar, cross-price) on the purchases in the
    graph and save it where the API's what-if reads it."""
    run_fit_demand(load_settings(), out, segment_version)
