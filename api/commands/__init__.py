"""One module per ``pricegraph`` command; each registers itself on the shared app."""

__all__: list[str] = []
