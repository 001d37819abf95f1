"""The hierarchical pricing policy: macro zone x meso multiplier x micro adjustment.

.. math::

    p_{sj} = \\mathrm{clip}\\big(p^{list}_j \\, m^{zone}_{c(j)} \\, m^{meso}_{sj} \\,
        (1 + a_{sj}), \\; p^{low}_j, \\; p^{high}_j\\big)

* **macro** (:mod:`~.macro`, RL: PPO on the simulator's profit): zone per category;
* **meso** (:mod:`~.meso`, estimated from interaction data, not RL): planned price on
  the estimated demand model (with stock shadow prices) over the zone's price;
* **micro** (:mod:`~.micro`, RL: TD3 in the estimated model): adjustment in +-15 %,
  times a gate in ``[0, 1]`` chosen on the simulator's validation profit (0: off).

``levels`` turns the lower levels off for ablations (``"macro"``, ``"macro+meso"``,
``"full"``). One decision function, :meth:`HierarchicalPolicy.levels_at`, serves the
simulator's ``PricingPolicy`` (``prices``: the micro gate's validation and every
evaluation) and the quote service's ``QuotePolicy`` (``decide_many``); they differ only
in how the market is observed (:meth:`HierarchicalPolicy.observe`). The learned levels
train in their own environments (:mod:`~.macro`, :mod:`~.micro`) with the same feature
functions. :meth:`save` writes a versioned checkpoint folder: ``macro.zip``,
``micro.zip`` (SB3), ``meso.npz`` (the plan, the estimated market the meso level
re-plans on, and the public arrays) and ``manifest.json`` (with the SB3 models' spaces,
so that :meth:`load` reads the zips without unpickling: :mod:`~.sb3_files`, and the
season's first day).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
from stable_baselines3 import PPO, TD3

from ...errors import ModelError
from ..customers.sensitivity import CustomerSignal
from ..market.actions import ZONE_LEVELS, ZONE_NAMES
from ..market.model import MarketModel
from ..market.oracle import PricePlan
from ..market.public import PublicMarket
from ..market.simulator import MarketState, PriceBounds, SimulatorConfig
from ..policy import LevelDecision, MarketObservation, QuoteState, Season
from .macro import MacroPolicy, macro_features
from .meso import MesoConfig, MesoPlanner
from .micro import MicroPolicy, micro_features, personal_within_band
from .sb3_files import load_model, space_to_json

CHECKPOINT_FORMAT = 4
"""Version of the checkpoint folder layout (4: the meso level's estimated market, so that
a loaded policy re-plans from the stock on hand as in training, and the season's first
day; older checkpoints are refused, retrain with ``pricegraph train-pricing``)."""
_ESTIMATED = "estimated__"
"""Prefix of the estimated market's arrays in ``meso.npz``."""
Levels = Literal["macro", "macro+meso", "full"]


@dataclass(frozen=True, eq=False)
class DecisionRows:
    """The cells one call of :meth:`HierarchicalPolicy.levels_at` prices, ``[n]`` each."""

    segment: np.ndarray
    """Policy segment index, int64 (-1: a segment the policy does not know)."""
    product: np.ndarray
    """Policy product index, int64 (-1: a product the policy does not know)."""
    category: np.ndarray
    """Policy category index of the product, int64 (-1: unknown; the list zone)."""
    customer_ratio: np.ndarray | None = None
    """The customer signal (:class:`~.sensitivity.CustomerSignal`), float64;
    ``None``: 1 for every row (no customer observed, e.g. one price per segment)."""


@dataclass(frozen=True, eq=False)
class LevelArrays:
    """What :meth:`HierarchicalPolicy.levels_at` decided, ``[n]`` per row unless noted."""

    period: int
    """The plan period used (the requested one clamped into ``[0, horizon)``)."""
    features: np.ndarray
    """``[1 + 2C]`` the macro observation (:func:`~.macro.macro_features`)."""
    category: np.ndarray
    """Category index priced (-1: none)."""
    zone_index: np.ndarray
    """Zone index (-1: the product's category is unknown, list price)."""
    zone_multiplier: np.ndarray
    segment_multiplier: np.ndarray
    slope: np.ndarray
    """The segment's estimated slope (the mean slope for an unknown segment)."""
    adjustment: np.ndarray
    """Personal adjustment, fraction of the zone x segment price."""

    @property
    def multiplier(self) -> np.ndarray:
        """Proposed price / list price."""
        return self.zone_multiplier * self.segment_multiplier * (1.0 + self.adjustment)


class HierarchicalPolicy:
    """Macro, meso and micro levels composed (module docstring).

    Args:
        macro: Trained zone policy.
        meso: Planner on the estimated model.
        micro: Trained personal adjustment policy.
        public: Public market facts and estimates.
        version: Version string for the audit log.
        levels: Which levels are on.
        name: Label in evaluation tables.
        signal: Reads a customer's graph state for the personal level (``None``: every
            customer gets ratio 1, the segment's slope).
    """

    def __init__(
        self,
        macro: MacroPolicy,
        meso: MesoPlanner,
        micro: MicroPolicy,
        public: PublicMarket,
        version: str,
        levels: Levels = "full",
        name: str = "hierarchical",
        signal: CustomerSignal | None = None,
    ) -> None:
        self.macro, self.meso, self.micro, self.public = macro, meso, micro, public
        self.signal = signal
        self._version, self.levels, self.name = version, levels, name
        self._segment_of = {n: i for i, n in enumerate(public.segment_names)}
        self._segment_of.update({str(i): i for i in range(len(public.segment_names))})
        self._category_of = {n: i for i, n in enumerate(public.category_names)}
        self._product_of = {p: i for i, p in enumerate(public.product_ids)}

    @property
    def version(self) -> str:
        """Version of the policy and its models."""
        return self._version

    @property
    def season(self) -> Season | None:
        """The calendar of the plan (``None``: the market it was trained on had none)."""
        if self.public.season_start is None:
            return None
        return Season(self.public.season_start, self.public.period_days)

    def with_levels(self, levels: Levels, name: str) -> HierarchicalPolicy:
        """The same models with only ``levels`` on (for ablations)."""
        return HierarchicalPolicy(
            self.macro,
            self.meso,
            self.micro,
            self.public,
            self._version,
            levels,
            name,
            self.signal,
        )

    def with_personal_band(self, band: float | None) -> HierarchicalPolicy:
        """The same policy deciding inside another personal band (the guardrails in force
        when they differ from those it was trained with), so that it never proposes a
        personal price the guardrails would clamp."""
        if band == self.public.personal_band:
            return self
        public = replace(self.public, personal_band=band)
        return HierarchicalPolicy(
            self.macro,
            self.meso,
            self.micro,
            public,
            self._version,
            self.levels,
            self.name,
            self.signal,
        )

    def with_micro(self, micro: MicroPolicy) -> HierarchicalPolicy:
        """The same policy with another micro level (e.g. another validation gate)."""
        return HierarchicalPolicy(
            self.macro,
            self.meso,
            micro,
            self.public,
            self._version,
            self.levels,
            self.name,
            self.signal,
        )

    # ------------------------------------------------------- the decision
    def levels_at(
        self,
        period: int,
        inventory: np.ndarray,
        competitor_price: np.ndarray,
        rows: DecisionRows,
    ) -> LevelArrays:
        """The one decision function: every level's output for ``rows`` at one period.

        The simulator (:meth:`prices`, training and evaluation) and the quotes
        (:meth:`decide_many`) both call it; only how they observe the market differs.

        Args:
            period: Season period; clamped into ``[0, horizon)``.
            inventory: ``[P]`` units on hand of the policy's products, in the
                season's units (``inf`` = unlimited).
            competitor_price: ``[P]`` cheapest competitor price (NaN where none).
            rows: Which (segment, product) cells to price, and the customer signal.
        """
        pub = self.public
        num_categories, num_segments = len(pub.category_names), len(pub.segment_names)
        t = int(np.clip(period, 0, pub.horizon - 1))
        features = macro_features(
            t,
            inventory,
            competitor_price,
            pub.horizon,
            pub.product_category,
            pub.initial_inventory,
            pub.list_price,
            num_categories,
        )
        zones = self.macro.zones(features)  # [C]
        levels = np.asarray(self.macro.levels, float)
        zone_price_ratio = levels[zones][pub.product_category]  # [P]
        n, product, segment = rows.product.size, rows.product, rows.segment
        known = product >= 0
        j = np.maximum(product, 0)
        category = np.where(known, pub.product_category[j], rows.category)
        zone_index = np.where(category >= 0, zones[np.maximum(category, 0)], -1)
        zone_multiplier = np.where(zone_index >= 0, levels[np.maximum(zone_index, 0)], 1.0)
        segment_multiplier, adjustment = np.ones(n), np.zeros(n)
        if self.levels != "macro":
            per_segment = self.meso.multipliers(t, zone_price_ratio, pub.list_price, inventory)
            own = per_segment[np.maximum(segment, 0), j]
            # a segment the policy was not trained on: the product's plan over all segments
            mean = per_segment[:, j].mean(axis=0)
            segment_multiplier = np.where(known, np.where(segment >= 0, own, mean), 1.0)
        slope = np.where(segment >= 0, pub.slope[np.maximum(segment, 0)], float(pub.slope.mean()))
        if self.levels == "full" and known.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                stock = np.where(
                    np.isfinite(pub.initial_inventory), inventory / pub.initial_inventory, 1.0
                )
            ratio = np.ones(n) if rows.customer_ratio is None else rows.customer_ratio
            feats = micro_features(
                segment,
                num_segments,
                slope,
                ratio,
                (pub.unit_cost / pub.list_price)[j],
                self._shadow_ratio[j],
                (competitor_price / pub.list_price)[j],
                zone_multiplier * segment_multiplier,
                np.nan_to_num(stock, nan=0.0)[j],
                # recency: 0, as in training (the simulator has no customer histories)
                t / pub.horizon,
                0.0,
            )
            proposed = np.where(known, self.micro.adjustments(feats), 0.0)
            base = zone_multiplier * segment_multiplier
            adjustment = personal_within_band(base, proposed, pub.personal_band)
        return LevelArrays(
            period=t,
            features=features,
            category=category,
            zone_index=zone_index,
            zone_multiplier=zone_multiplier,
            segment_multiplier=segment_multiplier,
            slope=slope,
            adjustment=adjustment,
        )

    @property
    def _shadow_ratio(self) -> np.ndarray:
        return self.meso.plan.shadow_price / self.public.list_price

    # ------------------------------------------------------------ simulator
    def prices(self, state: MarketState) -> np.ndarray:
        """Return ``[S, P]`` prices for the period (inside the bounds by construction)."""
        return self.prices_and_flags(state)[0]

    def prices_and_flags(self, state: MarketState) -> tuple[np.ndarray, np.ndarray]:
        """``[S, P]`` prices of the period and ``[S, P]`` bools: the personal level moved
        the price (a quote would be personalised, see :class:`~.deployed.GuardedPolicy`)."""
        pub = self.public
        num_segments, num_products = len(pub.segment_names), pub.list_price.size
        rows = DecisionRows(
            segment=np.repeat(np.arange(num_segments), num_products),
            product=np.tile(np.arange(num_products), num_segments),
            category=np.tile(pub.product_category, num_segments),
        )
        out = self.levels_at(state.period, state.inventory, state.competitor_price, rows)
        multiplier = out.multiplier.reshape(num_segments, num_products)
        prices = np.clip(multiplier * pub.list_price, pub.price_low, pub.price_high)
        return prices, (out.adjustment != 0.0).reshape(num_segments, num_products)

    def group_prices_and_flags(
        self, state: MarketState, group_segment: np.ndarray, group_ratio: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``[G, P]`` prices of the period and personalised flags, one row per customer
        group of segment ``group_segment [G]`` with customer signal ``group_ratio [G]``
        (a simulator with ``price_level="group"``: the personal level prices per customer)."""
        pub = self.public
        num_groups, num_products = group_segment.size, pub.list_price.size
        rows = DecisionRows(
            segment=np.repeat(group_segment, num_products),
            product=np.tile(np.arange(num_products), num_groups),
            category=np.tile(pub.product_category, num_groups),
            customer_ratio=np.repeat(group_ratio, num_products),
        )
        out = self.levels_at(state.period, state.inventory, state.competitor_price, rows)
        multiplier = out.multiplier.reshape(num_groups, num_products)
        prices = np.clip(multiplier * pub.list_price, pub.price_low, pub.price_high)
        return prices, (out.adjustment != 0.0).reshape(num_groups, num_products)

    # ---------------------------------------------------------------- quotes
    def observe(self, market: MarketObservation | None) -> tuple[np.ndarray, np.ndarray]:
        """``(inventory [P], competitor_price [P])`` of the policy's products at quote time.

        Stock on hand is read as a share of the catalogue stock the season was built
        from (:attr:`PublicMarket.reference_stock`) and put in the season's units, so
        the features are those the simulator gives; unknown stock counts as the
        season's start, unknown competitors as none.
        """
        pub = self.public
        if market is None:
            return pub.initial_inventory.copy(), np.full(pub.list_price.size, np.nan)
        units, competitor = market.lookup(pub.product_ids)  # [P] each, NaN where unknown
        with np.errstate(divide="ignore", invalid="ignore"):
            share = units / pub.stock_reference
            inventory = np.where(
                np.isfinite(share) & np.isfinite(pub.initial_inventory),
                share * pub.initial_inventory,
                pub.initial_inventory,
            )
        return inventory, competitor

    def prepare(self, market: MarketObservation | None, period: int) -> None:
        """Solve now what :meth:`decide_many` of quotes at ``period`` on ``market`` will
        solve first: the meso level's re-plan from the stock on hand, which the planner
        caches per (period, stock) (:meth:`MesoPlanner.period_prices`).

        The quote service calls it on its background snapshot refresh, so that the first
        quote on a new snapshot does not wait for the re-plan; decisions are the same
        with or without it.
        """
        if self.levels == "macro":
            return
        inventory, _ = self.observe(market)
        self.meso.period_prices(int(np.clip(period, 0, self.public.horizon - 1)), inventory)

    def decide(self, state: QuoteState) -> LevelDecision:
        """:meth:`decide_many` of one state."""
        return self.decide_many([state])[0]

    def decide_many(self, states: Sequence[QuoteState]) -> list[LevelDecision]:
        """The decision records of quotes, through :meth:`levels_at` (pure).

        States that share a period and a market observation are decided in one call
        of each network.
        """
        groups: dict[tuple[int, int], list[int]] = {}
        for at, state in enumerate(states):
            groups.setdefault((int(state.period), id(state.market)), []).append(at)
        out: list[LevelDecision | None] = [None] * len(states)
        for members in groups.values():
            chosen = [states[at] for at in members]
            inventory, competitor = self.observe(chosen[0].market)
            rows = DecisionRows(
                segment=np.array(
                    [
                        -1 if s.segment_id is None else self._segment_of.get(s.segment_id, -1)
                        for s in chosen
                    ],
                    np.int64,
                ),
                product=np.array(
                    [self._product_of.get(s.product_id, -1) for s in chosen], np.int64
                ),
                category=np.array(
                    [self._category_of.get(s.category_id, -1) for s in chosen], np.int64
                ),
            )
            signal = self._read_signal(chosen, rows.segment)
            rows = replace(rows, customer_ratio=signal["ratio"])
            levels = self.levels_at(chosen[0].period, inventory, competitor, rows)
            for k, at in enumerate(members):
                out[at] = self._record(states[at], levels, rows, k, signal)
        return [d for d in out if d is not None]

    def _read_signal(
        self, states: Sequence[QuoteState], segment: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The customer signal of each state (ratio 1 and the reason on a fallback)."""
        n = len(states)
        if self.signal is None:
            reason = "fallback: no customer sensitivity model in this policy"
            return {
                "ratio": np.ones(n),
                "known": np.zeros(n, bool),
                "reason": np.full(n, reason, dtype=object),
            }
        width = self.signal.model.reducer.mean.size
        vectors = np.full((n, width), np.nan)
        for k, state in enumerate(states):
            vector = state.customer_vector
            if vector is not None and np.asarray(vector).size == width:
                vectors[k] = vector
        out = self.signal.read(vectors, segment)
        reason = np.where(
            np.isnan(vectors).any(axis=1),
            "fallback: no graph vector for the customer",
            np.where(
                segment < 0, "fallback: the customer's segment is not the policy's", "graph state"
            ),
        ).astype(object)
        return {**out, "reason": reason}

    def _record(
        self,
        state: QuoteState,
        levels: LevelArrays,
        rows: DecisionRows,
        k: int,
        signal: dict[str, np.ndarray],
    ) -> LevelDecision:
        """The decision record of row ``k``: the outputs and the numbers each level used."""
        pub, num_categories = self.public, len(self.public.category_names)
        c, z, seg = int(levels.category[k]), int(levels.zone_index[k]), int(rows.segment[k])
        is_known = bool(rows.product[k] >= 0)
        names = ZONE_NAMES if len(self.macro.levels) == len(ZONE_NAMES) else None
        zone = ("list" if z < 0 else names[z]) if names else ("list" if z < 0 else f"zone {z}")
        priced: tuple[str, ...] = ()
        slopes: tuple[float, ...] = ()
        if self.levels != "macro" and is_known:
            chosen = [seg] if seg >= 0 else list(range(len(pub.segment_names)))
            priced = tuple(pub.segment_names[s] for s in chosen)
            slopes = tuple(float(pub.slope[s]) for s in chosen)
        is_micro = self.levels == "full" and is_known
        adjustment = float(levels.adjustment[k])
        return LevelDecision(
            zone=zone,
            zone_multiplier=float(levels.zone_multiplier[k]),
            segment_multiplier=float(levels.segment_multiplier[k]),
            personal_adjustment=adjustment,
            is_personalized=adjustment != 0.0,
            levels=self.levels,
            period=levels.period,
            requested_period=int(state.period),
            category=pub.category_names[c] if c >= 0 else None,
            category_stock_ratio=float(levels.features[1 + c]) if c >= 0 else None,
            category_competitor_ratio=(
                float(levels.features[1 + num_categories + c]) if c >= 0 else None
            ),
            priced_segments=priced,
            segment_slopes=slopes,
            micro_slope=float(levels.slope[k]) if is_micro else None,
            micro_scale=self.micro.scale if is_micro else None,
            customer_signal=str(signal["reason"][k]) if is_micro else None,
            customer_ratio=float(signal["ratio"][k]) if is_micro else None,
            **(
                {
                    "customer_slope": float(signal["slope"][k]),
                    "customer_slope_low": float(signal["low"][k]),
                    "customer_slope_high": float(signal["high"][k]),
                }
                if is_micro and bool(signal["known"][k])
                else {}
            ),
        )

    # ------------------------------------------------------------ checkpoint
    def save(self, folder: Path, manifest: dict[str, Any] | None = None) -> Path:
        """Write ``macro.zip``, ``micro.zip``, ``meso.npz`` and ``manifest.json`` to ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.macro.model.save(folder / "macro.zip")
        self.micro.model.save(folder / "micro.zip")
        pub = self.public
        plan_env = self.meso.plan_env
        estimated, estimated_info = self.meso.estimated.to_arrays()
        np.savez(
            folder / "meso.npz",
            plan_prices=self.meso.plan.prices,
            shadow_price=self.meso.plan.shadow_price,
            plan_floor=plan_env.bounds.floor,
            plan_ceiling=plan_env.bounds.ceiling,
            **{f"{_ESTIMATED}{name}": value for name, value in estimated.items()},
            list_price=pub.list_price,
            unit_cost=pub.unit_cost,
            product_category=pub.product_category,
            initial_inventory=pub.initial_inventory,
            price_low=pub.price_low,
            price_high=pub.price_high,
            slope=pub.slope,
            reference_stock=pub.stock_reference,
        )
        info = {
            **(manifest or {}),
            "format": CHECKPOINT_FORMAT,
            "version": self._version,
            "levels": self.levels,
            "zone_levels": list(self.macro.levels),
            "max_adjustment": self.micro.max_adjustment,
            "personal_band": pub.personal_band,
            "micro_scale": self.micro.scale,
            "meso": {
                "low": self.meso.config.meso_low,
                "high": self.meso.config.meso_high,
                "is_closed_loop": self.meso.config.is_closed_loop,
                "simulator": asdict(plan_env.config),
                "estimated": estimated_info,
            },
            "delta": pub.delta,
            "horizon": pub.horizon,
            "season_start": None if pub.season_start is None else pub.season_start.isoformat(),
            "period_days": pub.period_days,
            "segment_names": list(pub.segment_names),
            "category_names": list(pub.category_names),
            "product_ids": list(pub.product_ids),
            "spaces": {
                name: {
                    "observation": space_to_json(model.observation_space),
                    "action": space_to_json(model.action_space),
                }
                for name, model in (("macro", self.macro.model), ("micro", self.micro.model))
            },
        }
        if self.signal is not None:
            self.signal.save(folder / "customer_signal")
            info["customer_signal"] = self.signal.model.reducer.name
        (folder / "manifest.json").write_text(json.dumps(info, indent=2, default=float) + "\n")
        return folder

    @classmethod
    def load(cls, folder: Path, device: str = "cpu") -> HierarchicalPolicy:
        """Read a folder written by :meth:`save`.

        Raises:
            ModelError: If a file is missing or the format differs.
        """
        folder = Path(folder)
        try:
            info = json.loads((folder / "manifest.json").read_text())
            arrays = dict(np.load(folder / "meso.npz"))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read pricing checkpoint {folder}: {exc}") from exc
        if info.get("format") != CHECKPOINT_FORMAT:
            raise ModelError(
                f"pricing checkpoint {folder} has format {info.get('format')!r}, expected "
                f"{CHECKPOINT_FORMAT}: retrain it with pricegraph train-pricing"
            )
        try:
            spaces = info["spaces"]
            macro_model = load_model(PPO, folder / "macro.zip", spaces["macro"], device)
            micro_model = load_model(TD3, folder / "micro.zip", spaces["micro"], device)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read pricing checkpoint {folder}: {exc}") from exc
        saved = info["meso"]
        config = replace(
            MesoConfig(),
            meso_low=saved["low"],
            meso_high=saved["high"],
            is_closed_loop=saved["is_closed_loop"],
        )
        estimated = MarketModel.from_arrays(
            {k[len(_ESTIMATED) :]: v for k, v in arrays.items() if k.startswith(_ESTIMATED)},
            saved["estimated"],
        )
        shadow = arrays["shadow_price"]
        plan = PricePlan(arrays["plan_prices"], shadow, float("nan"), np.zeros_like(shadow), 0.0)
        bounds = PriceBounds(arrays["plan_floor"], arrays["plan_ceiling"])
        meso = MesoPlanner.restore(
            plan, estimated, bounds, SimulatorConfig(**saved["simulator"]), config
        )
        public = PublicMarket(
            list_price=arrays["list_price"],
            unit_cost=arrays["unit_cost"],
            product_category=arrays["product_category"].astype(np.int64),
            initial_inventory=arrays["initial_inventory"],
            price_low=arrays["price_low"],
            price_high=arrays["price_high"],
            slope=arrays["slope"],
            delta=float(info["delta"]),
            horizon=int(info["horizon"]),
            segment_names=tuple(info["segment_names"]),
            category_names=tuple(info["category_names"]),
            product_ids=tuple(info["product_ids"]),
            reference_stock=arrays.get("reference_stock"),
            personal_band=info["personal_band"],
            season_start=(
                None if info["season_start"] is None else date.fromisoformat(info["season_start"])
            ),
            period_days=int(info["period_days"]),
        )
        signal = None
        if info.get("customer_signal"):
            signal = CustomerSignal.load(folder / "customer_signal")
        return cls(
            MacroPolicy(macro_model, tuple(info.get("zone_levels", ZONE_LEVELS))),
            meso,
            MicroPolicy(micro_model, float(info["max_adjustment"]), info["micro_scale"]),
            public,
            info["version"],
            info["levels"],
            signal=signal,
        )


__all__ = [
    "CHECKPOINT_FORMAT",
    "DecisionRows",
    "HierarchicalPolicy",
    "LevelArrays",
    "Levels",
]
