"""``pricegraph audit`` on a tiny world: ``--json`` records and ``--replay`` of a quote."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from support.cli import run_cli as _run
from support.cli import runner

from pricegraph.api.cli import app
from pricegraph.api.settings import Settings
from pricegraph.embeddings.pipeline import collection_specs
from pricegraph.embeddings.vector_factory import make_vector_store
from pricegraph.gnn.service import write_graph_vectors


def write_random_graph_vectors(customers: list[str], products: list[str]) -> None:
    """Give these customers and products ``graph`` vectors in the configured vector store
    (what ``pricegraph train-gnn`` does, without training)."""
    settings = Settings()
    specs = collection_specs(
        settings.vectors.collection_prefix,
        settings.embeddings.dimension,
        settings.vectors.graph_dim,
    )
    rng = np.random.default_rng(0)
    vectors = make_vector_store(settings.vectors)
    try:
        for kind, keys in (("customers", customers), ("products", products)):
            matrix = rng.normal(size=(len(keys), settings.vectors.graph_dim)).astype(np.float32)
            write_graph_vectors(vectors, specs[kind], np.array(keys), matrix, "enc-test")
    finally:
        vectors.close()


def test_audit_json_lists_quotes_and_replay_matches(env: Path) -> None:
    _run("generate", "--customers", "40", "--products", "30", "--days", "30", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    quoted = runner.invoke(app, ["quote", "C00003", "P00004", "--json", "--requested-by", "k-9"])
    assert quoted.exit_code == 0, quoted.output
    quote = json.loads(quoted.stdout)
    _run("quote", "C00004", "P00004")

    listed = runner.invoke(app, ["audit", "--json", "--customer", "C00003"])
    assert listed.exit_code == 0, listed.output
    [record] = json.loads(listed.stdout)
    assert record["quote_id"] == quote["quote_id"] and record["requested_by"] == "k-9"
    assert (record["customer_id"], record["product_id"]) == ("C00003", "P00004")
    assert record["output"]["price"] == quote["price"]
    assert record["output"]["rationale"] == quote["rationale"]
    assert record["model_versions"] == quote["model_versions"]
    assert record["inputs"]["state"]["product_id"] == "P00004"
    everything = json.loads(runner.invoke(app, ["audit", "--json"]).stdout)
    assert [r["customer_id"] for r in everything] == ["C00003", "C00004"]

    out = _run("audit", "--replay", quote["quote_id"])
    assert out.strip() == f"quote {quote['quote_id']} matches its record"
    replayed = runner.invoke(app, ["audit", "--replay", quote["quote_id"], "--json"])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout) == {
        "quote_id": quote["quote_id"],
        "is_match": True,
        "differences": [],
    }

    write_random_graph_vectors(["C00003", "C00004"], ["P00004"])  # the inputs change
    mismatch = runner.invoke(app, ["audit", "--replay", quote["quote_id"]])
    assert mismatch.exit_code == 1, mismatch.output
    lines = mismatch.stdout.splitlines()
    assert lines[0] == f"quote {quote['quote_id']} does not match its record:"
    assert any(line.strip().startswith("customer_vector: recorded hash None") for line in lines)


def test_replay_of_an_unknown_quote_exits_2_in_one_line(env: Path) -> None:
    result = runner.invoke(app, ["audit", "--replay", "no-such-quote"])
    assert result.exit_code == 2
    assert result.output == "error: quote 'no-such-quote' not found\n"
