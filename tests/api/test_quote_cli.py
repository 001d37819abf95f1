"""Smoke test of ``pricegraph quote`` and ``pricegraph audit`` on a tiny world."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import pricegraph.api.commands.quote  # noqa: F401  (registers the commands)
from pricegraph.api.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PRICEGRAPH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRICEGRAPH_GRAPH__BUFFER_POOL_MB", "128")
    monkeypatch.setenv("PRICEGRAPH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


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
