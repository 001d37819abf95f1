"""Fixtures of the pricing tests: the quote-service world (built once per module)."""

from quote_support import world  # noqa: F401  (a pytest fixture, registered by import)
