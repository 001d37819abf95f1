"""``seed_everything``: the same seed draws the same numbers; thread counts are left alone."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from pricegraph.seeding import seed_everything


@pytest.fixture
def torch_settings() -> Iterator[None]:
    """Put back what seed_everything changes for the rest of the test process."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    yield
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


def _draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


@pytest.mark.usefixtures("torch_settings")
def test_the_same_seed_draws_the_same_numbers() -> None:
    seed_everything(7)
    first = _draws()
    seed_everything(7)
    assert _draws() == first
    seed_everything(8)
    assert _draws() != first


@pytest.mark.usefixtures("torch_settings")
def test_deterministic_torch_and_no_thread_count_change() -> None:
    threads = torch.get_num_threads()
    seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.get_num_threads() == threads
