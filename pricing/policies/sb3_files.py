"""Stable-baselines3 checkpoints read without unpickling.

An SB3 ``.zip`` keeps the network weights as tensors (``policy.pth``, which SB3 reads
with ``torch.load(weights_only=True)``) and the rest of the model in a JSON file,
``data``, where every value JSON cannot hold (the spaces, schedules, buffer and policy
classes, the exploration noise) is a cloudpickle: loading it runs whatever code the
file names. A quote server loads checkpoints, so :func:`load_model` never unpickles:
it hands SB3 a replacement for every pickled value (``custom_objects``), the spaces
rebuilt from plain JSON that :meth:`HierarchicalPolicy.save
<pricegraph.pricing.policies.hierarchy.HierarchicalPolicy.save>` writes to the
manifest (:func:`space_to_json`), the rest only used in training, and refuses a file
with a pickled value it does not know.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer, RolloutBuffer
from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit

from ...errors import ModelError

_TRAINING_ONLY: dict[str, Any] = {
    "_last_episode_starts": None,
    "_last_obs": None,
    "_last_original_obs": None,
    "action_noise": None,
    "clip_range": 0.2,
    "ep_info_buffer": None,
    "ep_success_buffer": None,
    "lr_schedule": 0.0,
    "replay_buffer_class": ReplayBuffer,
    "rollout_buffer_class": RolloutBuffer,
    "train_freq": TrainFreq(1, TrainFrequencyUnit.STEP),
}
"""Pickled values that only training reads (the last rollout, episode statistics,
schedules, buffers, noise): inert stand-ins, as in a model before its first ``learn``
(SB3 rebuilds the schedules from the plain ``learning_rate`` when it sets the model up)."""


def space_to_json(space: gym.Space[Any]) -> dict[str, Any]:
    """A ``Box``, ``Discrete`` or ``MultiDiscrete`` space as plain JSON values.

    Raises:
        ModelError: Another kind of space.
    """
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "low": space.low.tolist(),
            "high": space.high.tolist(),
            "dtype": str(space.dtype),
        }
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist(), "dtype": str(space.dtype)}
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n)}
    raise ModelError(f"cannot save a {type(space).__name__} space as JSON")


def space_from_json(value: dict[str, Any]) -> gym.Space[Any]:
    """The space :func:`space_to_json` wrote (infinite bounds included).

    Raises:
        ModelError: An unknown ``type`` or missing fields.
    """
    try:
        kind = value["type"]
        if kind == "Box":
            dtype = np.dtype(value["dtype"])
            low = np.asarray(value["low"], dtype=dtype)
            high = np.asarray(value["high"], dtype=dtype)
            return gym.spaces.Box(low=low, high=high, dtype=dtype)  # type: ignore[arg-type]
        if kind == "MultiDiscrete":
            return gym.spaces.MultiDiscrete(np.asarray(value["nvec"]), dtype=value["dtype"])
        if kind == "Discrete":
            return gym.spaces.Discrete(int(value["n"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"invalid space in the checkpoint manifest: {exc}") from exc
    raise ModelError(f"unknown space type {kind!r} in the checkpoint manifest")


def pickled_fields(path: Path) -> list[str]:
    """The names of the pickled values in an SB3 ``.zip``'s ``data`` (read as JSON)."""
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    return sorted(
        key for key, value in data.items() if isinstance(value, dict) and ":serialized:" in value
    )


def load_model(
    algorithm: type[BaseAlgorithm],
    path: Path,
    spaces: dict[str, Any],
    device: str = "cpu",
) -> BaseAlgorithm:
    """Load an SB3 model for inference without unpickling anything in the file.

    Args:
        algorithm: ``PPO``, ``TD3``, ... (its ``MlpPolicy`` is the policy class).
        path: The ``.zip`` SB3 saved.
        spaces: ``{"observation": ..., "action": ...}`` as :func:`space_to_json`.
        device: Torch device of the network.

    Raises:
        ModelError: The file is not an SB3 zip, or holds a pickled value that is
            neither a space, nor the policy class, nor used only in training.
    """
    try:
        pickled = pickled_fields(path)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot read {path} as an SB3 checkpoint: {exc}") from exc
    replacements: dict[str, Any] = {
        "observation_space": space_from_json(spaces["observation"]),
        "action_space": space_from_json(spaces["action"]),
        "policy_class": algorithm.policy_aliases["MlpPolicy"],
        **_TRAINING_ONLY,
    }
    unknown = [name for name in pickled if name not in replacements]
    if unknown:
        raise ModelError(
            f"{path}: refusing to unpickle {', '.join(unknown)} (an SB3 checkpoint from "
            "pricegraph train-pricing holds no such value); retrain the policy"
        )
    custom = {name: replacements[name] for name in pickled}
    return algorithm.load(path, device=device, custom_objects=custom)


__all__ = ["load_model", "pickled_fields", "space_from_json", "space_to_json"]
