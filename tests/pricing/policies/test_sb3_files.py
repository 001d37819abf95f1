"""SB3 checkpoints are read without unpickling: same predictions, hostile files refused."""

from __future__ import annotations

import base64
import json
import pickle
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO, TD3

from pricegraph.errors import ModelError
from pricegraph.pricing.policies.sb3_files import (
    load_model,
    pickled_fields,
    space_from_json,
    space_to_json,
)


class _TinyEnv(gym.Env[np.ndarray, np.ndarray]):
    def __init__(self, action_space: gym.Space[np.ndarray]) -> None:
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        super().reset(seed=seed)
        return np.zeros(3, np.float32), {}

    def step(self, action: np.ndarray) -> tuple:
        return np.ones(3, np.float32), float(np.sum(action)), True, False, {}


def _saved(tmp_path: Path, algorithm: type, action_space: gym.Space) -> tuple[Path, dict]:
    env = _TinyEnv(action_space)
    kwargs = {"n_steps": 8, "batch_size": 8} if algorithm is PPO else {"learning_starts": 1}
    model = algorithm("MlpPolicy", env, seed=3, policy_kwargs={"net_arch": [8, 8]}, **kwargs)
    model.learn(16)  # a trained model also pickles its last rollout and episode statistics
    path = tmp_path / f"{algorithm.__name__}.zip"
    model.save(path)
    spaces = {
        "observation": space_to_json(model.observation_space),
        "action": space_to_json(model.action_space),
    }
    return path, json.loads(json.dumps(spaces))  # as the manifest stores them


@pytest.mark.parametrize(
    "space",
    [
        gym.spaces.Box(-np.inf, np.inf, (3,), np.float32),
        gym.spaces.Box(np.array([-1.0, 0.0]), np.array([1.0, 5.0]), dtype=np.float64),
        gym.spaces.MultiDiscrete([5, 3, 5]),
        gym.spaces.Discrete(4),
    ],
)
def test_spaces_round_trip_through_json(space: gym.Space) -> None:
    assert space_from_json(json.loads(json.dumps(space_to_json(space)))) == space


def test_unknown_space_is_refused() -> None:
    with pytest.raises(ModelError, match="unknown space type 'Tuple'"):
        space_from_json({"type": "Tuple"})


@pytest.mark.parametrize(
    ("algorithm", "action_space"),
    [(PPO, gym.spaces.MultiDiscrete([5, 5])), (TD3, gym.spaces.Box(-1, 1, (1,), np.float32))],
)
def test_loaded_model_predicts_as_sb3s_own_load(
    tmp_path: Path, algorithm: type, action_space: gym.Space
) -> None:
    path, spaces = _saved(tmp_path, algorithm, action_space)
    assert "observation_space" in pickled_fields(path)  # SB3 pickles it; we do not read it
    ours, theirs = load_model(algorithm, path, spaces), algorithm.load(path)
    observations = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    ours_actions, _ = ours.predict(observations, deterministic=True)
    theirs_actions, _ = theirs.predict(observations, deterministic=True)
    np.testing.assert_array_equal(ours_actions, theirs_actions)
    assert ours.action_space == theirs.action_space


class _Touch:
    """Unpickling this creates a file: the stand-in for code a hostile file would run."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.target,))


def test_a_pickled_value_it_does_not_know_is_refused_and_never_run(tmp_path: Path) -> None:
    path, spaces = _saved(tmp_path, PPO, gym.spaces.MultiDiscrete([5, 5]))
    marker = tmp_path / "ran"
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members["data"])
    payload = base64.b64encode(pickle.dumps(_Touch(marker))).decode()
    data["observation_space"][":serialized:"] = payload  # a replaced value is never read
    data["evil"] = {":type:": "<class 'object'>", ":serialized:": payload}
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)

    with pytest.raises(ModelError, match="refusing to unpickle evil"):
        load_model(PPO, path, spaces)
    assert not marker.exists()
    del data["evil"]
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    load_model(PPO, path, spaces)  # the hostile space is replaced, not unpickled
    assert not marker.exists()
    with pytest.raises(ValueError):  # the "space" the payload returns is None
        PPO.load(path)  # what the test guards against: SB3's own load runs the payload
    assert marker.exists()
