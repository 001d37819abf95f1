"""Loaders: files (CSV, Parquet, JSONL) and known data sets into the graph."""

from .formats import KINDS, LOAD_ORDER, FieldSpec, KindSpec
from .mapping import FileMapping, parse_column_options, read_mapping
from .record_validation import SMALL_BATCH_ROWS, validate_records
from .service import FileReport, LoadReport, load_files, load_records
from .validation import RefIndex, Validated, validate

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
