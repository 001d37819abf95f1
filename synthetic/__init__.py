"""The synthetic world: a seeded luxury-fashion retailer with known ground truth.

A data source of its own, beside :mod:`pricegraph.loaders`: :func:`generate_world`
draws a catalog, customers with latent tastes, price points and events from a known
choice model; :func:`write_world` saves them as files the loaders read (with a
``mapping.toml``) and the ground truth that the pricing simulator and oracle use.
It imports nothing of the graph, the loaders or the models, so loaders, pricing,
tests, benches and the demo may all use it.

==============  ========================================================
module          what it holds
==============  ========================================================
``config``      :class:`WorldConfig` and the segment presets
``names``       brand and competitor names
``text``        vocabularies and product text templates
``catalog``     category tree, brands, products, competitors
``customers``   customers and their latent tastes
``prices``      list, markdown and competitor price points
``events``      visits, views, choices and returns
``world``       :func:`generate_world`, :func:`write_world`, the ground truth
``nasty``       :func:`nasty_world`: a world with real files' quirks
==============  ========================================================

The public names below are imported on first use (:func:`pricegraph.lazy_exports`):
reading a :class:`WorldConfig` does not load pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegraph import lazy_exports

if TYPE_CHECKING:
    from .config import SEGMENT_PRESETS, SegmentSpec, WorldConfig
    from .nasty import nasty_world
    from .world import (
        FORMULAS,
        TABLES,
        GroundTruth,
        World,
        generate_world,
        read_ground_truth,
        write_world,
    )

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".config": ("SEGMENT_PRESETS", "SegmentSpec", "WorldConfig"),
        ".nasty": ("nasty_world",),
        ".world": (
            "FORMULAS",
            "TABLES",
            "GroundTruth",
            "World",
            "generate_world",
            "read_ground_truth",
            "write_world",
        ),
    },
)

__all__ = [
    "FORMULAS",
    "SEGMENT_PRESETS",
    "TABLES",
    "GroundTruth",
    "SegmentSpec",
    "World",
    "WorldConfig",
    "generate_world",
    "nasty_world",
    "read_ground_truth",
    "write_world",
]
