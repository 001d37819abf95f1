"""Customer segments: KMeans over RFM, price sensitivity and customer vectors.

Segments are the meso level of pricing, between one customer and everyone: groups of
customers who buy alike, written to the graph as ``Segment`` nodes with ``IN_SEGMENT``
edges and a readable profile each.

Where it sits in the layering (each package imports only the ones to its left)::

    graph <- embeddings <- segments <- pricing <- api
                        <- gnn      <-

Segmentation reads purchase lines from the graph and customer vectors from the vector
store (text vectors, or the encoder's ``graph`` vectors once ``pricegraph train-gnn``
has written them: it only reads a named vector, so it needs none of the encoder's
code), and pricing reads the segments (meso policy, customer states). It neither
trains nor imports the graph encoder, so it sits beside :mod:`pricegraph.gnn`, not
inside it, and loads scikit-learn but not torch.

==============  ========================================================
module          what it holds
==============  ========================================================
``clustering``  features, the choice of ``k``, :func:`build_segments`,
                :func:`write_segments`
``profiles``    the profile and the name of each segment
``plot``        the 2-D map of customers by segment (matplotlib)
==============  ========================================================

The public names below are imported on first use (:func:`pricegraph.lazy_exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegraph import lazy_exports

if TYPE_CHECKING:
    from .clustering import (
        SegmentConfig,
        SegmentResult,
        adjusted_rand,
        behaviour_features,
        build_segments,
        purchase_lines,
        write_segments,
    )
    from .plot import plot_segments
    from .profiles import profile_segments, segment_key

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".clustering": (
            "SegmentConfig",
            "SegmentResult",
            "adjusted_rand",
            "behaviour_features",
            "build_segments",
            "purchase_lines",
            "write_segments",
        ),
        ".plot": ("plot_segments",),
        ".profiles": ("profile_segments", "segment_key"),
    },
)

__all__ = [
    "SegmentConfig",
    "SegmentResult",
    "adjusted_rand",
    "behaviour_features",
    "build_segments",
    "plot_segments",
    "profile_segments",
    "purchase_lines",
    "segment_key",
    "write_segments",
]
