"""Running ``pricegraph`` commands in-process in tests (with ``env`` of tests/api/conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from pricegraph.api.cli import app

runner = CliRunner()


def run_cli(*args: str, **kwargs: Any) -> str:
    """Run ``pricegraph *args``; assert it exits 0 (showing its output if not)."""
    result = runner.invoke(app, list(args), **kwargs)
    assert result.exit_code == 0, result.output
    return result.output


def build_world(
    root: Path, customers: int, products: int, days: int, seed: int, *, embed: bool = False
) -> dict[str, str]:
    """Generate and load (and with ``embed``, embed) a world under ``root/var``.

    Returns:
        The environment that points ``pricegraph`` at it (128 MiB buffer pool, no config
        file, CPU).
    """
    env = {
        "PRICEGRAPH_DATA_DIR": str(root / "var"),
        "PRICEGRAPH_GRAPH__BUFFER_POOL_MB": "128",
        "PRICEGRAPH_CONFIG": str(root / "absent.toml"),
        "PRICEGRAPH_DEVICE": "cpu",
    }
    sizes = ["--customers", str(customers), "--products", str(products), "--days", str(days)]
    commands = [
        ["generate", *sizes, "--seed", str(seed)],
        ["load", str(root / "var" / "world" / "mapping.toml")],
    ]
    for args in commands + ([["embed"]] if embed else []):
        run_cli(*args, env=env)
    return env
