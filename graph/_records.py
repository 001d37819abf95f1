"""Small upserts as plain records: typing, checks and diffs in Python, without pandas.

A one-row upsert through pandas spends milliseconds on dtype machinery; the same
work on a few dicts takes microseconds. These functions mirror :mod:`._frames` for
the embedded store's small-write path (the shared contract suite runs the store on
both paths): values are typed as :func:`~._frames.typed_frame` types them (nulls
``None``, timestamps naive ``datetime`` in UTC at microsecond precision), and
compared as :func:`~._frames.changed_rows` compares them (nulls equal nulls).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from ..errors import GraphStoreError
from ._frames import check_event_conflicts, plain_value
from .schema import NodeSpec, PropType, RelSpec

Record = dict[str, Any]
"""One row: property name -> plain Python value."""


def _cast(value: Any, prop: PropType) -> Any:
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    if prop is PropType.TIMESTAMP:
        moment = pd.Timestamp(value)
        if moment.tzinfo is not None:
            moment = moment.tz_convert("UTC").tz_localize(None)
        return moment.floor("us").to_pydatetime()
    value = plain_value(value)
    if prop is PropType.STRING:
        return value if isinstance(value, str) else str(value)
    if isinstance(value, datetime):
        raise TypeError(f"got a time, {value.isoformat()}")
    if prop is PropType.DOUBLE:
        return float(value)
    if prop is PropType.INT64:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"cannot safely cast non-equivalent {value!r} to int64")
        return int(value)
    if isinstance(value, bool):
        return value
    raise ValueError(f"need to pass bool-like values, got {value!r}")


def typed_records(
    properties: dict[str, PropType], frame: pd.DataFrame, *, what: str
) -> list[Record]:
    """The rows of ``frame`` with typed plain values; rejects unknown columns.

    Raises:
        GraphStoreError: An unknown column, or a value that is not of its column's type.
    """
    unknown = [c for c in frame.columns if c not in properties]
    if unknown:
        raise GraphStoreError(f"{what}: unknown properties {unknown}; known: {list(properties)}")
    names = [str(c) for c in frame.columns]
    out: list[Record] = [{} for _ in range(len(frame))]
    for name in names:
        prop = properties[name]
        for row, value in zip(out, frame[name].tolist(), strict=True):
            try:
                row[name] = _cast(value, prop)
            except (TypeError, ValueError, OverflowError) as exc:
                raise GraphStoreError(
                    f"column {f'{what}.{name}'!r} cannot be read as {prop.value}: {exc}"
                ) from exc
    return out


def node_records(spec: NodeSpec, frame: pd.DataFrame) -> list[Record]:
    """Typed node rows; the key must be present, non-null and unique (as ``node_frame``)."""
    if spec.key not in frame.columns:
        raise GraphStoreError(f"{spec.label}: the frame has no {spec.key!r} column")
    rows = typed_records(spec.properties, frame, what=spec.label)
    keys = [row[spec.key] for row in rows]
    if any(k is None for k in keys):
        raise GraphStoreError(f"{spec.label}: {spec.key!r} must not be null")
    if len(set(keys)) < len(keys):
        duplicated = {k for k, n in Counter(keys).items() if n > 1}
        raise GraphStoreError(
            f"{spec.label}: duplicate keys in one upsert: {sorted(duplicated)[:5]}"
        )
    return rows


def edge_identity(spec: RelSpec) -> tuple[str, ...]:
    """The columns that identify an edge of ``spec``."""
    if spec.is_event:
        return ("event_id",)
    return ("source",) if spec.identity == "source" else ("source", "target")


def edge_records(spec: RelSpec, frame: pd.DataFrame) -> list[Record]:
    """Typed edge rows, the last of each identity kept (as ``edge_frame``)."""
    props = {"source": PropType.STRING, "target": PropType.STRING, **spec.properties}
    for needed in ("source", "target", *(["event_id"] if spec.is_event else [])):
        if needed not in frame.columns:
            raise GraphStoreError(f"{spec.type}: the frame has no {needed!r} column")
    rows = typed_records(props, frame, what=spec.type)
    if any(row["source"] is None or row["target"] is None for row in rows):
        raise GraphStoreError(f"{spec.type}: source and target must not be null")
    if spec.is_event and any(row["event_id"] is None for row in rows):
        raise GraphStoreError(f"{spec.type}: event_id must not be null")
    identity = edge_identity(spec)
    last = {tuple(row[c] for c in identity): i for i, row in enumerate(rows)}
    return [row for i, row in enumerate(rows) if last[tuple(row[c] for c in identity)] == i]


def differs(row: Record, stored: Record, names: list[str]) -> bool:
    """Whether ``row`` and ``stored`` differ in one of ``names`` (nulls equal nulls)."""
    return any(row[n] != stored.get(n) for n in names)


def split_nodes(
    rows: list[Record], stored: dict[str, Record], key: str
) -> tuple[list[Record], list[Record], int]:
    """New rows, changed rows and the number of unchanged ones, against ``stored`` (by key)."""
    names = [n for n in (rows[0] if rows else {}) if n != key]
    new = [row for row in rows if row[key] not in stored]
    changed = [row for row in rows if row[key] in stored and differs(row, stored[row[key]], names)]
    return new, changed, len(rows) - len(new) - len(changed)


@dataclass(frozen=True)
class EdgeChanges:
    """What a small edge upsert writes.

    Attributes:
        created: Rows to create whose identity is new.
        rewritten: Rows to create again, after deleting ``removed`` (replaced or changed).
        removed: ``source``/``target`` pairs of the stored edges to delete.
        unchanged: How many rows are stored as they are.
    """

    created: list[Record]
    rewritten: list[Record]
    removed: list[Record]
    unchanged: int


def split_edges(spec: RelSpec, rows: list[Record], stored: list[Record]) -> EdgeChanges:
    """Compare edge rows with the stored edges they may match (see ``upsert_edges``).

    Events are new or unchanged (a clash raises); ``source`` identity replaces the
    edge of a source whose target moved; ``endpoints`` identity rewrites an edge
    whose sent properties differ.

    Raises:
        ConflictError: An event id is stored with other endpoints or values.
    """
    identity = edge_identity(spec)
    by_key = {tuple(edge[c] for c in identity): edge for edge in stored}
    found = [row for row in rows if tuple(row[c] for c in identity) in by_key]
    created = [row for row in rows if tuple(row[c] for c in identity) not in by_key]
    if spec.is_event:
        if found:
            check_event_conflicts(spec, pd.DataFrame(found), pd.DataFrame(stored))
        return EdgeChanges(created, [], [], len(found))
    if spec.identity == "source":
        moved = [row for row in found if row["target"] != by_key[(row["source"],)]["target"]]
        removed = [
            {"source": row["source"], "target": by_key[(row["source"],)]["target"]} for row in moved
        ]
        return EdgeChanges(created, moved, removed, len(found) - len(moved))
    names = [n for n in (rows[0] if rows else {}) if n not in ("source", "target")]
    changed = [row for row in found if differs(row, by_key[(row["source"], row["target"])], names)]
    removed = [{"source": row["source"], "target": row["target"]} for row in changed]
    return EdgeChanges(created, changed, removed, len(found) - len(changed))


__all__ = [
    "EdgeChanges",
    "Record",
    "differs",
    "edge_identity",
    "edge_records",
    "node_records",
    "split_edges",
    "split_nodes",
    "typed_records",
]
