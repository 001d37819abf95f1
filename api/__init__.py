"""The top layer: settings, the ``pricegraph`` command line (and, later, GraphQL)."""

from .settings import Settings, VectorConfig

__all__ = ["Settings", "VectorConfig"]
