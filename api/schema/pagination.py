"""Relay pagination: checked ``first`` arguments and opaque cursors.

Browsable lists use *keyset* cursors (``after`` the last key seen, stable while
items are added); ranked lists (search results, the audit log) use *offset*
cursors. Both are base64 text a client must not parse.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from strawberry import relay

from ..config import ApiLimits
from ..errors import invalid

T = TypeVar("T", bound=relay.Node)


def page_size(first: int | None, limits: ApiLimits, *, field: str = "first") -> int:
    """``first`` checked against ``[1, max_page_size]`` (default page size when ``None``).

    Raises:
        ApiError: INVALID_INPUT naming ``field``.
    """
    if first is None:
        return limits.default_page_size
    if not 1 <= first <= limits.max_page_size:
        raise invalid(field, f"expected 1 <= {field} <= {limits.max_page_size}, got {first}", first)
    return first


def batch_size(items: Sequence[object], limits: ApiLimits, *, field: str) -> None:
    """Refuse an empty batch or one above ``max_batch_size``."""
    if not 1 <= len(items) <= limits.max_batch_size:
        raise invalid(
            field, f"expected 1 to {limits.max_batch_size} items, got {len(items)}", len(items)
        )


MAX_OFFSET_DIGITS = 9
"""Longest offset an offset cursor may carry (no list here is a billion items long)."""


def encode_cursor(kind: str, value: str | int) -> str:
    """An opaque cursor for ``kind`` (``key`` or ``offset``) and ``value``."""
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str | None, kind: str) -> str | None:
    """The value of a cursor made by :func:`encode_cursor` for ``kind``.

    Raises:
        ApiError: INVALID_INPUT on field ``after`` for a malformed or foreign cursor.
    """
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    prefix, _, value = text.partition(":")
    if prefix != kind or not value:
        raise invalid("after", "expected a cursor returned by this list", cursor)
    return value


def decode_offset(cursor: str | None) -> int:
    """The offset after an offset cursor (0 without one)."""
    value = decode_cursor(cursor, "offset")
    if value is None:
        return 0
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_OFFSET_DIGITS):
        raise invalid("after", "expected a cursor returned by this list", (cursor or "")[:40])
    return int(value) + 1


def keyset_connection(nodes: Sequence[T], keys: Sequence[str], first: int) -> relay.Connection[T]:
    """The first ``first`` of ``nodes`` as a connection (one more was read to see if more exist)."""
    shown = list(zip(nodes, keys, strict=True))[:first]
    edges = [relay.Edge(node=node, cursor=encode_cursor("key", key)) for node, key in shown]
    return _connection(edges, has_next=len(nodes) > first)


def offset_connection(nodes: Sequence[T], offset: int, first: int) -> relay.Connection[T]:
    """A connection of ``nodes[:first]`` starting at position ``offset``."""
    edges = [
        relay.Edge(node=node, cursor=encode_cursor("offset", offset + i))
        for i, node in enumerate(nodes[:first])
    ]
    return _connection(edges, has_next=len(nodes) > first, has_previous=offset > 0)


def _connection(
    edges: list[relay.Edge[T]], *, has_next: bool, has_previous: bool = False
) -> relay.Connection[T]:
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


__all__ = [
    "MAX_OFFSET_DIGITS",
    "batch_size",
    "decode_cursor",
    "decode_offset",
    "encode_cursor",
    "keyset_connection",
    "offset_connection",
    "page_size",
]
