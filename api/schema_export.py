"""Print or write the GraphQL SDL: ``python -m pricegraph.api.schema_export [--write]``.

``api/schema.graphql`` is the committed copy; a test checks it is current.
"""

from __future__ import annotations

import sys
from pathlib import Path

from strawberry.printer import print_schema

from .schema import build_schema

SDL_PATH = Path(__file__).with_name("schema.graphql")


def schema_sdl() -> str:
    """The schema's SDL, ending with a newline."""
    return print_schema(build_schema()).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the SDL, or with ``--write`` write it to :data:`SDL_PATH`."""
    args = sys.argv[1:] if argv is None else argv
    if "--write" in args:
        SDL_PATH.write_text(schema_sdl(), encoding="utf-8")
        print(f"wrote {SDL_PATH}")
    else:
        sys.stdout.write(schema_sdl())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["SDL_PATH", "main", "schema_sdl"]
