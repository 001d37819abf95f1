"""``plain_value``: nulls, NumPy and pandas scalars, containers and datetime zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from pricegraph.plain import plain_value


@pytest.mark.parametrize(
    "value", [None, float("nan"), np.float64("nan"), np.float32("nan"), pd.NaT, pd.NA,
              np.datetime64("NaT")]
)  # fmt: skip
def test_nulls_become_none(value: object) -> None:
    assert plain_value(value) is None


@pytest.mark.parametrize(
    ("value", "expected", "kind"),
    [
        (np.int64(3), 3, int),
        (np.float32(0.5), 0.5, float),
        (np.bool_(True), True, bool),
        (np.str_("a"), "a", str),
        ("text", "text", str),
        (date(2025, 3, 1), date(2025, 3, 1), date),
    ],
)
def test_scalars_become_python(value: object, expected: object, kind: type) -> None:
    out = plain_value(value)
    assert out == expected and type(out) is kind


def test_containers_convert_element_by_element() -> None:
    value = {
        1: np.array([1, 2]),
        "t": (np.float64(1.5), None, float("nan")),
        "nested": [{"x": np.int8(4)}],
    }
    assert plain_value(value) == {"1": [1, 2], "t": [1.5, None, None], "nested": [{"x": 4}]}


AWARE = datetime(2025, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
NAIVE = datetime(2025, 3, 1, 10, 0)


@pytest.mark.parametrize(
    ("value", "times", "expected"),
    [
        (AWARE, "keep", AWARE),
        (NAIVE, "keep", NAIVE),
        (AWARE, "naive_utc", NAIVE),
        (NAIVE, "naive_utc", NAIVE),
        (pd.Timestamp(AWARE), "naive_utc", NAIVE),
        (np.datetime64("2025-03-01T10:00:00"), "naive_utc", NAIVE),
        (NAIVE, "aware_utc", NAIVE.replace(tzinfo=UTC)),
        (pd.Timestamp(AWARE), "aware_utc", NAIVE.replace(tzinfo=UTC)),
        ([AWARE], "naive_utc", [NAIVE]),
    ],
)
def test_datetimes_are_zoned_as_asked(value: object, times: str, expected: object) -> None:
    out = plain_value(value, times=times)  # type: ignore[arg-type]
    assert out == expected
    moments = out if isinstance(out, list) else [out]
    expected_moments = expected if isinstance(expected, list) else [expected]
    for moment, wanted in zip(moments, expected_moments, strict=True):
        assert type(moment) is datetime and moment.tzinfo == wanted.tzinfo


def test_values_with_to_native_are_unwrapped() -> None:
    class DriverTime:  # as Neo4j's temporal types
        def to_native(self) -> datetime:
            return AWARE

    assert plain_value(DriverTime(), times="naive_utc") == NAIVE
