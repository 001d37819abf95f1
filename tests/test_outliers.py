"""The outlier rule shared by the load report and the pricing market."""

from __future__ import annotations

import math

import pandas as pd

from pricegraph.outliers import OUTLIER_FACTOR, OutlierLines


def test_lines_above_factor_times_the_median_of_product_medians() -> None:
    lines = pd.DataFrame(
        {"product_id": ["a", "a", "b", "b", "c", "c"], "qty": [1, 3, 2, 2, 900, 800]}
    )
    found = OutlierLines.of(lines, factor=10.0)
    assert found.limit == 20.0  # medians 2, 2, 850 -> norm 2
    assert found.is_outlier.tolist() == [False, False, False, False, True, True]
    assert found.products == frozenset({"c"})


def test_the_norm_is_at_least_one_and_inf_keeps_every_line() -> None:
    lines = pd.DataFrame({"product_id": ["a", "b", "c"], "qty": [0.5, 0.5, 30.0]})
    found = OutlierLines.of(lines)  # norm 0.5, counted as 1
    assert found.limit == OUTLIER_FACTOR and found.is_outlier.tolist() == [False, False, True]
    assert not OutlierLines.of(lines, factor=math.inf).is_outlier.any()
