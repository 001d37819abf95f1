"""Projecting a new product's text vector into the learned space."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pricegraph.errors import ModelError
from pricegraph.gnn.text_projection import project_text


def _double_first_two(x: torch.Tensor) -> torch.Tensor:
    return 2 * x[:, :2]


@pytest.mark.parametrize(
    "text_vector",
    [np.array([1.0, 2.0, 3.0]), np.array([[1.0, 2.0, 3.0]]), torch.tensor([1.0, 2.0, 3.0])],
    ids=["numpy", "one-row", "tensor"],
)
def test_projects_one_text_vector(text_vector: np.ndarray | torch.Tensor) -> None:
    projected = project_text(text_vector, _double_first_two, text_dim=3, embedding_dim=2)

    assert projected.dtype == np.float32
    assert projected.tolist() == [2.0, 4.0]


def test_rejects_wrong_inputs_and_outputs() -> None:
    with pytest.raises(ValueError, match=r"expected shape \[3\], got \[2\]"):
        project_text(np.zeros(2), _double_first_two, text_dim=3, embedding_dim=2)
    with pytest.raises(ValueError, match="finite"):
        project_text(np.array([0.0, np.nan, 0.0]), _double_first_two, text_dim=3, embedding_dim=2)
    with pytest.raises(ModelError, match=r"shape \[1, 4\], got \[1, 2\]"):
        project_text(np.zeros(3), _double_first_two, text_dim=3, embedding_dim=4)
