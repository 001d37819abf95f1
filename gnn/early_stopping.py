"""``EarlyStopping``: keep the best state of a model by a validation score, count stale checks.

The training loops of :mod:`~pricegraph.gnn.lightgcn` and :mod:`~pricegraph.gnn.train`
validate every few epochs; each check either improves on the best score so far
(the model's state is copied and the stale count resets) or does not (the count
grows). The loop stops once ``patience`` checks in a row brought no improvement and
puts the best state back with :meth:`EarlyStopping.restore`.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch


class EarlyStopping:
    """The best validation score of a module, its state then, and checks since.

    Higher scores are better (recall@k); a score equal to the best is no improvement,
    and a NaN score never improves.

    Args:
        module: The model whose ``state_dict`` is kept (copied now, as the fallback
            when no check improves).
        patience: Checks without improvement after which :attr:`should_stop` is true.

    Attributes:
        best_score: The best score so far (``-inf`` before the first check).
        best_epoch: The epoch of the best score (0 before the first check).
        stale: Checks since the best one.
    """

    def __init__(self, module: torch.nn.Module, *, patience: int) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping.patience: expected >= 0, got {patience}")
        self._module = module
        self.patience = patience
        self.best_score = -math.inf
        self.best_epoch = 0
        self.stale = 0
        self._best_state: dict[str, Any] = copy.deepcopy(module.state_dict())

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(patience={self.patience}, best_score={self.best_score}, "
            f"best_epoch={self.best_epoch}, stale={self.stale})"
        )

    def check(self, score: float, epoch: int) -> bool:
        """Record the validation ``score`` of ``epoch``; whether it is a new best.

        A new best copies the module's state and resets :attr:`stale`; otherwise
        :attr:`stale` grows by one.
        """
        if score > self.best_score:
            self.best_score, self.best_epoch, self.stale = score, epoch, 0
            self._best_state = copy.deepcopy(self._module.state_dict())
            return True
        self.stale += 1
        return False

    @property
    def should_stop(self) -> bool:
        """Whether ``patience`` checks in a row brought no improvement."""
        return self.stale >= self.patience

    def restore(self) -> None:
        """Load the best state (the initial one when no check improved) into the module."""
        self._module.load_state_dict(self._best_state)


__all__ = ["EarlyStopping"]
