"""``pricegraph fit-demand`` on a tiny world with free items: fitted, and the count said."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import run_cli as _run

import pricegraph.api.commands.fit_demand  # noqa: F401  (registers the command)


def test_free_lines_are_left_out_of_the_fit_and_counted(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run("generate", "--customers", "60", "--products", "30", "--days", "60", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    free = env / "free.csv"
    free.write_text(
        "event_type,customer_id,product_id,ts,order_id,qty,unit_price\n"
        "purchase,C00001,P00001,2025-01-02T10:00:00,FREE-1,1,0\n"
        "purchase,C00002,P00002,2025-01-03T10:00:00,FREE-2,2,0\n",
        encoding="utf-8",
    )
    _run("load", str(free), "--kind", "events")  # the loader accepts free items
    out = _run("fit-demand")
    assert "free lines (price 0) left out" in out
    line = next(x for x in out.splitlines() if "free lines (price 0) left out" in x)
    assert " 2 " in line
    assert "demand model:" in out
    # not a terminal: the long steps print plain lines
    assert "fitting the demand model on the purchase history: started" in out
    assert "fitting the demand model on the purchase history: done in " in out
    assert "free.csv (events) checked: done in " in _run("load", str(free), "--kind", "events")
    holidays = next(x for x in out.splitlines() if "holidays of" in x)
    assert "GB" in holidays
    monkeypatch.setenv("PRICEGRAPH_PRICING__HOLIDAY_COUNTRY", "US")
    holidays = next(x for x in _run("fit-demand").splitlines() if "holidays of" in x)
    assert "US" in holidays
