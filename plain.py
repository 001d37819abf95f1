"""``plain_value``: NumPy, pandas and driver values as plain Python values.

Values leave frames and arrays at a few boundaries: graph driver parameters and
query results, vector-store payloads, API rows. Each takes plain Python (``None``,
``bool``, ``int``, ``float``, ``str``, ``datetime``, lists and string-keyed dicts), so
all of them convert through this one function. It is a leaf module: it imports no
other part of pricegraph.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

Times = Literal["keep", "naive_utc", "aware_utc"]
"""What :func:`plain_value` does with datetimes: ``keep`` their zone or its absence;
``naive_utc``: naive in UTC, as the graph stores them (aware ones converted first);
``aware_utc``: aware in UTC, as the API returns them (naive ones read as UTC)."""


def plain_value(value: Any, *, times: Times = "keep") -> Any:
    """``value`` as plain Python, containers converted element by element.

    - Nulls (``None``, ``NaN``, ``NaT``, ``pd.NA``, a ``NaT`` ``datetime64``) become
      ``None``.
    - NumPy scalars become Python scalars; ``datetime64`` and pandas ``Timestamp``
      become ``datetime``; values with ``to_native()`` (Neo4j temporal types) become
      their native Python value.
    - Arrays, lists and tuples become lists; mappings become dicts with ``str`` keys.
    - Datetimes are then zoned as ``times`` says (see :data:`Times`).

    Args:
        value: Any value.
        times: ``keep`` (default), ``naive_utc`` or ``aware_utc``.

    Returns:
        The plain value; anything else (``str``, ``date``, ...) as given.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif hasattr(value, "to_native"):
        value = value.to_native()
    if isinstance(value, datetime):
        return _zoned(value, times)
    if isinstance(value, np.ndarray):
        return [plain_value(v, times=times) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple):
        return [plain_value(v, times=times) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain_value(v, times=times) for k, v in value.items()}
    return value


def _zoned(moment: datetime, times: Times) -> datetime:
    if times == "naive_utc" and moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    if times == "aware_utc":
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment


__all__ = ["Times", "plain_value"]
