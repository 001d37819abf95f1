"""``read_frame``: read results typed by the schema, as the embedded store's Arrow reads."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from pricegraph.errors import GraphStoreError
from pricegraph.graph import NODES, RELS
from pricegraph.graph._frames import read_frame


def test_all_null_columns_get_their_schema_type() -> None:
    customers = pd.DataFrame(
        {"id": ["c1", "c2"], "signup_ts": [None, None], "is_anonymous": [None, None]}
    )
    typed = read_frame(NODES["Customer"].properties, customers)
    assert typed["signup_ts"].dtype == "datetime64[us]" and typed["signup_ts"].isna().all()
    assert pd.api.types.is_string_dtype(typed["id"])
    products = pd.DataFrame({"id": ["p1"], "cost": [None], "stock_units": [None]})
    typed = read_frame(NODES["Product"].properties, products)
    assert typed["cost"].dtype == np.float64 and typed["stock_units"].dtype == np.float64


@pytest.mark.parametrize(
    ("values", "dtype"),
    [([1, 2], np.int64), ([1, None], np.float64)],
)
def test_integers_are_int64_unless_a_null_makes_them_float(
    values: list[object], dtype: type
) -> None:
    typed = read_frame(NODES["Product"].properties, pd.DataFrame({"stock_units": values}))
    assert typed["stock_units"].dtype == dtype


def test_event_properties_keep_values_and_types() -> None:
    frame = pd.DataFrame(
        {"qty": [2, 1], "unit_price": [9.5, None], "ts": [datetime(2025, 1, 2), None]}
    )
    typed = read_frame(RELS["PURCHASED"].properties, frame)
    assert typed["qty"].tolist() == [2, 1] and typed["qty"].dtype == np.int64
    assert typed["ts"].dtype == "datetime64[us]" and typed["ts"][0] == pd.Timestamp("2025-01-02")


def test_a_value_of_another_type_is_refused() -> None:
    with pytest.raises(GraphStoreError, match="does not follow the schema"):
        read_frame(NODES["Product"].properties, pd.DataFrame({"cost": ["cheap"]}))
