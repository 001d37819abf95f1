"""Loaders: files (CSV, Parquet, JSONL) and known data sets into the graph."""

from .formats import KINDS, LOAD_ORDER, FieldSpec, KindSpec
from .mapping import FileMapping, parse_column_options, read_mapping
from .service import FileReport, LoadReport, load_files
from .validation import RefIndex, Validated, validate

__all__ = [
    "KINDS",
    "LOAD_ORDER",
    "FieldSpec",
    "FileMapping",
    "FileReport",
    "KindSpec",
    "LoadReport",
    "RefIndex",
    "Validated",
    "load_files",
    "parse_column_options",
    "read_mapping",
    "validate",
]
