"""Read CSV and JSONL files (gzip-compressed or not) and Parquet files into frames of
raw values (Parquet is compressed inside; a ``.parquet.gz`` is refused).

CSV and JSONL values are read as strings (empty string = missing) so that the
validator, not the reader, decides what is malformed and can name the line. Each
frame gets a ``_line`` column: the 1-based line in the file (CSV: the header is
line 1, so the first record is line 2; JSONL: the first record is line 1;
Parquet: the 1-based row number).
"""

from __future__ import annotations

import difflib
import gzip
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import DataValidationError
from .mapping import FileFormat, FileMapping
from .value_rules import is_utf8

LINE = "_line"


def read_raw(mapping: FileMapping) -> pd.DataFrame:
    """The file's rows with its own column names, plus ``_line``."""
    path = mapping.path
    fmt = _readable_format(mapping)
    try:
        if fmt == "csv":
            frame, first_line = _read_csv(mapping), 2
        elif fmt == "parquet":
            frame, first_line = pq.read_table(path).to_pandas(), 1
        else:
            frame, first_line = _read_jsonl(mapping), 1
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataValidationError(f"cannot read as {fmt}: {exc}", path=path) from exc
    frame[LINE] = np.arange(first_line, first_line + len(frame), dtype=np.int64)
    return frame


def read_head(mapping: FileMapping, rows: int) -> pd.DataFrame:
    """The file's first ``rows`` rows (all of them when it has fewer), as
    :func:`read_raw` reads them, plus ``_line``; the rest of the file is not read."""
    path = mapping.path
    fmt = _readable_format(mapping)
    try:
        if fmt == "csv":
            frame, first_line = _read_csv(mapping, limit=rows), 2
        elif fmt == "parquet":
            frame, first_line = _parquet_head(mapping, rows).to_pandas(), 1
        else:
            frame, first_line = _read_jsonl(mapping, limit=rows), 1
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataValidationError(f"cannot read as {fmt}: {exc}", path=path) from exc
    frame[LINE] = np.arange(first_line, first_line + len(frame), dtype=np.int64)
    return frame


def read_columns(mapping: FileMapping) -> list[str]:
    """The file's column names, read without loading its rows (JSONL: every key seen)."""
    path = mapping.path
    fmt = _readable_format(mapping)
    try:
        if fmt == "csv":
            with pacsv.open_csv(
                path, parse_options=pacsv.ParseOptions(delimiter=mapping.delimiter)
            ) as reader:
                return list(reader.schema.names)
        if fmt == "parquet":
            return list(pq.read_schema(path).names)
        return list(_read_jsonl(mapping).columns)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"cannot read as {fmt}: {exc}", path=path) from exc


def check_mapped_columns(mapping: FileMapping, columns: Iterable[str]) -> None:
    """Refuse a mapping that names a column the file does not have.

    Only canonical names the mapping leaves unnamed may fall back to a default; a
    column named in ``[files.columns]`` (or ``--map``) that is not in the file is a
    typo, and loading on with the default would store wrong values silently.

    Raises:
        DataValidationError: Naming the mapping entry (``FileMapping.source``), the
            file, the mapping key, the missing column, the closest column names of the
            file and all of its columns.
    """
    given = [c for c in columns if c != LINE]
    named = [(canonical, column) for canonical, column in mapping.columns.items()]
    named += [
        (entry, column) for entry, read in mapping.referenced_columns().items() for column in read
    ]
    for canonical, column in named:
        if canonical in mapping.constants or column in given:
            continue
        close = difflib.get_close_matches(column, given, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        where = f"{mapping.source}: " if mapping.source else ""
        raise DataValidationError(
            f"{where}mapping key {canonical!r} names column {column!r}, which the file does "
            f"not have{hint} (its columns: {', '.join(given)})",
            path=mapping.path,
            field=canonical,
            value=column,
        )


def _readable_format(mapping: FileMapping) -> FileFormat:
    """The file's format, once it is known to exist and to be readable in it.

    Raises:
        DataValidationError: The file does not exist, or it is a gzip-compressed
            Parquet file (``.parquet.gz``): Parquet compresses its pages inside, and
            the reader takes the ``.parquet`` file itself.
    """
    path = mapping.path
    if not path.exists():
        raise DataValidationError("file does not exist", path=path)
    fmt = mapping.file_format
    if fmt == "parquet" and path.suffix.lower() == ".gz":
        raise DataValidationError(
            "a gzip-compressed Parquet file cannot be read: Parquet is compressed inside, "
            "so load the .parquet file itself (gunzip it)",
            path=path,
        )
    return fmt


def _parquet_head(mapping: FileMapping, rows: int) -> pa.Table:
    # batches stop at row-group ends: gather them up to ``rows``
    with pq.ParquetFile(mapping.path) as parquet:
        batches, count = [], 0
        for batch in parquet.iter_batches(batch_size=rows):
            batches.append(batch)
            count += batch.num_rows
            if count >= rows:
                break
        return pa.Table.from_batches(batches, parquet.schema_arrow).slice(0, rows)


def _read_csv(mapping: FileMapping, limit: int | None = None) -> pd.DataFrame:
    # All columns as strings; pyarrow decompresses .gz by extension and parses in threads.
    with pacsv.open_csv(
        mapping.path, parse_options=pacsv.ParseOptions(delimiter=mapping.delimiter)
    ) as reader:
        names = reader.schema.names
    options: dict[str, Any] = {
        "parse_options": pacsv.ParseOptions(delimiter=mapping.delimiter, newlines_in_values=False),
        "convert_options": pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }
    if limit is None:
        table = pacsv.read_csv(
            mapping.path, read_options=pacsv.ReadOptions(block_size=1 << 22), **options
        )
        return table.to_pandas()
    batches, count = [], 0
    with pacsv.open_csv(mapping.path, **options) as reader:  # streamed: stops at the limit
        for batch in reader:
            batches.append(batch)
            count += batch.num_rows
            if count >= limit:
                break
        schema = reader.schema
    return pa.Table.from_batches(batches, schema).slice(0, limit).to_pandas()


def _read_jsonl(mapping: FileMapping, limit: int | None = None) -> pd.DataFrame:
    opener = gzip.open if mapping.path.suffix.lower() == ".gz" else open
    records: list[dict[str, Any]] = []
    with opener(mapping.path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if limit is not None and number > limit:
                break
            if not line.strip():
                records.append({})
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataValidationError(
                    f"not valid JSON: {exc.msg}", path=mapping.path, row=number
                ) from exc
            if not isinstance(value, dict):
                raise DataValidationError("expected a JSON object", path=mapping.path, row=number)
            records.append({k: _as_text(v) for k, v in value.items()})
    return records_frame(records).fillna("")


def records_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """``pd.DataFrame.from_records(records)``, also where a string does not encode as
    UTF-8 (a lone surrogate): its column is then of ``object`` dtype, holding it as
    given, for validation to refuse (Arrow-backed text cannot hold it)."""
    try:
        return pd.DataFrame.from_records(list(records))
    except UnicodeEncodeError:
        pass
    bad = [
        (row, name)
        for row, record in enumerate(records)
        for name, value in record.items()
        if type(value) is str and not is_utf8(value)
    ]
    cells = set(bad)
    frame = pd.DataFrame.from_records(
        [
            {name: None if (row, name) in cells else value for name, value in record.items()}
            for row, record in enumerate(records)
        ]
    )
    for name in {name for _, name in bad}:
        frame[name] = frame[name].astype(object)
    for row, name in bad:
        frame.at[frame.index[row], name] = records[row][name]
    return frame


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


__all__ = [
    "LINE",
    "check_mapped_columns",
    "read_columns",
    "read_head",
    "read_raw",
    "records_frame",
]
