"""What the command modules share: the app, settings, the store and rendering.

Imported by every command, so by ``pricegraph --help``: nothing here loads pandas or a
store driver before a command runs (command modules import their heavy parts inside
the command, see ``tests/api/test_cli_imports.py``).
"""

from __future__ import annotations

import functools
import numbers
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ...errors import ConfigError, PricegraphError

if TYPE_CHECKING:
    import pandas as pd

    from ...graph.base import GraphStore
    from ...loaders.service import LoadReport
    from ..settings import Settings

app = typer.Typer(
    name="pricegraph",
    help="Pricegraph: a retail knowledge graph for customer and product intelligence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide tables in logs and pipes: rich would wrap them at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

P = ParamSpec("P")
R = TypeVar("R")


def clear_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a ``PricegraphError`` into a one-line message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PricegraphError as exc:
            # escaped: messages quote mapping tables such as [files.derive]
            err_console.print(
                f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(code=2) from None

    return wrapper


def check_device(name: str, what: str) -> None:
    """Refuse a torch device this machine cannot use, before a command does any work
    (the trainers resolve it only when they start, after minutes of preparation).

    Raises:
        ConfigError: ``"{what}: ..."``, what :func:`~pricegraph.devices.resolve_device` said.
    """
    from ...devices import resolve_device

    try:
        resolve_device(name)
    except (ValueError, RuntimeError) as exc:  # RuntimeError: torch knows no such device
        raise ConfigError(f"{what}: {exc}") from None


def load_settings() -> Settings:
    """:func:`pricegraph.api.settings.load_settings`, imported when a command runs."""
    from ..settings import load_settings

    return load_settings()


@contextmanager
def open_store(settings: Settings) -> Iterator[GraphStore]:
    """The configured graph store, closed afterwards."""
    from ...graph.factory import make_graph_store

    store = make_graph_store(settings.graph)
    try:
        yield store
    finally:
        store.close()


def frame_table(frame: pd.DataFrame, title: str | None = None, max_rows: int = 50) -> Table:
    """A rich table of the first ``max_rows`` rows of ``frame``."""
    import pandas as pd

    table = Table(title=title, show_lines=False)
    for column in frame.columns:
        is_number = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if is_number else "left")
    for row in frame.head(max_rows).itertuples(index=False):
        table.add_row(*[Text(_cell(v)) for v in row])
    if len(frame) > max_rows:
        table.caption = f"{max_rows} of {len(frame)} rows shown"
    return table


class Format(StrEnum):
    """How a command prints its rows."""

    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        help="table (for people), csv or json (every row, nothing else, for files and pipes).",
    ),
]


def print_rows(
    frame: pd.DataFrame, format: Format, title: str | None = None, max_rows: int = 50
) -> None:
    """Print ``frame`` as a table of its first ``max_rows`` rows, or all of it as CSV or
    as a JSON list of records (dates in ISO 8601, no title)."""
    if format is Format.table:
        console.print(frame_table(frame, title=title, max_rows=max_rows))
    elif format is Format.csv:
        sys.stdout.write(frame.to_csv(index=False))
    else:
        records = frame.to_json(orient="records", date_format="iso", force_ascii=False)
        sys.stdout.write(records + "\n")


def format_number(value: Any) -> str:
    """One way to print a number in every table: integers and values of 1,000 and
    more with thousands separators and no decimals, smaller values with four
    significant digits, never in scientific notation above 0.0001."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        return "" if number != number else str(number)
    if abs(number) >= 1_000:
        return f"{number:,.0f}"
    if number == 0 or abs(number) >= 1e-4:
        return f"{number:.4g}" if abs(number) < 1 else f"{number:,.4g}"
    return f"{number:.2e}"


def _cell(value: Any) -> str:
    import pandas as pd

    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        return format_number(value)
    return str(value)


@contextmanager
def stage(description: str) -> Iterator[None]:
    """A long step without its own progress: a spinner on a terminal, else the plain
    lines ``<description>: started`` and ``<description>: done in N s`` (standard error)."""
    if console.is_terminal:
        with console.status(description):
            yield
        return
    from ...progress import LinePrinter

    printer = LinePrinter()
    task = printer.add_task(description, total=1)
    yield
    printer.update(task, completed=1)


def print_report(report: LoadReport) -> None:
    """The per-file counts, the skip reasons and the first rejects of a load."""
    console.print(frame_table(report.as_frame(), title="Load report"))
    for file in report.files:
        for reason, count in file.skipped_reasons.items():
            console.print(f"  skipped {count:>7,} rows of {file.path.name} ({file.kind}): {reason}")
        if file.rejected:
            console.print(
                f"  [yellow]{file.rejected:,} rows of {file.path.name} rejected[/]; "
                f"reasons in {file.rejects_path}"
            )
            for line in file.first_rejects:
                console.print(f"    {line}", highlight=False)
        for note in file.notes:
            console.print(
                f"  [yellow]{file.path.name} ({file.kind}):[/] {escape(note)}", highlight=False
            )


__all__ = [
    "app",
    "clear_errors",
    "console",
    "frame_table",
    "load_settings",
    "open_store",
    "print_report",
    "stage",
]
