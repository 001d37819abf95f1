"""Ctrl-C during a load: it stops at once, the chunk in flight is stored whole or not at
all, the command says what is stored, and the same load run again ends exactly like one
clean load (a real ``pricegraph load`` process, SIGINT, the embedded store)."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.graph.schema import EVENT_RELS
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_EVENTS_PROGRESS = re.compile(rb"events\.csv\.gz \(events\)[^0-9]*(\d+)/(\d+)")
_STORED = re.compile(r"events: ([\d,]+) of ([\d,]+) rows stored in chunks of ([\d,]+)")
_CHUNK_ROWS = 2_000


def _load(data_dir: Path, mapping: Path, stdout: int = subprocess.DEVNULL) -> subprocess.Popen:
    env = {
        **os.environ,
        "PRICEGRAPH_DATA_DIR": str(data_dir),
        "PRICEGRAPH_GRAPH__BUFFER_POOL_MB": "256",
        "PRICEGRAPH_LOADERS__CHUNK_ROWS": str(_CHUNK_ROWS),
        "COLUMNS": "160",
    }
    code = "from pricegraph.api.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "load", str(mapping)],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )


def _interrupt_once_events_are_written(data_dir: Path, mapping: Path) -> tuple[int, str, float]:
    """Run a load on a pseudo-terminal (it draws progress bars only on a terminal) and
    send SIGINT as soon as a progress line shows events written and events still to
    write; returns its exit code, its standard error and the seconds it took to exit."""
    terminal, load_side = pty.openpty()
    process = _load(data_dir, mapping, stdout=load_side)
    os.close(load_side)
    seen = b""
    try:
        while select.select([terminal], [], [], 60)[0]:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the load ended and closed the terminal
                break
            seen = (seen + _ANSI.sub(b"", chunk))[-4096:]
            shown = [(int(d), int(t)) for d, t in _EVENTS_PROGRESS.findall(seen)]
            if shown and 0 < shown[-1][0] < shown[-1][1]:
                sent = time.monotonic()
                os.kill(process.pid, signal.SIGINT)
                _, stderr = process.communicate(timeout=120)
                assert process.returncode is not None
                return process.returncode, stderr.decode(), time.monotonic() - sent
        raise AssertionError(f"no progress line with events half-written; last output {seen!r}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
        os.close(terminal)


def _counts(data_dir: Path) -> dict[str, int]:
    store = make_graph_store(GraphConfig(path=data_dir / "graph", buffer_pool_mb=256))
    try:
        return store.counts()
    finally:
        store.close()


def test_sigint_stops_the_load_and_a_rerun_matches_a_clean_load(tmp_path: Path) -> None:
    config = WorldConfig(seed=11, n_customers=800, n_products=200, n_days=90)
    mapping = write_world(generate_world(config), tmp_path / "world")

    clean = _load(tmp_path / "clean", mapping)
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()
    expected = _counts(tmp_path / "clean")
    expected_events = sum(expected[rel] for rel in EVENT_RELS.values())
    assert expected_events > 5 * _CHUNK_ROWS

    code, stderr, exit_s = _interrupt_once_events_are_written(tmp_path / "stopped", mapping)
    assert code == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "Run the same command again to complete the load" in stderr
    found = _STORED.search(stderr)
    assert found is not None, stderr
    stored, total, chunk_rows = (int(g.replace(",", "")) for g in found.groups())
    assert (total, chunk_rows) == (expected_events, _CHUNK_ROWS)
    assert stored % _CHUNK_ROWS == 0 and 0 < stored < total
    # it stopped at once: not after finishing the load (nor its chunk's neighbours)
    assert exit_s < 60, exit_s

    partial = _counts(tmp_path / "stopped")
    assert partial["Customer"] == expected["Customer"]  # the files before the events
    partial_events = sum(partial[rel] for rel in EVENT_RELS.values())
    # whole chunks only: the one in flight was rolled back, or (an interrupt during
    # its commit) stored whole
    assert partial_events in (stored, stored + _CHUNK_ROWS), (partial_events, stored)
    assert partial_events < expected_events
    assert f"The graph now holds: Customer {expected['Customer']:,}" in stderr

    again = _load(tmp_path / "stopped", mapping)
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()
    assert _counts(tmp_path / "stopped") == expected
