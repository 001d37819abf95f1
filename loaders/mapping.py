"""Mapping files: which file holds which kind, and how its columns are named.

A mapping is a small TOML file; paths are relative to it::

    # pricegraph load mapping
    [defaults]
    timezone = "Europe/London"       # naive times are local to this zone (default UTC)
    currency = "GBP"                 # of amounts in files without a currency (default EUR)

    [[files]]
    path = "catalog/products.csv"
    kind = "products"
    [files.columns]                  # canonical name = column in the file
    product_id = "sku"
    name = "title"
    [files.constants]                # fixed values for columns the file lacks
    currency = "GBP"
    [files.derive]                   # canonical name = expression over the file's columns
    name = "type || ' ' || size"     # SQL, read by polars
    [files.attributes]               # customers: attribute name = expression, stored as JSON
    household_size = "HH_SIZE"

Expressions are SQL expressions evaluated by polars (:mod:`pricegraph.loaders.derive`):
concatenations, arithmetic, ``CASE``, ``COALESCE``, text and number functions. One file
may be listed several times with different kinds (categories, brands or customers from
the file of products or events).

The same can be given on the command line:
``pricegraph load products.csv --kind products --map product_id=sku --derive name=...``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from .derive import Expression, parse_expression
from .formats import ATTRIBUTE_KINDS, KINDS, FieldSpec

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
        derived: Canonical name -> an expression over the file's columns
            (:mod:`pricegraph.loaders.derive`).
        attributes: Attribute name -> an expression; the row's values become its
            ``attributes`` (a JSON object; kinds in
            :data:`~pricegraph.loaders.formats.ATTRIBUTE_KINDS`).
        datetime_format: ``strftime`` format of the time columns; ISO 8601 when ``None``.
        timezone: IANA zone of naive times in the file; stored times are UTC.
        delimiter: CSV field separator.
        currency: ISO 4217 code of rows without a currency (``None``: the canonical
            default, ``EUR``).
        source: Where the mapping was written, e.g. ``mapping.toml [[files]] #4``
            (``None`` for one built in code or from ``--map``); errors name it.
    """

    path: Path
    kind: str
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    datetime_format: str | None = None
    timezone: str = "UTC"
    delimiter: str = ","
    currency: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        if self.currency is not None and not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ConfigError(
                f"{self.path}: currency {self.currency!r} is not an ISO 4217 code such as EUR"
            )
        if self.kind not in KINDS:
            raise ConfigError(f"{self.path}: unknown kind {self.kind!r}; known: {', '.join(KINDS)}")
        spec = KINDS[self.kind]
        for name in [*self.columns, *self.constants, *self.derived]:
            if name not in spec.names:
                raise ConfigError(
                    f"{self.path}: {name!r} is not a column of kind {self.kind!r}; "
                    f"its columns are {', '.join(spec.names)}"
                )
        for name in self.derived:
            if name in self.columns or name in self.constants:
                raise ConfigError(
                    f"{self.path}: {name!r} is both derived and "
                    f"{'mapped' if name in self.columns else 'a constant'}; give it once"
                )
        if self.attributes and self.kind not in ATTRIBUTE_KINDS:
            raise ConfigError(
                f"{self.path}: attributes apply to kinds {', '.join(ATTRIBUTE_KINDS)}, "
                f"not {self.kind!r}"
            )
        if self.attributes and {"attributes"} & {*self.columns, *self.constants, *self.derived}:
            raise ConfigError(
                f"{self.path}: 'attributes' is mapped and built from [files.attributes]; "
                "give it once"
            )
        for table, entries in (("derive", self.derived), ("attributes", self.attributes)):
            for name, text in entries.items():
                try:
                    parse_expression(str(text))
                except ValueError as exc:
                    raise ConfigError(
                        f"{self.path}: [files.{table}] {name} = {str(text)!r}: {exc}"
                    ) from exc

    @property
    def expressions(self) -> dict[str, Expression]:
        """Parsed ``derived`` expressions by canonical name."""
        return {name: parse_expression(text) for name, text in self.derived.items()}

    @property
    def attribute_expressions(self) -> dict[str, Expression]:
        """Parsed ``attributes`` expressions by attribute name."""
        return {name: parse_expression(text) for name, text in self.attributes.items()}

    def referenced_columns(self) -> dict[str, list[str]]:
        """Mapping entry (``derive.name``, ``attributes.age``) -> the file columns it reads."""
        found = {f"derive.{n}": list(e.columns) for n, e in self.expressions.items()}
        found |= {f"attributes.{n}": list(e.columns) for n, e in self.attribute_expressions.items()}
        return found

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
            f"{self.path}: cannot tell the format; use .csv or .jsonl (.gz too), or .parquet"
        )

    def with_defaults(self, spec: FieldSpec) -> FieldSpec:
        """``spec`` with this file's defaults (``currency``)."""
        if spec.name == "currency" and self.currency is not None:
            return replace(spec, default=self.currency)
        return spec

    def source_column(self, canonical: str) -> str:
        """The file's column that holds ``canonical``."""
        return self.columns.get(canonical, canonical)


def parse_column_options(options: list[str], flag: str = "--map") -> dict[str, str]:
    """``["product_id=sku", ...]`` -> ``{"product_id": "sku"}``; names the bad option."""
    example = {"--map": "product_id=sku", "--derive": "name=concat(type, ' ', size)"}
    out: dict[str, str] = {}
    for option in options:
        name, sep, column = option.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise ConfigError(
                f"{flag} {option!r}: expected CANONICAL=VALUE, e.g. "
                f"{example.get(flag, 'currency=EUR')}"
            )
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
    unknown_top = set(document) - {"defaults", "files"}
    if unknown_top:
        raise ConfigError(
            f"{path}: unknown keys {sorted(unknown_top)}; expected [defaults] and [[files]]"
        )
    defaults = document.get("defaults", {})
    unknown_defaults = set(defaults) - {"datetime_format", "timezone", "delimiter", "currency"}
    if unknown_defaults:
        raise ConfigError(
            f"{path} [defaults]: unknown keys {sorted(unknown_defaults)}; "
            "known: currency, datetime_format, delimiter, timezone"
        )
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
            "derive",
            "attributes",
            "datetime_format",
            "timezone",
            "delimiter",
            "currency",
        }
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
        file_path = Path(entry["path"])
        try:
            mapping = FileMapping(
                path=file_path if file_path.is_absolute() else path.parent / file_path,
                kind=entry["kind"],
                columns=dict(entry.get("columns", {})),
                constants=dict(entry.get("constants", {})),
                derived=_expressions(entry, "derive", where),
                attributes=_expressions(entry, "attributes", where),
                datetime_format=entry.get("datetime_format", defaults.get("datetime_format")),
                timezone=entry.get("timezone", defaults.get("timezone", "UTC")),
                delimiter=entry.get("delimiter", defaults.get("delimiter", ",")),
                currency=entry.get("currency", defaults.get("currency")),
                source=where,
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        mappings.append(mapping)
    return mappings


def _expressions(entry: dict[str, Any], table: str, where: str) -> dict[str, str]:
    value = entry.get(table, {})
    if not isinstance(value, dict):
        raise ConfigError(f'{where}: [files.{table}] must be a table of NAME = "EXPRESSION"')
    for name, text in value.items():
        if not isinstance(text, str):
            raise ConfigError(
                f"{where}: [files.{table}] {name} must be an expression in quotes, got {text!r}"
            )
    return dict(value)


__all__ = ["FileFormat", "FileMapping", "parse_column_options", "read_mapping"]
