"""``load_files``: read, validate and write a set of files, with a report.

Files are applied in :data:`LOAD_ORDER` (brands before the products that name
them). Bad rows go to ``<rejects_dir>/<file>.rejects.csv`` with the reason; good
rows are written whatever happens to the bad ones; running the same load again
creates nothing new and reports the same loaded / rejected / skipped counts. A file
re-loaded with corrected event values (quantity, price, currency, time of an event id
already stored, including ids derived from the line, see
:func:`~pricegraph.loaders.validation.derived_event_ids`) updates those events and
counts them as updated.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from rich.progress import Progress

from ..graph.base import GraphStore, UpsertResult
from ..progress import new_progress
from .formats import KINDS, LOAD_ORDER
from .mapping import FileMapping
from .readers import check_mapped_columns, read_columns, read_raw, records_frame
from .record_validation import SMALL_BATCH_ROWS, validate_records
from .validation import RefIndex, Validated, check_computable, rejects_message, validate
from .writer import NODE_LABEL, write_rows

_ALWAYS_FULL = {"prices", "competitor_prices", "events"}


@dataclass(frozen=True)
class FileReport:
    """What a load did with one file.

    Attributes:
        path: The file.
        kind: Its kind.
        rows: Data rows read.
        loaded: Rows that passed validation and are stored (created, updated or
            already there).
        rejected: Rows refused, with reasons in the rejects file.
        skipped: Rows left out on purpose (exact duplicates, or adapter rules).
        result: What the store did with the loaded rows.
        rejects_path: Where the rejects were written, if any.
        first_rejects: The first few rejects as sentences.
        skipped_reasons: Skipped row counts by reason.
        notes: What else the report says about the data (protected attributes,
            demographics in profile texts, outlier quantities with an example line).
    """

    path: Path
    kind: str
    rows: int
    loaded: int
    rejected: int
    skipped: int
    result: UpsertResult
    rejects_path: Path | None = None
    first_rejects: list[str] = field(default_factory=list)
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadReport:
    """The reports of every file of one load, in the order they were applied."""

    files: list[FileReport]

    @property
    def totals(self) -> dict[str, int]:
        """Summed row counts."""
        keys = ("rows", "loaded", "rejected", "skipped")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def as_frame(self) -> pd.DataFrame:
        """One row per file."""
        return pd.DataFrame(
            [
                {
                    "file": f.path.name,
                    "kind": f.kind,
                    "rows": f.rows,
                    "loaded": f.loaded,
                    "rejected": f.rejected,
                    "skipped": f.skipped,
                    "created": f.result.created,
                    "updated": f.result.updated,
                    "unchanged": f.result.unchanged,
                }
                for f in self.files
            ]
        )


def _present_columns(mapping: FileMapping, columns: Iterable[str]) -> set[str]:
    spec = KINDS[mapping.kind]
    if mapping.kind in _ALWAYS_FULL:
        return set(spec.names) | {"kind", "price_point_id"}
    given = set(columns)
    present = {f.name for f in spec.fields if mapping.source_column(f.name) in given}
    present |= set(mapping.constants) | set(mapping.derived)
    if mapping.attributes:
        present.add("attributes")
    present |= {f.name for f in spec.fields if f.default is not None}
    return present


def write_rejects(validated: Validated, raw: pd.DataFrame, path: Path) -> Path | None:
    """Write the rejects with the raw row values beside them; ``None`` when there are none."""
    if validated.rejects.empty:
        path.unlink(missing_ok=True)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    raw_rows = raw.rename(columns={"_line": "line"})
    merged = validated.rejects.merge(raw_rows, on="line", how="left", suffixes=("", "_raw"))
    merged.to_csv(path, index=False, errors="backslashreplace")  # lone surrogates
    return path


def load_files(
    store: GraphStore,
    mappings: Sequence[FileMapping],
    *,
    rejects_dir: Path,
    progress: Progress | None = None,
    chunk_rows: int = 1_000_000,
) -> LoadReport:
    """Load every mapped file into ``store``; see the module docstring.

    Args:
        store: The graph store.
        mappings: The files and how to read them (any order).
        rejects_dir: Where ``<file>.rejects.csv`` files go.
        progress: A rich progress display to add tasks to (default: a new one).
        chunk_rows: Rows per write transaction.

    Raises:
        DataValidationError: A file is missing or unreadable, the mapping names a
            column a file does not have, or an expression of the mapping cannot be
            computed on its file at all; checked for every file before any is written
            (:func:`~pricegraph.loaders.validation.check_computable` says which
            expressions are left to the file's own validation, after earlier files).
    """
    order = sorted(mappings, key=lambda m: LOAD_ORDER.index(m.kind))
    for mapping in order:  # every file's columns and expressions before anything is written
        check_mapped_columns(mapping, read_columns(mapping))
        check_computable(mapping)
    refs = RefIndex(store)
    reports = []
    own_progress = progress is None
    progress = progress or new_progress()
    with progress if own_progress else contextlib.nullcontext():
        for mapping, name in zip(order, _rejects_names(order), strict=True):
            reading = progress.add_task(f"{mapping.path.name} ({mapping.kind}) read", total=1)
            raw = read_raw(mapping)
            progress.update(reading, completed=1)
            rejects = rejects_dir / name
            reports.append(load_frame(store, mapping, raw, refs, rejects, progress, chunk_rows))
            del raw
    return LoadReport(reports)


def _rejects_names(order: Sequence[FileMapping]) -> list[str]:
    """``<file>.rejects.csv``, or ``<file>.<kind>-<n>.rejects.csv`` for a file that a
    mapping lists more than once (categories and products from one file)."""
    times: dict[Path, int] = {}
    for mapping in order:
        times[mapping.path] = times.get(mapping.path, 0) + 1
    seen: dict[Path, int] = {}
    names = []
    for mapping in order:
        seen[mapping.path] = seen.get(mapping.path, 0) + 1
        if times[mapping.path] == 1:
            names.append(f"{mapping.path.name}.rejects.csv")
        else:
            names.append(f"{mapping.path.name}.{mapping.kind}-{seen[mapping.path]}.rejects.csv")
    return names


def load_frame(
    store: GraphStore,
    mapping: FileMapping,
    raw: pd.DataFrame,
    refs: RefIndex,
    rejects_path: Path,
    progress: Progress,
    chunk_rows: int = 1_000_000,
) -> FileReport:
    """Validate and write an already-read frame (``_line`` included) of ``mapping.kind``."""
    checking = progress.add_task(f"{mapping.path.name} ({mapping.kind}) checked", total=1)
    validated = validate(raw, mapping, refs)
    written_rejects = write_rejects(validated, raw, rejects_path)
    progress.update(checking, completed=1)
    task = progress.add_task(f"{mapping.path.name} ({mapping.kind})", total=len(validated.frame))
    result = _write_validated(
        store,
        mapping,
        validated,
        raw.columns,
        refs,
        chunk_rows=chunk_rows,
        on_chunk=lambda n: progress.advance(task, n),
        is_correcting_events=True,
    )
    return FileReport(
        path=mapping.path,
        kind=mapping.kind,
        rows=len(raw),
        loaded=len(validated.frame),
        rejected=validated.rejected_rows,
        skipped=len(validated.skipped),
        result=result,
        rejects_path=written_rejects,
        first_rejects=rejects_message(validated.rejects),
        skipped_reasons=_reason_counts(validated.skipped),
        notes=validated.notes,
    )


def load_records(
    store: GraphStore,
    kind: str,
    records: Sequence[Mapping[str, Any]],
    refs: RefIndex,
    *,
    source: str,
    rejects_path: Path | None = None,
    small_batch_rows: int = SMALL_BATCH_ROWS,
) -> tuple[UpsertResult, Validated]:
    """Validate once and write in-memory records of ``kind``: the entry point of API writes.

    What :func:`load_frame` does with a file's rows, for records that no file holds:
    dicts keyed by the canonical names of ``kind`` (:data:`~pricegraph.loaders.formats.KINDS`;
    no renamed columns, no constants, times in UTC unless they say otherwise), each
    with ``_line``, its 1-based position, which rejects report. A small batch (up to
    ``small_batch_rows``) is validated without pandas
    (:func:`~pricegraph.loaders.record_validation.validate_records`). Nothing is
    reported but the store's result and the validation itself (its rejects say which
    records were refused and why). A column is present when any record has the key.

    Args:
        store: The graph store.
        kind: A kind of :data:`~pricegraph.loaders.formats.KINDS`.
        records: The records, keyed by canonical names, each with ``_line``.
        refs: The keys the records may reference (looked up or known).
        source: What the records are called where a file load names the file (rejects'
            ``file`` column and messages), e.g. ``"graphql-events"``.
        rejects_path: Where rejected records go as CSV (removed when there are none);
            ``None`` writes none.
        small_batch_rows: The largest batch validated without pandas.

    Raises:
        ConfigError: ``kind`` is not a kind.
        ConflictError: An event id is stored with other endpoints or values; nothing is
            written.
    """
    mapping = FileMapping(path=Path(source), kind=kind)  # the canonical mapping, named
    validated = validate_records(records, mapping, refs, small_batch_rows=small_batch_rows)
    if rejects_path is not None:
        if validated.rejects.empty:
            rejects_path.unlink(missing_ok=True)
        else:
            write_rejects(validated, records_frame(records), rejects_path)
    columns = {name for record in records for name in record}
    return _write_validated(store, mapping, validated, columns, refs), validated


def _write_validated(
    store: GraphStore,
    mapping: FileMapping,
    validated: Validated,
    columns: Iterable[str],
    refs: RefIndex,
    *,
    chunk_rows: int = 1_000_000,
    on_chunk: Callable[[int], None] | None = None,
    is_correcting_events: bool = False,
) -> UpsertResult:
    """Write the good rows (only the columns given) and record their keys in ``refs``.

    A file load corrects stored events sent again with other values
    (``is_correcting_events``); an API write refuses them
    (:class:`~pricegraph.errors.ConflictError`), as the store does.
    """
    result = write_rows(
        store,
        mapping.kind,
        validated.frame,
        _present_columns(mapping, columns),
        chunk_rows=chunk_rows,
        on_chunk=on_chunk,
        is_correcting_events=is_correcting_events,
    )
    if mapping.kind in NODE_LABEL:
        key = KINDS[mapping.kind].key or "price_point_id"
        refs.add(NODE_LABEL[mapping.kind], validated.frame[key])
    return result


def _reason_counts(skipped: pd.DataFrame) -> dict[str, int]:
    if skipped.empty:
        return {}
    reasons = skipped["reason"].str.replace(r" of line \d+$", "", regex=True)
    return {str(k): int(v) for k, v in reasons.value_counts().items()}


__all__ = [
    "FileReport",
    "LoadReport",
    "load_files",
    "load_frame",
    "load_records",
    "new_progress",
    "write_rejects",
]
