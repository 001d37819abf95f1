"""Stable GraphQL error codes, and the extension that maps and masks errors.

Every error of a response carries ``extensions.code``:

* ``NOT_FOUND``: an id names nothing (``kind`` and ``key`` say what was looked up);
* ``INVALID_INPUT``: an argument breaks a rule (``field`` names it, by its GraphQL
  name), or the query itself was refused (syntax, validation, depth, tokens, aliases,
  cost);
* ``CONFLICT``: a write names a stored entity with other content, e.g. an event id
  re-sent with another payload (``kind``, ``key`` and ``field`` say which); nothing of
  the write is stored;
* ``FORBIDDEN``: the API key's role may not use the field;
* ``UNAVAILABLE``: a model or store the field needs is not there (yet);
* ``INTERNAL``: anything else; the message is masked and the error is logged.

A message of ours never tells where the server keeps files (:func:`without_paths`;
the path goes to the log) and quotes at most :data:`MAX_VALUE_CHARS` characters of a
value or key (:func:`quoted`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.utils.str_converters import to_camel_case

from ..errors import (
    ConfigError,
    ConflictError,
    DataValidationError,
    GraphStoreError,
    GuardrailError,
    ModelError,
    NotFoundError,
    PricegraphError,
    RecordsError,
    VectorStoreError,
)

logger = logging.getLogger("pricegraph.api")


class ErrorCode(StrEnum):
    """Values of ``extensions.code``."""

    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class ApiError(Exception):
    """An error a resolver raises on purpose; its message reaches the client.

    Args:
        code: The stable code.
        message: What is wrong, naming the argument and the value.
        **facts: Extra ``extensions`` entries (``field``, ``kind``, ``key``, ...).
    """

    def __init__(self, code: ErrorCode, message: str, **facts: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extensions: dict[str, Any] = {
            "code": code.value,
            **{k: v for k, v in facts.items() if v is not None},
        }


def invalid(field: str, message: str, value: Any = None) -> ApiError:
    """An ``INVALID_INPUT`` error naming ``field``: ``"<field>: <message>"``."""
    return ApiError(ErrorCode.INVALID_INPUT, f"{field}: {message}", field=field, value=_json(value))


def not_found(field: str, kind: str, key: str, why: str = "not found") -> ApiError:
    """A ``NOT_FOUND`` error naming the argument ``field`` and the (quoted) ``key``."""
    key = quoted(key)
    return ApiError(
        ErrorCode.NOT_FOUND, f"{field}: {kind} {key!r} {why}", kind=kind, key=key, field=field
    )


def graphql_name(name: str) -> str:
    """The GraphQL name of a Python field name (``list_price`` -> ``listPrice``; several,
    comma-separated, each converted), as strawberry's name converter makes it."""
    return ",".join(to_camel_case(part.strip()) for part in name.split(","))


def unavailable(message: str) -> ApiError:
    """An ``UNAVAILABLE`` error."""
    return ApiError(ErrorCode.UNAVAILABLE, message)


_GUARDRAIL_FIELD = re.compile(r"pricing\.guardrails\.([A-Za-z_]+)")
_GUARDRAIL_INPUT = "input"
"""The argument of ``setGuardrails`` that guardrail errors name."""


def _guardrail_message(message: str) -> str:
    """``message`` with guardrail settings named as ``setGuardrails``' input fields
    (``pricing.guardrails.min_margin_pct`` -> ``input.minMarginPct``)."""
    from ..pricing.guardrails.config import GuardrailConfig

    message = _GUARDRAIL_FIELD.sub(
        lambda m: f"{_GUARDRAIL_INPUT}.{graphql_name(m.group(1))}", message
    )
    message = message.replace("pricing.guardrails", _GUARDRAIL_INPUT)
    names = "|".join(sorted(GuardrailConfig.model_fields, key=len, reverse=True))
    return re.sub(rf"\b({names})\b", lambda m: graphql_name(m.group(1)), message)


def _cut_key(message: str, key: Any) -> str:
    """``message`` with a long ``key`` quoted by its prefix (:func:`quoted`)."""
    text = str(key)
    return message.replace(text, quoted(text)) if len(text) > MAX_VALUE_CHARS else message


def from_pricegraph(exc: PricegraphError) -> ApiError:
    """The coded error of one of our exceptions (see the module docstring): keys quoted
    by a short prefix, fields by their GraphQL names."""
    if isinstance(exc, NotFoundError):
        return ApiError(
            ErrorCode.NOT_FOUND, _cut_key(str(exc), exc.key), kind=exc.kind, key=_json(exc.key)
        )
    if isinstance(exc, ConflictError):
        return ApiError(
            ErrorCode.CONFLICT,
            _cut_key(str(exc), exc.key),
            kind=exc.kind,
            key=_json(exc.key),
            field=graphql_name(exc.field) if exc.field else None,
        )
    if isinstance(exc, DataValidationError):
        return ApiError(
            ErrorCode.INVALID_INPUT,
            str(exc),
            field=graphql_name(exc.field) if exc.field else None,
            value=_json(exc.value),
        )
    if isinstance(exc, ConfigError):
        fields = [
            f"{_GUARDRAIL_INPUT}.{graphql_name(name)}"
            for name in _GUARDRAIL_FIELD.findall(str(exc))
        ]
        return ApiError(
            ErrorCode.INVALID_INPUT,
            _guardrail_message(str(exc)),
            field=fields[0] if fields else None,
            fields=fields or None,
        )
    if isinstance(exc, GuardrailError):
        return ApiError(ErrorCode.INVALID_INPUT, without_paths(str(exc)))
    if isinstance(exc, ModelError | GraphStoreError | VectorStoreError | RecordsError):
        logger.warning("unavailable: %s", exc)  # the detail (paths, driver) stays in the log
        return ApiError(ErrorCode.UNAVAILABLE, _UNAVAILABLE[type(exc).__name__])
    return ApiError(ErrorCode.INVALID_INPUT, without_paths(str(exc)))


_UNAVAILABLE = {
    "ModelError": "a model this answer needs is unavailable; try again later",
    "GraphStoreError": "the graph store is unavailable; try again later",
    "VectorStoreError": "the vector store is unavailable; try again later",
    "RecordsError": "the records database (audit log, approvals) is unavailable; try again later",
}
_PATH = re.compile(r"(?<![\w.])(?:/[\w.@+-]+){2,}/?")
MAX_VALUE_CHARS = 40
"""Longest prefix of a bad value an error quotes."""


def without_paths(message: str) -> str:
    """``message`` with server file paths (two or more ``/``-separated parts) replaced by
    ``<path>``: an error never tells a client where the server keeps its files."""
    return _PATH.sub("<path>", message)


def quoted(text: str) -> str:
    """``text`` as an error may quote it: at most :data:`MAX_VALUE_CHARS` characters, a
    longer one cut with an ellipsis (a client's value is never echoed whole)."""
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "\u2026"


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    return quoted(str(value))


def coded(error: GraphQLError, mask: Callable[[GraphQLError], GraphQLError]) -> GraphQLError:
    """``error`` with its stable code (see :class:`CodedMaskErrors`); ``mask`` hides the rest."""
    original = error.original_error
    if isinstance(original, PricegraphError):
        original = from_pricegraph(original)
    if isinstance(original, ApiError):  # expected: one line in the log, with its code
        logger.info("%s at %s: %s", original.code.value, error.path, str(original)[:200])
        return _with_extensions(error, without_paths(str(original)), original.extensions)
    if original is None or isinstance(original, GraphQLError):
        if (error.extensions or {}).get("code"):
            return error
        extensions = {**(error.extensions or {}), "code": ErrorCode.INVALID_INPUT.value}
        return _with_extensions(error, error.message, extensions)
    logger.error("unexpected error at %s: %r", error.path, original, exc_info=original)
    masked = mask(error)
    masked.extensions = {"code": ErrorCode.INTERNAL.value}
    return masked


class CodedMaskErrors(MaskErrors):
    """strawberry's ``MaskErrors`` that keeps coded errors and codes every error.

    * :class:`ApiError` and strawberry/graphql errors (permissions, syntax, validation,
      limits) stay as they are; the latter get ``FORBIDDEN`` or ``INVALID_INPUT``;
    * :class:`~pricegraph.errors.PricegraphError` becomes its coded error, path kept;
    * anything else is logged with its traceback and masked as ``INTERNAL``.

    strawberry skips operation hooks when parsing fails under ``ParserCache``, so the
    HTTP view applies :func:`coded` once more to the final errors (a no-op for errors
    that already carry a code).
    """

    def __init__(self) -> None:
        super().__init__(error_message=MASKED_MESSAGE)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [coded(error, self.anonymise_error) for error in errors]


MASKED_MESSAGE = "Internal server error."


def mask_error(error: GraphQLError) -> GraphQLError:
    """``error`` with its message and cause removed."""
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
    )


def _with_extensions(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


__all__ = [
    "MASKED_MESSAGE",
    "MAX_VALUE_CHARS",
    "ApiError",
    "CodedMaskErrors",
    "ErrorCode",
    "coded",
    "from_pricegraph",
    "graphql_name",
    "invalid",
    "mask_error",
    "not_found",
    "quoted",
    "unavailable",
    "without_paths",
]
