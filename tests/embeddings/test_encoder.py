"""The sentence encoder on the real packaged model."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest

from pricegraph.embeddings.encoder import SentenceEncoder
from pricegraph.errors import ModelError


def test_vectors_are_unit_length_and_meaningful(encoder: SentenceEncoder) -> None:
    before = encoder.calls
    vectors = encoder.encode(
        ["black leather tote bag", "quilted lambskin shoulder bag", "stainless steel saucepan"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2  # two bags closer than bag and pan
    assert encoder.calls == before + 1 and encoder.dimension == 384


def test_batches_are_counted(encoder: SentenceEncoder) -> None:
    before = encoder.calls
    encoder.encode([f"product number {i}" for i in range(70)])
    assert encoder.calls == before + 3  # batch size 32


def test_same_text_same_vector(encoder: SentenceEncoder) -> None:
    first, second = encoder.encode(["cashmere scarf", "cashmere scarf"])
    assert np.allclose(first, second, atol=1e-6)


def test_empty_inputs(encoder: SentenceEncoder) -> None:
    assert encoder.encode([]).shape == (0, 384)
    with pytest.raises(ModelError, match="empty texts"):
        encoder.encode(["fine", "  "])


def test_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        SentenceEncoder(tmp_path / "no-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="cannot load the text model"):
        SentenceEncoder(tmp_path / "empty")


def test_loading_reaches_no_network_and_leaves_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the encoder opened a connection: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    before = dict(os.environ)
    encoder = SentenceEncoder(device="cpu")
    assert encoder.encode(["wool scarf"]).shape == (1, 384)
    assert dict(os.environ) == before
