"""Driver and session options of the Neo4j backend: pure values, tested without a server.

The store passes :func:`driver_options` to ``neo4j.GraphDatabase.driver`` and
:data:`BULK_FETCH_SIZE` to the sessions of whole-table reads; nothing here
connects.
"""

from __future__ import annotations

from typing import Any

BULK_FETCH_SIZE = -1
"""Records per ``PULL`` for whole-table reads (``edge_arrays``, ``node_frame``,
``read_cypher``): -1 asks for every record at once instead of the driver's default
1,000 per round trip; the rows are all kept in memory by the caller anyway."""

SILENCED_CLASSIFICATIONS = ("UNRECOGNIZED",)
"""Notification classifications the server is asked not to send. ``UNRECOGNIZED``
covers "the relationship type ... does not exist" for the schema's types that hold
no edge yet: ``counts()`` and the reads of a fresh database ask for every type, and
the driver would log each warning (seven per ``pricegraph reset``)."""

MIN_SEVERITY = "WARNING"
"""The lowest notification severity the server sends (drops ``INFORMATION``)."""


def driver_options(*, connection_timeout_s: float, max_retry_time_s: float) -> dict[str, Any]:
    """Keyword arguments for ``neo4j.GraphDatabase.driver`` (besides URI and auth).

    Notification filters need a Neo4j 5.7 server or newer (the driver refuses them
    on older ones); they only change what the server reports, never a result.

    Args:
        connection_timeout_s: Seconds to wait for a TCP connection to a server.
        max_retry_time_s: Seconds a managed transaction is retried after transient
            failures before the error is raised.

    Returns:
        ``connection_timeout``, ``max_transaction_retry_time``,
        ``notifications_min_severity`` and ``notifications_disabled_classifications``,
        as the driver's own enum values.
    """
    from neo4j import NotificationDisabledClassification, NotificationMinimumSeverity

    return {
        "connection_timeout": connection_timeout_s,
        "max_transaction_retry_time": max_retry_time_s,
        "notifications_min_severity": NotificationMinimumSeverity[MIN_SEVERITY],
        "notifications_disabled_classifications": [
            NotificationDisabledClassification[name] for name in SILENCED_CLASSIFICATIONS
        ],
    }


__all__ = ["BULK_FETCH_SIZE", "MIN_SEVERITY", "SILENCED_CLASSIFICATIONS", "driver_options"]
