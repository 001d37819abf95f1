"""``pricegraph train-gnn`` end to end on a small synthetic world (real stores, real model)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from support.cli import run_cli as _run
from support.cli import runner

from pricegraph.api.cli import app
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.gnn.checkpoint import load_checkpoint
from pricegraph.gnn.data import export_hetero
from pricegraph.gnn.features import NUM_BEHAVIOUR_FEATURES
from pricegraph.gnn.service import graph_vectors
from pricegraph.gnn.train import customer_features
from pricegraph.graph.config import GraphConfig
from pricegraph.graph.factory import make_graph_store
from pricegraph.pricing.customers.states import behaviour_basis


def test_train_gnn_needs_text_vectors_first(env: Path) -> None:
    _run("generate", "--customers", "60", "--products", "30", "--days", "30", "--seed", "2")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    result = runner.invoke(app, ["train-gnn", "--max-epochs", "1"])
    assert result.exit_code == 2 and "pricegraph embed" in result.output


def test_train_gnn_refuses_a_bad_device_before_any_work(env: Path) -> None:
    # The encoder resolves its device only after the baselines ran (minutes on real
    # data): a device torch cannot use is refused first, before the graph is read.
    result = runner.invoke(app, ["train-gnn", "--device", "gpu"])
    assert result.exit_code == 2 and "train-gnn options:" in result.output
    assert "device string: gpu" in result.output


def test_pricing_refuses_a_bad_device_before_any_work(env: Path) -> None:
    result = runner.invoke(app, ["train-pricing", "--device", "cuda:7"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert 'train-pricing options: device "cuda:7" asked for' in result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_the_demo_refuses_cuda_without_a_gpu_before_any_work(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRICEGRAPH_DEVICE", "cuda")
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert 'PRICEGRAPH_DEVICE: device "cuda" asked for, but torch sees no' in result.output
    assert not (env / "var" / "world").exists()  # nothing generated


def test_train_gnn_trains_compares_and_publishes(env: Path) -> None:
    _run("generate", "--customers", "300", "--products", "60", "--days", "150", "--seed", "4")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    _run("embed")
    out = _run("train-gnn", "--max-epochs", "3", "--lightgcn-epochs", "2", "--seed", "1")
    for method in ("popularity_7d", "item_knn", "recent_neighbors", "als", "ease", "lightgcn"):
        assert method in out
    assert "encoder+ease" in out and "validation winner:" in out
    lines = out.splitlines()  # not a terminal: each compared method is named as it starts
    for method in ("ease", "viewed", "lightgcn", "encoder+rerank"):
        assert f"comparing recommenders: {method}" in lines
    assert any(line.startswith("lightgcn validation (loss ") for line in lines)  # its epochs
    models = env / "var" / "models" / "encoder"
    checkpoint = load_checkpoint(models / "latest.pt")
    # The winner is the best validation recall of the table, and it serves.
    rows = {row["method"]: row for row in checkpoint.metrics}
    winner = max(rows.values(), key=lambda row: (row["val_recall@20"], row["val_ndcg@20"]))
    assert checkpoint.served_by == winner["method"] == checkpoint.serving["method"]
    assert f"validation winner: {winner['method']}" in out
    # The verdicts printed under the table are stored in the checkpoint too.
    assert checkpoint.verdicts, "no verdicts stored"
    for stored in checkpoint.verdicts:
        assert stored["text"] in out
        assert stored["first"] in rows and stored["second"] in rows
        for interval in stored["differences"].values():
            assert interval["low"] <= interval["mean"] <= interval["high"]
    assert checkpoint.verdicts[0]["first"] == winner["method"]  # the winner against the rest
    assert len(checkpoint.verdicts) >= len(rows) - 1
    for row in rows.values():
        assert row["recall@20_low"] <= row["recall@20"] <= row["recall@20_high"]
    if checkpoint.served_by != "encoder":
        assert checkpoint.serving["top_products"].shape[0] == len(checkpoint.node_ids["customer"])
    assert (models / f"{checkpoint.model_version}.pt").exists()
    assert (models / f"{checkpoint.model_version}.png").read_bytes()[:4] == b"\x89PNG"
    methods = {row["method"] for row in checkpoint.metrics}
    assert {
        "random",
        "popularity",
        "item_knn",
        "text",
        "ease",
        "als",
        "lightgcn",
        "encoder",
    } <= methods
    assert set(checkpoint.history) == {"tuning", "lightgcn", "final"}
    # Each learned model is limited by its own flag.
    assert rows["lightgcn"]["params"] in ("epochs=1", "epochs=2")
    # The production encoder has the prior that validation chose.
    assert rows["encoder"]["params"].startswith(
        f"prior_hidden={checkpoint.config['prior_hidden']},"
    )
    assert checkpoint.settings["device"] == "cpu"
    # Every customer and product has a 64-d graph vector, and texts survived.
    vectors = EdgeVectorStore(env / "var" / "vectors")
    try:
        customers = list(checkpoint.node_ids["customer"])
        found = graph_vectors(vectors, "pricegraph_customers", customers)
        assert len(found) == len(customers) and next(iter(found.values())).shape == (64,)
        products = list(checkpoint.node_ids["product"])
        assert len(graph_vectors(vectors, "pricegraph_products", products)) == len(products)
        texts = vectors.vectors("pricegraph_products", products, "text")
        assert len(texts) == len(products)
        payload = vectors.payloads("pricegraph_products")[products[0]]
        assert payload["graph_model"] == checkpoint.model_version and "text_hash" in payload
        # The price-behaviour head reads each customer's behaviour back from its vector:
        # the basis pricing reads the graph state through.
        basis = behaviour_basis(models / "latest.pt", 64)
        assert basis is not None and basis.shape == (NUM_BEHAVIOUR_FEATURES, 64)
        store = make_graph_store(GraphConfig(path=env / "var" / "graph", buffer_pool_mb=128))
        try:
            snapshot = export_hetero(store, feature_dim=384)
        finally:
            store.close()
        behaviour = customer_features(snapshot, 2**62)[:, -NUM_BEHAVIOUR_FEATURES:].numpy()
        read = np.stack([found[key] for key in customers]) @ basis.T
        known = np.abs(behaviour).sum(axis=1) > 0
        fits = [np.corrcoef(read[known, i], behaviour[known, i])[0, 1] for i in range(2)]
        assert min(fits) > 0.5, fits  # markdown depth paid, price level bought
    finally:
        vectors.close()
    # Segments change the customers' payloads; the re-embed that follows rewrites
    # those points and keeps their graph vectors and the encoder version.
    _run("segments", "--vector-weight", "0", "--k-max", "3", "--seed", "1", "--version", "p")
    assert "customers" in _run("embed")
    vectors = EdgeVectorStore(env / "var" / "vectors")
    try:
        payloads = vectors.payloads("pricegraph_customers")
        assert sum(bool(p.get("segment")) for p in payloads.values()) > 0
        assert {p.get("graph_model") for p in payloads.values()} == {checkpoint.model_version}
        assert len(graph_vectors(vectors, "pricegraph_customers", customers)) == len(customers)
    finally:
        vectors.close()
    seg = _run("segments", "--using", "graph", "--k-max", "4", "--seed", "1")
    assert "chosen k:" in seg


def test_recommend_after_training(env: Path) -> None:
    _run("generate", "--customers", "200", "--products", "40", "--days", "120", "--seed", "5")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    _run("embed")
    _run("train-gnn", "--max-epochs", "2", "--no-evaluate")
    checkpoint = load_checkpoint(env / "var" / "models" / "encoder" / "latest.pt")
    assert checkpoint.metrics == [] and set(checkpoint.vectors) >= {"customer", "product"}
    customer = str(checkpoint.node_ids["customer"][0])
    out = _run("recommend", "--customer", customer, "--limit", "5", "--format", "csv")
    assert "For customer" not in out  # csv: the rows only
    picks = pd.read_csv(io.StringIO(out))
    assert list(picks.columns) == ["rank", "product_id", "name", "score", "reason"]
    assert len(picks) == 5 and picks["name"].str.len().min() > 0
    out = _run("recommend", "--customer", customer, "--popularity-discount", "2", "--format", "csv")
    assert len(pd.read_csv(io.StringIO(out))) == 10
    product = str(checkpoint.node_ids["product"][0])
    out = _run("recommend", "--product", product, "--limit", "3")
    assert "bought together" in out or "similar in the learned space" in out
    out = _run("recommend", "--text", "black leather shoulder bag", "--limit", "3")
    assert "closest by description" in out
    bad = runner.invoke(app, ["recommend", "--customer", "nobody"])
    assert bad.exit_code == 2 and "nobody" in bad.output


def test_export_graph_writes_a_snapshot_for_torchrun(env: Path) -> None:
    from pricegraph.gnn.ddp import load_snapshot

    _run("generate", "--customers", "60", "--products", "30", "--days", "30", "--seed", "2")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    bad = runner.invoke(app, ["export-graph", str(env / "snap.pt")])
    assert bad.exit_code == 2 and "pricegraph embed" in bad.output
    _run("embed")
    out = _run("export-graph", str(env / "snap.pt"))
    snapshot = load_snapshot(env / "snap.pt")
    assert f"snapshot {snapshot.snapshot_id}" in out
    assert snapshot.num_products == 30 and bool(snapshot.data["product"].has_text.all())
