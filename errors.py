"""The exception hierarchy of Pricegraph (a leaf module: it imports nothing of ours).

Every error a caller may want to handle derives from :class:`PricegraphError`.
Errors about input data carry the facts (file, row, field, value) as attributes
as well as in the message, so that the CLI, the API and the rejects file can use
them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class PricegraphError(Exception):
    """Root of every error raised by Pricegraph."""


class ConfigError(PricegraphError):
    """A setting is missing, malformed or contradicts another one."""


class DataValidationError(PricegraphError):
    """Input data breaks a rule of the schema.

    Args:
        message: What is wrong and what was expected.
        path: The file the data came from, if any.
        row: The 1-based line (CSV/JSONL, header is line 1) or row number.
        field: The schema field (or mapped source column) at fault.
        value: The offending value.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.row = row
        self.field = field
        self.value = value
        where = []
        if self.path is not None:
            where.append(self.path)
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f'field "{field}"')
        prefix = " ".join(where[:2]) + (", " + where[2] if len(where) > 2 else "")
        if len(where) == 1 and field is not None:
            prefix = where[0]
        super().__init__(f"{prefix}: {message}" if prefix else message)


class GraphStoreError(PricegraphError):
    """The graph store failed or refused an operation."""


class ReadOnlyQueryError(GraphStoreError):
    """A query given to the read-only Cypher entry point would write."""


class ConflictError(PricegraphError):
    """A write names a stored entity but carries other content (an event id re-sent
    with another payload); nothing of that write is stored.

    Args:
        message: What clashes, with the stored and the sent values.
        kind: What was written (e.g. the relationship type ``PURCHASED``).
        key: The first clashing key (e.g. the event id).
        field: The key's field (e.g. ``event_id``).
        keys: Every clashing key.
    """

    def __init__(
        self, message: str, *, kind: str, key: str, field: str, keys: list[str] | None = None
    ) -> None:
        self.kind = kind
        self.key = key
        self.field = field
        self.keys = keys or [key]
        super().__init__(message)


class VectorStoreError(PricegraphError):
    """The vector store failed or refused an operation."""


class ModelError(PricegraphError):
    """A model could not be loaded, trained or applied."""


class GuardrailError(PricegraphError):
    """A price could not be brought inside the configured guardrails."""


class RecordsError(PricegraphError):
    """The records database (audit log, approval queue, saved guardrails) cannot be
    opened, read or written."""


class NotFoundError(PricegraphError):
    """An entity looked up by id does not exist."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


__all__ = [
    "ConfigError",
    "ConflictError",
    "DataValidationError",
    "GraphStoreError",
    "GuardrailError",
    "ModelError",
    "NotFoundError",
    "PricegraphError",
    "ReadOnlyQueryError",
    "VectorStoreError",
]
