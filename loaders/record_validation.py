"""Plain-record validation: the rules of :func:`~pricegraph.loaders.validation.validate`
for a few rows as dicts, without pandas.

An API write validates one item or a few. The pandas validator costs about 10 ms per
call whatever the size (a few hundred Series operations), more than the write itself;
this module applies the same rules to a list of dicts in plain Python and returns the
same :class:`~pricegraph.loaders.validation.Validated`: the same accepted rows (values
and dtypes), rejects (file, line, field, value, reason) and skipped rows. Tests run
both validators on the same good and bad records and compare the results.

It handles the values an API request carries: strings, ints, floats, bools and
``None``, and date-times written ``YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][Z|+HH:MM]`` in
a mapping without a time zone or datetime format of its own. Anything else (a string
in a number field, another date-time form or an invalid one, a local time zone, an
edge character that pandas and Python may trim differently) is left to the pandas
validator: :func:`validate_records` falls back to it for the whole batch, so the plain
path never guesses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from .formats import KINDS, FieldSpec
from .mapping import FileMapping
from .readers import LINE, records_frame
from .validation import (
    FALSE_WORDS,
    REJECT_COLUMNS,
    TRUE_WORDS,
    RefIndex,
    Validated,
    derived_event_ids,
    describe_field,
    empty_rejects,
    is_out_of_range,
    validate,
)
from .value_rules import (
    GROSS_AMOUNT_REASON,
    LINE_AMOUNT_REASON,
    NOT_UTF8,
    is_outside_date,
    is_utf8,
    line_amount_masks,
    shown,
    text_reason,
)

SMALL_BATCH_ROWS = 256
"""Batches up to this many records are validated record by record (plain Python)."""

_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:\d{2})?"
)
_SAFE_SPACE = " \t\n\r\x0b\x0c"
_LARGEST_EXACT = 2.0**53
_DTYPES = {
    "str": object,
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
    "datetime": "datetime64[us]",
}


class _Defer(Exception):
    """A value the plain path does not handle; the pandas validator decides."""


def validate_records(
    records: Sequence[Mapping[str, Any]],
    mapping: FileMapping,
    refs: RefIndex,
    *,
    small_batch_rows: int = SMALL_BATCH_ROWS,
) -> Validated:
    """Validate ``records`` (dicts keyed by the file's column names, each with ``_line``).

    The same result as ``validate(pd.DataFrame(records), mapping, refs)``: up to
    ``small_batch_rows`` records by :func:`validate_plain`, unless it defers (module
    docstring); larger batches, and deferred ones, by the pandas validator.

    Raises:
        DataValidationError: A required column is missing from every record.
    """
    if len(records) <= small_batch_rows:
        checked = validate_plain(records, mapping, refs)
        if checked is not None:
            return checked
    return validate(records_frame(records), mapping, refs)


def validate_plain(
    records: Sequence[Mapping[str, Any]], mapping: FileMapping, refs: RefIndex
) -> Validated | None:
    """The plain-Python validator; ``None`` where it defers to pandas (module docstring).

    Raises:
        DataValidationError: A required column is missing from every record.
    """
    if mapping.timezone != "UTC" or mapping.datetime_format is not None:
        return None
    if mapping.derived or mapping.attributes or mapping.currency is not None:
        return None  # expressions are evaluated column-wise only; a file's defaults too
    if mapping.kind == "customers" and any(
        record.get(mapping.source_column("attributes")) not in (None, "") for record in records
    ):
        return None  # attributes are JSON objects re-written by the pandas validator
    try:
        return _PlainValidation(records, mapping, refs).run()
    except _Defer:
        return None


class _PlainValidation:
    """One batch: typed columns as lists, errors as tuples, then the same frames."""

    def __init__(
        self, records: Sequence[Mapping[str, Any]], mapping: FileMapping, refs: RefIndex
    ) -> None:
        self.records, self.mapping, self.refs = records, mapping, refs
        self.kind = KINDS[mapping.kind]
        self.lines: list[int] = [int(record[LINE]) for record in records]
        self.columns: dict[str, list[Any]] = {}
        self.types: dict[str, str] = {}
        self.errors: list[tuple[int, str, str, str]] = []  # line, field, value, reason

    def run(self) -> Validated:
        present = {name for record in self.records for name in record}
        for spec in self.kind.fields:
            self._field(spec, present)
        self._kind_rules()
        self._derive_keys()
        self._check_references()
        good = self._good_rows()
        kept, skipped = self._duplicates(good)
        return Validated(self._frame(kept), self._rejects(), skipped)

    # -- fields ---------------------------------------------------------------------

    def _field(self, spec: FieldSpec, present: set[str]) -> None:
        n, column = len(self.records), self.mapping.source_column(spec.name)
        if spec.name in self.mapping.constants:
            raw, is_object = [self.mapping.constants[spec.name]] * n, True
        elif column in present:
            raw, is_object = [record.get(column) for record in self.records], False
        elif spec.is_required:
            raise DataValidationError(
                f"required column missing (looked for {column!r}; map it with "
                f"--map {spec.name}=COLUMN or [files.columns])",
                path=self.mapping.path,
                field=spec.name,
            )
        else:
            raw, is_object = [spec.default] * n, True
        not_text = [type(value) is str and not is_utf8(value) for value in raw]
        parsed = [
            _parse(spec, None if is_not_text else value)
            for value, is_not_text in zip(raw, not_text, strict=True)
        ]
        typed: list[Any] = [value if value is not None else spec.default for value, _ in parsed]
        shown = _Shown(raw, is_object)
        expected = f"expected {describe_field(spec)}"
        is_bounded = spec.min_value is not None or spec.max_value is not None
        for row, ((_, is_bad), value) in enumerate(zip(parsed, typed, strict=True)):
            if not_text[row]:
                self._error(row, spec.name, shown[row], NOT_UTF8)
            if is_bad:
                self._error(row, spec.name, shown[row], expected)
            if value is None:
                if spec.is_required and not is_bad and not not_text[row]:
                    self._error(row, spec.name, shown[row], "missing required value")
                continue
            if is_bounded and is_out_of_range(spec, np.array([float(value)]))[0]:
                self._error(row, spec.name, shown[row], expected)
            if spec.type == "datetime" and is_outside_date(value):
                self._error(row, spec.name, shown[row], expected)
            reason = text_reason(spec, value) if spec.type == "str" else None
            if reason is not None:
                self._error(row, spec.name, shown[row], reason)
            if spec.choices is not None and value not in spec.choices:
                self._error(
                    row, spec.name, shown[row], f"expected one of {', '.join(spec.choices)}"
                )
        self.columns[spec.name], self.types[spec.name] = typed, spec.type

    def _error(self, row: int, field: str, value: str, reason: str) -> None:
        self.errors.append((self.lines[row], field, value, reason))

    # -- the rules of validation.py, in its order ----------------------------------

    def _kind_rules(self) -> None:
        columns = self.columns
        if self.mapping.kind == "events":
            for name in ("order_id", "unit_price"):
                for row, event_type in enumerate(columns["event_type"]):
                    if event_type in ("purchase", "return") and columns[name][row] is None:
                        self._error(row, name, "", "required for purchase and return events")
            numbers = [
                np.array([math.nan if v is None else v for v in columns[name]], float)
                for name in ("qty", "unit_price", "discount")
            ]
            too_large, too_large_gross = line_amount_masks(*numbers)
            for row in np.flatnonzero(too_large).tolist():
                self._error(row, "qty", str(columns["qty"][row]), LINE_AMOUNT_REASON)
            for row in np.flatnonzero(too_large_gross).tolist():
                self._error(row, "discount", str(columns["discount"][row]), GROSS_AMOUNT_REASON)
        if self.mapping.kind == "prices":
            for row, kind in enumerate(columns["kind"]):
                if kind == "competitor" and columns["competitor_id"][row] is None:
                    self._error(row, "competitor_id", "", "required when kind is competitor")
        if "valid_to" in columns:
            for row, (start, end) in enumerate(
                zip(columns["valid_from"], columns["valid_to"], strict=True)
            ):
                if start is not None and end is not None and end <= start:
                    self._error(row, "valid_to", str(pd.Timestamp(end)), "must be after valid_from")

    def _derive_keys(self) -> None:
        columns, kind, n = self.columns, self.mapping.kind, len(self.records)
        if kind == "competitor_prices":
            columns["kind"], columns["price_point_id"] = ["competitor"] * n, [None] * n
            self.types["kind"] = self.types["price_point_id"] = "str"
        if kind in ("prices", "competitor_prices"):
            columns["price_point_id"] = [
                key if key is not None else _price_point_id(columns, row)
                for row, key in enumerate(columns["price_point_id"])
            ]
        if kind == "events" and None in columns["event_id"]:
            missing = [row for row, key in enumerate(columns["event_id"]) if key is None]
            derived = derived_event_ids(self._frame(missing))
            for row, key in zip(missing, derived, strict=True):
                columns["event_id"][row] = key
        if kind == "competitor_prices":
            columns["_key"], self.types["_key"] = list(columns["price_point_id"]), "str"

    def _bad_lines(self) -> set[int]:
        return {line for line, *_ in self.errors}

    def _check_references(self) -> None:
        bad_lines = self._bad_lines()
        is_ok = [line not in bad_lines for line in self.lines]
        for spec in self.kind.fields:
            values = self.columns[spec.name]
            named = [row for row, value in enumerate(values) if is_ok[row] and value is not None]
            if spec.references is None or not named:
                continue  # no look-up where no row names a key (each costs a store query)
            known = self.refs.keys(spec.references)
            if spec.references == "Category" and self.kind.key == "category_id":
                own = self.columns["category_id"]
                known = known | {own[row] for row in range(len(own)) if is_ok[row]}
            for row in named:
                if values[row] not in known:
                    self._error(row, spec.name, values[row], f"unknown {spec.references} id")

    def _good_rows(self) -> list[int]:
        bad_lines = self._bad_lines()
        return [row for row, line in enumerate(self.lines) if line not in bad_lines]

    def _duplicates(self, good: list[int]) -> tuple[list[int], pd.DataFrame]:
        key = self.kind.key or "_key"
        content = list(self.columns)
        first_line: dict[tuple[Any, ...], int] = {}
        kept, exact_lines, exact_firsts = [], [], []
        for row in good:
            values = tuple(self.columns[name][row] for name in content)
            if values in first_line:
                exact_lines.append(self.lines[row])
                exact_firsts.append(str(first_line[values]))
            else:
                first_line[values] = self.lines[row]
                kept.append(row)
        skipped = pd.DataFrame(
            {
                "line": np.array(exact_lines, dtype=np.int64),
                "reason": "exact duplicate of line " + np.array(exact_firsts, dtype=object),
            }
        )
        first_of_key: dict[Any, int] = {}
        unique = []
        for row in kept:
            value = self.columns[key][row]
            if value in first_of_key:
                reason = f"duplicate {key}, first at line {first_of_key[value]}"
                self._error(row, key, str(value), reason)
            else:
                first_of_key[value] = self.lines[row]
                unique.append(row)
        return unique, skipped

    # -- frames ---------------------------------------------------------------------

    def _frame(self, rows: list[int]) -> pd.DataFrame:
        """The typed columns of ``rows`` as the pandas validator types them."""
        data: dict[str, Any] = {LINE: np.array([self.lines[r] for r in rows], dtype=np.int64)}
        for name, values in self.columns.items():
            picked = [values[r] for r in rows]
            dtype = _DTYPES[self.types[name]]
            if dtype == "float64":
                data[name] = np.array([math.nan if v is None else v for v in picked], dtype)
            elif dtype == "datetime64[us]":
                data[name] = np.array(picked, dtype)
            elif dtype is object:  # a Series: pandas would read an object array as text
                data[name] = pd.Series(picked, dtype=object)
            else:
                data[name] = pd.array(picked, dtype=dtype)
        frame = pd.DataFrame(data, copy=False)
        if self.mapping.kind == "competitor_prices":  # a scalar column, as ``assign`` makes it
            frame["kind"] = frame["kind"].astype(pd.Series(["competitor"]).dtype)
        return frame

    def _rejects(self) -> pd.DataFrame:
        if not self.errors:
            return empty_rejects()
        ordered = sorted(self.errors, key=lambda error: (error[0], error[1]))
        lines, fields, values, reasons = zip(*ordered, strict=True)
        return pd.DataFrame(
            {
                "file": [self.mapping.path.name] * len(ordered),
                "line": np.array(lines, dtype=np.int64),
                "field": list(fields),
                "value": list(values),
                "reason": list(reasons),
            },
            columns=REJECT_COLUMNS,
        )


def _price_point_id(columns: dict[str, list[Any]], row: int) -> str:
    start = columns["valid_from"][row]
    parts = [columns[name][row] or "" for name in ("product_id", "kind", "competitor_id")]
    stamp = start.strftime("%Y%m%dT%H%M%S") if start is not None else ""
    return "PP-" + "-".join([*parts, stamp])


def _parse(spec: FieldSpec, value: Any) -> tuple[Any, bool]:
    """``(typed value or None, is_bad)``, as the pandas validator parses ``value``."""
    if value is None or (type(value) is float and math.isnan(value)):
        if spec.type == "str" and value is not None:
            raise _Defer
        return None, False
    kind = type(value)
    if spec.type == "str":
        if kind is not str:
            raise _Defer
        return _trimmed(value), False
    if spec.type in ("float", "int"):
        if kind is float and spec.type == "float":
            return value, False
        if kind is float and not value.is_integer():
            return None, True  # fractions and infinities are not whole numbers
        if kind not in (int, float) or abs(value) > _LARGEST_EXACT:
            raise _Defer  # strings, bools and huge integers: pandas' own inference decides
        return (float(value) if spec.type == "float" else int(value)), False
    if spec.type == "bool":
        if kind is bool:
            return value, False
        if kind is not str or not value.isascii():
            raise _Defer
        text = _trimmed(value)
        if text is None:
            return None, False
        word = text.lower()
        return (True, False) if word in TRUE_WORDS else (False, word not in FALSE_WORDS)
    return _parse_datetime(value)


def _parse_datetime(value: Any) -> tuple[datetime | None, bool]:
    if type(value) is not str:
        raise _Defer
    text = _trimmed(value)
    if text is None:
        return None, False
    if not _ISO_TIME.fullmatch(text):
        raise _Defer
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise _Defer from None  # invalid dates: pandas names them, whatever the form
    return moment, False


def _trimmed(text: str) -> str | None:
    """``text`` without edge whitespace, ``None`` when empty; defers on edge characters
    other than ASCII whitespace that pandas' (Arrow's) trim may treat otherwise."""
    if text and not (_is_plain_edge(text[0]) and _is_plain_edge(text[-1])):
        raise _Defer
    stripped = text.strip(_SAFE_SPACE)
    if stripped and not (_is_plain_edge(stripped[0]) and _is_plain_edge(stripped[-1])):
        raise _Defer
    return stripped or None


def _is_plain_edge(char: str) -> bool:
    return char.isalnum() or " " <= char <= "~" or char in _SAFE_SPACE


class _Shown:
    """Raw values as the rejects show them: as pandas infers the column from records
    (ints with a missing value become floats, ``1`` -> ``"1.0"``), missing ones empty."""

    def __init__(self, raw: list[Any], is_object: bool) -> None:
        self.raw = raw
        present = [v for v in raw if not _is_missing(v)]
        numbers = all(type(v) in (int, float) for v in present)
        has_float = any(type(v) is float for v in raw)
        self.as_float = (
            not is_object and bool(present) and numbers and (has_float or len(present) < len(raw))
        )

    def __getitem__(self, row: int) -> str:
        value = self.raw[row]
        if _is_missing(value):
            return ""
        return str(float(value)) if self.as_float else shown(value)


def _is_missing(value: Any) -> bool:
    return value is None or (type(value) is float and math.isnan(value))


__all__ = ["SMALL_BATCH_ROWS", "validate_plain", "validate_records"]
