"""Distributed entry point: train the encoder under ``torchrun`` with DDP, or alone.

One code path for one process and for many. ``torchrun`` sets ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK``; with ``WORLD_SIZE > 1`` this module joins the
process group (NCCL on CUDA, gloo on the CPU) and :func:`~pricegraph.gnn.train.train_encoder`
sees ``torch.distributed.is_initialized()``: it wraps the encoder in
``DistributedDataParallel`` and each rank takes its share of every epoch's batch,
so the averaged gradients are those of the full batch. Without ``torchrun`` the
same function trains in one process.

Usage::

    python -m pricegraph.gnn.ddp --snapshot var/snapshot.pt --out var/encoder --epochs 5
    torchrun --standalone --nproc_per_node 2 -m pricegraph.gnn.ddp \\
        --snapshot var/snapshot.pt --out var/encoder --epochs 5 --device cpu

Outputs (rank 0): ``encoder.pt`` (``state_dict``, ``config``, ``history``,
``world_size``, ``cutoff_s``, ``snapshot_id``, ``metadata``, ``num_nodes``,
``text_dim``; each history row's ``loss`` is the mean over the ranks, ``rank0_loss``
rank 0's own), ``embeddings.pt`` (:meth:`~pricegraph.gnn.train.EncoderResult.embeddings`)
and ``checkpoint.pt``, the run as an :class:`~pricegraph.gnn.checkpoint.EncoderCheckpoint`
(the snapshot's customer and product keys, the same vectors, the history under
``final``, ``settings`` naming this entry point and the world size; no comparison, so
the encoder serves, as after ``train-gnn --no-evaluate``), which ``pricegraph
publish-encoder`` hands to the API and ``recommend``.
With ``--debug-fingerprint`` every rank also writes ``params_rank{r}.pt``, the sum
and norm of every parameter, so that a test can check the ranks stayed in sync.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from pricegraph.devices import resolve_device
from pricegraph.errors import ConfigError
from pricegraph.gnn.checkpoint import make_checkpoint, save_checkpoint
from pricegraph.gnn.data import PURCHASED, GraphSnapshot
from pricegraph.gnn.train import EncoderConfig, EncoderResult, train_encoder
from pricegraph.seeding import seed_everything


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits in a ``torchrun`` job.

    Attributes:
        rank: Global rank, ``0 .. world_size - 1``.
        world_size: Number of processes (``1`` without ``torchrun``).
        local_rank: Rank on this machine (the CUDA device index).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_distributed(self) -> bool:
        """More than one process: a process group is needed."""
        return self.world_size > 1

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> DistEnv:
        """Read ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (all optional).

        Raises:
            ConfigError: A variable is not an integer, or the ranks are out of range.
        """
        values: dict[str, int] = {}
        for name, default in (("RANK", 0), ("WORLD_SIZE", 1), ("LOCAL_RANK", 0)):
            raw = environ.get(name, str(default))
            try:
                values[name] = int(raw)
            except ValueError as exc:
                raise ConfigError(f"environment {name}: expected an integer, got {raw!r}") from exc
        env = cls(values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"])
        if env.world_size < 1 or not 0 <= env.rank < env.world_size or env.local_rank < 0:
            raise ConfigError(
                f"environment RANK={env.rank}, WORLD_SIZE={env.world_size}, "
                f"LOCAL_RANK={env.local_rank}: expected WORLD_SIZE >= 1, "
                "0 <= RANK < WORLD_SIZE and LOCAL_RANK >= 0"
            )
        return env


def save_snapshot(snapshot: GraphSnapshot, path: str | Path) -> Path:
    """Write ``snapshot`` with ``torch.save`` (creating parent folders); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(snapshot, path)
    return path


def load_snapshot(path: str | Path) -> GraphSnapshot:
    """Read a snapshot written by :func:`save_snapshot`.

    ``weights_only=False`` unpickles arbitrary objects: load only files you wrote.

    Raises:
        ConfigError: The file is missing or holds something other than a snapshot.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--snapshot {path}: expected a file written by save_snapshot")
    snapshot = torch.load(path, weights_only=False)
    if not isinstance(snapshot, GraphSnapshot):
        raise ConfigError(
            f"--snapshot {path}: expected a GraphSnapshot, got {type(snapshot).__name__}"
        )
    return snapshot


def default_cutoff_s(snapshot: GraphSnapshot) -> int:
    """One second after the latest purchase: train on everything (production refit)."""
    time_s = snapshot.edge_time(PURCHASED)
    if time_s.numel() == 0:
        raise ConfigError("the snapshot has no purchases: nothing to train on")
    return int(time_s.max()) + 1


def parameter_fingerprint(model: torch.nn.Module) -> dict[str, tuple[float, float]]:
    """Parameter name -> (sum, L2 norm) in float64: equal on ranks that stayed in sync."""
    return {
        name: (float(p.detach().double().sum()), float(p.detach().double().norm()))
        for name, p in model.named_parameters()
    }


def _global_history(history: list[dict[str, float]], env: DistEnv) -> list[dict[str, float]]:
    """History rows with ``loss`` averaged over the ranks (each rank saw its share)."""
    if not env.is_distributed or not history:
        return history
    losses = torch.tensor([row["loss"] for row in history], dtype=torch.float64)
    if dist.get_backend() == dist.Backend.NCCL:
        losses = losses.cuda()
    dist.all_reduce(losses)
    mean = (losses / env.world_size).cpu().tolist()
    return [
        row | {"loss": value, "rank0_loss": row["loss"]}
        for row, value in zip(history, mean, strict=True)
    ]


def _resolve_device(name: str, env: DistEnv) -> str:
    """``auto|cpu|cuda`` -> the device of this rank (``cuda:LOCAL_RANK`` on GPU).

    What ``name`` stands for is :func:`pricegraph.devices.resolve_device`'s answer,
    as everywhere else; this adds only the rank's own GPU.
    """
    if name not in ("auto", "cpu", "cuda"):
        raise ConfigError(f'--device: expected "auto", "cpu" or "cuda", got "{name}"')
    try:
        device = resolve_device(name)
    except ValueError as exc:
        raise ConfigError(f"--device: {exc}") from exc
    if device.type != "cuda":
        return "cpu"
    if env.local_rank >= torch.cuda.device_count():
        raise ConfigError(
            f"LOCAL_RANK={env.local_rank}: expected < {torch.cuda.device_count()} CUDA devices"
        )
    torch.cuda.set_device(env.local_rank)
    return f"cuda:{env.local_rank}"


def _write_outputs(
    result: EncoderResult,
    snapshot: GraphSnapshot,
    history: list[dict[str, float]],
    env: DistEnv,
    out: Path,
) -> None:
    """Rank 0: ``encoder.pt``, ``embeddings.pt`` and the servable ``checkpoint.pt``."""
    encoder = result.model
    state_dict = {key: value.detach().cpu() for key, value in encoder.state_dict().items()}
    torch.save(
        {
            "state_dict": state_dict,
            "config": result.config,
            "history": history,
            "world_size": env.world_size,
            "cutoff_s": result.cutoff_s,
            "best_epoch": result.best_epoch,
            "snapshot_id": snapshot.snapshot_id,
            "metadata": result.inputs.metadata,
            "num_nodes": result.inputs.num_nodes,
            "text_dim": encoder.text_dim,
        },
        out / "encoder.pt",
    )
    torch.save(result.embeddings(), out / "embeddings.pt")
    checkpoint = make_checkpoint(
        result,
        snapshot_id=snapshot.snapshot_id,
        node_ids={kind: snapshot.node_ids[kind] for kind in ("customer", "product")},
        history={"final": history},
        settings={
            "trainer": "pricegraph.gnn.ddp",
            "world_size": env.world_size,
            "epochs": len(history),
            "device": str(result.config.get("device", "")),
        },
    )
    save_checkpoint(checkpoint, out / "checkpoint.pt")


def run(
    snapshot: GraphSnapshot,
    config: EncoderConfig,
    *,
    cutoff_s: int,
    epochs: int,
    out: Path,
    env: DistEnv,
    debug_fingerprint: bool = False,
) -> EncoderResult:
    """Train on this rank (the process group, if any, is already up) and write outputs.

    Args:
        snapshot: The graph.
        config: Settings, ``device`` already resolved for this rank.
        cutoff_s: Train on purchases before this second (UTC epoch).
        epochs: Exactly this many epochs (no validation, no early stopping).
        out: Output folder (created).
        env: This process's place in the job.
        debug_fingerprint: Also write ``params_rank{rank}.pt`` on every rank.

    Returns:
        This rank's result (identical weights on every rank).
    """
    out.mkdir(parents=True, exist_ok=True)
    result = train_encoder(snapshot, config, cutoff_s=cutoff_s, epochs=epochs)
    history = _global_history(result.history, env)
    if debug_fingerprint:
        torch.save(parameter_fingerprint(result.model), out / f"params_rank{env.rank}.pt")
    if env.rank == 0:
        _write_outputs(result, snapshot, history, env, out)
    if env.is_distributed:
        dist.barrier()  # no rank exits (and tears the group down) before rank 0 wrote
    return result


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = EncoderConfig()
    parser = argparse.ArgumentParser(
        prog="python -m pricegraph.gnn.ddp",
        description="Train the heterogeneous encoder; run under torchrun for DDP.",
    )
    parser.add_argument("--snapshot", type=Path, required=True, help="save_snapshot file")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--cutoff-s", type=int, default=None, help="UTC epoch second (default: last purchase + 1)"
    )
    parser.add_argument("--epochs", type=int, default=defaults.max_epochs)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--embedding-dim", type=int, default=defaults.embedding_dim)
    parser.add_argument("--target-days", type=int, default=defaults.target_days)
    parser.add_argument("--num-windows", type=int, default=defaults.num_windows)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument(
        "--debug-fingerprint",
        action="store_true",
        help="every rank writes params_rank{r}.pt (parameter sums and norms)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, join the ``torchrun`` group if any, train, write; returns 0."""
    args = _parse_args(argv)
    env = DistEnv.from_environ(os.environ)
    if args.epochs < 1:
        raise ConfigError(f"--epochs: expected >= 1, got {args.epochs}")
    device = _resolve_device(args.device, env)
    config = EncoderConfig(
        embedding_dim=args.embedding_dim,
        batch_size=args.batch_size,
        max_epochs=args.epochs,
        target_days=args.target_days,
        num_windows=args.num_windows,
        seed=args.seed,
        device=device,
    )
    snapshot = load_snapshot(args.snapshot)
    cutoff_s = args.cutoff_s if args.cutoff_s is not None else default_cutoff_s(snapshot)
    if env.is_distributed:
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend=backend, rank=env.rank, world_size=env.world_size)
    try:
        # Every rank uses the same seed on purpose: train_encoder needs the same epoch
        # sample on every rank and slices its share from it.
        seed_everything(config.seed)
        run(
            snapshot,
            config,
            cutoff_s=cutoff_s,
            epochs=args.epochs,
            out=args.out,
            env=env,
            debug_fingerprint=args.debug_fingerprint,
        )
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


__all__ = [
    "DistEnv",
    "default_cutoff_s",
    "load_snapshot",
    "main",
    "parameter_fingerprint",
    "run",
    "save_snapshot",
]

if __name__ == "__main__":
    raise SystemExit(main())
