"""Small numerical pieces of demand estimation: OLS with standard errors, within
transformation, leave-one-out cross prices and empirical-Bayes shrinkage.

All functions are pure NumPy / pandas over their arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class OlsFit:
    """Least-squares fit of ``y = X beta + e`` with classical standard errors."""

    beta: np.ndarray
    """Coefficients, shape ``[num_features]``."""
    se: np.ndarray
    """Standard errors of ``beta``, shape ``[num_features]`` (inf where not identified)."""
    sigma2: float
    """Residual variance ``RSS / dof``."""
    dof: int
    """Residual degrees of freedom."""
    residuals: np.ndarray
    """``y - X beta``, shape ``[num_rows]``."""


def ols(x: np.ndarray, y: np.ndarray, *, absorbed: int = 0) -> OlsFit:
    """Ordinary least squares with ``Var(beta) = sigma^2 (X'X)^{-1}``.

    Args:
        x: Design, shape ``[num_rows, num_features]``.
        y: Response, shape ``[num_rows]``.
        absorbed: Parameters removed beforehand (fixed effects demeaned away), taken
            off the degrees of freedom: ``dof = n - k - absorbed``.

    Returns:
        The fit; with ``dof <= 0`` the standard errors are ``inf``.
    """
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ beta
    dof = int(len(y) - x.shape[1] - absorbed)
    if dof <= 0:
        return OlsFit(beta, np.full(len(beta), np.inf), float("nan"), dof, residuals)
    sigma2 = float(residuals @ residuals / dof)
    xtx_inv = np.linalg.pinv(x.T @ x)
    se = np.sqrt(np.clip(np.diag(xtx_inv) * sigma2, 0.0, None))
    return OlsFit(beta, se, sigma2, dof, residuals)


def demean(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Subtract the group mean from each row (the within / fixed-effects transform).

    Args:
        values: Shape ``[num_rows]`` or ``[num_rows, num_features]``.
        groups: Integer group codes, shape ``[num_rows]``.
    """
    values = np.asarray(values, dtype=float)
    flat = values.reshape(len(values), -1)
    counts = np.bincount(groups).astype(float)
    means = np.stack(
        [np.bincount(groups, weights=col) / np.maximum(counts, 1.0) for col in flat.T], axis=1
    )
    return (flat - means[groups]).reshape(values.shape)


def leave_one_out_log_mean(
    rel_price: np.ndarray, cell: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cross-price index: log of the mean relative price of the *other* rows of a cell.

    .. math:: w_{jt} = \\log \\frac{1}{|C_t| - 1} \\sum_{k \\in C_t, k \\ne j} p_{kt} / p^{ref}_k

    where :math:`C_t` is the cell (category, segment and week) of row ``j``.

    Args:
        rel_price: ``price / list_price`` per row, shape ``[num_rows]``.
        cell: Integer cell codes, shape ``[num_rows]``.

    Returns:
        ``(w, has_others)``: ``w`` is 0 where the cell has no other row.
    """
    total = np.bincount(cell, weights=rel_price)
    count = np.bincount(cell).astype(float)
    others = count[cell] - 1.0
    has_others = others > 0
    mean = np.where(has_others, (total[cell] - rel_price) / np.maximum(others, 1.0), 1.0)
    return np.log(np.clip(mean, 1e-9, None)), has_others


@dataclass(frozen=True)
class Shrunk:
    """Empirical-Bayes posterior of per-unit estimates around a pooled mean."""

    mean: np.ndarray
    """Posterior means, shape ``[num_units]``."""
    var: np.ndarray
    """Posterior variances, shape ``[num_units]``."""
    weight: np.ndarray
    """Weight of the unit's own estimate, ``tau^2 / (tau^2 + s_j^2)`` in [0, 1]."""
    tau2: float
    """Between-unit variance of the true values (DerSimonian-Laird, >= 0)."""


def shrink(
    estimates: np.ndarray, variances: np.ndarray, pooled: float, pooled_var: float
) -> Shrunk:
    """Shrink per-unit estimates toward a pooled value, weighting by their variances.

    Model: :math:`\\hat b_j \\sim N(b_j, s_j^2)`, :math:`b_j \\sim N(\\mu, \\tau^2)`.
    :math:`\\tau^2` by DerSimonian-Laird with weights :math:`w_j = 1/s_j^2`:

    .. math::

        Q = \\sum_j w_j (\\hat b_j - \\mu)^2, \\quad
        \\tau^2 = \\max\\Big(0, \\frac{Q - (k - 1)}{\\sum w_j - \\sum w_j^2 / \\sum w_j}\\Big),

    then :math:`\\lambda_j = \\tau^2 / (\\tau^2 + s_j^2)`,
    :math:`\\tilde b_j = \\lambda_j \\hat b_j + (1 - \\lambda_j) \\mu` and
    :math:`\\mathrm{Var}(\\tilde b_j) = \\lambda_j s_j^2 + (1 - \\lambda_j)^2 \\mathrm{Var}(\\mu)`.

    Args:
        estimates: :math:`\\hat b_j`, shape ``[num_units]``.
        variances: :math:`s_j^2` (> 0), shape ``[num_units]``.
        pooled: :math:`\\mu`, the pooled estimate.
        pooled_var: :math:`\\mathrm{Var}(\\mu)`.
    """
    estimates = np.asarray(estimates, dtype=float)
    variances = np.clip(np.asarray(variances, dtype=float), 1e-12, None)
    k = len(estimates)
    if k == 0:
        empty = np.empty(0)
        return Shrunk(empty, empty, empty, 0.0)
    w = 1.0 / variances
    q = float(np.sum(w * (estimates - pooled) ** 2))
    denom = float(w.sum() - (w**2).sum() / w.sum())
    tau2 = max(0.0, (q - (k - 1)) / denom) if denom > 0 else 0.0
    weight = tau2 / (tau2 + variances)
    mean = weight * estimates + (1.0 - weight) * pooled
    var = weight * variances + (1.0 - weight) ** 2 * pooled_var
    return Shrunk(mean, var, weight, tau2)


def codes(*columns: pd.Series) -> np.ndarray:
    """Dense integer codes of the row-wise combination of ``columns``."""
    return pd.MultiIndex.from_arrays(list(columns)).factorize()[0]


__all__ = ["OlsFit", "Shrunk", "codes", "demean", "leave_one_out_log_mean", "ols", "shrink"]
