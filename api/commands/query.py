"""``pricegraph query``: run a read-only Cypher query and print the rows."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ...errors import ConfigError
from ._common import Format, FormatOption, app, clear_errors, load_settings, open_store, print_rows

_TYPES = ("str", "int", "float", "bool", "json")
_BOOLS = {"true": True, "false": False}


def parse_param(option: str) -> tuple[str, Any]:
    """One ``--param``: ``NAME=VALUE`` is the string VALUE; ``NAME:TYPE=VALUE`` types it.

    TYPE is ``str``, ``int``, ``float``, ``bool`` (``true``/``false``) or ``json`` (any
    JSON: lists, maps, null). Values are never guessed, so ``id=17850`` is the string
    ``"17850"`` on every backend (node keys are strings) and ``n:int=10`` the integer.

    Raises:
        ConfigError: Naming the option, the expected form and the value.
    """
    spec, sep, raw = option.partition("=")
    name, _, kind = spec.partition(":")
    kind = kind or "str"
    if not sep or not name.isidentifier():
        raise ConfigError(f"--param {option!r}: expected NAME=VALUE or NAME:TYPE=VALUE")
    if kind not in _TYPES:
        raise ConfigError(f"--param {option!r}: TYPE must be one of {list(_TYPES)}, got {kind!r}")
    try:
        if kind == "int":
            return name, int(raw)
        if kind == "float":
            return name, float(raw)
        if kind == "bool":
            return name, _BOOLS[raw.lower()]
        if kind == "json":
            return name, json.loads(raw)
    except (ValueError, KeyError) as exc:
        expected = {"int": "an integer", "float": "a number", "bool": "true or false"}
        raise ConfigError(
            f"--param {option!r}: expected {expected.get(kind, 'JSON')}, got {raw!r}"
        ) from exc
    return name, raw


@app.command()
@clear_errors
def query(
    cypher: Annotated[str, typer.Argument(help="A read-only Cypher query.")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=VALUE (a string) or NAME:TYPE=VALUE with TYPE int, float, bool, str "
            "or json; repeatable. E.g. --param id=17850 --param n:int=10.",
        ),
    ] = None,
    max_rows: Annotated[int, typer.Option(help="Rows of the table.")] = 50,
    format: FormatOption = Format.table,
) -> None:
    """Run read-only Cypher against the graph (writes are refused) and print the rows."""
    settings = load_settings()
    params = dict(parse_param(p) for p in param or [])
    with open_store(settings) as store:
        rows = store.read_cypher(cypher, params)
    print_rows(rows, format, max_rows=max_rows)
