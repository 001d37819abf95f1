"""Customer-conditioned price response: how price-sensitive a customer is, from their state.

**Exposures.** One row per (customer, product, day) on which the customer viewed the
product at a shown price :math:`p`; :math:`y = 1` when they bought it that day. The
log price ratio is :math:`r = \\log(p / p^{list}_j)` (0 at list price, negative on
markdown), the same price variable as the market's utility (:mod:`~.market.model`).

**Model.** With :math:`x_c` the customer's reduced, standardised state (a
:class:`StateReducer` of graph vectors, text vectors, RFM or a segment one-hot),

.. math::

    \\mathrm{logit}\\, P(y = 1) = a_j + u^\\top x_c - (b_0 + w^\\top x_c)\\, r,

so the customer's estimated price slope is :math:`\\hat b_c = b_0 + w^\\top x_c`: the
:math:`\\beta_c` of the market's logit when inside shares are small. It is fitted by
L2-penalised maximum likelihood (scikit-learn ``LogisticRegression``); the penalty is
chosen by held-out log loss on the exposures of the last ``validation_share`` of days,
then the model is refitted on all of them. The interval is the delta method on the
slope block of the inverse penalised Fisher information at the fit,
:math:`\\mathrm{Var}(\\hat b_c) = [1, x_c]^\\top \\Sigma [1, x_c]`, normal, at
``interval`` coverage.

**What it needs.** The slope is identified only by prices that moved while customers
looked (markdowns, price changes): at least ``min_varied`` exposures with
:math:`r \\neq 0` and ``min_purchases`` purchases among the exposures. Purchase logs
alone (no views, no exogenous price variation, e.g. Online Retail) do not identify a
customer's price response; :func:`fit_sensitivity` then raises
:class:`~pricegraph.errors.DataValidationError` saying so, and pricing falls back to
the segment-level slope of its market model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import expit
from scipy.stats import norm
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from ...errors import DataValidationError, ModelError

EXPOSURE_COLUMNS = ("customer_id", "product_id", "day", "log_rel_price", "bought")
"""Columns of an exposure table (:func:`exposures`)."""


@dataclass(frozen=True)
class SensitivityConfig:
    """Settings of :func:`fit_sensitivity` (saved with the model)."""

    components: int = 2
    """Largest number of state dimensions kept by :class:`StateReducer` (PCA). Each
    kept dimension adds a slope coefficient that only purchases at prices off list
    identify; on the development worlds of ``bench/bench_sensitivity.py`` (seeds 7 and
    2027, 1,000 or 3,000 customers, 200 or 300 products), graph vectors read through
    the encoder's price-behaviour head recovered the customers' true ranking with
    Spearman 0.53-0.60 with 2, 0.44-0.54 with 3 and 0.41-0.49 with 6; the held-out
    log loss cannot choose it, because it is dominated by the level term."""
    penalties: tuple[float, ...] = (0.03, 0.3, 3.0)
    """Candidate inverse L2 strengths ``C``; the one with the best validation loss wins."""
    validation_share: float = 0.2
    """Share of the days, the latest, held out to choose the penalty."""
    interval: float = 0.9
    """Coverage of the per-customer interval."""
    min_varied: int = 200
    """Fewest exposures at a price off list needed to identify the slope."""
    min_purchases: int = 20
    """Fewest purchases among the exposures."""


def exposures(views: pd.DataFrame, purchases: pd.DataFrame, list_price: pd.Series) -> pd.DataFrame:
    """Build the exposure table (module docstring) from event frames.

    Args:
        views: ``customer_id, product_id, ts`` (UTC timestamps) and ``price``, the price
            shown. Several views of a product on one day count once (the day's lowest
            shown price).
        purchases: ``customer_id, product_id, ts``.
        list_price: Product id -> list price (> 0).

    Returns:
        Columns :data:`EXPOSURE_COLUMNS`; ``day`` is the UTC day (midnight).

    Raises:
        DataValidationError: A viewed product has no positive list price or a view no
            positive price (the first offending row is named).
    """
    frame = views.assign(day=pd.to_datetime(views["ts"], utc=True).dt.floor("D"))
    frame = frame.groupby(["customer_id", "product_id", "day"], as_index=False)["price"].min()
    listed = list_price.reindex(frame["product_id"]).to_numpy(float)
    shown = frame["price"].to_numpy(float)
    for values, name in ((listed, "list_price"), (shown, "price")):
        bad = ~(values > 0)
        if bad.any():
            row = frame.iloc[int(np.flatnonzero(bad)[0])]
            raise DataValidationError(
                f"exposures: view of product {row['product_id']!r} by {row['customer_id']!r} "
                f"on {row['day']:%Y-%m-%d}: field {name} must be > 0"
            )
    bought = purchases.assign(day=pd.to_datetime(purchases["ts"], utc=True).dt.floor("D"))
    keys = ["customer_id", "product_id", "day"]
    bought = bought[keys].drop_duplicates().assign(bought=1)
    frame = frame.merge(bought, how="left", on=keys)
    frame["bought"] = frame["bought"].fillna(0).astype(np.int8)
    frame["log_rel_price"] = np.log(shown / listed)
    return frame[list(EXPOSURE_COLUMNS)]


@dataclass(frozen=True, eq=False)
class StateReducer:
    """The one feature function from a customer's state to :math:`x_c` (train = serve).

    ``x = ((v - mean) / scale) @ components.T / spread``: standardise, project on the
    top principal components (identity when the state is narrow enough), rescale to
    unit variance. Customers without a state get ``x = 0``, the population mean.

    With a ``basis`` ``B`` (``[m, dim]``, e.g. the encoder's price-behaviour head, which
    reads a customer's price behaviour from its graph vector) the state is first read
    through it, ``u = v B^T``, and ``u`` is standardised and projected; the composition
    is one linear map of ``v``, kept in the same four arrays (``scale`` = 1), so quotes
    apply it to the raw vector exactly as training did.
    """

    name: str
    """What the state is (``graph``, ``text``, ``rfm``, ``segment``)."""
    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    """``[k, dim]`` projection."""
    spread: np.ndarray
    """``[k]`` std of each projected column on the fitting customers."""

    @classmethod
    def fit(
        cls, name: str, states: np.ndarray, components: int = 2, basis: np.ndarray | None = None
    ) -> StateReducer:
        """Fit on ``[n, dim]`` states (rows of customers that have one), read through
        ``basis`` ``[m, dim]`` first when given (class docstring)."""
        states = np.asarray(states, float)
        if states.ndim != 2 or len(states) < 2:
            raise DataValidationError(f"state {name!r}: expected [n >= 2, dim] values")
        if basis is not None:
            basis = np.atleast_2d(np.asarray(basis, float))
            if basis.shape[1] != states.shape[1]:
                raise DataValidationError(
                    f"state {name!r}: a basis of width {basis.shape[1]} cannot read states of "
                    f"width {states.shape[1]}"
                )
            inner = cls.fit(name, states @ basis.T, components)
            mean = states.mean(axis=0)
            projection = (inner.components / inner.scale) @ basis
            return cls(name, mean, np.ones_like(mean), projection, inner.spread)
        mean, scale = states.mean(axis=0), states.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        z = (states - mean) / scale
        k = min(components, z.shape[1], len(z) - 1)
        if z.shape[1] <= components:
            proj = np.eye(z.shape[1])
        else:
            proj = PCA(n_components=k, random_state=0).fit(z).components_
        spread = (z @ proj.T).std(axis=0)
        return cls(name, mean, scale, proj, np.where(spread > 1e-12, spread, 1.0))

    @property
    def width(self) -> int:
        """``k``, the number of state features."""
        return int(self.components.shape[0])

    def transform(self, states: np.ndarray) -> np.ndarray:
        """``[n, k]`` features of ``[n, dim]`` states (NaN rows -> zeros)."""
        states = np.atleast_2d(np.asarray(states, float))
        x = ((states - self.mean) / self.scale) @ self.components.T / self.spread
        return np.where(np.isnan(x).any(axis=1, keepdims=True), 0.0, x)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to save (see :meth:`SensitivityModel.save`)."""
        return {
            "mean": self.mean,
            "scale": self.scale,
            "components": self.components,
            "spread": self.spread,
        }


@dataclass(frozen=True, eq=False)
class SensitivityModel:
    """A fitted customer-conditioned slope (module docstring)."""

    reducer: StateReducer
    intercept: float
    """:math:`b_0`: the slope of a customer at the population mean state."""
    weights: np.ndarray
    """``[k]`` :math:`w`."""
    covariance: np.ndarray
    """``[1 + k, 1 + k]`` covariance of :math:`(b_0, w)`."""
    config: SensitivityConfig = field(default_factory=SensitivityConfig)
    penalty: float = 1.0
    """The ``C`` chosen on validation."""
    validation_loss: dict[str, float] = field(default_factory=dict)
    """Held-out mean log loss per candidate ``C``."""
    num_exposures: int = 0

    def estimate(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(slope, low, high)``, ``[n]`` each, for ``[n, dim]`` states (module docstring)."""
        x = self.reducer.transform(states)
        design = np.hstack([np.ones((len(x), 1)), x])
        slope = design @ np.concatenate([[self.intercept], self.weights])
        sd = np.sqrt(np.maximum(np.einsum("ni,ij,nj->n", design, self.covariance, design), 0.0))
        half = norm.ppf(0.5 + self.config.interval / 2) * sd
        return slope, slope - half, slope + half

    def save(self, path: Path) -> Path:
        """Write ``<path>.npz`` (arrays) and ``<path>.json`` (name, settings, figures)."""
        path = Path(path)
        np.savez(
            path.with_suffix(".npz"),
            weights=self.weights,
            covariance=self.covariance,
            **{f"reducer_{k}": v for k, v in self.reducer.arrays().items()},
        )
        info = {
            "state": self.reducer.name,
            "intercept": self.intercept,
            "penalty": self.penalty,
            "validation_loss": self.validation_loss,
            "num_exposures": self.num_exposures,
            "interval": self.config.interval,
            "components": self.config.components,
        }
        path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> SensitivityModel:
        """Read what :meth:`save` wrote.

        Raises:
            ModelError: A file is missing or unreadable.
        """
        path = Path(path)
        try:
            info = json.loads(path.with_suffix(".json").read_text())
            arrays = dict(np.load(path.with_suffix(".npz")))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read customer sensitivity model {path}: {exc}") from exc
        reducer = StateReducer(
            info["state"],
            arrays["reducer_mean"],
            arrays["reducer_scale"],
            arrays["reducer_components"],
            arrays["reducer_spread"],
        )
        config = SensitivityConfig(components=info["components"], interval=info["interval"])
        return cls(
            reducer,
            float(info["intercept"]),
            arrays["weights"],
            arrays["covariance"],
            config,
            float(info["penalty"]),
            info["validation_loss"],
            int(info["num_exposures"]),
        )


RATIO_RANGE = (0.25, 4.0)
"""Clip of a customer's slope over its segment's mean estimate."""


@dataclass(frozen=True, eq=False)
class CustomerSignal:
    """What the personal level reads of a customer: its slope relative to its segment.

    ``ratio = clip(b_c / mean_s, RATIO_RANGE)``, ``b_c`` the model's estimate from the
    customer's state and ``mean_s`` the mean estimate over the customers of its segment
    when the signal was built (the meso level prices the segment's mean; the ratio is
    what is left to personalise). A customer without a state, or of a segment the
    signal does not know, gets ratio 1: the segment's plan, named as a fallback.
    """

    model: SensitivityModel
    segment_names: tuple[str, ...]
    segment_mean: np.ndarray
    """``[S]`` mean estimated slope of the segment's customers (population mean if none)."""

    @classmethod
    def build(
        cls,
        model: SensitivityModel,
        states: np.ndarray,
        segment: np.ndarray,
        segment_names: tuple[str, ...],
    ) -> CustomerSignal:
        """From the states ``[n, dim]`` (NaN rows: none) of customers of ``segment [n]``."""
        slope = model.estimate(states)[0]
        known = ~np.isnan(np.asarray(states, float)).any(axis=1)
        overall = float(slope[known].mean()) if known.any() else model.intercept
        means = np.full(len(segment_names), overall)
        for s in range(len(segment_names)):
            member = known & (segment == s)
            if member.any():
                means[s] = slope[member].mean()
        return cls(model, tuple(segment_names), means)

    def read(self, states: np.ndarray, segment: np.ndarray) -> dict[str, np.ndarray]:
        """``ratio, slope, low, high`` ``[n]`` floats and ``known`` ``[n]`` bools.

        ``states`` ``[n, dim]`` (NaN rows: no state); ``segment`` ``[n]`` int indices
        into :attr:`segment_names` (-1: unknown). Unknown rows: ratio 1, NaN slope.
        """
        states = np.atleast_2d(np.asarray(states, float))
        slope, low, high = self.model.estimate(states)
        known = ~np.isnan(states).any(axis=1) & (segment >= 0)
        mean = self.segment_mean[np.maximum(segment, 0)]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.clip(slope / mean, *RATIO_RANGE)
        ratio = np.where(known & np.isfinite(ratio) & (mean > 0), ratio, 1.0)
        nan = np.full(len(states), np.nan)
        return {
            "ratio": ratio,
            "slope": np.where(known, slope, nan),
            "low": np.where(known, low, nan),
            "high": np.where(known, high, nan),
            "known": known,
        }

    def save(self, path: Path) -> Path:
        """The model (:meth:`SensitivityModel.save`) plus ``<path>.segments.json``."""
        self.model.save(path)
        info = {
            "segment_names": list(self.segment_names),
            "segment_mean": self.segment_mean.tolist(),
        }
        Path(f"{path}.segments.json").write_text(json.dumps(info, indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> CustomerSignal:
        """Read what :meth:`save` wrote.

        Raises:
            ModelError: A file is missing or unreadable.
        """
        model = SensitivityModel.load(path)
        try:
            info = json.loads(Path(f"{path}.segments.json").read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read customer signal {path}: {exc}") from exc
        return cls(model, tuple(info["segment_names"]), np.asarray(info["segment_mean"], float))


def _design(
    table: pd.DataFrame, x: np.ndarray, products: pd.Index
) -> tuple[sparse.csr_matrix, int]:
    """``[product one-hot | x | -r | -r x]`` and the column of ``-r``."""
    n, k = x.shape
    codes = products.get_indexer(table["product_id"])
    onehot = sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, len(products)))
    minus_r = -table["log_rel_price"].to_numpy(float)[:, None]
    dense = np.hstack([x, minus_r, minus_r * x])
    return sparse.hstack([onehot, sparse.csr_matrix(dense)]).tocsr(), len(products) + k


def _log_loss(model: LogisticRegression, design: sparse.csr_matrix, y: np.ndarray) -> float:
    p = np.clip(model.predict_proba(design)[:, 1], 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_sensitivity(
    table: pd.DataFrame,
    states: pd.DataFrame,
    name: str,
    config: SensitivityConfig | None = None,
    basis: np.ndarray | None = None,
) -> SensitivityModel:
    """Fit the customer-conditioned slope of the module docstring.

    Args:
        table: Exposures (:func:`exposures`).
        states: One row per customer (index: customer id), one column per state
            dimension; customers of ``table`` missing here get the mean state.
        name: What the state is, kept with the model (``graph``, ``text``, ...).
        config: Settings (default: :class:`SensitivityConfig`).
        basis: Read the states through this ``[m, dim]`` map first (:class:`StateReducer`;
            for graph vectors the encoder's price-behaviour head,
            :func:`~.states.behaviour_basis`).

    Raises:
        DataValidationError: Too few exposures off list price or too few purchases to
            identify a price response (module docstring).
    """
    config = config or SensitivityConfig()
    varied = int((table["log_rel_price"].abs() > 1e-9).sum())
    bought = int(table["bought"].sum())
    if varied < config.min_varied or bought < config.min_purchases:
        raise DataValidationError(
            f"customer sensitivity: {varied} exposures at a price off list and {bought} "
            f"purchases after a view (need {config.min_varied} and {config.min_purchases}): "
            "without views at varying prices a customer's price response cannot be "
            "identified; pricing uses the segment-level slope instead"
        )
    known = states.dropna()
    reducer = StateReducer.fit(name, known.to_numpy(float), config.components, basis)
    x_all = reducer.transform(states.reindex(table["customer_id"]).to_numpy(float))
    products = pd.Index(pd.unique(table["product_id"]))
    y = table["bought"].to_numpy(int)
    days = np.sort(table["day"].unique())
    cut = days[int(len(days) * (1 - config.validation_share))] if len(days) > 1 else days[-1]
    is_fit = (table["day"] < cut).to_numpy()
    losses: dict[str, float] = {}
    if is_fit.any() and (~is_fit).any() and 0 < y[is_fit].sum() < is_fit.sum():
        design, _ = _design(table[is_fit], x_all[is_fit], products)
        held, _ = _design(table[~is_fit], x_all[~is_fit], products)
        for c in config.penalties:
            model = LogisticRegression(C=c, max_iter=2000).fit(design, y[is_fit])
            losses[f"{c:g}"] = _log_loss(model, held, y[~is_fit])
    penalty = float(min(losses, key=losses.__getitem__)) if losses else config.penalties[-1]
    design, slope_at = _design(table, x_all, products)
    model = LogisticRegression(C=penalty, max_iter=2000).fit(design, y)
    coef = model.coef_[0]
    k = reducer.width
    covariance = _slope_covariance(design, model, penalty, slope_at, k)
    return SensitivityModel(
        reducer,
        float(coef[slope_at]),
        coef[slope_at + 1 : slope_at + 1 + k].copy(),
        covariance,
        config,
        penalty,
        losses,
        len(table),
    )


def _slope_covariance(
    design: sparse.csr_matrix, model: LogisticRegression, penalty: float, slope_at: int, k: int
) -> np.ndarray:
    """The ``[1 + k, 1 + k]`` block of the inverse penalised Fisher information."""
    full = sparse.hstack([design, sparse.csr_matrix(np.ones((design.shape[0], 1)))]).tocsr()
    p = expit(full @ np.concatenate([model.coef_[0], model.intercept_]))
    weighted = full.multiply((p * (1 - p))[:, None]).tocsr()
    info = np.asarray((full.T @ weighted).todense())
    ridge = np.full(info.shape[0], 1.0 / penalty)
    ridge[-1] = 0.0  # the intercept is not penalised
    inverse = np.linalg.pinv(info + np.diag(ridge))
    block = np.arange(slope_at, slope_at + 1 + k)
    return inverse[np.ix_(block, block)]


__all__ = [
    "EXPOSURE_COLUMNS",
    "RATIO_RANGE",
    "CustomerSignal",
    "SensitivityConfig",
    "SensitivityModel",
    "StateReducer",
    "exposures",
    "fit_sensitivity",
]
