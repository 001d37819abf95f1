"""The Neo4j session without a server: an interrupt drops a transaction at once."""

from __future__ import annotations

import neo4j

from pricegraph.graph._neo4j_session import _abandon


def test_an_interrupted_transaction_is_cancelled_not_rolled_back() -> None:
    # The driver's own Transaction: its session's cancel handler runs (the connection
    # is killed), and no ROLLBACK is sent (it would wait behind the running batch).
    cancelled: list[bool] = []
    tx = neo4j.Transaction(
        None,  # no connection: a ROLLBACK would fail
        1000,
        None,
        lambda: None,
        lambda exc: None,
        lambda: cancelled.append(True),
        lambda database: None,
    )
    _abandon(tx)
    assert cancelled == [True]


def test_without_the_cancel_path_it_falls_back_to_a_rollback() -> None:
    class Transaction:
        is_rolled_back = False

        def rollback(self) -> None:
            self.is_rolled_back = True

    tx = Transaction()
    _abandon(tx)  # type: ignore[arg-type]
    assert tx.is_rolled_back
