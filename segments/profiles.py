"""Segment profiles: size, spend, recency, top categories and brands, price sensitivity,
and a readable name per segment."""

from __future__ import annotations

import numpy as np
import pandas as pd


def segment_key(version: str, segment: int) -> str:
    """Node key of a segment: ``SEG-<version>-<segment + 1>``."""
    return f"SEG-{version}-{int(segment) + 1}"


def profile_segments(
    purchases: pd.DataFrame, assignments: pd.DataFrame, behaviour: pd.DataFrame, version: str
) -> pd.DataFrame:
    """One row per segment: size, spend, recency, frequency, price sensitivity, tops, name.

    Columns: ``segment, segment_id, name, size, share, spend_mean, spend_median``
    (net spend per customer), ``recency_days_mean, frequency_mean``,
    ``discount_share`` (spend-weighted, see :func:`discounted_spend`; NaN without
    purchases), ``top_categories, top_brands`` (three each by gross spend, ``", "``
    joined), ``price_sensitivity`` and ``description``. Names combine spend (``high/mid/low spend``
    by tertiles of the buyers' net spend), recency (``recent`` / ``lapsed``
    against the median buyer) and price sensitivity (``price-sensitive`` when the
    segment's discount share is above 1.25 times the overall one,
    ``price-insensitive`` below 0.75 times it); ``no purchases`` when no member bought.
    """
    frame = behaviour.assign(segment=assignments["segment"].to_numpy())
    buyers = frame[frame["has_purchases"]]
    spend_cut = buyers["monetary"].quantile([1 / 3, 2 / 3]) if len(buyers) else None
    recency_cut = buyers["recency_days"].median() if len(buyers) else 0.0
    lines = purchases.copy()
    segment_of = assignments.set_index("customer_id")["segment"]
    lines["segment"] = segment_of.reindex(lines["customer_id"]).to_numpy()
    lines = lines.dropna(subset=["segment"])
    overall = lines["discounted"].sum() / max(lines["spend"].sum(), 1e-12)
    rows, used = [], set()
    for segment, members in frame.groupby("segment"):
        bought = lines[lines["segment"] == segment]
        spend = bought["spend"].sum()
        share = bought["discounted"].sum() / spend if spend > 0 else np.nan
        row = {
            "segment": int(segment),
            "segment_id": segment_key(version, int(segment)),
            "size": len(members),
            "share": len(members) / len(frame),
            "spend_mean": members["monetary"].mean(),
            "spend_median": members["monetary"].median(),
            "recency_days_mean": members["recency_days"].mean(),
            "frequency_mean": members["frequency"].mean(),
            "discount_share": share,
            "top_categories": _top(bought, "category"),
            "top_brands": _top(bought, "brand"),
        }
        name = _name(row, members, spend_cut, recency_cut, overall)
        label = name.rsplit(" · ", 1)[-1]
        row["price_sensitivity"] = label if label.startswith("price-") else "price-unknown"
        row["name"] = name if name not in used else f"{name} ({row['segment_id']})"
        used.add(row["name"])
        row["description"] = (
            f"{row['size']} customers; net spend mean {row['spend_mean']:.0f}, median "
            f"{row['spend_median']:.0f}; {row['frequency_mean']:.1f} orders; last purchase "
            f"{row['recency_days_mean']:.0f} days ago; discount share "
            f"{'-' if np.isnan(share) else f'{share:.0%}'}; top categories: "
            f"{row['top_categories'] or '-'}; top brands: {row['top_brands'] or '-'}"
        )
        rows.append(row)
    columns = [
        "segment",
        "segment_id",
        "name",
        *[c for c in rows[0] if c not in ("segment", "segment_id", "name")],
    ]
    return pd.DataFrame(rows)[columns]


def _top(lines: pd.DataFrame, column: str, n: int = 3) -> str:
    spend = lines.dropna(subset=[column]).groupby(column)["spend"].sum()
    ranked = spend.reset_index().sort_values(["spend", column], ascending=[False, True])
    return ", ".join(ranked[column].astype(str).head(n))


def _name(
    row: dict,
    members: pd.DataFrame,
    spend_cut: pd.Series | None,
    recency_cut: float,
    overall_share: float,
) -> str:
    if not members["has_purchases"].any():
        return "no purchases"
    spend = row["spend_mean"]
    level = (
        "low"
        if spend_cut is None or spend <= spend_cut.iloc[0]
        else ("mid" if spend <= spend_cut.iloc[1] else "high")
    )
    recency = "recent" if row["recency_days_mean"] <= recency_cut else "lapsed"
    share = row["discount_share"]
    if np.isnan(share) or overall_share <= 0:
        sensitivity = "price-unknown"
    elif share > 1.25 * overall_share:
        sensitivity = "price-sensitive"
    elif share < 0.75 * overall_share:
        sensitivity = "price-insensitive"
    else:
        sensitivity = "price-neutral"
    return f"{level} spend · {recency} · {sensitivity}"


__all__ = ["profile_segments", "segment_key"]
