"""``resolve_device``: ``auto`` and named torch devices."""

from __future__ import annotations

import pytest
import torch

from pricegraph.devices import resolve_device


def test_auto_is_cuda_only_when_torch_sees_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert str(resolve_device("auto")) == "cuda"  # the name sentence-transformers takes


def test_named_devices_are_returned_as_given() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert str(resolve_device("cpu")) == "cpu"


def test_cuda_without_a_gpu_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match='device "cuda:1" asked for, but torch sees no CUDA'):
        resolve_device("cuda:1")


def test_a_gpu_index_past_the_visible_ones_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # On a one-GPU machine "cuda:1" used to pass and fail later, at the first tensor
    # moved there ("CUDA error: invalid device ordinal").
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ValueError, match=r'device "cuda:1" asked for, but torch sees 1 CUDA'):
        resolve_device("cuda:1")


def test_unknown_names_are_refused_by_torch() -> None:
    with pytest.raises(RuntimeError):
        resolve_device("gpu")
