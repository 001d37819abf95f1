"""The price-response (demand) model: log-log with price-level curvature, cross prices
and calendar effects; estimated by :func:`.fit.fit_demand`.

For series ``j`` (a product, or a product and a segment) of pooling group ``g``
(its category and segment) in week ``t``, expected units are

.. math::

    E[q_{jt}] = \\pi_j \\, s_g \\exp\\big(a_j + \\kappa_{m(t)} + \\kappa_H H_t + \\kappa_X X_t
        + b_j x_{jt} + c_g \\bar x_{jt}^2 + \\gamma_g w_{jt}\\big),

with :math:`x = \\log(p / p^{ref})` (price relative to the list price),
:math:`\\bar x = \\mathrm{clip}(x, x^{lo}_g, x^{hi}_g)` (the curvature is not
extrapolated beyond the prices seen in the group), :math:`w` the log mean relative
price of the other products of the category that week (0 when none or when the
cross effect was not significant), :math:`\\kappa` month, holiday-week (``H``) and
pre-Christmas (``X``) effects (months centred to mean 0), :math:`\\pi_j` the share
of weeks with a sale and :math:`s_g` Duan's smearing factor
:math:`\\overline{e^{\\hat\\varepsilon}}`. The own-price elasticity at price ``p`` is

.. math:: \\varepsilon_j(p) = \\partial \\log q / \\partial \\log p = b_j + 2 c_g \\bar x \\,
    1[x^{lo}_g < x < x^{hi}_g],

clipped to ``config.elasticity_bounds``. :math:`b_j` is the elasticity at the list
price: the empirical-Bayes blend of the product's own estimate and the group's
pooled one (see :func:`.estimation.shrink`), or the pooled one
alone when the product has too few weeks or no price variation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import DataValidationError, ModelError, NotFoundError
from .estimation import codes, leave_one_out_log_mean
from .panel import ALL_SEGMENTS

FORMAT_VERSION = 1
"""Version of the JSON written by :meth:`DemandModel.save`."""


@dataclass(frozen=True)
class DemandConfig:
    """How the demand model is estimated."""

    min_product_weeks: int = 8
    """Weeks with sales a product needs for its own elasticity estimate."""
    min_price_sd: float = 0.02
    """Std of ``log(price / list_price)`` a product needs for its own estimate."""
    min_group_obs: int = 30
    """Weeks with sales a category pool needs; smaller ones use the segment-wide pool."""
    elasticity_bounds: tuple[float, float] = (-6.0, 0.0)
    """Reported / applied elasticities are clipped to this range (unitless)."""
    default_elasticity: float = -1.5
    """Prior elasticity when even the segment-wide pool has no price variation."""
    default_elasticity_sd: float = 1.0
    """Standard deviation of that prior."""
    cross_alpha: float = 0.05
    """Two-sided significance level to keep a category's cross-price effect."""
    ci_level: float = 0.95
    """Level of the confidence intervals."""


@dataclass(frozen=True, eq=False)
class DemandModel:
    """A fitted demand model (see the module docstring for the formula).

    Build with :func:`~.fit.fit_demand`; persist with
    :meth:`save` / :meth:`load`.
    """

    config: DemandConfig
    """The estimation config."""
    calendar: dict[str, Any]
    """``month`` (12 effects, January first), ``is_holiday_week``, ``is_pre_christmas``."""
    groups: pd.DataFrame = field(repr=False)
    """Per (category, segment): elasticity, se, curvature, cross, cross_se, is_cross_kept,
    x_lo, x_hi, smearing, tau2, n_obs, n_products, source (``category`` / ``segment``
    / ``prior``)."""
    estimates: pd.DataFrame = field(repr=False)
    """Per (product_id, segment): category, list_price, intercept, elasticity (clipped,
    at list price), elasticity_raw, se, ci_low, ci_high, source (``product`` /
    ``pooled``), n_obs (observations behind the estimate), n_sales_weeks, n_weeks,
    sale_rate, own_weight."""

    def _rows(self, product_ids: np.ndarray, segment: str) -> pd.DataFrame:
        """Estimate rows joined with their group, aligned with ``product_ids``."""
        index = pd.MultiIndex.from_arrays([product_ids, np.full(len(product_ids), segment)])
        keyed = self.estimates.set_index(["product_id", "segment"])
        at = keyed.index.get_indexer(index)
        if (at < 0).any():
            raise NotFoundError("Product", f"{product_ids[np.argmax(at < 0)]} (segment {segment})")
        rows = keyed.iloc[at].reset_index()
        grouped = self.groups.set_index(["category", "segment"])
        grouped = grouped[["curvature", "cross", "is_cross_kept", "x_lo", "x_hi", "smearing"]]
        return rows.join(grouped, on=["category", "segment"])

    def _calendar_effect(self, features: pd.DataFrame | None, n: int) -> np.ndarray:
        """Calendar log-effect per row (0 = an average month without holidays)."""
        if features is None:
            return np.zeros(n)
        if len(features) != n:
            raise DataValidationError(
                f"features: expected {n} rows (one per product), got {len(features)}",
                field="features",
            )
        effect = np.zeros(n)
        if "month" in features.columns:
            effect += np.asarray(self.calendar["month"])[features["month"].to_numpy(int) - 1]
        for flag in ("is_holiday_week", "is_pre_christmas"):
            if flag in features.columns:
                effect += self.calendar[flag] * features[flag].to_numpy(dtype=float)
        return effect

    def cross_index(
        self, product_ids: np.ndarray, prices: np.ndarray, segment: str = ALL_SEGMENTS
    ) -> np.ndarray:
        """Cross-price index ``w`` of each row from the other rows of its category."""
        rows = self._rows(np.asarray(product_ids, dtype=object), segment)
        rel = np.asarray(prices, dtype=float) / rows["list_price"].to_numpy()
        w, _ = leave_one_out_log_mean(rel, codes(rows["category"]))
        return w

    def predict_units(
        self,
        product_ids: np.ndarray | list[str],
        prices: np.ndarray | list[float],
        features: pd.DataFrame | None = None,
        *,
        segment: str = ALL_SEGMENTS,
        cross_index: np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected units per row for one week.

        Args:
            product_ids: Products, shape ``[num_rows]`` (a product may repeat, e.g.
                one row per week).
            prices: Unit prices (> 0, gross, list-price currency), ``[num_rows]``.
            features: Optional calendar columns aligned with the rows: ``month``
                (1-12), ``is_holiday_week``, ``is_pre_christmas``; ``None``: an
                average week.
            segment: The segment the series belong to.
            cross_index: ``w`` per row; ``None``: computed from the rows given
                (:meth:`cross_index`), so pass all products of a category together.

        Returns:
            Expected units, ``float64`` ``[num_rows]``.

        Raises:
            NotFoundError: A product has no estimate in ``segment``.
            DataValidationError: A price is not positive or features are misaligned.
        """
        ids = np.asarray(product_ids, dtype=object)
        price = np.asarray(prices, dtype=float)
        if price.shape != ids.shape:
            raise DataValidationError(
                f"prices: expected {ids.shape[0]} values, got {price.shape}", field="prices"
            )
        if not (price > 0).all():
            bad = price[~(price > 0)][0]
            raise DataValidationError(f"expected prices > 0, got {bad}", field="prices", value=bad)
        rows = self._rows(ids, segment)
        x = np.log(price / rows["list_price"].to_numpy())
        x_c = np.clip(x, rows["x_lo"].to_numpy(), rows["x_hi"].to_numpy())
        if cross_index is None:
            w, _ = leave_one_out_log_mean(np.exp(x), codes(rows["category"]))
        else:
            w = np.asarray(cross_index, dtype=float)
        gamma = np.where(rows["is_cross_kept"].to_numpy(bool), rows["cross"].to_numpy(), 0.0)
        log_q = (
            rows["intercept"].to_numpy()
            + self._calendar_effect(features, len(ids))
            + rows["elasticity"].to_numpy() * x
            + rows["curvature"].to_numpy() * x_c**2
            + gamma * w
        )
        scale = rows["sale_rate"].to_numpy() * rows["smearing"].to_numpy()
        return scale * np.exp(log_q)

    def elasticity(
        self, product_id: str, price: float | None = None, *, segment: str = ALL_SEGMENTS
    ) -> float:
        """Own-price elasticity of ``product_id`` at ``price`` (list price when ``None``).

        Returns:
            :math:`\\varepsilon_j(p)`, clipped to ``config.elasticity_bounds``.
        """
        row = self._rows(np.array([product_id], dtype=object), segment).iloc[0]
        p = float(row["list_price"]) if price is None else float(price)
        if p <= 0:
            raise DataValidationError(f"expected a price > 0, got {p}", field="price", value=p)
        x = np.log(p / float(row["list_price"]))
        inside = float(row["x_lo"]) < x < float(row["x_hi"])
        value = float(row["elasticity"]) + (2.0 * float(row["curvature"]) * x if inside else 0.0)
        low, high = self.config.elasticity_bounds
        return float(np.clip(value, low, high))

    def summary(self) -> dict[str, Any]:
        """Counts and distribution of the elasticities at list price."""
        e = self.estimates
        return {
            "series": len(e),
            "per_product": int((e["source"] == "product").sum()),
            "pooled": int((e["source"] == "pooled").sum()),
            "median_elasticity": float(e["elasticity"].median()),
            "median_elasticity_raw": float(e["elasticity_raw"].median()),
            "share_negative_raw": float((e["elasticity_raw"] < 0).mean()),
            "share_clipped": float((e["elasticity"] != e["elasticity_raw"]).mean()),
            "groups": len(self.groups),
            "groups_with_cross": int(self.groups["is_cross_kept"].sum()),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see :data:`FORMAT_VERSION`)."""
        return {
            "format_version": FORMAT_VERSION,
            "config": asdict(self.config),
            "calendar": self.calendar,
            "groups": json.loads(self.groups.to_json(orient="split", index=False)),
            "estimates": json.loads(self.estimates.to_json(orient="split", index=False)),
        }

    def save(self, path: str | Path) -> None:
        """Write the model as JSON to ``path``."""
        Path(path).write_text(json.dumps(self.to_dict()), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemandModel:
        """Rebuild from :meth:`to_dict`; raises ``ModelError`` on another version."""
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelError(f"demand model format {version!r}; this code reads {FORMAT_VERSION}")
        config = dict(data["config"])
        config["elasticity_bounds"] = tuple(config["elasticity_bounds"])

        def frame(part: dict[str, Any]) -> pd.DataFrame:
            return pd.DataFrame(part["data"], columns=part["columns"])

        estimates = frame(data["estimates"])
        estimates[["product_id", "segment", "category"]] = estimates[
            ["product_id", "segment", "category"]
        ].astype(str)
        groups = frame(data["groups"])
        groups["is_cross_kept"] = groups["is_cross_kept"].astype(bool)
        return cls(DemandConfig(**config), data["calendar"], groups, estimates)

    @classmethod
    def load(cls, path: str | Path) -> DemandModel:
        """Read a model written by :meth:`save`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read demand model {path}: {exc}") from exc
        return cls.from_dict(data)


__all__ = ["FORMAT_VERSION", "DemandConfig", "DemandModel"]
