"""Running ``pricegraph`` commands in-process in tests (with ``env`` of tests/api/conftest)."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from pricegraph.api.cli import app

runner = CliRunner()


def run_cli(*args: str, **kwargs: Any) -> str:
    """Run ``pricegraph *args``; assert it exits 0 (showing its output if not)."""
    result = runner.invoke(app, list(args), **kwargs)
    assert result.exit_code == 0, result.output
    return result.output
