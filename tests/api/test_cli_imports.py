"""The light commands never import the training stack (each run in a fresh interpreter).

``pricegraph --help``, ``config``, ``stats``, ``query`` and ``load`` must answer at
once: torch, PyG, stable-baselines3, scikit-learn and matplotlib may load only in
the commands that train, segment, embed or serve. ``--help`` does not even load
pandas or numpy (``bench/bench_cli.py`` reports its wall time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "torch_geometric", "stable_baselines3", "sklearn", "matplotlib")

# Runs the console script's entry point, then prints the modules it loaded.
_RUN = """
import json, sys
from pricegraph.api.cli import main
sys.argv = ["pricegraph", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
else:
    code = 0
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def run_fresh(*args: str) -> tuple[str, set[str]]:
    """Run ``pricegraph *args`` in a new interpreter; asserts it exits 0.

    Returns:
        Its output, and the top-level packages it imported.
    """
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    output, _, listing = done.stdout.rpartition("\nMODULES ")
    return output, {name.partition(".")[0] for name in json.loads(listing)}


def test_help_loads_neither_the_training_stack_nor_pandas() -> None:
    output, loaded = run_fresh("--help")
    assert "train-pricing" in output
    assert not loaded & {*HEAVY, "pandas", "numpy"}


LOAD = ("load", "brands.csv", "--kind", "brands")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("config",), "buffer_pool_mb", id="config"),
        pytest.param(LOAD, "Load report", id="load"),
        pytest.param(("stats",), "Brand", id="stats"),
        pytest.param(
            ("query", "MATCH (b:Brand) RETURN b.name AS name ORDER BY name"), "Verne", id="query"
        ),
    ],
)
def test_light_commands_do_not_load_the_training_stack(
    env: Path, args: tuple[str, ...], expected: str
) -> None:
    (env / "brands.csv").write_text("brand_id,name\nB1,Verne\nB2,Hale\n", encoding="utf-8")
    if args != LOAD:  # a tiny graph to count and query
        run_fresh(*LOAD)
    output, loaded = run_fresh(*args)
    assert expected in output
    assert not loaded & set(HEAVY)
