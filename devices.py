"""``resolve_device``: a torch device name from settings (``auto``, ``cpu``, ``cuda``...)
as the device to run on.

Torch is imported when the function runs, not with the module, so settings and
commands that never touch a model do not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def resolve_device(name: str) -> torch.device:
    """The device ``name`` stands for: ``auto`` is ``cuda`` when torch sees a GPU, else ``cpu``.

    Args:
        name: ``auto`` or a torch device name (``cpu``, ``cuda``, ``cuda:1``, ``mps``).

    Returns:
        The device; ``str()`` of it gives back the name (``"cuda"``, ``"cpu"``).

    Raises:
        ValueError: ``name`` asks for CUDA but torch sees no CUDA device, or for
            ``cuda:N`` with ``N`` past the devices it sees (which would otherwise
            fail only when the first tensor moves there, as "invalid device ordinal").
        RuntimeError: ``name`` is not a torch device name (raised by torch).
    """
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f'device "{name}" asked for, but torch sees no CUDA device')
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ValueError(
            f'device "{name}" asked for, but torch sees {torch.cuda.device_count()} CUDA '
            "device(s), numbered from 0"
        )
    return device


__all__ = ["resolve_device"]
