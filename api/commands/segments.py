"""``pricegraph segments``: customer segments from purchases and customer vectors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ...errors import ConfigError
from ._common import (
    Format,
    FormatOption,
    app,
    clear_errors,
    console,
    err_console,
    frame_table,
    load_settings,
    open_store,
    print_rows,
)
from .embed import collection_names, open_vectors

if TYPE_CHECKING:
    from ...segments.clustering import SegmentConfig, SegmentResult
    from ..settings import Settings


def run_segments(
    settings: Settings,
    config: SegmentConfig,
    plot: Path | None,
    format: Format = Format.table,
) -> SegmentResult:
    """Build, print, store and plot the segments.

    Progress (reading the features, each k tried) is a live display on a terminal,
    plain lines on standard error otherwise (logs, pipes, ``nohup``). With ``format``
    csv or json, standard output holds only the segment profiles (descriptions
    included) and everything else goes to standard error.
    """
    import pandas as pd
    from rich.progress import Progress

    from ...progress import LinePrinter
    from ...segments.clustering import build_segments, write_segments
    from ...segments.plot import plot_segments

    progress = Progress(console=console) if console.is_terminal else LinePrinter()
    with open_store(settings) as store, open_vectors(settings) as vectors, progress:
        customers = collection_names(settings)["customers"]
        if config.vector_weight > 0 and vectors.count(customers) == 0:
            raise ConfigError(
                "no customer vectors yet: run 'pricegraph embed' first, "
                "or segment on purchases alone with --vector-weight 0"
            )
        result = build_segments(store, vectors, customers, config, progress)
        upserts, deleted = write_segments(store, result)
    scores = pd.DataFrame(
        {"k": list(result.silhouette_by_k), "silhouette": list(result.silhouette_by_k.values())}
    )
    notes = console if format is Format.table else err_console
    notes.print(frame_table(scores, title="Silhouette per k"))
    notes.print(f"chosen k: {result.k} (silhouette {result.silhouette_by_k[result.k]:.3f})")
    if format is Format.table:
        console.print(frame_table(result.profiles.drop(columns="description"), title="Segments"))
    else:
        print_rows(result.profiles, format)
    notes.print(
        f"IN_SEGMENT edges ({config.version}): {upserts.created} created, {upserts.updated} "
        f"updated, {upserts.unchanged} unchanged, {deleted} stale deleted"
    )
    if plot is not None:
        notes.print(f"map: {plot_segments(result, plot)}")
    return result


@app.command()
@clear_errors
def segments(
    seed: Annotated[int, typer.Option(help="Seed of KMeans and the silhouette sample.")] = 0,
    k_min: Annotated[int, typer.Option(min=2, help="Fewest segments tried.")] = 2,
    k_max: Annotated[int, typer.Option(min=2, help="Most segments tried.")] = 10,
    vector_weight: Annotated[
        float, typer.Option(min=0.0, help="Weight of the customer vectors (0: purchases only).")
    ] = 0.5,
    using: Annotated[str, typer.Option(help="Named customer vector to use.")] = "text",
    version: Annotated[str, typer.Option(help="Version tag of the Segment nodes.")] = "v1",
    plot: Annotated[
        Path | None, typer.Option(help="PNG map of the segments (default <data_dir>/segments.png).")
    ] = None,
    format: FormatOption = Format.table,
) -> None:
    """Segment the customers (RFM, price sensitivity, vectors) and store the segments.

    Choose k by silhouette between --k-min and --k-max; writes Segment nodes and
    IN_SEGMENT edges (re-runs of a version replace its edges). Vectors need
    `pricegraph embed` first, or --vector-weight 0.
    """
    from ...segments.clustering import SegmentConfig

    settings = load_settings()
    try:
        config = SegmentConfig(
            seed=seed,
            k_min=k_min,
            k_max=k_max,
            vector_weight=vector_weight,
            using=using,
            version=version,
        )
    except ValueError as exc:
        raise ConfigError(f"segments options: {exc}") from None
    run_segments(settings, config, plot or settings.data_dir / "segments.png", format)
