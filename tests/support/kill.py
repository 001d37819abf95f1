"""Stopping a real ``pricegraph load`` process half-way through its events, in tests.

The load runs as a subprocess on the embedded store; it draws its progress bars only
on a terminal, so it gets a pseudo-terminal, and the signal goes out as soon as a
progress line shows events written and events still to write.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from pricegraph.graph import GraphConfig, make_graph_store

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_EVENTS_PROGRESS = re.compile(rb"events\.csv\.gz \(events\)[^0-9]*(\d+)/(\d+)")
_BUFFER_POOL_MB = 256


def start_load(
    data_dir: Path, mapping: Path, chunk_rows: int, stdout: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """Start ``pricegraph load MAPPING`` into ``data_dir``, ``chunk_rows`` rows per
    transaction; its standard error is a pipe."""
    env = {
        **os.environ,
        "PRICEGRAPH_DATA_DIR": str(data_dir),
        "PRICEGRAPH_GRAPH__BUFFER_POOL_MB": str(_BUFFER_POOL_MB),
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


@dataclass(frozen=True)
class StoppedLoad:
    """How a load stopped by :func:`stop_once_events_are_written` ended.

    Attributes:
        returncode: Its exit code (negative: killed by that signal).
        stderr: Its standard error.
        events_shown: Events its last progress line showed written.
    """

    returncode: int
    stderr: str
    events_shown: int


def stop_once_events_are_written(
    data_dir: Path, mapping: Path, chunk_rows: int, signum: signal.Signals
) -> StoppedLoad:
    """Run a load (see :func:`start_load`) on a pseudo-terminal and send it ``signum``
    as soon as a progress line shows events written and events still to write.

    Raises:
        AssertionError: No such progress line came (the load ended first, or showed
            nothing for 60 s).
    """
    terminal, load_side = pty.openpty()
    process = start_load(data_dir, mapping, chunk_rows, stdout=load_side)
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
                os.kill(process.pid, signum)
                # keep reading the terminal, as a real one does: a full pseudo-terminal
                # blocks the progress bars' writes, and the load would never exit
                reader = threading.Thread(target=_drain, args=(terminal,), daemon=True)
                reader.start()
                _, stderr = process.communicate(timeout=120)
                reader.join(timeout=10)
                assert process.returncode is not None
                return StoppedLoad(process.returncode, stderr.decode(), shown[-1][0])
        raise AssertionError(f"no progress line with events half-written; last output {seen!r}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
        os.close(terminal)


def _drain(terminal: int) -> None:
    """Read ``terminal`` until the load closes it."""
    try:
        while os.read(terminal, 65536):
            pass
    except OSError:  # the load ended and closed the terminal
        return


def stored_counts(data_dir: Path) -> dict[str, int]:
    """Nodes per label and edges per relationship type in the graph under ``data_dir``."""
    store = make_graph_store(GraphConfig(path=data_dir / "graph", buffer_pool_mb=_BUFFER_POOL_MB))
    try:
        return store.counts()
    finally:
        store.close()
