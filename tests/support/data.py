"""Helpers importable by test modules (conftest.py is not importable by name)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ONLINE_RETAIL = SHARED_DATA / "online_retail" / "online_retail.csv.gz"

requires_online_retail = pytest.mark.skipif(
    not ONLINE_RETAIL.exists(), reason=f"real data not present at {ONLINE_RETAIL}"
)

__all__ = ["ONLINE_RETAIL", "SHARED_DATA", "requires_online_retail"]
