"""Fixtures of the pricing tests: the quote-service world (built once per module)."""

from support.quotes import world  # noqa: F401  (a pytest fixture, registered by import)
