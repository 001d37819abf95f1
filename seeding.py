"""``seed_everything``: one seed for Python, NumPy and torch, and deterministic torch.

Entry points (a training run, a benchmark, a DDP rank) call it once before they
draw anything. It changes no thread counts: the caller decides those where it needs
them (e.g. :func:`pricegraph.pricing.policies.training.one_torch_thread`).
"""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every CUDA
    device), and switch torch to deterministic algorithms (warn only).

    Deterministic algorithms are a process-wide torch setting: an operation without a
    deterministic implementation warns instead of raising.

    Args:
        seed: The seed, ``0 <= seed < 2**32``.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device as well
    torch.use_deterministic_algorithms(True, warn_only=True)


__all__ = ["seed_everything"]
