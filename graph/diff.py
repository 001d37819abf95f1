"""``diff_edges``: what an edge upsert does to the stored edges, as a pure function.

Both graph backends read the stored edges an upsert may touch, then call
:func:`diff_edges` with the incoming rows, so they report the same counts and write
the same rows. The function reads no store; the backends only differ in how they
read ``stored`` and how they write the result.

Per relationship identity (see :class:`~pricegraph.graph.schema.RelSpec`):

- events (``is_event``): a row is new when its ``event_id`` is not stored;
  a stored id sent again with other values is refused (:class:`ConflictError`);
  events are never updated.
- ``identity == "source"`` (one target per source): a row is new when its source has
  no stored edge, changed when the stored edge goes to another target (the stored
  pair is replaced), unchanged otherwise. Properties are not compared: the edge is
  the fact.
- endpoints (``identity == "endpoints"``): a row is new when its ``(source, target)`` pair is
  not stored, changed when a property differs (nulls equal nulls, see
  :func:`~pricegraph.graph._frames.changed_rows`), unchanged otherwise.

Stored duplicates of one identity (parallel edges a store should not hold) are
compared once, through the last stored copy, so each incoming row is counted once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._frames import changed_rows, check_event_conflicts, isin
from .base import UpsertResult
from .schema import RelSpec

_PAIR_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class EdgeDiff:
    """The decision of one edge upsert.

    Attributes:
        new: Incoming rows whose identity is not stored: created.
        changed: Incoming rows whose identity is stored with another target or other
            property values: rewritten.
        replaced: The stored ``source, target`` pairs that ``changed`` rows replace,
            to delete before writing them (for pairs: the same pairs).
        unchanged: Incoming rows already stored as sent: not written.
    """

    new: pd.DataFrame
    changed: pd.DataFrame
    replaced: pd.DataFrame
    unchanged: int

    @property
    def writes(self) -> pd.DataFrame:
        """The rows to write: ``new`` then ``changed``."""
        return pd.concat([self.new, self.changed])

    def result(self) -> UpsertResult:
        """The counts reported by ``upsert_edges``."""
        return UpsertResult(len(self.new), len(self.changed), self.unchanged)


def diff_edges(spec: RelSpec, rows: pd.DataFrame, stored: pd.DataFrame) -> EdgeDiff:
    """Split incoming edge rows into new, changed and unchanged against the stored ones.

    Args:
        spec: The relationship type.
        rows: Incoming rows, one per identity, as
            :func:`~pricegraph.graph._frames.edge_frame` returns them (``source``,
            ``target``, the properties sent; typed).
        stored: The stored edges of (at least) the identities in ``rows``: ``source``,
            ``target`` and every property of ``spec``, typed. Events need only the
            stored edges of the incoming ``event_id``s.

    Returns:
        The rows to create and rewrite, the stored pairs they replace and the number
        of unchanged rows; ``new`` and ``changed`` keep the index of ``rows``.

    Raises:
        ConflictError: An event id is stored with other values.
    """
    if spec.is_event:
        is_new = ~isin(rows["event_id"], stored["event_id"])
        check_event_conflicts(spec, rows[~is_new], stored)
        new = rows[is_new]
        return EdgeDiff(new, rows.iloc[0:0], _pairs(rows.iloc[0:0]), len(rows) - len(new))
    if spec.identity == "source":
        return _diff_by_source(rows, stored)
    return _diff_by_pair(spec, rows, stored)


def _pairs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["source", "target"]]


def _diff_by_source(rows: pd.DataFrame, stored: pd.DataFrame) -> EdgeDiff:
    latest = stored.drop_duplicates(subset="source", keep="last")[["source", "target"]]
    merged = rows[["source", "target"]].merge(
        latest, on="source", how="left", suffixes=("", "__stored"), indicator=True
    )
    is_new = (merged["_merge"] == "left_only").to_numpy()
    # A new source has no stored target: the comparison is null there, and is_new decides.
    moved = merged["target"].ne(merged["target__stored"]).fillna(False).to_numpy(dtype=bool)
    is_changed = ~is_new & moved
    replaced = merged.loc[is_changed, ["source", "target__stored"]]
    replaced = replaced.set_axis(["source", "target"], axis=1).reset_index(drop=True)
    new, changed = rows[is_new], rows[is_changed]
    return EdgeDiff(new, changed, replaced, len(rows) - len(new) - len(changed))


def _diff_by_pair(spec: RelSpec, rows: pd.DataFrame, stored: pd.DataFrame) -> EdgeDiff:
    def pair_keys(frame: pd.DataFrame) -> pd.Series:
        return frame["source"] + _PAIR_SEPARATOR + frame["target"]

    is_new = ~isin(pair_keys(rows), pair_keys(stored)) if len(stored) else _all(len(rows))
    new, old = rows[is_new], rows[~is_new]
    if old.empty or not spec.properties:
        changed = old.iloc[0:0]
    else:
        keyed_rows = old.assign(_pair=pair_keys(old))
        keyed_stored = stored.assign(_pair=pair_keys(stored)).drop_duplicates("_pair", keep="last")
        columns = ["_pair", *[c for c in old.columns if c not in ("source", "target")]]
        found = changed_rows(
            keyed_rows[columns].reset_index(drop=True), keyed_stored[columns], "_pair"
        )
        changed = old[isin(keyed_rows["_pair"], found["_pair"])]
    replaced = _pairs(changed).reset_index(drop=True)
    return EdgeDiff(new, changed, replaced, len(rows) - len(new) - len(changed))


def _all(n: int) -> np.ndarray:
    return np.ones(n, dtype=bool)


__all__ = ["EdgeDiff", "diff_edges"]
