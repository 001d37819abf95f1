"""Ctrl-C during a load: it stops at once, the chunk in flight is stored whole or not at
all, the command says what is stored, and the same load run again ends exactly like one
clean load (a real ``pricegraph load`` process, SIGINT, the embedded store)."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from support.kill import start_load, stop_once_events_are_written, stored_counts

from pricegraph.graph.schema import EVENT_RELS
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig

_STORED = re.compile(r"events: ([\d,]+) of ([\d,]+) rows stored in chunks of ([\d,]+)")
_CHUNK_ROWS = 2_000


def test_sigint_stops_the_load_and_a_rerun_matches_a_clean_load(tmp_path: Path) -> None:
    config = WorldConfig(seed=11, n_customers=800, n_products=200, n_days=90)
    mapping = write_world(generate_world(config), tmp_path / "world")

    clean = start_load(tmp_path / "clean", mapping, _CHUNK_ROWS)
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()
    expected = stored_counts(tmp_path / "clean")
    expected_events = sum(expected[rel] for rel in EVENT_RELS.values())
    assert expected_events > 5 * _CHUNK_ROWS

    stopped = stop_once_events_are_written(
        tmp_path / "stopped", mapping, _CHUNK_ROWS, signal.SIGINT
    )
    code, stderr = stopped.returncode, stopped.stderr
    assert code == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "Run the same command again to complete the load" in stderr
    found = _STORED.search(stderr)
    assert found is not None, stderr
    stored, total, chunk_rows = (int(g.replace(",", "")) for g in found.groups())
    assert (total, chunk_rows) == (expected_events, _CHUNK_ROWS)
    # it stopped at once: in the middle of the events, not after finishing the load
    assert stored % _CHUNK_ROWS == 0 and 0 < stored < total

    partial = stored_counts(tmp_path / "stopped")
    assert partial["Customer"] == expected["Customer"]  # the files before the events
    partial_events = sum(partial[rel] for rel in EVENT_RELS.values())
    # whole chunks only: the one in flight was rolled back, or (an interrupt during
    # its commit) stored whole
    assert partial_events in (stored, stored + _CHUNK_ROWS), (partial_events, stored)
    assert partial_events < expected_events
    assert f"The graph now holds: Customer {expected['Customer']:,}" in stderr

    again = start_load(tmp_path / "stopped", mapping, _CHUNK_ROWS)
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()
    assert stored_counts(tmp_path / "stopped") == expected
