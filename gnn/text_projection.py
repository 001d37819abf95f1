"""How a new product without edges gets a vector: its text, projected into the learned space.

A product that nobody has bought yet has no edges, so the encoder gives it no
vector. Its description still has a text vector (``SentenceEncoder().encode``);
a :data:`ProductFromText` callable (e.g.
:meth:`~pricegraph.gnn.checkpoint.EncoderCheckpoint.product_from_text`) maps it
into the space of :attr:`~pricegraph.gnn.node_embeddings.NodeEmbeddings.product`,
where :class:`~pricegraph.gnn.recommend.Recommender` ranks with it.
:func:`project_text` checks the input and the output of that call. No I/O
happens here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from pricegraph.errors import ModelError

TEXT_DIM = 384
"""Width of the text vectors of ``all-MiniLM-L6-v2`` (``SentenceEncoder().encode``)."""

ProductFromText = Callable[[Tensor], Tensor]
"""Maps float32 text vectors ``[n, text_dim]`` (CPU) to product vectors
``[n, embedding_dim]`` in the space of
:attr:`~pricegraph.gnn.node_embeddings.NodeEmbeddings.product`: how a new
product without edges gets a vector. Called under ``torch.no_grad()``."""


def project_text(
    text_vector: np.ndarray | Tensor,
    product_from_text: ProductFromText,
    *,
    text_dim: int,
    embedding_dim: int,
) -> np.ndarray:
    """Product-space vector of one text vector.

    Args:
        text_vector: float ``[text_dim]`` (or ``[1, text_dim]``), on any device.
        product_from_text: The projection; called once on ``[1, text_dim]``
            float32 (CPU) under ``torch.no_grad()``.
        text_dim: Expected width of ``text_vector``.
        embedding_dim: Expected width of the projection.

    Returns:
        float32 ``[embedding_dim]`` (CPU NumPy).

    Raises:
        ValueError: ``text_vector`` has the wrong shape or non-finite values.
        ModelError: ``product_from_text`` returned something other than a tensor
            of shape ``[1, embedding_dim]``.
    """
    if isinstance(text_vector, Tensor):
        x = text_vector.detach().cpu().to(torch.float32)
    else:
        x = torch.from_numpy(np.asarray(text_vector, dtype=np.float32))
    if x.dim() == 2 and x.shape[0] == 1:
        x = x[0]
    if x.shape != (text_dim,):
        raise ValueError(f"text_vector: expected shape [{text_dim}], got {list(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("text_vector: expected finite values, got NaN or inf")
    with torch.no_grad():
        projected = product_from_text(x[None])
    expected = (1, embedding_dim)
    if not isinstance(projected, Tensor) or tuple(projected.shape) != expected:
        got = list(projected.shape) if isinstance(projected, Tensor) else type(projected)
        raise ModelError(
            f"product_from_text: expected a tensor of shape {list(expected)}, got {got}"
        )
    return projected[0].detach().cpu().to(torch.float32).numpy()


__all__ = ["TEXT_DIM", "ProductFromText", "project_text"]
