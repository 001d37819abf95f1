"""``pricegraph embed`` killed half-way keeps what it wrote, and the next run embeds the rest.

A real ``pricegraph embed`` process on a loaded world, with 64 texts per chunk, is
killed (SIGKILL, no clean-up) right after it has written its third chunk of product
vectors to the embedded Qdrant store.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from support.cli import build_world, run_cli

from pricegraph.embeddings.edge_store import EdgeVectorStore

_KILL_AFTER_THIRD_CHUNK = """
import os, signal
import pricegraph.embeddings.pipeline as pipeline
from pricegraph.embeddings.edge_store import EdgeVectorStore

pipeline.EMBED_CHUNK = 64
real_upsert, chunks = EdgeVectorStore.upsert, []

def upsert_then_die(self, collection, points):
    real_upsert(self, collection, points)  # the real write, then no clean-up at all
    if collection.endswith("products"):
        chunks.append(len(points))
        if len(chunks) == 3:
            os.kill(os.getpid(), signal.SIGKILL)

EdgeVectorStore.upsert = upsert_then_die
from pricegraph.api.cli import main
main()
"""


def test_a_killed_embed_keeps_its_chunks_and_the_next_run_embeds_the_rest(tmp_path: Path) -> None:
    env = build_world(tmp_path, customers=60, products=300, days=20, seed=2)
    killed = subprocess.run(
        [sys.executable, "-c", _KILL_AFTER_THIRD_CHUNK, "embed", "--collection", "products"],
        env={**os.environ, **env},
        capture_output=True,
        timeout=600,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    store = EdgeVectorStore(tmp_path / "var" / "vectors")
    try:
        assert store.count("pricegraph_products") == 3 * 64  # three chunks, nothing more
    finally:
        store.close()

    out = run_cli("embed", "--collection", "products", env=env)
    # the stored 192 are kept as they are; only the other 108 are encoded and written
    assert re.search(r"│ products\s+│\s+300 │\s+108 │\s+108 │\s+0 │\s+192 │\s+0 │\s+0 │", out), out
    assert "(108 texts encoded)" in out
    store = EdgeVectorStore(tmp_path / "var" / "vectors")
    try:
        assert store.count("pricegraph_products") == 300
    finally:
        store.close()
