"""Smoke and behaviour tests of every ``pricegraph`` command, on tiny data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.cli import run_cli as _run
from support.cli import runner

from pricegraph.api.cli import app


def test_help_lists_every_command() -> None:
    out = _run("--help")
    for command in ("generate", "load", "stats", "query", "reset", "config", "demo"):
        assert command in out


def test_generate_load_stats_query_reset(env: Path) -> None:
    out = _run("generate", "--customers", "60", "--products", "30", "--days", "20", "--seed", "3")
    mapping = env / "var" / "world" / "mapping.toml"
    assert mapping.exists() and "mapping.toml" in out
    out = _run("load", str(mapping))
    assert "Load report" in out and "events" in out
    stats = _run("stats")
    assert re.search(r"│ Customer\s+│ node\s+│\s+60 │", stats)
    rows = _run("query", "MATCH (c:Customer) RETURN count(c) AS n")
    assert "60" in rows
    rows = _run(
        "query",
        "MATCH (p:Product) WHERE p.list_price > $min RETURN count(p) AS n",
        "--param",
        "min:float=0",
    )
    assert "30" in rows
    # csv and json: every row and nothing else, past the table's --max-rows
    listing = "MATCH (c:Customer) RETURN c.id AS id ORDER BY id"
    csv = _run("query", listing, "--max-rows", "5", "--format", "csv")
    assert csv.splitlines()[0] == "id" and len(csv.splitlines()) == 61
    records = json.loads(_run("query", listing, "--max-rows", "5", "--format", "json"))
    assert len(records) == 60 and records[0] == {"id": csv.splitlines()[1]}
    table = _run("query", listing, "--max-rows", "5")
    assert "C00005" in table and "C00006" not in table and "5 of 60" in table
    _run("load", str(mapping))
    assert _run("stats") == stats  # idempotent
    _run("reset", "--yes")
    assert "│ Customer      │ node         │     0 │" in _run("stats")


def test_load_single_file_with_mapped_columns(env: Path) -> None:
    brands = env / "brands.csv"
    brands.write_text("code,label\nB1,Verne\nB2,\n", encoding="utf-8")
    out = _run(
        "load", str(brands), "--kind", "brands", "--map", "brand_id=code", "--map", "name=label"
    )
    assert "1 rows of brands.csv rejected" in out
    assert 'brands.csv row 3, field "name": missing required value' in out
    assert "Verne" in _run("query", "MATCH (b:Brand) RETURN b.name AS name")


def test_errors_are_one_line_with_exit_code_2(env: Path) -> None:
    result = runner.invoke(app, ["query", "MATCH (n:Customer) DETACH DELETE n"])
    assert result.exit_code == 2
    assert "read-only" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["load", str(env / "nope.csv"), "--kind", "brands"])
    assert result.exit_code == 2 and "nope.csv: file does not exist" in result.output
    result = runner.invoke(app, ["load", str(env / "x.csv")])
    assert result.exit_code == 2 and "--kind" in result.output


def test_reset_asks_first(env: Path) -> None:
    result = runner.invoke(app, ["reset"], input="n\n")
    assert result.exit_code == 1 and "Nothing deleted" in result.output


def test_config_masks_secrets(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEGRAPH_GRAPH__NEO4J_PASSWORD", "hunter2")
    out = _run("config")
    assert "hunter2" not in out and "**********" in out


def test_bad_setting_names_the_variable(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEGRAPH_GRAPH__BACKEND", "neo4j")
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 2
    assert "PRICEGRAPH_GRAPH__NEO4J_URI" in result.output


def test_demo_runs_end_to_end(env: Path) -> None:
    args = ["--customers", "50", "--products", "25", "--days", "15", "--no-embed", "--no-serve"]
    out = _run("demo", *args)
    assert "Load report" in out and "PURCHASED" in out and "pricegraph serve" in out
    assert "train the graph encoder" not in out  # no text vectors: nothing to train on
    assert 'personalizedPrice(customerId: \\"C' in out  # examples name a real customer


def test_embed_limited_then_resumed_with_plain_progress(env: Path) -> None:
    _run("generate", "--customers", "30", "--products", "20", "--brands", "5", "--days", "10")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    out = _run("embed", "--limit", "12", "--collection", "products")
    assert "left for the next run (--limit): 8 products" in out
    assert "embedding pricegraph_products: 12/12 (100.0 %)" in out  # plain, no terminal
    # customers are built from product vectors: none while 8 products have none
    out = _run("embed", "--collection", "customers")
    assert "customers not embedded: 8 products have no current text vector yet; run " in out
    assert "`pricegraph embed --collection products` first" in out
    assert "pricegraph_customers" not in out
    out = _run("embed", "--limit", "5")
    assert "left for the next run (--limit): 3 products" in out
    assert "customers not embedded: 3 products" in out
    out = _run("embed", "--collection", "products")
    assert "embedding pricegraph_products: 3/3 (100.0 %)" in out  # only the rest
    out = _run("embed", "--limit", "5", "--collection", "customers")
    assert "embedding pricegraph_customers: 5/5 (100.0 %)" in out  # at most 5 customers
    assert "left for the next run (--limit): " in out and " customers" in out
    out = _run("embed")
    assert "left for the next run" not in out and "embedding pricegraph_customers" in out
    assert "model calls: 0" in _run("embed")
    result = runner.invoke(app, ["embed", "--collection", "widgets"])
    assert result.exit_code == 2 and "unknown collections ['widgets']" in result.output


def test_embed_and_similar(env: Path) -> None:
    _run("generate", "--customers", "40", "--products", "20", "--brands", "5", "--days", "15")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    out = _run("embed", "--similar-edges", "3")
    assert "Embedding report" in out and "SIMILAR_TO edges (top 3): 60 created" in out
    assert "model calls: 0" in _run("embed")  # nothing changed: no model work
    hits = _run("similar", "--text", "leather bag", "--limit", "3")
    assert "score" in hits and "P000" in hits
    result = runner.invoke(
        app, ["similar", "--text", "leather bag", "--limit", "3", "--format", "json"]
    )
    records = json.loads(result.stdout)  # the model's load messages go to standard error
    assert len(records) == 3 and all(r["key"] in hits for r in records)
    assert records[0]["score"] >= records[1]["score"] >= records[2]["score"]
    customers = _run("similar", "--customer", "C00001", "--limit", "2")
    assert "C000" in customers
    result = runner.invoke(app, ["similar"])
    assert result.exit_code == 2 and "exactly one of" in result.output
    result = runner.invoke(app, ["similar", "--product", "NOPE"])
    assert result.exit_code == 2 and "'NOPE' not found" in result.output
