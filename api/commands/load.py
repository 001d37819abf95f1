"""``pricegraph load``: files (by mapping or options) or the Online Retail data set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ...errors import ConfigError
from ...loaders.formats import KINDS
from ._common import app, clear_errors, load_settings, open_store, print_report


@app.command()
@clear_errors
def load(
    source: Annotated[
        Path, typer.Argument(help="A mapping file (.toml), or one data file with --kind.")
    ],
    kind: Annotated[
        str | None,
        typer.Option(help=f"Kind of a single data file: {', '.join(KINDS)}."),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="CANONICAL=COLUMN, repeatable: rename the file's columns."),
    ] = None,
    constant: Annotated[
        list[str] | None,
        typer.Option(help="CANONICAL=VALUE, repeatable: a fixed value, e.g. currency=GBP."),
    ] = None,
    derive: Annotated[
        list[str] | None,
        typer.Option(
            help="CANONICAL=EXPRESSION, repeatable: a value computed from columns, e.g. "
            '"unit_price=(sales - discount) / qty" (see loaders/derive.py).'
        ),
    ] = None,
    attribute: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=EXPRESSION, repeatable: an attribute of customers or products "
            "from columns, e.g. household_size=HH_SIZE."
        ),
    ] = None,
    timezone: Annotated[str, typer.Option(help="Zone of naive times in the file.")] = "UTC",
    datetime_format: Annotated[
        str | None, typer.Option(help="strftime format of times (default ISO 8601).")
    ] = None,
    online_retail: Annotated[
        bool, typer.Option("--online-retail", help="SOURCE is the UCI Online Retail CSV.")
    ] = False,
) -> None:
    """Load files into the graph: validate, write, report; bad rows go to a rejects file.

    Re-running the same load changes nothing; a load stopped half-way completes
    when run again.
    """
    from ...loaders.mapping import FileMapping, parse_column_options, read_mapping
    from ...loaders.online_retail import load_online_retail
    from ...loaders.service import load_files

    settings = load_settings()
    rejects_dir = settings.data_dir / "rejects"
    with open_store(settings) as store:
        if online_retail:
            report = load_online_retail(
                store, source, rejects_dir=rejects_dir, chunk_rows=settings.loaders.chunk_rows
            )
        elif source.suffix.lower() == ".toml":
            if kind or map_ or constant or derive or attribute:
                raise ConfigError(
                    "--kind, --map, --constant, --derive and --attribute apply to a data "
                    "file, not a mapping"
                )
            report = load_files(
                store,
                read_mapping(source),
                rejects_dir=rejects_dir,
                chunk_rows=settings.loaders.chunk_rows,
            )
        else:
            if kind is None:
                raise ConfigError(
                    f"{source}: say which kind it holds with --kind ({', '.join(KINDS)})"
                )
            mapping = FileMapping(
                source,
                kind,
                columns=parse_column_options(map_ or []),
                constants=parse_column_options(constant or [], "--constant"),
                derived=parse_column_options(derive or [], "--derive"),
                attributes=parse_column_options(attribute or [], "--attribute"),
                timezone=timezone,
                datetime_format=datetime_format,
            )
            report = load_files(
                store, [mapping], rejects_dir=rejects_dir, chunk_rows=settings.loaders.chunk_rows
            )
    print_report(report)
