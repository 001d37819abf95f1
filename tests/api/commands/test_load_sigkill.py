"""A load killed with SIGKILL half-way, run again, ends exactly like one clean load."""

from __future__ import annotations

import signal
from pathlib import Path

from support.kill import start_load, stop_once_events_are_written, stored_counts

from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig


def test_sigkill_then_rerun_matches_a_clean_load(tmp_path: Path) -> None:
    config = WorldConfig(seed=11, n_customers=800, n_products=200, n_days=90)
    mapping = write_world(generate_world(config), tmp_path / "world")

    clean = start_load(tmp_path / "clean", mapping, chunk_rows=2_000)
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()
    expected = stored_counts(tmp_path / "clean")
    assert expected["VIEWED"] > 10_000

    killed = stop_once_events_are_written(
        tmp_path / "killed", mapping, chunk_rows=2_000, signum=signal.SIGKILL
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # at least one chunk of events was written before the kill
    assert killed.events_shown >= 2_000
    partial = stored_counts(tmp_path / "killed")
    assert partial["Customer"] == expected["Customer"]  # the files before the events
    assert partial["VIEWED"] < expected["VIEWED"], "the kill came after the end of the load"

    again = start_load(tmp_path / "killed", mapping, chunk_rows=2_000)
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()
    assert stored_counts(tmp_path / "killed") == expected
