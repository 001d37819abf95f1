"""How ``read_cypher`` stays read-only: the procedure allowlist (:mod:`graph.base`) and
the embedded store's read-only transaction (the contract suite covers both backends)."""

from __future__ import annotations

import pandas as pd
import pytest

from pricegraph.errors import ReadOnlyQueryError
from pricegraph.graph import GraphStore
from pricegraph.graph.base import READ_ONLY_PROCEDURES, check_read_only_procedures


@pytest.mark.parametrize(
    "query",
    [
        "CALL TABLE_INFO('Brand') RETURN *",
        "call show_tables() RETURN name",
        "CALL db.labels() YIELD label RETURN label",
        "MATCH (b:Brand) WHERE b.name = 'CALL CREATE_FTS_INDEX(x)' RETURN b.id",
        "MATCH (b:Brand) // CALL DROP_FTS_INDEX('Brand', 'f')\\nRETURN b.id",
    ],
)
def test_allowed_calls_and_quoted_text_pass(query: str) -> None:
    check_read_only_procedures(query)


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("CALL CREATE_FTS_INDEX('Brand', 'f', ['name'])", "'CALL CREATE_FTS_INDEX'"),
        ("CALL table_info('Brand') RETURN * UNION CALL db.createLabel('X')", "db.createLabel"),
        ("CALL { CREATE (:Brand {id: 'x'}) }", "without a procedure name"),
        ("CALL `db.labels`()", "without a procedure name"),
        ("CALL threads=1", "'CALL threads'"),
    ],
)
def test_other_calls_are_refused_by_name(query: str, refused: str) -> None:
    with pytest.raises(ReadOnlyQueryError, match="READ_ONLY_PROCEDURES") as caught:
        check_read_only_procedures(query)
    assert refused in str(caught.value)


def test_the_allowlist_is_lower_case() -> None:
    assert all(name == name.lower() for name in READ_ONLY_PROCEDURES)


def _brands(store: GraphStore) -> None:
    store.upsert_nodes("Brand", pd.DataFrame({"id": ["b1", "b2"], "name": ["Verne", "Aldo"]}))


def test_embedded_reads_run_in_a_read_only_transaction(embedded: GraphStore) -> None:
    _brands(embedded)
    # past the clause check, LadybugDB itself refuses the write
    with pytest.raises(ReadOnlyQueryError, match="read-only transaction"):
        embedded._read_only("CREATE (:Brand {id: 'b3'})", {})  # type: ignore[attr-defined]
    with pytest.raises(ReadOnlyQueryError, match="read-only transaction"):
        embedded._read_only("MATCH (b:Brand) DETACH DELETE b", {})  # type: ignore[attr-defined]
    assert embedded.counts()["Brand"] == 2
    info = embedded.read_cypher("CALL TABLE_INFO('Brand') RETURN name")
    assert "name" in set(info["name"])
    # the connection is usable afterwards, and reads inside a transaction see its writes
    with embedded.transaction():
        embedded.upsert_nodes("Brand", pd.DataFrame({"id": ["b3"], "name": ["Hale"]}))
        inside = embedded.read_cypher("MATCH (b:Brand) RETURN count(b) AS n")
    assert int(inside["n"].iloc[0]) == 3
    assert int(embedded.read_cypher("MATCH (b:Brand) RETURN count(b) AS n")["n"].iloc[0]) == 3
