"""Encoder checkpoints: a round trip rebuilds the model, new products get vectors from
their text alone, and a bad or unsafe file is a ModelError."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pricegraph.errors import ModelError
from pricegraph.gnn.bootstrap import Interval
from pricegraph.gnn.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint
from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.train import EncoderConfig, build_inputs, train_encoder
from pricegraph.gnn.verdict import Verdict

DAY_S = 86_400
VERDICT = Verdict("rerank", "ease", {"recall@20": Interval(0.03, 0.01, 0.05, 0.95)})


def test_checkpoint_round_trip_and_cold_start(
    tmp_path: Path, community: GraphSnapshot, small_config: EncoderConfig
) -> None:
    snapshot = community
    result = train_encoder(snapshot, small_config, cutoff_s=200 * DAY_S)
    checkpoint = make_checkpoint(
        result,
        snapshot_id=snapshot.snapshot_id,
        node_ids=dict(snapshot.node_ids),
        metrics=[{"method": "encoder", "recall@20": 0.5}],
        verdicts=[VERDICT.to_dict()],
    )
    assert checkpoint.model_version.startswith("encoder-")
    path = save_checkpoint(checkpoint, tmp_path / "enc.pt")
    loaded = load_checkpoint(path)
    assert loaded.model_version == checkpoint.model_version
    assert loaded.snapshot_id == "toy0" and loaded.metrics[0]["recall@20"] == 0.5
    assert loaded.verdicts == [
        {
            "first": "rerank",
            "second": "ease",
            "differences": {"recall@20": {"mean": 0.03, "low": 0.01, "high": 0.05, "level": 0.95}},
            "text": "rerank: recall@20 beats ease (+0.0300 [+0.0100, +0.0500])",
        }
    ]
    assert list(loaded.node_ids["product"]) == list(snapshot.node_ids["product"])
    model = loaded.build_model()
    inputs = build_inputs(snapshot, 200 * DAY_S)
    with torch.no_grad():
        rebuilt = model(inputs)
    vectors = result.embeddings()
    assert torch.allclose(rebuilt["customer"], vectors["customer"], atol=1e-5)
    # Product 12 was never sold: its in-graph vector is what its text alone gives.
    from_text = loaded.product_from_text()(snapshot.data["product"].x[12:13])
    assert torch.allclose(from_text[0], vectors["product"][12], atol=1e-5)
    # ... and community A's customers, whose products read alike, like it more than B's.
    scores = vectors["customer"] @ from_text[0]
    assert scores[:20].mean() > scores[20:].mean()
    with pytest.raises(ModelError, match=r"\[n, 16\]"):
        loaded.product_from_text()(torch.zeros(1, 5))


def test_checkpoint_written_before_verdicts_were_stored_still_loads(
    tmp_path: Path, community: GraphSnapshot, small_config: EncoderConfig
) -> None:
    result = train_encoder(community, small_config, cutoff_s=200 * DAY_S, epochs=1)
    checkpoint = make_checkpoint(
        result, snapshot_id=community.snapshot_id, node_ids=dict(community.node_ids)
    )
    path = save_checkpoint(checkpoint, tmp_path / "old.pt")
    payload = torch.load(path, weights_only=True)
    del payload["verdicts"]  # what an older train-gnn wrote
    torch.save(payload, path)
    loaded = load_checkpoint(path)
    assert loaded.verdicts == [] and loaded.model_version == checkpoint.model_version


def test_bad_checkpoint_file_is_a_model_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.pt"
    torch.save({"format_version": 99}, path)
    with pytest.raises(ModelError, match=r"format_version 2.*train-gnn"):
        load_checkpoint(path)
    with pytest.raises(ModelError, match="cannot read"):
        load_checkpoint(tmp_path / "missing.pt")


class _Payload:
    """An object whose unpickling would run code: a checkpoint must never hold one."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("unpickled",))


def test_checkpoint_with_other_objects_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "objects.pt"
    torch.save({"format_version": 2, "extra": _Payload()}, path)
    with pytest.raises(ModelError, match=r"objects\.pt: cannot read .*weights_only"):
        load_checkpoint(path)
    assert "unpickled" not in capsys.readouterr().out
