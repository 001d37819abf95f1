"""``EarlyStopping``: best score, stale checks, patience and the restored state."""

from __future__ import annotations

import math

import pytest
import torch

from pricegraph.gnn.early_stopping import EarlyStopping


def _set(module: torch.nn.Linear, value: float) -> None:
    with torch.no_grad():
        module.weight.fill_(value)


def test_keeps_the_best_state_and_stops_after_patience_stale_checks() -> None:
    module = torch.nn.Linear(2, 1, bias=False)
    stopping = EarlyStopping(module, patience=2)
    scores = {2: 0.1, 4: 0.3, 6: 0.3, 8: 0.2}  # epoch -> validation score
    improved = []
    for epoch, score in scores.items():
        _set(module, float(epoch))
        improved.append(stopping.check(score, epoch))
        if stopping.should_stop:
            break
    assert improved == [True, True, False, False]  # a tie is no improvement
    assert (stopping.best_score, stopping.best_epoch, stopping.stale) == (0.3, 4, 2)
    assert stopping.should_stop
    stopping.restore()
    assert torch.equal(module.weight, torch.full((1, 2), 4.0))


def test_an_improvement_resets_the_stale_count() -> None:
    stopping = EarlyStopping(torch.nn.Linear(1, 1), patience=2)
    for epoch, score in enumerate([0.5, 0.4, 0.6, 0.1], start=1):
        stopping.check(score, epoch)
    assert (stopping.best_epoch, stopping.stale, stopping.should_stop) == (3, 1, False)


def test_restore_without_an_improvement_gives_the_initial_state() -> None:
    module = torch.nn.Linear(2, 1, bias=False)
    _set(module, 1.0)
    stopping = EarlyStopping(module, patience=1)
    _set(module, 7.0)
    assert not stopping.check(math.nan, 1)  # NaN never improves
    assert stopping.best_score == -math.inf and stopping.best_epoch == 0
    stopping.restore()
    assert torch.equal(module.weight, torch.ones(1, 2))


def test_the_kept_state_is_a_copy() -> None:
    module = torch.nn.Linear(2, 1, bias=False)
    stopping = EarlyStopping(module, patience=3)
    _set(module, 2.0)
    stopping.check(0.5, 1)
    _set(module, 9.0)  # training goes on in place
    stopping.restore()
    assert torch.equal(module.weight, torch.full((1, 2), 2.0))


def test_repr_and_negative_patience() -> None:
    stopping = EarlyStopping(torch.nn.Linear(1, 1), patience=4)
    assert repr(stopping) == "EarlyStopping(patience=4, best_score=-inf, best_epoch=0, stale=0)"
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(torch.nn.Linear(1, 1), patience=-1)
