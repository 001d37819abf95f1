"""``pricegraph query``: run a read-only Cypher query and print the rows."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ...errors import ConfigError
from ._common import app, clear_errors, console, frame_table, load_settings, open_store


def _param(option: str) -> tuple[str, Any]:
    name, sep, raw = option.partition("=")
    if not sep or not name:
        raise ConfigError(f"--param {option!r}: expected NAME=VALUE (VALUE as JSON or text)")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


@app.command()
@clear_errors
def query(
    cypher: Annotated[str, typer.Argument(help="A read-only Cypher query.")],
    param: Annotated[
        list[str] | None,
        typer.Option(help="NAME=VALUE, repeatable; VALUE is parsed as JSON when it can be."),
    ] = None,
    max_rows: Annotated[int, typer.Option(help="Rows to print.")] = 50,
) -> None:
    """Run read-only Cypher against the graph (writes are refused) and print a table."""
    settings = load_settings()
    params = dict(_param(p) for p in param or [])
    with open_store(settings) as store:
        rows = store.read_cypher(cypher, params)
    console.print(frame_table(rows, max_rows=max_rows))
