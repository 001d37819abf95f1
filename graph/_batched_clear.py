"""Batched deletion in Cypher that both stores run (Neo4j and LadybugDB).

Each statement deletes at most ``$limit`` elements and returns ``deleted``;
:func:`drain` runs one until it deletes fewer, one transaction per run, so a
clear of any size holds at most ``$limit`` deletions per transaction and an
interrupt (Ctrl-C) rolls back only the batch in flight.
"""

from __future__ import annotations

from collections.abc import Callable

from .schema import RelSpec


def clear_label(label: str) -> str:
    """Delete up to ``$limit`` nodes of ``label`` with their edges; returns ``deleted``.

    ``clear_statements`` (each store's) deletes the schema's relationships first, so the
    ``DETACH`` only ever meets the few edges outside the schema and a batch stays
    ``$limit`` nodes, not ``$limit`` nodes and all their purchases.
    """
    return f"MATCH (n:{label}) WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS deleted"


def clear_relationships(spec: RelSpec) -> str:
    """Delete up to ``$limit`` edges of one type; returns ``deleted``."""
    return (
        f"MATCH (:{spec.source})-[r:{spec.type}]->(:{spec.target}) "
        "WITH r LIMIT $limit DELETE r RETURN count(*) AS deleted"
    )


def drain(delete_batch: Callable[[int], int], limit: int) -> int:
    """Call ``delete_batch(limit)`` until it deletes fewer than ``limit``; the total.

    Args:
        delete_batch: Deletes at most its argument's number of elements in one
            transaction and returns how many it deleted.
        limit: Elements per transaction (>= 1).

    Raises:
        ValueError: ``limit`` < 1.
    """
    if limit < 1:
        raise ValueError(f"drain limit: expected an integer >= 1, got {limit}")
    total = 0
    while True:
        deleted = delete_batch(limit)
        total += deleted
        if deleted < limit:
            return total


__all__ = ["clear_label", "clear_relationships", "drain"]
