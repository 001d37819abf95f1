"""``plot_segments``: a 2-D map of the customer segments, saved as a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from .clustering import SegmentResult


def plot_segments(result: SegmentResult, path: Path, *, max_points: int = 20_000) -> Path:
    """Scatter the first two principal components of the features, one colour per segment.

    Args:
        result: The segments to draw (uses ``result.x`` and the profiles' names).
        path: PNG file to write; parent folders are created.
        max_points: Above this many customers, a seeded sample is drawn.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    x, labels = result.x, result.assignments["segment"].to_numpy()
    rows = np.arange(len(x))
    if len(rows) > max_points:
        rng = np.random.default_rng(result.config.seed)
        rows = np.sort(rng.choice(rows, size=max_points, replace=False))
    components = min(2, x.shape[1], len(x))
    xy = PCA(n_components=components, random_state=result.config.seed).fit_transform(x)
    if components < 2:
        xy = np.column_stack([xy, np.zeros(len(xy))])
    names = result.profiles.set_index("segment")["name"]
    figure, axes = plt.subplots(figsize=(9, 6.5), dpi=110)
    colours = plt.get_cmap("tab10" if result.k <= 10 else "tab20")
    for segment in range(result.k):
        chosen = rows[labels[rows] == segment]
        size = int((labels == segment).sum())
        label = f"{segment + 1}: {names.get(segment, '?')} ({size})"
        axes.scatter(
            xy[chosen, 0], xy[chosen, 1], s=10, alpha=0.7, color=colours(segment % 20), label=label
        )
    axes.set_xlabel("PC 1 of the segment features")
    axes.set_ylabel("PC 2")
    axes.set_title(f"Customer segments {result.config.version} (k = {result.k})")
    axes.legend(loc="best", fontsize=8, markerscale=2)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path


__all__ = ["plot_segments"]
