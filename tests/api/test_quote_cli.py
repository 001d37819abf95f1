"""Smoke test of ``pricegraph quote`` and ``pricegraph audit`` on a tiny world."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import run_cli as _run
from cli_support import runner

import pricegraph.api.commands.quote  # noqa: F401  (registers the commands)
from pricegraph.api.cli import app


def test_quote_and_audit_commands(env: Path) -> None:
    _run("generate", "--customers", "40", "--products", "30", "--days", "30", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    out = _run("quote", "C00001", "P00001", "--requested-by", "key-7")
    assert "Quote" in out and "Zone 'list'" in out and "Not personalised." in out
    assert (env / "var" / "audit" / "quotes.sqlite").exists()
    listed = _run("audit", "--customer", "C00001")
    assert "C00001" in listed and "P00001" in listed and "key-7" in listed and "of 1" in listed
    assert "no quotes match" in _run("audit", "--product", "P00002")


def test_quote_unknown_customer_exits_with_its_name(env: Path) -> None:
    _run("generate", "--customers", "20", "--products", "30", "--days", "10", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    result = runner.invoke(app, ["quote", "NOPE", "P00001"])
    assert result.exit_code == 2 and "customer 'NOPE' not found" in result.output


def test_train_pricing_from_the_graph_then_quote_with_it(env: Path) -> None:
    _run("generate", "--customers", "120", "--products", "40", "--days", "120", "--seed", "4")
    (env / "var" / "world" / "ground_truth").rename(env / "gone")  # real data has none
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    refused = runner.invoke(app, ["train-pricing"])
    assert refused.exit_code == 2 and "--from-graph" in refused.output
    args = ["--from-graph", "--products", "10", "--macro-steps", "96", "--micro-steps", "100"]
    out = _run("train-pricing", *args, "--explore-episodes", "4", "--eval-episodes", "2")
    assert "market: 10 products" in out and "checkpoint hier-" in out
    latest = env / "var" / "models" / "pricing" / "latest"
    assert (latest / "manifest.json").is_file()
    manifest = json.loads((latest / "manifest.json").read_text())
    assert "segment multiplier" in _run("quote", "C00001", manifest["product_ids"][0])
    assert manifest["version"] in _run("audit", "--customer", "C00001")
