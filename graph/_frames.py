"""Frame preparation shared by the graph backends: typing, checks and diffs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConflictError, GraphStoreError, ReadOnlyQueryError
from ..plain import plain_value as _plain_value
from .schema import NodeSpec, PropType, RelSpec

ARROW_TYPES = {
    PropType.STRING: pa.string(),
    PropType.DOUBLE: pa.float64(),
    PropType.INT64: pa.int64(),
    PropType.BOOLEAN: pa.bool_(),
    PropType.TIMESTAMP: pa.timestamp("us"),
}

_PANDAS_TYPES = {
    PropType.STRING: "object",
    PropType.DOUBLE: "float64",
    PropType.INT64: "Int64",
    PropType.BOOLEAN: "boolean",
    PropType.TIMESTAMP: "datetime64[us]",
}


def isin(values: pd.Series | np.ndarray | pa.Array, keys: object) -> np.ndarray:
    """Boolean mask of ``values`` found in ``keys`` (a set, array or Arrow array), hashed
    by Arrow: fast for hundreds of thousands of strings, unlike ``Series.isin`` on a set."""
    if not isinstance(keys, pa.Array | pa.ChunkedArray):
        keys = pa.array(list(keys) if isinstance(keys, set | frozenset) else keys, pa.string())
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values, pa.string(), from_pandas=True)
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    found = pc.is_in(values, value_set=keys, skip_nulls=True)
    return found.to_numpy(zero_copy_only=False).astype(bool)


def _cast(series: pd.Series, prop: PropType, name: str) -> pd.Series:
    try:
        if prop is PropType.STRING:
            return series.astype("string[pyarrow]")
        if prop is PropType.TIMESTAMP:
            values = pd.to_datetime(series, utc=True, format="ISO8601")
            return values.dt.tz_localize(None).astype("datetime64[us]")
        return series.astype(_PANDAS_TYPES[prop])
    except (TypeError, ValueError) as exc:
        raise GraphStoreError(f"column {name!r} cannot be read as {prop.value}: {exc}") from exc


def typed_frame(properties: dict[str, PropType], frame: pd.DataFrame, *, what: str) -> pd.DataFrame:
    """Return ``frame`` with its schema columns cast to their types; rejects unknown columns."""
    unknown = [c for c in frame.columns if c not in properties]
    if unknown:
        raise GraphStoreError(f"{what}: unknown properties {unknown}; known: {list(properties)}")
    out = pd.DataFrame(index=range(len(frame)))
    for name in frame.columns:
        out[name] = _cast(frame[name].reset_index(drop=True), properties[name], f"{what}.{name}")
    return out


def node_frame(spec: NodeSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Typed node frame; the key must be present, non-null and unique."""
    if spec.key not in frame.columns:
        raise GraphStoreError(f"{spec.label}: the frame has no {spec.key!r} column")
    out = typed_frame(spec.properties, frame, what=spec.label)
    if out[spec.key].isna().any():
        raise GraphStoreError(f"{spec.label}: {spec.key!r} must not be null")
    duplicated = out[spec.key][out[spec.key].duplicated()]
    if len(duplicated):
        raise GraphStoreError(
            f"{spec.label}: duplicate keys in one upsert: {sorted(set(duplicated))[:5]}"
        )
    return out


def edge_frame(spec: RelSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Typed edge frame with ``source``, ``target`` and the relationship's properties."""
    props = {"source": PropType.STRING, "target": PropType.STRING, **spec.properties}
    for needed in ("source", "target", *(["event_id"] if spec.is_event else [])):
        if needed not in frame.columns:
            raise GraphStoreError(f"{spec.type}: the frame has no {needed!r} column")
    out = typed_frame(props, frame, what=spec.type)
    if out[["source", "target"]].isna().any().any():
        raise GraphStoreError(f"{spec.type}: source and target must not be null")
    if spec.is_event and out["event_id"].isna().any():
        raise GraphStoreError(f"{spec.type}: event_id must not be null")
    key = (
        ["event_id"]
        if spec.is_event
        else (["source"] if spec.identity == "source" else ["source", "target"])
    )
    out = out.drop_duplicates(subset=key, keep="last").reset_index(drop=True)
    return out


def to_arrow(frame: pd.DataFrame, properties: dict[str, PropType], columns: list[str]) -> pa.Table:
    """An Arrow table with exactly ``columns`` (missing ones null) in that order."""
    arrays = []
    for name in columns:
        arrow_type = ARROW_TYPES[properties[name]]
        if name in frame.columns:
            values = frame[name]
            if properties[name] is PropType.TIMESTAMP:
                arrays.append(pa.array(values.to_numpy(), type=arrow_type, from_pandas=True))
            else:
                arrays.append(pa.array(values, type=arrow_type, from_pandas=True))
        else:
            arrays.append(pa.nulls(len(frame), type=arrow_type))
    return pa.Table.from_arrays(arrays, names=columns)


def read_frame(properties: dict[str, PropType], frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a read result) with the dtypes the embedded store's Arrow reads have.

    Each column is typed by ``properties`` whatever its values, so an all-null
    column still comes back as its schema type: ``DOUBLE`` as ``float64`` (NaN),
    ``TIMESTAMP`` as ``datetime64[us]`` (NaT), ``STRING`` as pandas' string dtype,
    ``INT64`` as ``int64`` (``float64`` when it holds a null) and ``BOOLEAN`` as
    ``bool`` (``object`` with ``None`` when it holds a null), which is what Arrow's
    ``to_pandas`` gives. A backend whose driver returns Python objects (Neo4j) calls
    this so that both backends return the same frame.

    Args:
        properties: Column name -> type, for every column of ``frame``.
        frame: Rows as read (Python values, ``None`` for nulls; naive UTC datetimes).

    Raises:
        GraphStoreError: A value is not of its column's type.
    """
    try:
        table = to_arrow(frame, properties, [str(c) for c in frame.columns])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise GraphStoreError(f"a read result does not follow the schema: {exc}") from exc
    return table.to_pandas()


def changed_rows(incoming: pd.DataFrame, stored: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows of ``incoming`` whose key is in ``stored`` with at least one different value.

    Only the columns of ``incoming`` are compared; nulls compare equal to nulls.
    """
    if stored.empty:
        return incoming.iloc[0:0]
    merged = incoming.merge(stored, on=key, how="inner", suffixes=("", "__stored"))
    differs = np.zeros(len(merged), dtype=bool)
    for name in incoming.columns:
        if name == key:
            continue
        new, old = merged[name], merged[f"{name}__stored"]
        both_null = new.isna().to_numpy() & old.isna().to_numpy()
        if pd.api.types.is_float_dtype(new) and pd.api.types.is_float_dtype(old):
            equal = np.isclose(new.to_numpy(dtype=float), old.to_numpy(dtype=float), rtol=0, atol=0)
        else:
            equal = (
                (new.astype("object") == old.astype("object")).fillna(False).to_numpy(dtype=bool)
            )
        differs |= ~(equal | both_null)
    return merged.loc[differs, list(incoming.columns)].reset_index(drop=True)


def check_event_conflicts(spec: RelSpec, incoming: pd.DataFrame, stored: pd.DataFrame) -> None:
    """Refuse events whose ``event_id`` is stored with other values.

    An event is recorded once: sending it again is idempotent, but sending its id
    with another customer, product or property value would silently drop the new
    values, so it is refused instead.

    Args:
        spec: The event relationship.
        incoming: Event rows (see :func:`edge_frame`): ``source``, ``target``,
            ``event_id`` and the properties sent (typed here).
        stored: The stored events of some of those ids: ``source``, ``target``,
            ``event_id`` and every property (typed here).

    Raises:
        ConflictError: Naming the first clashing event id, the values that differ
            (stored and sent), and how many ids clash. Only the columns of
            ``incoming`` are compared; nulls equal nulls.
    """
    if stored.empty or incoming.empty:
        return
    props = {"source": PropType.STRING, "target": PropType.STRING, **spec.properties}
    columns = [c for c in incoming.columns if c in stored.columns]
    known = typed_frame(props, stored[columns], what=spec.type).drop_duplicates("event_id")
    typed = typed_frame(props, incoming[columns], what=spec.type)
    clashes = changed_rows(typed, known, "event_id")
    if clashes.empty:
        return
    sent = clashes.iloc[0]
    kept = known[known["event_id"] == sent["event_id"]].iloc[0]
    names = {"source": spec.source.lower(), "target": spec.target.lower()}
    differences = [
        f"{names.get(c, c)}: stored {_shown(kept[c])}, sent {_shown(sent[c])}"
        for c in columns
        if c != "event_id" and _shown(kept[c]) != _shown(sent[c])
    ]
    keys = [str(k) for k in clashes["event_id"]]
    more = f"; {len(keys) - 1} more event ids clash too" if len(keys) > 1 else ""
    raise ConflictError(
        f"{spec.type} event_id {keys[0]!r} is already recorded with other values "
        f"({'; '.join(differences)}){more}; an event is recorded once: send a changed "
        "event with a new event_id",
        kind=spec.type,
        key=keys[0],
        field="event_id",
        keys=keys,
    )


def _shown(value: Any) -> str:
    value = plain_value(value)
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


def plain_value(value: Any) -> Any:
    """A plain Python value for a frame cell, as drivers take parameters.

    :func:`pricegraph.plain.plain_value` with datetimes naive in UTC (aware ones are
    converted first), the graph's convention: nulls become ``None``, NumPy scalars
    Python ones, arrays, lists, tuples and dicts are converted element by element.
    """
    return _plain_value(value, times="naive_utc")


def plain_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as maps of plain values (see :func:`plain_value`)."""
    names = [str(c) for c in frame.columns]
    columns = [[plain_value(v) for v in frame[c].astype(object)] for c in frame.columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def clean_record(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with plain Python values: ``None`` for nulls, ``datetime`` for times.

    See :func:`pricegraph.plain.plain_value`; datetimes keep their zone (or its absence).
    """
    return {name: _plain_value(value) for name, value in row.items()}


_WRITE_CLAUSE = re.compile(
    r"\b(CREATE|MERGE|SET|DELETE|DETACH|REMOVE|DROP|COPY|ALTER|LOAD|INSTALL|ATTACH|IMPORT|EXPORT|"
    r"CHECKPOINT|BEGIN|COMMIT|ROLLBACK|FOREACH)\b|\bCALL\s*\{|\bCALL\s+\w+\s*=",
    re.IGNORECASE,
)
_STRING_OR_COMMENT = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.S
)


def check_read_only(query: str) -> None:
    """Raise ``ReadOnlyQueryError`` if ``query`` has a clause that writes or loads."""
    bare = _STRING_OR_COMMENT.sub(" ", query)
    match = _WRITE_CLAUSE.search(bare)
    if match:
        raise ReadOnlyQueryError(
            f"read_cypher runs read-only queries; found {match.group(0).strip()!r} "
            "(use the loaders or the store's upsert methods to write)"
        )


__all__ = [
    "ARROW_TYPES",
    "changed_rows",
    "check_event_conflicts",
    "check_read_only",
    "clean_record",
    "edge_frame",
    "isin",
    "node_frame",
    "plain_rows",
    "plain_value",
    "read_frame",
    "to_arrow",
    "typed_frame",
]
