"""A load killed with SIGKILL half-way, run again, ends exactly like one clean load."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_EVENTS_PROGRESS = re.compile(rb"events\.csv\.gz \(events\)[^0-9]*(\d+)/(\d+)")


def _load(
    data_dir: Path, mapping: Path, chunk_rows: int, stdout: int = subprocess.DEVNULL
) -> subprocess.Popen:
    env = {
        **os.environ,
        "PRICEGRAPH_DATA_DIR": str(data_dir),
        "PRICEGRAPH_GRAPH__BUFFER_POOL_MB": "256",
        "PRICEGRAPH_LOADERS__CHUNK_ROWS": str(chunk_rows),
        "COLUMNS": "160",
    }
    code = "from pricegraph.api.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "load", str(mapping)],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )


def _kill_once_events_are_written(data_dir: Path, mapping: Path, chunk_rows: int) -> int:
    """Run a load on a terminal and SIGKILL it as soon as its progress line shows
    events written and events still to write; returns the events shown written.

    The load draws its progress bars only on a terminal, so it gets a pseudo-terminal.
    """
    terminal, load_side = pty.openpty()
    process = _load(data_dir, mapping, chunk_rows, stdout=load_side)
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
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=60)
                return shown[-1][0]
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


def test_sigkill_then_rerun_matches_a_clean_load(tmp_path: Path) -> None:
    config = WorldConfig(seed=11, n_customers=800, n_products=200, n_days=90)
    mapping = write_world(generate_world(config), tmp_path / "world")

    clean = _load(tmp_path / "clean", mapping, chunk_rows=2_000)
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()
    expected = _counts(tmp_path / "clean")
    assert expected["VIEWED"] > 10_000

    written = _kill_once_events_are_written(tmp_path / "killed", mapping, chunk_rows=2_000)
    assert written >= 2_000  # at least one chunk of events was written before the kill
    partial = _counts(tmp_path / "killed")
    assert partial["Customer"] == expected["Customer"]  # the files before the events
    assert partial["VIEWED"] < expected["VIEWED"], "the kill came after the end of the load"

    again = _load(tmp_path / "killed", mapping, chunk_rows=2_000)
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()
    assert _counts(tmp_path / "killed") == expected
