"""How every command's tables print numbers and rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegraph.api.commands._common import format_number, frame_table


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (197_900.0, "197,900"),  # was 1.979e+05 beside 1,261,728
        (1_261_728, "1,261,728"),
        (np.int64(6371), "6,371"),  # was 6371 beside 5,000
        (12_345.6, "12,346"),
        (123.456, "123.5"),
        (0.5, "0.5"),
        (0.00012345, "0.0001234"),
        (1.2e-6, "1.20e-06"),
        (np.float32(3.25), "3.25"),
        (-1_534.2, "-1,534"),
        (0.0, "0"),
    ],
)
def test_numbers_print_one_way(value: object, shown: str) -> None:
    assert format_number(value) == shown


def test_table_cells_use_it_and_leave_missing_values_empty() -> None:
    frame = pd.DataFrame({"n": [1_261_728, 6371], "mean": [197_900.0, float("nan")]})
    table = frame_table(frame)
    cells = [[str(cell) for cell in column.cells] for column in table.columns]
    assert cells == [["1,261,728", "6,371"], ["197,900", ""]]
