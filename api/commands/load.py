"""``pricegraph load``: files (by mapping or options) or the Online Retail data set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ...errors import ConfigError, PricegraphError
from ...loaders.formats import KINDS
from ._common import app, clear_errors, err_console, load_settings, open_store, print_report

if TYPE_CHECKING:
    from ...graph.base import GraphStore


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
            '"unit_price=(sales - discount) / qty" (a SQL expression read by polars; see '
            "loaders/derive.py)."
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
    when run again. Ctrl-C stops it at once: the chunk being written is rolled
    back, and the command says what is stored and exits with code 130.
    """
    from ...loaders.mapping import FileMapping, parse_column_options, read_mapping
    from ...loaders.online_retail import load_online_retail
    from ...loaders.service import load_files

    settings = load_settings()
    rejects_dir = settings.data_dir / "rejects"
    chunk_rows = settings.loaders.chunk_rows
    mappings: list[FileMapping] = []
    if online_retail:
        pass  # one CSV, read by load_online_retail
    elif source.suffix.lower() == ".toml":
        if kind or map_ or constant or derive or attribute:
            raise ConfigError(
                "--kind, --map, --constant, --derive and --attribute apply to a data "
                "file, not a mapping"
            )
        mappings = read_mapping(source)
    else:
        if kind is None:
            raise ConfigError(f"{source}: say which kind it holds with --kind ({', '.join(KINDS)})")
        mappings = [
            FileMapping(
                source,
                kind,
                columns=parse_column_options(map_ or []),
                constants=parse_column_options(constant or [], "--constant"),
                derived=parse_column_options(derive or [], "--derive"),
                attributes=parse_column_options(attribute or [], "--attribute"),
                timezone=timezone,
                datetime_format=datetime_format,
            )
        ]
    with open_store(settings) as store:
        try:
            if online_retail:
                report = load_online_retail(
                    store, source, rejects_dir=rejects_dir, chunk_rows=chunk_rows
                )
            else:
                report = load_files(store, mappings, rejects_dir=rejects_dir, chunk_rows=chunk_rows)
        except KeyboardInterrupt as exc:
            _say_interrupted(store, exc)
            raise typer.Exit(code=130) from None
    print_report(report)


def _say_interrupted(store: GraphStore, exc: KeyboardInterrupt) -> None:
    """Say what an interrupted load left stored and how to finish it (standard error)."""
    from ...loaders.writer import LoadInterrupted

    if isinstance(exc, LoadInterrupted):
        where = f"{exc}; the files before it are stored"
    else:
        where = "between writes (reading, checking or reporting): written chunks are stored"
    try:
        counts = store.counts()
        stored = ", ".join(f"{name} {n:,}" for name, n in counts.items() if n)
    except (PricegraphError, KeyboardInterrupt):  # a second Ctrl-C skips the counts
        stored = "(not counted)"
    err_console.print(
        f"[bold yellow]interrupted:[/] {escape(where)}.\n"
        f"The graph now holds: {escape(stored or 'nothing')}.\n"
        "Run the same command again to complete the load: stored rows are recognised "
        "and left as they are, nothing is duplicated.",
        highlight=False,
        soft_wrap=True,
    )
