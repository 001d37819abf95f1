"""Weekly unit forecasts per series for a held-out last period, scored against naive baselines.

The last ``horizon_weeks`` weeks of the panel are held out. Every method forecasts
them from what is known at the *origin* (the last training week):

* ``gbm``: a direct multi-horizon gradient-boosting model (scikit-learn
  ``HistGradientBoostingRegressor``, Poisson loss) trained on origins inside the
  training period. Features: last week's units, trailing means over 4/8/13/26
  weeks, the share of weeks with sales, the series' age, the whole shop's recent
  momentum (4-week over 13-week units), the horizon, the target week's calendar
  (week of year, month, holiday and pre-Christmas flags), the price, list price,
  discount and price band as of the origin, and the demand model's prediction.
  Prices inside the held-out weeks are *not* used: in transaction data a price is
  only observed when something sells, so it would leak whether a sale happened.
* ``demand_model``: :meth:`DemandModel.predict_units` at the origin's price with
  the target week's calendar (a model fitted on the training weeks only).
* ``last_value``: the origin week's units, repeated.
* ``trailing_mean``: the mean of the last ``trailing_weeks`` weeks (since the
  series started).
* ``seasonal_mean``: the units of the same ISO week a year before when the panel
  has it, else the trailing mean.

Metrics over all held-out (series, week) rows, with :math:`y` actual and
:math:`\\hat y` forecast units:

.. math:: \\mathrm{WAPE} = \\frac{\\sum |y - \\hat y|}{\\sum y}, \\qquad
    \\mathrm{bias} = \\frac{\\sum (\\hat y - y)}{\\sum y}.

Series that start inside the held-out period are left out (nothing can forecast
them from the origin); their count is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from ...errors import DataValidationError
from .fit import fit_demand
from .model import DemandConfig, DemandModel
from .panel import calendar_features


@dataclass(frozen=True)
class ForecastConfig:
    """How the held-out evaluation is run."""

    horizon_weeks: int = 8
    """Weeks held out at the end of the panel (and forecast horizon)."""
    origin_step_weeks: int = 1
    """Spacing of the training origins, in weeks."""
    max_origins: int = 12
    """Most recent training origins used (recent weeks describe the coming ones best)."""
    min_history_weeks: int = 8
    """Weeks of data before the first training origin."""
    trailing_weeks: int = 8
    """Window of the trailing-mean baseline, in weeks."""
    max_iter: int = 100
    """Boosting iterations."""
    learning_rate: float = 0.1
    """Boosting learning rate."""
    min_samples_leaf: int = 100
    """Minimum rows per leaf."""
    seed: int = 0
    """Seed of the boosting model."""
    max_ratio: float = 10.0
    """Cap of units over the 8-week trailing mean, in targets and forecasts (one-off bulk
    orders would otherwise dominate the boosting)."""
    n_threads: int = 1
    """OpenMP threads of the booster (more threads on a busy shared machine are slower)."""
    holiday_country: str = "GB"
    """Whose public holidays the target weeks' calendar flags (:mod:`~.holidays`); the
    panel's (``PanelConfig.holiday_country``)."""


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Weighted absolute percentage error :math:`\\sum|y-\\hat y| / \\sum y` (a ratio)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    total = actual.sum()
    if total <= 0:
        raise DataValidationError("WAPE needs positive total actual units", field="actual")
    return float(np.abs(actual - forecast).sum() / total)


def bias(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Relative bias :math:`\\sum(\\hat y - y) / \\sum y` (> 0: over-forecast)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    total = actual.sum()
    if total <= 0:
        raise DataValidationError("bias needs positive total actual units", field="actual")
    return float((forecast - actual).sum() / total)


@dataclass(frozen=True, eq=False)
class ForecastResult:
    """Outcome of :func:`evaluate_forecasts`."""

    table: pd.DataFrame
    """One row per method: method, wape, bias, mae, rows, actual_units."""
    predictions: pd.DataFrame
    """Held-out rows: product_id, segment, week, horizon, units, one column per method."""
    model: DemandModel
    """The demand model fitted on the training weeks."""
    excluded_new_series: int
    """Series that start in the held-out period (not scored)."""


def _matrix(
    panel: pd.DataFrame, column: str, series: pd.MultiIndex, weeks: pd.DatetimeIndex
) -> np.ndarray:
    """``column`` as a ``[num_series, num_weeks]`` array (NaN before a series starts)."""
    wide = panel.pivot_table(
        index=["product_id", "segment"],
        columns="week",
        values=column,
        aggfunc="first",
        dropna=False,
    )
    return wide.reindex(index=series, columns=weeks).to_numpy(dtype=float)


def _window_mean(units: np.ndarray, end: int, k: int) -> np.ndarray:
    """Mean of weeks ``end-k+1 .. end`` per series, ignoring NaN (before start)."""
    block = units[:, max(0, end - k + 1) : end + 1]
    count = np.sum(~np.isnan(block), axis=1)
    return np.where(count > 0, np.nansum(block, axis=1) / np.maximum(count, 1), np.nan)


_FEATURES = [
    "last",
    "mean4",
    "mean8",
    "mean13",
    "mean26",
    "sale_rate13",
    "age",
    "momentum",
    "horizon",
    "week_of_year",
    "month",
    "is_holiday_week",
    "is_pre_christmas",
    "log_price",
    "log_list_price",
    "discount_pct",
    "band",
    "demand_model",
    "trend4_13",
    "last_to_mean8",
]
_EPS_UNITS = 0.5
"""Added to the trailing mean used as the boosting offset, in units per week."""


def _origin_rows(
    mats: dict[str, np.ndarray],
    origin: int,
    horizons: range,
    weeks: pd.DatetimeIndex,
    model: DemandModel,
    keys: pd.DataFrame,
    band: np.ndarray,
    country: str = "GB",
) -> pd.DataFrame:
    """Feature rows of every started series at ``origin`` for each horizon."""
    units = mats["units"]
    live = ~np.isnan(units[:, origin])
    total = np.nansum(units, axis=0)
    momentum = total[max(0, origin - 3) : origin + 1].mean() / max(
        total[max(0, origin - 12) : origin + 1].mean(), 1e-9
    )
    started = np.argmax(~np.isnan(units), axis=1)
    base = {
        "last": units[:, origin],
        "mean4": _window_mean(units, origin, 4),
        "mean8": _window_mean(units, origin, 8),
        "mean13": _window_mean(units, origin, 13),
        "mean26": _window_mean(units, origin, 26),
        "sale_rate13": _window_mean((units > 0).astype(float) + 0 * units, origin, 13),
        "age": (origin - started).astype(float),
        "log_price": np.log(mats["price"][:, origin]),
        "log_list_price": np.log(mats["list_price"][:, origin]),
        "discount_pct": mats["discount_pct"][:, origin],
        "band": band,
    }
    parts = []
    idx = np.flatnonzero(live)
    for h in horizons:
        target = origin + h
        cal = calendar_features(pd.Series([weeks[target]] * len(idx)), country)
        frame = pd.DataFrame({name: values[idx] for name, values in base.items()})
        frame["momentum"], frame["horizon"] = momentum, float(h)
        frame = pd.concat([frame, cal.astype(float)], axis=1)
        frame["demand_model"] = np.nan
        segment = keys["segment"].to_numpy()[idx]
        for name in np.unique(segment):  # a few segments, not rows
            at = segment == name
            frame.loc[at, "demand_model"] = model.predict_units(
                keys["product_id"].to_numpy()[idx][at],
                mats["price"][idx[at], origin],
                cal[at].reset_index(drop=True),
                segment=str(name),
            )
        frame["trend4_13"] = (frame["mean4"] + _EPS_UNITS) / (frame["mean13"] + _EPS_UNITS)
        frame["last_to_mean8"] = (frame["last"] + _EPS_UNITS) / (frame["mean8"] + _EPS_UNITS)
        frame["row"], frame["target_week"] = idx, target
        frame["y"] = units[idx, target] if target < units.shape[1] else np.nan
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def evaluate_forecasts(
    panel: pd.DataFrame,
    config: ForecastConfig = ForecastConfig(),
    demand_config: DemandConfig | None = None,
) -> ForecastResult:
    """Hold out the last weeks, forecast them with every method, score WAPE and bias.

    Args:
        panel: A panel from :func:`~.panel.build_panel`.
        config: Horizon, origins and boosting options.
        demand_config: Options of the demand model fitted on the training weeks
            (``None``: the defaults).

    Returns:
        The metrics table, the held-out predictions and the training-period model.

    Raises:
        DataValidationError: The panel is too short for the horizon and history.
    """
    weeks = pd.DatetimeIndex(sorted(panel["week"].unique()))
    n_train = len(weeks) - config.horizon_weeks
    if n_train < config.min_history_weeks + 2:
        raise DataValidationError(
            f"panel has {len(weeks)} weeks; needs > horizon_weeks + min_history_weeks + 1",
            field="week",
        )
    train = panel[panel["week"] < weeks[n_train]]
    model = fit_demand(train, demand_config)
    keys = panel[["product_id", "segment"]].drop_duplicates().sort_values(["product_id", "segment"])
    keys = keys.reset_index(drop=True)
    series = pd.MultiIndex.from_frame(keys)
    mats = {
        c: _matrix(panel, c, series, weeks)
        for c in ("units", "price", "list_price", "discount_pct")
    }
    # series seen in training only (the model has no row for the others)
    known = ~np.all(np.isnan(mats["units"][:, :n_train]), axis=1)
    keys, series = keys[known].reset_index(drop=True), series[known]
    mats = {c: m[known] for c, m in mats.items()}
    bands = panel.groupby(["product_id", "segment"])["price_band"].first().reindex(series)
    band = bands.str.replace("band_", "").astype(float).to_numpy()
    origin = n_train - 1
    train_parts = [
        _origin_rows(
            mats,
            o,
            range(1, min(config.horizon_weeks, origin - o) + 1),
            weeks,
            model,
            keys,
            band,
            config.holiday_country,
        )
        for o in range(origin - 1, config.min_history_weeks - 1, -config.origin_step_weeks)[
            : config.max_origins
        ]
    ]
    training = pd.concat(train_parts, ignore_index=True)
    horizons = range(1, config.horizon_weeks + 1)
    test = _origin_rows(mats, origin, horizons, weeks, model, keys, band, config.holiday_country)
    gbm = HistGradientBoostingRegressor(
        loss="poisson",
        max_iter=config.max_iter,
        learning_rate=config.learning_rate,
        min_samples_leaf=config.min_samples_leaf,
        random_state=config.seed,
    )
    # Poisson boosting of y / base with weight base = Poisson with offset log(base)
    base_train = training["mean8"].to_numpy() + _EPS_UNITS
    with threadpool_limits(config.n_threads):
        ratio = np.minimum(training["y"] / base_train, config.max_ratio)
        gbm.fit(training[_FEATURES], ratio, sample_weight=base_train)
        ratio_hat = np.clip(gbm.predict(test[_FEATURES]), 0.0, config.max_ratio)
    gbm_units = ratio_hat * (test["mean8"].to_numpy() + _EPS_UNITS)
    units = mats["units"]
    rows = test["row"].to_numpy()
    prev_year = test["target_week"].to_numpy() - 52
    seasonal = np.where(prev_year >= 0, units[rows, np.clip(prev_year, 0, None)], np.nan)
    predictions = pd.DataFrame(
        {
            "product_id": keys["product_id"].to_numpy()[rows],
            "segment": keys["segment"].to_numpy()[rows],
            "week": weeks[test["target_week"].to_numpy()],
            "horizon": test["horizon"].astype(int).to_numpy(),
            "units": test["y"].to_numpy(),
            "gbm": gbm_units,
            "demand_model": test["demand_model"].to_numpy(),
            "last_value": test["last"].to_numpy(),
            "trailing_mean": _window_mean(units, origin, config.trailing_weeks)[rows],
        }
    )
    predictions["seasonal_mean"] = np.where(
        np.isnan(seasonal), predictions["trailing_mean"], seasonal
    )
    methods = ["gbm", "demand_model", "last_value", "trailing_mean", "seasonal_mean"]
    y = predictions["units"].to_numpy()
    table = pd.DataFrame(
        [
            {
                "method": m,
                "wape": wape(y, np.nan_to_num(predictions[m].to_numpy())),
                "bias": bias(y, np.nan_to_num(predictions[m].to_numpy())),
                "mae": float(np.mean(np.abs(y - np.nan_to_num(predictions[m].to_numpy())))),
                "rows": len(y),
                "actual_units": float(y.sum()),
            }
            for m in methods
        ]
    )
    return ForecastResult(table, predictions, model, int((~known).sum()))


__all__ = ["ForecastConfig", "ForecastResult", "bias", "evaluate_forecasts", "wape"]
