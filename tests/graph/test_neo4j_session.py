"""The Neo4j session without a server: an explicit transaction commits, rolls back on an
error, and is dropped at once (no ROLLBACK to wait for) on an interrupt."""

from __future__ import annotations

import contextlib

import neo4j
import pytest

from pricegraph.graph._neo4j_session import _abandon
from pricegraph.graph.neo4j_store import Neo4jGraph


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


class _Session:
    """A driver session whose transaction records how it ended."""

    def __init__(self) -> None:
        self.ended: list[str] = []
        self.is_closed = False

    def begin_transaction(self) -> _Session:
        return self

    def _on_cancel(self) -> None:
        self.ended.append("cancelled")

    def rollback(self) -> None:
        self.ended.append("rolled back")

    def commit(self) -> None:
        self.ended.append("committed")

    def close(self) -> None:
        self.is_closed = True


@pytest.mark.parametrize(
    ("error", "ended"),
    [(None, ["committed"]), (ValueError, ["rolled back"]), (KeyboardInterrupt, ["cancelled"])],
)
def test_a_transaction_ends_by_how_its_block_ends(
    monkeypatch: pytest.MonkeyPatch, error: type[BaseException] | None, ended: list[str]
) -> None:
    monkeypatch.setattr(neo4j.Driver, "verify_connectivity", lambda self, **config: None)
    monkeypatch.setattr(Neo4jGraph, "ensure_schema", lambda self: None)
    graph = Neo4jGraph("bolt://127.0.0.1:1")
    session = _Session()
    monkeypatch.setattr(graph._session._driver, "session", lambda **config: session)
    try:
        with contextlib.suppress(ValueError, KeyboardInterrupt), graph.transaction():
            if error is not None:
                raise error
        assert session.ended == ended and session.is_closed
    finally:
        graph.close()
