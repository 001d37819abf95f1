"""Purchase lines whose quantities lie far beyond the catalogue's norm.

Fuel sold by the litre, a wholesale order, a typo: a line whose quantity is more than
``factor`` times the catalogue's norm (the median over products of their median line
quantity, at least 1) is an *outlier line*. The loader counts them in the load report
(with an example line), and the pricing market built from the store leaves them out of
its best-seller ranking. A leaf module (it imports no other part of pricegraph), so
that both use the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

OUTLIER_FACTOR = 20.0
"""Default ``factor``: lines above 20 times the catalogue's norm are outliers."""


@dataclass(frozen=True)
class OutlierLines:
    """Purchase lines with quantities far beyond the catalogue's norm.

    Attributes:
        limit: The largest quantity that is not an outlier: ``factor * max(1, norm)``
            with ``norm`` the median over products of their median line quantity (robust
            to products sold in bulk, however many lines they have, up to half of them).
        is_outlier: ``[lines]`` whether each line's quantity is above ``limit``.
        products: Products whose median line quantity is above ``limit``.
    """

    limit: float
    is_outlier: np.ndarray
    products: frozenset[str]

    @classmethod
    def of(cls, lines: pd.DataFrame, factor: float = OUTLIER_FACTOR) -> OutlierLines:
        """The outliers of ``lines`` (columns ``product_id``, ``qty``; ``inf`` keeps all)."""
        qty = lines["qty"].to_numpy(float)
        median = lines.groupby("product_id")["qty"].median().dropna()
        norm = float(np.median(median.to_numpy(float))) if len(median) else 1.0
        limit = factor * max(1.0, norm)
        is_outlier = np.isfinite(qty) & (qty > limit)
        return cls(limit, is_outlier, frozenset(median.index[median > limit].astype(str)))


__all__ = ["OUTLIER_FACTOR", "OutlierLines"]
