"""Mapping files: which file holds which kind, and how its columns are named.

A mapping is a small TOML file; paths are relative to it::

    # pricegraph load mapping
    [defaults]
    timezone = "Europe/London"       # naive times are local to this zone (default UTC)

    [[files]]
    path = "catalog/products.csv"
    kind = "products"
    [files.columns]                  # canonical name = column in the file
    product_id = "sku"
    name = "title"
    [files.constants]                # fixed values for columns the file lacks
    currency = "GBP"

The same can be given on the command line:
``pricegraph load products.csv --kind products --map product_id=sku``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from .formats import KINDS

FileFormat = Literal["csv", "parquet", "jsonl"]


@dataclass(frozen=True)
class FileMapping:
    """One input file and how to read it.

    Attributes:
        path: The file (``.csv``, ``.parquet``, ``.jsonl``, each optionally ``.gz``
            except Parquet).
        kind: A kind of :data:`pricegraph.loaders.formats.KINDS`.
        columns: Canonical name -> the file's column name, for columns named
            differently; other canonical names are looked up as they are.
        constants: Canonical name -> a value for every row (overrides the file).
        datetime_format: ``strftime`` format of the time columns; ISO 8601 when ``None``.
        timezone: IANA zone of naive times in the file; stored times are UTC.
        delimiter: CSV field separator.
    """

    path: Path
    kind: str
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    datetime_format: str | None = None
    timezone: str = "UTC"
    delimiter: str = ","

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"{self.path}: unknown kind {self.kind!r}; known: {', '.join(KINDS)}")
        spec = KINDS[self.kind]
        for name in [*self.columns, *self.constants]:
            if name not in spec.names:
                raise ConfigError(
                    f"{self.path}: {name!r} is not a column of kind {self.kind!r}; "
                    f"its columns are {', '.join(spec.names)}"
                )

    @property
    def file_format(self) -> FileFormat:
        """The format, from the file name's suffixes."""
        suffixes = [s.lower() for s in self.path.suffixes if s.lower() != ".gz"]
        last = suffixes[-1] if suffixes else ""
        if last in (".csv", ".tsv", ".txt"):
            return "csv"
        if last in (".parquet", ".pq"):
            return "parquet"
        if last in (".jsonl", ".ndjson", ".json"):
            return "jsonl"
        raise ConfigError(
            f"{self.path}: cannot tell the format; use .csv, .parquet or .jsonl (.gz)"
        )

    def source_column(self, canonical: str) -> str:
        """The file's column that holds ``canonical``."""
        return self.columns.get(canonical, canonical)


def parse_column_options(options: list[str]) -> dict[str, str]:
    """``["product_id=sku", ...]`` -> ``{"product_id": "sku"}``; names the bad option."""
    out: dict[str, str] = {}
    for option in options:
        name, sep, column = option.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise ConfigError(f"--map {option!r}: expected CANONICAL=COLUMN, e.g. product_id=sku")
        out[name.strip()] = column.strip()
    return out


def read_mapping(path: str | Path) -> list[FileMapping]:
    """Read a mapping file; relative file paths are resolved against its folder."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"mapping file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    defaults = document.get("defaults", {})
    files = document.get("files")
    if not isinstance(files, list) or not files:
        raise ConfigError(f"{path}: expected one or more [[files]] tables")
    mappings = []
    for number, entry in enumerate(files, start=1):
        where = f"{path} [[files]] #{number}"
        for required in ("path", "kind"):
            if required not in entry:
                raise ConfigError(f"{where}: missing {required!r}")
        unknown = set(entry) - {
            "path",
            "kind",
            "columns",
            "constants",
            "datetime_format",
            "timezone",
            "delimiter",
        }
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
        file_path = Path(entry["path"])
        mappings.append(
            FileMapping(
                path=file_path if file_path.is_absolute() else path.parent / file_path,
                kind=entry["kind"],
                columns=dict(entry.get("columns", {})),
                constants=dict(entry.get("constants", {})),
                datetime_format=entry.get("datetime_format", defaults.get("datetime_format")),
                timezone=entry.get("timezone", defaults.get("timezone", "UTC")),
                delimiter=entry.get("delimiter", defaults.get("delimiter", ",")),
            )
        )
    return mappings


__all__ = ["FileFormat", "FileMapping", "parse_column_options", "read_mapping"]
