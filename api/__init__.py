"""The top layer: settings, the ``pricegraph`` command line (and, later, GraphQL)."""

from .settings import Settings

__all__ = ["Settings"]
