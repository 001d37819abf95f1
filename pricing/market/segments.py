"""One set of segments: a synthetic world's market regrouped by the graph's own segments.

The world's true market (:func:`~.builders.market_from_ground_truth`) groups its
representative customers by the generator's latent segments, which no quote ever sees:
customers carry the ``Segment`` nodes of ``pricegraph segments``. :func:`regroup_by_segments`
relabels every representative customer with its graph segment (the one quotes read,
:func:`~pricegraph.pricing.snapshot.customer_segments`), so the meso level plans, and quotes price,
per the same segments. The demand of every group is unchanged: only which segment's
price it pays changes. Customers without a graph segment form the segment
:data:`UNSEGMENTED` (their demand still counts); quotes for unsegmented customers take
the mean of the segment plans, and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from ...errors import ConfigError
from .model import MarketModel

UNSEGMENTED = "(unsegmented)"
"""The segment of representative customers without a graph segment."""


def regroup_by_segments(market: MarketModel, segment_of: Mapping[str, str]) -> MarketModel:
    """``market`` with its groups relabelled by graph segment (module docstring).

    Args:
        market: A market whose ``meta["group_customer_ids"]`` names the customer each
            group stands for (ground-truth markets do).
        segment_of: Customer key -> graph segment key.

    Returns:
        The market with ``segment_names`` the graph segment keys present (sorted, then
        :data:`UNSEGMENTED` when some customer has none) and its groups sorted by them;
        ``meta["segments"]`` is ``"graph"``.

    Raises:
        ConfigError: The market does not name its groups' customers.
    """
    customers = market.meta.get("group_customer_ids")
    if customers is None or len(customers) != market.num_groups:
        raise ConfigError(
            "regroup_by_segments: the market does not name the customer of each group "
            "(meta['group_customer_ids']); build it with market_from_ground_truth"
        )
    labels = np.array([segment_of.get(str(c), UNSEGMENTED) for c in customers], dtype=object)
    names = sorted(set(labels) - {UNSEGMENTED})
    if UNSEGMENTED in set(labels):
        names.append(UNSEGMENTED)
    index = {name: s for s, name in enumerate(names)}
    segment = np.array([index[label] for label in labels], dtype=np.int64)
    order = np.argsort(segment, kind="stable")
    return replace(
        market,
        group_segment=segment[order],
        group_weight=market.group_weight[order],
        alpha=market.alpha[order],
        beta=market.beta[order],
        brand_affinity=market.brand_affinity[order],
        consideration=market.consideration[order],
        visits=market.visits[order],
        segment_names=tuple(names),
        meta={
            **market.meta,
            "segments": "graph",
            "group_customer_ids": [str(customers[g]) for g in order],
        },
    )


__all__ = ["UNSEGMENTED", "regroup_by_segments"]
