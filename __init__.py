"""Pricegraph: graph-centric customer and product intelligence for retail pricing."""

__version__ = "0.1.0"

__all__ = ["__version__"]
