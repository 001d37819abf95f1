"""Learning-curve plot of a ``train-gnn`` run (PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_learning_curves(curves: dict[str, list[dict[str, float]]], path: Path) -> Path:
    """Plot BPR loss per epoch of every stage and validation recall@k / NDCG@k.

    Args:
        curves: Stage (``tuning``, ``final``, ``lightgcn``, ...) -> history rows with
            ``epoch``, ``loss`` and, on validation epochs, ``val_recall`` / ``val_ndcg``.
        path: Where the PNG goes (folders created).

    Returns:
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (loss_ax, val_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    for stage, rows in curves.items():
        if rows:
            loss_ax.plot([r["epoch"] for r in rows], [r["loss"] for r in rows], label=stage)
        checks = [r for r in rows if "val_recall" in r]
        if checks:
            epochs = [r["epoch"] for r in checks]
            val_ax.plot(epochs, [r["val_recall"] for r in checks], "o-", label=f"{stage} recall")
            val_ax.plot(epochs, [r["val_ndcg"] for r in checks], "s--", label=f"{stage} NDCG")
    loss_ax.set(xlabel="epoch", ylabel="BPR loss", title="training loss")
    val_ax.set(xlabel="epoch", ylabel="metric@k", title="validation")
    for ax in (loss_ax, val_ax):
        if ax.lines:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["plot_learning_curves"]
