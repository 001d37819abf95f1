"""Loaders: files (CSV, Parquet, JSONL) and known data sets into the graph.

The public names below are imported on first use (:func:`pricegraph.lazy_exports`):
reading the settings (``loaders.config``) does not load pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegraph import lazy_exports

if TYPE_CHECKING:
    from .formats import KINDS, LOAD_ORDER, FieldSpec, KindSpec
    from .mapping import FileMapping, parse_column_options, read_mapping
    from .record_validation import SMALL_BATCH_ROWS, validate_records
    from .service import FileReport, LoadReport, load_files, load_records
    from .validation import RefIndex, Validated, validate

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".formats": ("KINDS", "LOAD_ORDER", "FieldSpec", "KindSpec"),
        ".mapping": ("FileMapping", "parse_column_options", "read_mapping"),
        ".record_validation": ("SMALL_BATCH_ROWS", "validate_records"),
        ".service": ("FileReport", "LoadReport", "load_files", "load_records"),
        ".validation": ("RefIndex", "Validated", "validate"),
    },
)

__all__ = [
    "KINDS",
    "LOAD_ORDER",
    "SMALL_BATCH_ROWS",
    "FieldSpec",
    "FileMapping",
    "FileReport",
    "KindSpec",
    "LoadReport",
    "RefIndex",
    "Validated",
    "load_files",
    "load_records",
    "parse_column_options",
    "read_mapping",
    "validate",
    "validate_records",
]
