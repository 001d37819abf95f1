"""The do-nothing baseline a what-if is compared with, from the demand model alone.

Per product of the categories concerned (so cross effects reach the neighbours) and
per week of the horizon, the model's expected units at the list price in an average
week, for all customers together (``ALL_SEGMENTS``). A forecast panel could replace
it later without changing the what-if itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from ..errors import NotFoundError
from ..pricing.demand.model import DemandModel
from ..pricing.demand.panel import ALL_SEGMENTS


def demand_baseline(
    model: DemandModel, product_ids: Sequence[str], weeks: int, now: datetime | None = None
) -> pd.DataFrame:
    """Rows ``product_id, segment, week, units, price, list_price, category`` for what-if.

    Args:
        model: The fitted demand model.
        product_ids: The scenario's products.
        weeks: Horizon in weeks, from the week of ``now`` on.
        now: Aware UTC time (default: now).

    Raises:
        NotFoundError: A product has no estimate for all customers in the model.
    """
    estimates = model.estimates[model.estimates["segment"] == ALL_SEGMENTS]
    known = set(estimates["product_id"])
    for key in product_ids:
        if key not in known:
            raise NotFoundError("Product (demand model)", key)
    categories = set(estimates.loc[estimates["product_id"].isin(product_ids), "category"])
    rows = estimates[estimates["category"].isin(categories)].drop_duplicates("product_id")
    ids = rows["product_id"].to_numpy(dtype=object)
    prices = rows["list_price"].to_numpy(dtype=float)
    units = model.predict_units(ids, prices, segment=ALL_SEGMENTS)
    moment = pd.Timestamp(now or datetime.now(UTC))
    start = moment.tz_convert(None) if moment.tzinfo is not None else moment
    first_week = start.to_period("W-SUN").start_time
    frames = [
        pd.DataFrame(
            {
                "product_id": ids,
                "segment": ALL_SEGMENTS,
                "week": first_week + pd.Timedelta(weeks=w),
                "units": units,
                "price": prices,
                "list_price": prices,
                "category": rows["category"].to_numpy(dtype=object),
            }
        )
        for w in range(weeks)
    ]
    return pd.concat(frames, ignore_index=True)


__all__ = ["demand_baseline"]
