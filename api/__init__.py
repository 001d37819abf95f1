"""The top layer: settings, the ``pricegraph`` command line and the GraphQL API.

``Settings`` is imported on first use (:func:`pricegraph.lazy_exports`), so that
``pricegraph --help`` does not build the settings models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricegraph import lazy_exports

if TYPE_CHECKING:
    from .settings import Settings

__getattr__, __dir__ = lazy_exports(__name__, {".settings": ("Settings",)})

__all__ = ["Settings"]
