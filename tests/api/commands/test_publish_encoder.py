"""``pricegraph publish-encoder``: a distributed run's checkpoint served like train-gnn's.

A small world is loaded and embedded, exported with ``export-graph`` and trained by
``python -m pricegraph.gnn.ddp`` in one process (as one rank of ``torchrun``); the
published checkpoint is then what ``recommend`` loads, and its vectors are the
``graph`` vectors in the store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from support.cli import run_cli as _run
from support.cli import runner

from pricegraph.api.cli import app
from pricegraph.api.settings import load_settings
from pricegraph.embeddings.vector_factory import make_vector_store
from pricegraph.gnn.checkpoint import load_checkpoint
from pricegraph.gnn.service import graph_vectors

DDP_TIMEOUT_S = 300


def _train_ddp(snapshot: Path, out: Path) -> None:
    """One process of the distributed entry point, on the CPU, one epoch."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    }
    env |= {"OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, "-m", "pricegraph.gnn.ddp", "--snapshot", str(snapshot)]
    command += ["--out", str(out), "--epochs", "1", "--device", "cpu"]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=DDP_TIMEOUT_S, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]


def _error(*args: str) -> str:
    """Run ``pricegraph *args``; assert it fails with one line, exit code 2."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture
def trained(env: Path) -> Path:
    """The world loaded and embedded, a snapshot exported and trained: ``checkpoint.pt``."""
    sizes = ["--customers", "60", "--products", "30", "--days", "60", "--seed", "5"]
    _run("generate", *sizes)
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    _run("embed")
    _run("export-graph", str(env / "snap.pt"))
    _train_ddp(env / "snap.pt", env / "ddp")
    return env / "ddp" / "checkpoint.pt"


def test_publish_serves_the_distributed_checkpoint(env: Path, trained: Path) -> None:
    encoder = env / "var" / "models" / "encoder"
    assert not (encoder / "latest.pt").exists()  # nothing served yet
    checkpoint = load_checkpoint(trained)
    version = checkpoint.model_version

    out = _run("publish-encoder", str(trained))
    assert f"model {version}" in out and "restart" in out
    assert str(encoder / f"{version}.pt") in out
    assert "'products': 30" in out and "'customers': 60" in out
    assert "not in the graph" not in out
    for name in (f"{version}.pt", "latest.pt"):
        published = load_checkpoint(encoder / name)
        assert published.model_version == version
        for kind, vectors in checkpoint.vectors.items():
            assert torch.equal(published.vectors[kind], vectors), kind
        for key, value in checkpoint.state_dict.items():
            assert torch.equal(published.state_dict[key], value), key

    # the stored graph vectors are the checkpoint's, key by key (the collections use
    # cosine distance: the vector store keeps them at unit length)
    settings = load_settings()
    store = make_vector_store(settings.vectors)
    try:
        prefix = settings.vectors.collection_prefix
        for kind, node_type in (("products", "product"), ("customers", "customer")):
            keys = [str(k) for k in checkpoint.node_ids[node_type]]
            stored = graph_vectors(store, f"{prefix}{kind}", keys)
            assert sorted(stored) == sorted(keys), kind
            expected = checkpoint.vectors[node_type].numpy()
            expected = expected / np.linalg.norm(expected, axis=1, keepdims=True)
            matrix = np.stack([stored[key] for key in keys])
            np.testing.assert_allclose(matrix, expected, rtol=1e-5, atol=1e-6)
            assert {p["graph_model"] for p in store.payloads(f"{prefix}{kind}").values()} == {
                version
            }
    finally:
        store.close()

    # recommend answers from the published encoder (the ddp run: the encoder serves)
    customer = str(checkpoint.node_ids["customer"][0])
    out = _run("recommend", "--customer", customer, "--limit", "3")
    assert f"model {version}, ranked by encoder" in out

    # published again: the same files, the vectors rewritten, nothing else changes
    assert version in _run("publish-encoder", str(trained))
    assert sorted(p.name for p in encoder.glob("*.pt")) == sorted([f"{version}.pt", "latest.pt"])


def test_publish_refuses_what_is_not_a_checkpoint(env: Path, trained: Path) -> None:
    encoder = env / "var" / "models" / "encoder"
    out = _error("publish-encoder", str(env / "ddp" / "absent.pt"))
    assert "absent.pt: no such file" in out
    for name in ("encoder.pt", "embeddings.pt"):  # the run's other outputs
        out = _error("publish-encoder", str(env / "ddp" / name))
        assert f"{name}: not an encoder checkpoint (it holds something other" in out
    snapshot = _error("publish-encoder", str(env / "snap.pt"))  # a pickled GraphSnapshot
    garbage = env / "garbage.pt"
    garbage.write_bytes(b"not a torch file\n")
    truncated = env / "truncated.pt"
    truncated.write_bytes(trained.read_bytes()[:1000])
    for out in (snapshot, _error("publish-encoder", str(garbage))):
        assert "not an encoder checkpoint (torch cannot read it" in out
    assert "truncated.pt: not an encoder checkpoint (torch cannot read it" in _error(
        "publish-encoder", str(truncated)
    )
    assert not encoder.exists()  # nothing written


def test_publish_refuses_a_checkpoint_of_another_graph(
    env: Path, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same checkpoint against a fresh data directory: an empty graph holds none of it.
    monkeypatch.setenv("PRICEGRAPH_DATA_DIR", str(env / "other"))
    out = _error("publish-encoder", str(trained))
    assert "none of the checkpoint's 30 products is in the graph" in out
    assert not (env / "other" / "models" / "encoder").exists()


def test_publish_reports_keys_missing_from_the_graph(
    env: Path, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A smaller world with the same key scheme holds the first 20 customers.
    monkeypatch.setenv("PRICEGRAPH_DATA_DIR", str(env / "other"))
    _run("generate", "--customers", "20", "--products", "30", "--days", "20", "--seed", "6")
    _run("load", str(env / "other" / "world" / "mapping.toml"))
    out = _run("publish-encoder", str(trained))
    assert "40 of the checkpoint's 60 customers are not in the graph" in out
    assert "products are not" not in out  # all 30 are there
    assert (env / "other" / "models" / "encoder" / "latest.pt").is_file()
