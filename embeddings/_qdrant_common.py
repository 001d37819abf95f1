"""Pure helpers shared by the Qdrant backends (Edge and server): ids, checks, filters.

Nothing here touches a database, so both backends map keys, validate vectors and
read a :class:`~pricegraph.embeddings.base.SearchFilter` the same way; each
backend only turns :class:`FilterParts` into its own library's classes.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np

from ..errors import VectorStoreError
from ..plain import plain_value
from .base import CollectionSpec, ScoredItem, SearchFilter, VectorPoint

POINT_NAMESPACE = uuid.UUID("6f1c1a5e-3b0d-5c55-9a53-70726963656b")
"""Namespace of point ids: ``uuid5(POINT_NAMESPACE, f"{collection}/{key}")``. Never change it:
stored points would no longer be found by key."""

KEY_FIELD = "key"
"""Payload field that holds the item's key."""

PAYLOAD_KINDS = ("bool", "float", "integer", "keyword")
"""Payload index kinds of :class:`~pricegraph.embeddings.base.CollectionSpec`."""

_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def point_id(collection: str, key: str) -> str:
    """The Qdrant point id of ``key`` in ``collection`` (a UUID5 string).

    The logical collection name is used (without any server-side prefix), so an
    item has the same id in every backend.
    """
    return str(uuid.uuid5(POINT_NAMESPACE, f"{collection}/{key}"))


def check_collection_name(name: str) -> str:
    """Return ``name`` if it is a safe collection name (also a folder name), else raise.

    Raises:
        VectorStoreError: Empty, too long, or with characters other than letters,
            digits, ``_``, ``.`` and ``-`` (or starting with ``.``/``-``).
    """
    if not isinstance(name, str) or not _COLLECTION_NAME.match(name):
        raise VectorStoreError(
            f"collection name {name!r}: expected 1-128 letters, digits, '_', '.' or '-' "
            "(not starting with '.' or '-')"
        )
    return name


def check_using(collection: str, using: str, sizes: Mapping[str, int], operation: str) -> None:
    """Raise unless ``using`` is a vector of the collection (skipped when sizes are unknown)."""
    if sizes and using not in sizes:
        raise VectorStoreError(
            f"{operation} in collection {collection!r}: unknown vector {using!r}, "
            f"expected one of {sorted(sizes)}"
        )


def check_vector(
    vector: Any, collection: str, using: str, sizes: Mapping[str, int], operation: str
) -> np.ndarray:
    """``vector`` as a finite float32 ``[dim]`` array of the size of vector ``using``.

    Args:
        vector: Array-like of numbers.
        collection: Collection name, for messages.
        using: Vector name.
        sizes: Vector name -> size of the collection (empty: unknown, not checked).
        operation: Operation (and key, if any), for messages.

    Raises:
        VectorStoreError: Unknown vector name, not one-dimensional, wrong size, or
            not finite.
    """
    check_using(collection, using, sizes, operation)
    array = np.asarray(vector, dtype=np.float32)
    where = f"{operation} in collection {collection!r}, vector {using!r}"
    expected_size = sizes.get(using)
    if array.ndim != 1:
        raise VectorStoreError(f"{where}: expected a 1-d vector, got shape {array.shape}")
    if expected_size is not None and array.shape[0] != expected_size:
        raise VectorStoreError(f"{where}: expected size {expected_size}, got {array.shape[0]}")
    if not np.isfinite(array).all():
        raise VectorStoreError(f"{where}: vector has NaN or infinite values")
    return array


@contextlib.contextmanager
def backend_errors(
    collection: str | None,
    operation: str,
    *,
    location: str | None = None,
    secret: str | None = None,
) -> Iterator[None]:
    """Re-raise any backend exception as :class:`VectorStoreError` naming the operation.

    ``location`` (a server URL) is named; ``secret`` (an API key) is masked out of
    the message if the backend echoes it.
    """
    try:
        yield
    except VectorStoreError:
        raise
    except Exception as exc:
        where = f" in collection {collection!r}" if collection is not None else ""
        at = f" (Qdrant at {location})" if location else ""
        detail = str(exc) or type(exc).__name__
        if secret:
            detail = detail.replace(secret, "***")
        raise VectorStoreError(f"{operation}{where}{at} failed: {detail}") from exc


def check_spec(spec: CollectionSpec) -> None:
    """Validate a collection spec: a safe name, vectors, known payload index kinds.

    Raises:
        VectorStoreError: Naming the collection and the offending entry.
    """
    check_collection_name(spec.name)
    if not spec.vector_sizes or any(size < 1 for size in spec.vector_sizes.values()):
        raise VectorStoreError(
            f"collection {spec.name!r}: expected named vectors of size >= 1, "
            f"got {dict(spec.vector_sizes)}"
        )
    for name, kind in spec.payload_indexes.items():
        if kind not in PAYLOAD_KINDS:
            raise VectorStoreError(
                f"collection {spec.name!r}, payload index {name!r}: expected one of "
                f"{list(PAYLOAD_KINDS)}, got {kind!r}"
            )


def check_limit(collection: str, limit: int) -> None:
    """Raise unless ``limit`` >= 1."""
    if limit < 1:
        raise VectorStoreError(
            f"search in collection {collection!r}: limit must be >= 1, got {limit}"
        )


def point_vectors(
    collection: str, point: VectorPoint, sizes: Mapping[str, int]
) -> dict[str, np.ndarray]:
    """The named vectors of ``point``, each checked by :func:`check_vector`."""
    operation = f"upsert of key {point.key!r}"
    return {
        name: check_vector(vector, collection, name, sizes, operation)
        for name, vector in point.vectors.items()
    }


def stored_payload(collection: str, key: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload to store: ``payload`` in plain Python plus ``key``.

    Raises:
        VectorStoreError: ``key`` is not a non-empty string, or the payload has a
            ``key`` field that differs from it.
    """
    if not isinstance(key, str) or not key:
        raise VectorStoreError(
            f"upsert into {collection!r}: keys must be non-empty strings, got {key!r}"
        )
    if KEY_FIELD in payload and payload[KEY_FIELD] != key:
        raise VectorStoreError(
            f"upsert into {collection!r}, key {key!r}: payload field 'key' is reserved, "
            f"got {payload[KEY_FIELD]!r}"
        )
    stored = {str(name): plain_value(value) for name, value in payload.items()}
    stored[KEY_FIELD] = key
    return stored


def result_payload(payload: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """Split a stored payload into ``(key, payload without key)``."""
    rest = dict(payload or {})
    key = rest.pop(KEY_FIELD, "")
    return str(key), rest


def scored_items(hits: Iterable[tuple[Mapping[str, Any] | None, float]]) -> list[ScoredItem]:
    """Turn ``(stored payload, score)`` hits into items ordered by score desc, then key."""
    items = []
    for payload, score in hits:
        key, rest = result_payload(payload)
        items.append(ScoredItem(key=key, score=float(score), payload=rest))
    items.sort(key=lambda item: (-item.score, item.key))
    return items


def check_examples(
    collection: str,
    positive: Sequence[str],
    negative: Sequence[str],
    found: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Validate recommend examples: a positive key, string keys, all ``found`` (if given).

    Raises:
        VectorStoreError: No positive key, a key that is not a string, or keys
            missing from ``found`` (named in the message).
    """
    where = f"recommend in collection {collection!r}"
    if not positive:
        raise VectorStoreError(f"{where}: at least one positive key is required")
    keys = [*positive, *negative]
    if not all(isinstance(key, str) for key in keys):
        raise VectorStoreError(f"{where}: keys must be strings, got {keys!r}")
    missing = sorted({key for key in keys if found is not None and key not in found})
    if missing:
        raise VectorStoreError(f"{where}: example keys not in the collection: {missing!r}")


def average_vector(positive: np.ndarray, negative: np.ndarray | None) -> np.ndarray:
    """Qdrant's ``average_vector`` recommend query: ``2·mean(pos) − mean(neg)``.

    Without negatives it is ``mean(pos)``; a nearest search with it (cosine
    normalises it) is what the server runs.

    Args:
        positive: ``float32 [num_positive, dim]``, at least one row.
        negative: ``float32 [num_negative, dim]``, or ``None``.

    Returns:
        ``float32 [dim]``.
    """
    mean_positive = positive.mean(axis=0)
    if negative is None or len(negative) == 0:
        return mean_positive.astype(np.float32)
    return (2.0 * mean_positive - negative.mean(axis=0)).astype(np.float32)


@dataclass(frozen=True)
class FilterParts:
    """A :class:`SearchFilter` in backend-neutral pieces.

    Attributes:
        matches: ``(field, value)`` with value a bool, int or str (``MatchValue``).
        match_any: ``(field, values)`` with values all str or all int (``MatchAny``).
        ranges: ``(field, gte, lte)``, either bound possibly ``None``.
        exclude_ids: Point ids excluded (``must_not`` ``HasId``).
    """

    matches: list[tuple[str, bool | int | str]] = field(default_factory=list)
    match_any: list[tuple[str, list[str] | list[int]]] = field(default_factory=list)
    ranges: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    exclude_ids: list[str] = field(default_factory=list)


def _match_scalar(collection: str, name: str, value: Any) -> bool | int | str:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, str):
        return value
    raise VectorStoreError(
        f"search in collection {collection!r}, filter equals[{name!r}]: expected a keyword, "
        f"integer or bool, got {type(value).__name__} {value!r}"
    )


def _bound(collection: str, name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise VectorStoreError(
            f"search in collection {collection!r}, filter ranges[{name!r}]: expected numeric "
            f"bounds, got {value!r}"
        )
    return float(value)


def filter_parts(collection: str, where: SearchFilter | None) -> FilterParts:
    """Read ``where`` into :class:`FilterParts`, validating the values.

    Args:
        collection: Logical collection name (point ids and messages).
        where: The filter, or ``None``.

    Raises:
        VectorStoreError: An ``equals`` value that is not a keyword, integer or bool;
            an any-of list mixing types or holding bools; a range without bounds.
    """
    parts = FilterParts()
    if where is None:
        return parts
    for name, value in where.equals.items():
        if isinstance(value, list | tuple | set | frozenset | np.ndarray):
            values = [_match_scalar(collection, name, item) for item in value]
            kinds = {type(item) for item in values}
            if bool in kinds or len(kinds) > 1:
                raise VectorStoreError(
                    f"search in collection {collection!r}, filter equals[{name!r}]: an any-of "
                    f"list must hold only strings or only integers, got {list(value)!r}"
                )
            parts.match_any.append((name, values))  # type: ignore[arg-type]
        else:
            parts.matches.append((name, _match_scalar(collection, name, value)))
    for name, (low, high) in where.ranges.items():
        gte, lte = _bound(collection, name, low), _bound(collection, name, high)
        if gte is None and lte is None:
            raise VectorStoreError(
                f"search in collection {collection!r}, filter ranges[{name!r}]: "
                "expected at least one bound, got (None, None)"
            )
        parts.ranges.append((name, gte, lte))
    parts.exclude_ids.extend(point_id(collection, key) for key in where.exclude_keys)
    return parts


def qdrant_filter(
    models: Any,
    parts: FilterParts,
    *,
    range_type: str,
    has_id: Callable[[list[str]], Any],
    match_value: Callable[[Any], Any] = lambda value: value,
) -> Any | None:
    """Build a Qdrant ``Filter`` from ``parts`` with either library's classes.

    ``qdrant_client.models`` and ``qdrant_edge`` share the class names used here
    (``Filter``, ``FieldCondition``, ``MatchValue``, ``MatchAny``) and keyword names;
    they differ in the range class, the id condition and how a bool is read.

    Args:
        models: The module holding the classes.
        parts: The filter, validated.
        range_type: Name of the range class (``"Range"`` or ``"RangeFloat"``).
        has_id: Builds the id condition from point ids.
        match_value: Converts a ``MatchValue`` value before it is passed.

    Returns:
        The filter, or ``None`` when ``parts`` has no condition.
    """
    must: list[Any] = [
        models.FieldCondition(key=name, match=models.MatchValue(value=match_value(value)))
        for name, value in parts.matches
    ]
    must += [
        models.FieldCondition(key=name, match=models.MatchAny(any=values))
        for name, values in parts.match_any
    ]
    range_class = getattr(models, range_type)
    must += [
        models.FieldCondition(key=name, range=range_class(gte=gte, lte=lte))
        for name, gte, lte in parts.ranges
    ]
    must_not = [has_id(parts.exclude_ids)] if parts.exclude_ids else None
    if not must and not must_not:
        return None
    return models.Filter(must=must or None, must_not=must_not)


__all__ = [
    "KEY_FIELD",
    "PAYLOAD_KINDS",
    "POINT_NAMESPACE",
    "FilterParts",
    "average_vector",
    "backend_errors",
    "check_collection_name",
    "check_examples",
    "check_limit",
    "check_spec",
    "check_using",
    "check_vector",
    "filter_parts",
    "plain_value",
    "point_id",
    "point_vectors",
    "qdrant_filter",
    "result_payload",
    "scored_items",
    "stored_payload",
]
