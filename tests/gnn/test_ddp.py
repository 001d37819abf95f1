"""The DDP entry point: ``torchrun`` with 2 CPU processes (gloo) against one process.

The snapshot is written in the test: two communities of customers, each buying
only from its own half of the products over 200 days, so a trained encoder must
rank a customer's own-community products it has not bought above the other
community's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from torch_geometric.data import HeteroData

from pricegraph.devices import resolve_device
from pricegraph.errors import ConfigError
from pricegraph.gnn.checkpoint import load_checkpoint
from pricegraph.gnn.data import EVENT_EDGE_TYPES, PURCHASED, GraphSnapshot
from pricegraph.gnn.ddp import (
    DistEnv,
    _resolve_device,
    default_cutoff_s,
    load_snapshot,
    save_snapshot,
)
from pricegraph.gnn.train import EncoderConfig, train_encoder

DAY_S = 86_400
START_S = 1_700_000_000  # 2023-11-14 UTC
NUM_CUSTOMERS, NUM_PRODUCTS, TEXT_DIM = 120, 40, 32
PURCHASES_PER_CUSTOMER, DAYS = 10, 200
EPOCHS = 20
TIMEOUT_S = 120


def _community(customers: np.ndarray) -> np.ndarray:
    """Customers and products in the first half of their index range are community 0."""
    return (customers >= NUM_CUSTOMERS // 2).astype(np.int64)


def _planted_snapshot(seed: int = 0) -> GraphSnapshot:
    """Customers of community ``g`` buy only products of half ``g``, spread over 200 days."""
    rng = np.random.default_rng(seed)
    half = NUM_PRODUCTS // 2
    rows = []
    for customer in range(NUM_CUSTOMERS):
        group = int(_community(np.array([customer]))[0])
        products = rng.choice(half, PURCHASES_PER_CUSTOMER, replace=False) + group * half
        days = rng.integers(0, DAYS, PURCHASES_PER_CUSTOMER)
        rows += [(customer, int(p), int(d)) for p, d in zip(products, days, strict=True)]
    rows.sort()
    edge_index = torch.tensor([[c for c, _, _ in rows], [p for _, p, _ in rows]])
    time_s = torch.tensor([START_S + d * DAY_S + (c % 24) * 3600 for c, _, d in rows])

    data = HeteroData()
    data["customer"].num_nodes = NUM_CUSTOMERS
    data["customer"].is_anonymous = torch.zeros(NUM_CUSTOMERS, dtype=torch.bool)
    x = torch.from_numpy(rng.standard_normal((NUM_PRODUCTS, TEXT_DIM)).astype(np.float32))
    data["product"].x = x / x.norm(dim=1, keepdim=True)
    data["product"].has_text = torch.ones(NUM_PRODUCTS, dtype=torch.bool)
    data["product"].num_nodes = NUM_PRODUCTS
    empty = torch.empty((2, 0), dtype=torch.long)
    for src, name, dst in EVENT_EDGE_TYPES:  # views and carts exist, with no edges
        edges, times = (edge_index, time_s) if name == "purchased" else (empty, time_s[:0])
        data[src, name, dst].edge_index, data[src, name, dst].time = edges, times
        data[dst, f"rev_{name}", src].edge_index = edges.flip(0)
        data[dst, f"rev_{name}", src].time = times.clone()
    ids = {
        "customer": np.array([f"c{i:03d}" for i in range(NUM_CUSTOMERS)], dtype=object),
        "product": np.array([f"p{i:03d}" for i in range(NUM_PRODUCTS)], dtype=object),
    }
    return GraphSnapshot(data, ids, "planted")


def _with_brands(snapshot: GraphSnapshot, num_brands: int = 4) -> GraphSnapshot:
    """Add brand nodes and ``of_brand`` edges, as every :func:`export_hetero` has."""
    data = snapshot.data
    data["brand"].num_nodes = num_brands
    edge_index = torch.stack([torch.arange(NUM_PRODUCTS), torch.arange(NUM_PRODUCTS) % num_brands])
    data["product", "of_brand", "brand"].edge_index = edge_index
    data["brand", "rev_of_brand", "product"].edge_index = edge_index.flip(0)
    brands = np.array([f"b{i}" for i in range(num_brands)], dtype=object)
    return GraphSnapshot(data, {**snapshot.node_ids, "brand": brands}, snapshot.snapshot_id)


def _train(snapshot_path: Path, out: Path, nproc: int) -> subprocess.CompletedProcess[str]:
    """Run the entry point, under ``torch.distributed.run`` when ``nproc > 1``."""
    args = ["--snapshot", str(snapshot_path), "--out", str(out), "--epochs", str(EPOCHS)]
    args += ["--device", "cpu", "--embedding-dim", "16", "--batch-size", "256", "--seed", "7"]
    args += ["--debug-fingerprint"]
    prefix = [sys.executable]
    if nproc > 1:
        prefix += ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc)]
    command = [*prefix, "-m", "pricegraph.gnn.ddp", *args]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    }
    env |= {"OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )


@pytest.fixture(scope="module")
def snapshot_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_snapshot(_planted_snapshot(), tmp_path_factory.mktemp("ddp") / "snapshot.pt")


@pytest.fixture(scope="module")
def runs(snapshot_path: Path) -> dict[int, Path]:
    """Output folders of the 2-process and the 1-process run (each run once)."""
    outs = {}
    for nproc in (2, 1):
        out = snapshot_path.parent / f"out_{nproc}"
        done = _train(snapshot_path, out, nproc)
        assert done.returncode == 0, f"{nproc} process(es) failed:\n{done.stderr[-4000:]}"
        outs[nproc] = out
    return outs


def _own_minus_other(embeddings: dict[str, torch.Tensor], snapshot: GraphSnapshot) -> torch.Tensor:
    """Per customer: mean score of unbought own-community products minus the other's."""
    scores = embeddings["customer"] @ embeddings["product"].T + embeddings["product_prior"]
    bought = torch.zeros(NUM_CUSTOMERS, NUM_PRODUCTS, dtype=torch.bool)
    bought[snapshot.edge_index(PURCHASED)[0], snapshot.edge_index(PURCHASED)[1]] = True
    customer_group = torch.from_numpy(_community(np.arange(NUM_CUSTOMERS)))
    product_group = (torch.arange(NUM_PRODUCTS) >= NUM_PRODUCTS // 2).long()
    own = customer_group[:, None] == product_group[None, :]
    own_unbought = own & ~bought
    own_mean = (scores * own_unbought).sum(1) / own_unbought.sum(1)
    other_mean = (scores * ~own).sum(1) / (~own).sum(1)
    return own_mean - other_mean


def test_snapshot_round_trips_and_default_cutoff_follows_last_purchase(tmp_path: Path) -> None:
    snapshot = _planted_snapshot()
    loaded = load_snapshot(save_snapshot(snapshot, tmp_path / "a" / "snapshot.pt"))
    assert loaded.snapshot_id == "planted"
    assert torch.equal(loaded.edge_index(), snapshot.edge_index())
    assert default_cutoff_s(loaded) == int(snapshot.edge_time().max()) + 1
    torch.save({"not": "a snapshot"}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="expected a GraphSnapshot, got dict"):
        load_snapshot(tmp_path / "other.pt")


def test_dist_env_reads_torchrun_variables() -> None:
    assert DistEnv.from_environ({}) == DistEnv(0, 1, 0)
    env = DistEnv.from_environ({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})
    assert env.is_distributed and env.rank == 1
    with pytest.raises(ConfigError, match="RANK=2, WORLD_SIZE=2"):
        DistEnv.from_environ({"RANK": "2", "WORLD_SIZE": "2"})
    with pytest.raises(ConfigError, match="WORLD_SIZE: expected an integer"):
        DistEnv.from_environ({"WORLD_SIZE": "two"})


def test_rank_device_follows_the_shared_resolver() -> None:
    env = DistEnv(0, 1, 0)
    assert _resolve_device("cpu", env) == "cpu"
    expected = "cuda:0" if resolve_device("auto").type == "cuda" else "cpu"
    assert _resolve_device("auto", env) == expected
    with pytest.raises(ConfigError, match='expected "auto", "cpu" or "cuda", got "mps"'):
        _resolve_device("mps", env)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without a GPU")
def test_cuda_without_a_gpu_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"--device: .*no CUDA device"):
        _resolve_device("cuda", DistEnv(0, 1, 0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_each_rank_gets_its_local_gpu() -> None:
    assert _resolve_device("cuda", DistEnv(0, 1, 0)) == "cuda:0"
    with pytest.raises(ConfigError, match="LOCAL_RANK=64"):
        _resolve_device("cuda", DistEnv(0, 1, 64))


def test_two_processes_stay_in_sync_and_learn_the_communities(
    runs: dict[int, Path], snapshot_path: Path
) -> None:
    out = runs[2]
    rank0, rank1 = (torch.load(out / f"params_rank{r}.pt") for r in (0, 1))
    assert rank0.keys() == rank1.keys() and len(rank0) > 0
    for name, (total, norm) in rank0.items():
        assert rank1[name] == pytest.approx((total, norm), rel=1e-6, abs=1e-6), name

    checkpoint = torch.load(out / "encoder.pt", weights_only=False)
    assert checkpoint["world_size"] == 2 and checkpoint["config"]["embedding_dim"] == 16
    losses = [row["loss"] for row in checkpoint["history"]]
    assert len(losses) == EPOCHS and losses[-1] < losses[0] - 0.1, losses

    embeddings = torch.load(out / "embeddings.pt")
    assert embeddings["customer"].shape == (NUM_CUSTOMERS, 16)
    assert embeddings["product"].shape == (NUM_PRODUCTS, 16)
    assert embeddings["product_prior"].shape == (NUM_PRODUCTS,)
    assert all(torch.isfinite(value).all() for value in embeddings.values())
    margin = _own_minus_other(embeddings, load_snapshot(snapshot_path))
    assert margin.mean() > 0 and (margin > 0).float().mean() >= 0.9, margin


def test_one_process_gives_the_same_training_as_two(runs: dict[int, Path]) -> None:
    single = torch.load(runs[1] / "encoder.pt", weights_only=False)
    double = torch.load(runs[2] / "encoder.pt", weights_only=False)
    assert single["world_size"] == 1 and not (runs[1] / "params_rank1.pt").exists()
    single_losses = [row["loss"] for row in single["history"]]
    double_losses = [row["loss"] for row in double["history"]]
    assert single_losses[-1] < single_losses[0]
    # Same seed, same global batch and dropout masks: the ranks' mean loss is the
    # full-batch loss, up to the order of float sums (and Adam amplifying it).
    assert double_losses == pytest.approx(single_losses, rel=1e-3)
    embeddings = torch.load(runs[1] / "embeddings.pt")
    assert embeddings["customer"].shape == (NUM_CUSTOMERS, 16)


@pytest.mark.parametrize("nproc", [2, 1])
def test_rank0_writes_a_checkpoint_that_serves_the_same_vectors(
    runs: dict[int, Path], nproc: int
) -> None:
    checkpoint = load_checkpoint(runs[nproc] / "checkpoint.pt")
    embeddings = torch.load(runs[nproc] / "embeddings.pt")
    assert checkpoint.vectors.keys() == {"customer", "product", "product_prior"}
    for name, vectors in checkpoint.vectors.items():
        assert torch.equal(vectors, embeddings[name]), name
    assert checkpoint.snapshot_id == "planted"
    assert list(checkpoint.node_ids["customer"]) == [f"c{i:03d}" for i in range(NUM_CUSTOMERS)]
    assert list(checkpoint.node_ids["product"]) == [f"p{i:03d}" for i in range(NUM_PRODUCTS)]
    encoder = torch.load(runs[nproc] / "encoder.pt", weights_only=False)
    assert checkpoint.history == {"final": encoder["history"]}
    assert checkpoint.cutoff_s == encoder["cutoff_s"]
    assert checkpoint.settings["world_size"] == nproc
    assert checkpoint.settings["trainer"] == "pricegraph.gnn.ddp"
    # no comparison ran: the encoder serves, as after train-gnn --no-evaluate
    assert checkpoint.served_by == "encoder"
    assert checkpoint.metrics == [] and checkpoint.verdicts == [] and checkpoint.serving == {}
    # the weights are the ones that made the vectors
    for key, value in checkpoint.build_model().state_dict().items():
        assert torch.equal(value, encoder["state_dict"][key]), key


def test_ddp_trains_on_a_graph_with_brands() -> None:
    """In this process, as a 1-rank gloo group: DDP checks unused parameters all the same."""
    snapshot = _with_brands(_planted_snapshot())
    config = EncoderConfig(embedding_dim=16, batch_size=256, device="cpu")
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        result = train_encoder(snapshot, config, cutoff_s=default_cutoff_s(snapshot), epochs=2)
    finally:
        dist.destroy_process_group()
    assert result.embeddings()["brand"].shape == (4, 16)
