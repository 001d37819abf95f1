"""Weekly panel from transaction lines and from the embedded graph store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegraph.errors import DataValidationError
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.pricing.demand.panel import (
    FREE_LINES,
    PANEL_COLUMNS,
    build_panel,
    panel_from_store,
    uk_holidays,
)


def _lines() -> pd.DataFrame:
    """p1 sells in weeks 0 and 2 (none in week 1), p2 in week 1 only."""
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c1", "c2", "c1"],
            "product_id": ["p1", "p1", "p1", "p2", "p2"],
            "ts": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-03 09:00",
                    "2024-01-17 12:00",
                    "2024-01-09 00:00",
                    "2024-01-10 00:00",
                ]
            ),
            "qty": [2, 4, 1, 3, 1],
            "unit_price": [10.0, 8.0, 9.0, 5.0, 5.0],
        }
    )


def test_panel_grid_prices_and_features() -> None:
    catalog = pd.DataFrame(
        {
            "product_id": ["p1", "p2"],
            "list_price": [10.0, np.nan],
            "category": ["bags", "shoes"],
            "cost": [4.0, np.nan],
        }
    )
    competitor = pd.DataFrame(
        {
            "product_id": ["p1"],
            "price": [7.5],
            "valid_from": [datetime(2024, 1, 8)],
            "valid_to": [pd.NaT],
        }
    )
    panel = build_panel(_lines(), catalog=catalog, competitor_prices=competitor)
    assert list(panel.columns) == PANEL_COLUMNS
    p1 = panel[panel["product_id"] == "p1"].reset_index(drop=True)
    assert p1["week"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-08", "2024-01-15"]
    assert p1["units"].tolist() == [6.0, 0.0, 1.0]
    assert p1["revenue"].tolist() == [52.0, 0.0, 9.0]
    assert p1["price"].tolist() == [9.0, 9.0, 9.0]  # median line price, carried forward
    assert p1["price_paid"].iloc[0] == pytest.approx(52 / 6) and np.isnan(p1["price_paid"].iloc[1])
    assert p1["discount_pct"].iloc[0] == pytest.approx(10.0)
    assert p1["lag_price"].tolist() == [9.0, 9.0, 9.0]
    assert p1["is_holiday_week"].tolist() == [True, False, False]  # New Year's Day
    assert np.isnan(p1["competitor_price"].iloc[0]) and p1["competitor_price"].iloc[1] == 7.5
    p2 = panel[panel["product_id"] == "p2"]
    assert p2["list_price"].iloc[0] == 5.0 and p2["category"].iloc[0] == "shoes"
    assert len(p2) == 2 and p2["units"].tolist() == [4.0, 0.0]


def test_segments_split_the_series() -> None:
    segments = pd.DataFrame({"customer_id": ["c1", "c2"], "segment_id": ["vip", "mass"]})
    panel = build_panel(_lines(), segments=segments)
    totals = panel.groupby("segment")["units"].sum().to_dict()
    assert totals == {"vip": 4.0, "mass": 7.0}


def test_uk_holidays_include_easter() -> None:
    days = set(uk_holidays(np.array([2024])).strftime("%Y-%m-%d"))
    assert {"2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26"} <= days


@pytest.mark.parametrize(
    ("field", "value"), [("unit_price", -3.5), ("qty", 0), ("ts", "not a time")]
)
def test_bad_lines_name_the_field(field: str, value: object) -> None:
    lines = _lines().astype({field: object})
    lines.loc[2, field] = value
    with pytest.raises(DataValidationError, match=field) as info:
        build_panel(lines)
    assert info.value.field == field and info.value.row == 3


def test_missing_column_is_named() -> None:
    with pytest.raises(DataValidationError, match="unit_price"):
        build_panel(_lines().drop(columns="unit_price"))


def test_panel_from_embedded_store(tmp_path: Path) -> None:
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    try:
        store.upsert_nodes("Category", pd.DataFrame({"id": ["bags"], "name": ["Bags"]}))
        store.upsert_nodes(
            "Product",
            pd.DataFrame(
                {
                    "id": ["p1", "p2"],
                    "name": ["a", "b"],
                    "list_price": [10.0, 5.0],
                    "cost": [4.0, 2.0],
                }
            ),
        )
        store.upsert_nodes("Customer", pd.DataFrame({"id": ["c1", "c2"]}))
        store.upsert_edges(
            "IN_CATEGORY", pd.DataFrame({"source": ["p1", "p2"], "target": ["bags"] * 2})
        )
        lines = _lines()
        store.upsert_edges(
            "PURCHASED",
            pd.DataFrame(
                {
                    "source": lines["customer_id"],
                    "target": lines["product_id"],
                    "event_id": [f"e{i}" for i in range(len(lines))],
                    "order_id": "o",
                    "qty": lines["qty"],
                    "unit_price": lines["unit_price"],
                    "currency": "EUR",
                    "ts": lines["ts"],
                }
            ),
        )
        panel = panel_from_store(store)
    finally:
        store.close()
    expected = build_panel(
        lines,
        catalog=pd.DataFrame(
            {
                "product_id": ["p1", "p2"],
                "list_price": [10.0, 5.0],
                "cost": [4.0, 2.0],
                "category": ["bags", "bags"],
            }
        ),
    )
    pd.testing.assert_frame_equal(panel, expected, check_dtype=False)


def test_free_lines_are_left_out_and_counted() -> None:
    lines = _lines()
    free = lines.iloc[[0, 3]].assign(unit_price=0.0)
    panel = build_panel(pd.concat([lines, free], ignore_index=True))
    assert panel.attrs[FREE_LINES] == 2
    assert panel.equals(build_panel(lines))  # the same panel as without them
    assert build_panel(lines).attrs[FREE_LINES] == 0
    with pytest.raises(DataValidationError, match="no purchase lines at a price > 0"):
        build_panel(free)
