"""Intervals and verdicts of tuned runs (:mod:`pricegraph.gnn.compare`).

Percentile bootstrap over the test customers (:mod:`pricegraph.gnn.bootstrap`):
a table of means with intervals, and paired differences. A method *beats*
another only when the whole interval of the difference lies above zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pricegraph.gnn.bootstrap import Interval, bootstrap_difference, bootstrap_mean
from pricegraph.gnn.compare import CompareConfig, MethodRun


def _interval_columns(prefix: str, interval: Interval) -> dict[str, float]:
    return {prefix: interval.mean, f"{prefix}_low": interval.low, f"{prefix}_high": interval.high}


def comparison_table(runs: Sequence[MethodRun], config: CompareConfig) -> pd.DataFrame:
    """One row per method (index ``method``).

    Columns: ``recall@k`` with ``recall@k_low`` / ``recall@k_high`` (bootstrap
    interval over test customers), the same for ``ndcg@k``, ``customers``,
    ``val_recall@k``, ``val_ndcg@k``, ``fit_s``, ``cold_recall@k`` /
    ``cold_ndcg@k`` / ``cold_customers`` (among cold-start products, NaN / 0 when
    no test customer bought one), ``params`` (the setting chosen on validation, as
    text) and ``note``.
    """
    k, rows = config.k, []
    for run in runs:
        options = {"num_resamples": config.num_resamples, "level": config.level}
        recall = bootstrap_mean(run.test.recall, seed=config.seed, **options)
        ndcg = bootstrap_mean(run.test.ndcg, seed=config.seed, **options)
        rows.append(
            {"method": run.name}
            | _interval_columns(f"recall@{k}", recall)
            | _interval_columns(f"ndcg@{k}", ndcg)
            | {
                "customers": int(run.test.recall.size),
                f"val_recall@{k}": run.val.recall,
                f"val_ndcg@{k}": run.val.ndcg,
                "fit_s": run.fit_s,
                f"cold_recall@{k}": float(run.cold.recall.mean()) if run.cold else float("nan"),
                f"cold_ndcg@{k}": float(run.cold.ndcg.mean()) if run.cold else float("nan"),
                "cold_customers": int(run.cold.recall.size) if run.cold else 0,
                "params": ", ".join(f"{key}={value}" for key, value in run.params.items()),
                "note": run.note,
            }
        )
    return pd.DataFrame(rows).set_index("method")


@dataclass(frozen=True)
class Verdict:
    """Paired comparison of two methods on the same test customers.

    Attributes:
        first: The method said to beat or not.
        second: The method compared with.
        differences: Metric name (``recall@k``, ``ndcg@k``) -> interval of
            ``first - second``.
    """

    first: str
    second: str
    differences: dict[str, Interval]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``first``, ``second``, ``differences`` (metric -> ``mean``,
        ``low``, ``high``, ``level``) and ``text`` (the line ``train-gnn`` prints)."""
        return {
            "first": self.first,
            "second": self.second,
            "differences": {
                metric: {
                    "mean": interval.mean,
                    "low": interval.low,
                    "high": interval.high,
                    "level": interval.level,
                }
                for metric, interval in self.differences.items()
            },
            "text": str(self),
        }

    def beats(self, metric: str) -> bool:
        """``first`` beats ``second`` on ``metric``: the difference interval is above zero."""
        return self.differences[metric].low > 0

    def __str__(self) -> str:
        parts = []
        for metric, interval in self.differences.items():
            if interval.low > 0:
                word = "beats"
            elif interval.high < 0:
                word = "loses to"
            else:
                word = "no difference from"
            parts.append(
                f"{metric} {word} {self.second} ({interval.mean:+.4f} "
                f"[{interval.low:+.4f}, {interval.high:+.4f}])"
            )
        return f"{self.first}: " + "; ".join(parts)


def verdict(first: MethodRun, second: MethodRun, config: CompareConfig) -> Verdict:
    """Paired bootstrap intervals of ``first - second`` in recall@k and NDCG@k."""
    if not np.array_equal(first.test.customer_index, second.test.customer_index):
        raise ValueError(f"{first.name} and {second.name} were ranked for different test customers")
    options = {"num_resamples": config.num_resamples, "level": config.level, "seed": config.seed}
    return Verdict(
        first.name,
        second.name,
        {
            f"recall@{config.k}": bootstrap_difference(
                first.test.recall, second.test.recall, **options
            ),
            f"ndcg@{config.k}": bootstrap_difference(first.test.ndcg, second.test.ndcg, **options),
        },
    )


__all__ = ["Verdict", "comparison_table", "verdict"]
