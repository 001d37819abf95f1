"""The nasty catalogue through the commands: load, stats, segments, quote."""

from __future__ import annotations

from pathlib import Path

from cli_support import run_cli as _run
from cli_support import runner

import pricegraph.api.commands.segments  # noqa: F401  (registers the command)
from pricegraph.api.cli import app
from pricegraph.synthetic import WorldConfig, generate_world, nasty_world, write_world

CONFIG = WorldConfig(seed=1, n_brands=4, n_products=30, n_customers=60, n_days=40)


def test_the_nasty_catalogue_runs_through_the_commands(env: Path) -> None:
    mapping = write_world(nasty_world(generate_world(CONFIG)), env / "var" / "world")
    loaded = _run("load", str(mapping))
    assert "2 purchase lines have quantities above 20" in " ".join(loaded.split())
    assert "reasons in" not in loaded  # no file has rejected rows
    assert "Customer" in _run("stats")
    out = _run("segments", "--k-max", "4", "--vector-weight", "0", "--seed", "1")
    assert "IN_SEGMENT edges (v1): 63 created" in out  # idle customers segmented too
    unpriced = runner.invoke(app, ["quote", "C00001", "P00002"])  # no list price
    assert unpriced.exit_code in (0, 2) and "Traceback" not in unpriced.output
    assert "P00002" in unpriced.output
