"""The customer-conditioned price response and the personal level that reads it: the
slope is recovered from exposures, purchases alone are refused, the micro level learns
to price less sensitive customers higher, and a quote's price moves with the
customer's graph vector inside the personal band."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from support.pricing_rl import TINY, tiny_market
from support.quotes import COLLECTIONS, NOW, World

from pricegraph.errors import DataValidationError
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.customers.sensitivity import (
    CustomerSignal,
    SensitivityModel,
    StateReducer,
    exposures,
    fit_sensitivity,
)
from pricegraph.pricing.customers.states import behaviour_basis
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.policies.hierarchy import HierarchicalPolicy
from pricegraph.pricing.policies.micro import (
    MicroCells,
    MicroConfig,
    MicroPolicy,
    micro_features,
    train_micro,
)
from pricegraph.pricing.policies.training import train_pricing
from pricegraph.pricing.policy import QuoteState
from pricegraph.pricing.quotes.service import QuoteService
from pricegraph.pricing.snapshot import customer_segments


def simulated_exposures(seed: int = 0, customers: int = 600, per_customer: int = 40):
    """Exposures of customers whose true slope is ``2 + x_1`` (``x_2`` is noise)."""
    rng = np.random.default_rng(seed)
    states = pd.DataFrame(
        rng.normal(size=(customers, 2)), index=[f"c{i}" for i in range(customers)]
    )
    slope = 2.0 + states[0].to_numpy()
    n = customers * per_customer
    who = np.repeat(np.arange(customers), per_customer)
    product = rng.integers(0, 20, n)
    ratio = rng.choice([0.0, np.log(0.8), np.log(0.65)], size=n, p=[0.6, 0.2, 0.2])
    utility = -1.5 + 0.1 * product / 20 - slope[who] * ratio
    bought = rng.random(n) < 1 / (1 + np.exp(-utility))
    table = pd.DataFrame({
        "customer_id": states.index[who], "product_id": [f"p{j}" for j in product],
        "day": pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 100, n), "D"),
        "log_rel_price": ratio, "bought": bought.astype(np.int8),
    })  # fmt: skip
    return table, states, slope


def test_slope_recovered_with_intervals() -> None:
    table, states, slope = simulated_exposures()
    model = fit_sensitivity(table, states, "graph")
    est, low, high = model.estimate(states.to_numpy())
    assert spearmanr(est, slope)[0] > 0.8
    # x_1 carries the slope (standardised, so w_1 ~ its std), x_2 does not
    assert model.intercept == pytest.approx(2.0, abs=0.4)
    assert abs(model.weights[0]) > 3 * abs(model.weights[1])
    assert ((low <= slope) & (slope <= high)).mean() > 0.75
    assert set(model.validation_loss) == {"0.03", "0.3", "3"}


def test_a_basis_reads_the_slope_out_of_a_wide_state(tmp_path) -> None:
    # 8 noisy dimensions with more variance than the one that carries the slope: PCA to
    # 2 components misses it, the basis that reads it (as the encoder's head does) not
    table, states, slope = simulated_exposures()
    rng = np.random.default_rng(1)
    noise = rng.normal(scale=3.0, size=(len(states), 8))
    wide = pd.DataFrame(np.hstack([states.to_numpy(), noise]), index=states.index)
    basis = np.zeros((2, 10))
    basis[0, 0], basis[1, 1] = 1.0, 1.0
    by_pca = fit_sensitivity(table, wide, "graph")
    read = fit_sensitivity(table, wide, "graph", basis=basis)
    assert spearmanr(read.estimate(wide.to_numpy())[0], slope)[0] > 0.8
    assert spearmanr(by_pca.estimate(wide.to_numpy())[0], slope)[0] < 0.5
    # one linear map of the raw state: saved and loaded, it reads the same slopes
    loaded = SensitivityModel.load(read.save(tmp_path / "model"))
    assert loaded.estimate(wide.to_numpy())[0] == pytest.approx(read.estimate(wide.to_numpy())[0])
    inner = StateReducer.fit("graph", wide.to_numpy() @ basis.T)
    assert read.reducer.transform(wide.to_numpy()) == pytest.approx(
        inner.transform(wide.to_numpy() @ basis.T)
    )
    with pytest.raises(DataValidationError, match="width"):
        StateReducer.fit("graph", wide.to_numpy(), basis=np.ones((2, 3)))
    assert behaviour_basis(tmp_path / "missing.pt", 10) is None


def test_purchases_without_price_variation_are_refused() -> None:
    table, states, _ = simulated_exposures(customers=100)
    with pytest.raises(DataValidationError, match="cannot be identified"):
        fit_sensitivity(table.assign(log_rel_price=0.0), states, "rfm")


def test_exposures_join_purchases_of_the_day_and_name_bad_rows() -> None:
    ts = pd.to_datetime(["2025-03-01T10:00Z", "2025-03-01T11:00Z", "2025-03-02T09:00Z"])
    views = pd.DataFrame({"customer_id": ["a", "a", "a"], "product_id": ["p", "p", "p"],
                          "ts": ts, "price": [80.0, 90.0, 100.0]})  # fmt: skip
    buys = pd.DataFrame({"customer_id": ["a"], "product_id": ["p"],
                         "ts": pd.to_datetime(["2025-03-01T12:00Z"])})  # fmt: skip
    out = exposures(views, buys, pd.Series({"p": 100.0}))
    assert out["bought"].tolist() == [1, 0]
    assert out["log_rel_price"].to_numpy() == pytest.approx([np.log(0.8), 0.0])
    with pytest.raises(
        DataValidationError, match="product 'p' by 'a' on 2025-03-01: field list_price"
    ):
        exposures(views, buys, pd.Series({"p": 0.0}))


def test_signal_reads_ratios_and_falls_back(tmp_path) -> None:
    table, states, slope = simulated_exposures(customers=300)
    model = fit_sensitivity(table, states, "graph")
    segment = np.zeros(len(states), np.int64)
    signal = CustomerSignal.build(model, states.to_numpy(), segment, ("all",))
    rows = np.vstack([states.to_numpy()[:2], np.full((1, 2), np.nan)])
    out = signal.read(rows, np.array([0, 0, 0]))
    assert out["known"].tolist() == [True, True, False] and out["ratio"][2] == 1.0
    assert (out["ratio"][0] > out["ratio"][1]) == (slope[0] > slope[1])
    assert CustomerSignal.load(signal.save(tmp_path / "s")).read(rows, np.zeros(3, int))[
        "ratio"
    ] == pytest.approx(out["ratio"])
    unknown_segment = signal.read(rows, np.array([-1, 0, 0]))
    assert unknown_segment["ratio"][0] == 1.0 and not unknown_segment["known"][0]


def test_micro_prices_less_sensitive_customers_higher() -> None:
    cells = MicroCells(
        plan_ratio=np.ones((2, 1, 2)), slope=np.array([2.0]), delta=0.0,
        competitor_ratio=np.full((2, 2), np.nan), cost_ratio=np.full(2, 0.4),
        shadow_ratio=np.zeros(2), low_ratio=np.full(2, 0.5), high_ratio=np.full(2, 1.5),
        group_segment=np.array([0, 0]), group_ratio=np.array([0.5, 2.0]),
        group_weight=np.array([1.0, 1.0]),
    )  # fmt: skip
    config = MicroConfig(total_timesteps=1500, learning_starts=200, device="cpu")
    micro = MicroPolicy(train_micro(cells, config).model, config.max_adjustment)
    feats = micro_features(np.array([0, 0]), 1, 2.0, np.array([0.5, 2.0]), 0.4, 0.0, np.nan,
                           1.0, 0.5, 0.0, 0.0)  # fmt: skip
    low_sensitivity, high_sensitivity = micro.adjustments(feats)
    assert low_sensitivity > high_sensitivity


def _tiny_signal(width: int, names: tuple[str, ...], states: np.ndarray) -> CustomerSignal:
    """A slope model on ``width``-d states: slope = 1 + 0.5 * (standardised first dim)."""
    reducer = StateReducer.fit("graph", states, components=width)
    model = SensitivityModel(reducer, 1.0, np.eye(width)[0] * 0.5, np.eye(1 + width) * 0.01)
    segment = np.arange(len(states)) % len(names)
    return CustomerSignal.build(model, states, segment, names)


def test_train_pricing_with_a_signal_evaluates_per_customer(tmp_path) -> None:
    market = tiny_market(beta=2.0, inventory=30.0)  # elastic: prices inside the deployed bounds
    market = replace(market, meta={**market.meta, "group_customer_ids": ["a", "b", "c", "d"]})
    vectors = {
        k: np.array([v], np.float32) for k, v in zip("abcd", (-1.0, 1.0, -1.0, 1.0), strict=True)
    }
    model = _tiny_signal(1, market.segment_names, np.array([[-1.0], [1.0]])).model
    result = train_pricing(market, TINY, tmp_path, sensitivity=model, customer_vectors=vectors)
    assert result.policy.signal is not None
    personal = result.personal
    assert personal["group_oracle_profit"] >= personal["segment_oracle_profit"] - 1e-6
    # the band's oracle lies between the segment oracle and the unconstrained group one
    assert personal["band_oracle_profit"] >= personal["segment_oracle_profit"] - 1e-6
    assert personal["band_oracle_profit"] <= personal["group_oracle_profit"] + 1e-6
    gain = personal["full_profit"] - personal["macro_meso_profit"]
    gap = personal["group_oracle_profit"] - personal["segment_oracle_profit"]
    assert gap > 0 and personal["headroom_pct"] > 0
    assert personal["captured_world_pct"] == pytest.approx(100 * gain / gap)
    band_gap = personal["band_oracle_profit"] - personal["segment_oracle_profit"]
    if band_gap > 1e-9 * personal["segment_oracle_profit"]:
        assert personal["captured_pct"] == pytest.approx(100 * gain / band_gap)
    loaded = HierarchicalPolicy.load(result.checkpoint_path)
    assert loaded.signal is not None
    assert loaded.signal.segment_mean == pytest.approx(result.policy.signal.segment_mean)


def test_quote_price_moves_with_the_customer_graph_vector(world: World, tmp_path) -> None:
    trained = train_pricing(tiny_market(inventory=30.0), TINY, tmp_path).policy
    segments = tuple(sorted(set(world.store.node_frame("Segment")["id"]))[:2])
    public = replace(
        trained.public, product_ids=tuple(world.products[:6]), segment_names=segments,
        personal_band=None,  # the band is tested below; here the signal alone moves prices
    )  # fmt: skip
    vectors = world.vectors.vectors(COLLECTIONS["customers"], world.customers, "graph")
    states = np.stack([vectors[c] for c in world.customers])
    signal = _tiny_signal(8, segments, states)
    policy = HierarchicalPolicy(
        trained.macro, trained.meso, trained.micro.with_scale(1.0), public, "hier-s",
        signal=signal,
    )  # fmt: skip
    unbanded = GuardrailConfig(approval_threshold_pct=None, max_personal_deviation_pct=None)
    service = QuoteService(
        world.store, world.vectors, policy, PricingConfig(guardrails=unbanded),
        collections=COLLECTIONS, clock=lambda: NOW,
    )  # fmt: skip
    segment_of = customer_segments(world.store)
    customer = next(c for c in world.customers if segment_of.get(c) in segments)
    base = QuoteState(customer, world.products[0], "", segment_of[customer], 0, 100.0, 40.0,
                      customer_vector=vectors[customer])  # fmt: skip
    decisions = policy.decide_many([
        replace(base, customer_vector=base.customer_vector + shift * states.std(axis=0))
        for shift in (-2.0, 0.0, 2.0)
    ] + [replace(base, customer_vector=None)])  # fmt: skip
    ratios = [d.customer_ratio for d in decisions]
    assert ratios[0] < ratios[1] < ratios[2] and ratios[3] == 1.0
    adjustments = [d.personal_adjustment for d in decisions[:3]]
    assert len(set(np.round(adjustments, 9))) == 3  # the price moves with the vector
    assert all(abs(a) <= 0.15 + 1e-9 for a in adjustments)
    banded = policy.with_levels("full", "banded")
    banded.public = replace(public, personal_band=0.05)
    for d in banded.decide_many([replace(base, customer_vector=v) for v in states[:20]]):
        price = d.zone_multiplier * d.segment_multiplier
        assert (
            d.personal_adjustment == 0.0
            or abs(price * (1 + d.personal_adjustment) - 1) <= 0.05 + 1e-9
        )
        assert d.is_personalized == (d.personal_adjustment != 0.0)
    assert decisions[1].customer_signal == "graph state"
    assert decisions[3].customer_signal == "fallback: no graph vector for the customer"
    quote = service.quote(customer, world.products[0], requested_by="t")
    assert "estimated price slope" in quote.rationale and "graph state" in quote.rationale


def test_state_without_a_signal_names_the_fallback(world: World, tmp_path) -> None:
    policy = train_pricing(tiny_market(inventory=30.0), TINY, tmp_path).policy.with_levels(
        "full", "full"
    )
    policy = policy.with_micro(policy.micro.with_scale(1.0))
    state = QuoteState("c", "p0", "", "loyal", 0, 100.0, 40.0)
    decision = policy.decide(state)
    assert decision.customer_signal == "fallback: no customer sensitivity model in this policy"
    assert decision.customer_ratio == 1.0 and decision.customer_slope is None


def test_views_in_the_graph_are_priced_as_the_world_showed_them(world: World) -> None:
    """The exposures read from the graph: each view's price is the one the synthetic world
    showed (its event's unit price), and a view is bought when a purchase of the same
    customer and product falls on the same day."""
    from pricegraph.pricing.customers.states import exposures_from_store, view_prices
    from pricegraph.synthetic import generate_world
    from pricegraph.synthetic.config import WorldConfig

    events = generate_world(
        WorldConfig(seed=5, n_brands=8, n_customers=60, n_products=20, n_days=120)
    ).events
    shown = events[events["event_type"] == "view"]
    priced = view_prices(world.store)
    assert len(priced) == len(shown)
    key = ["customer_id", "product_id", "ts"]
    both = priced.merge(
        shown.assign(ts=pd.to_datetime(shown["ts"]).dt.tz_localize(None))[[*key, "unit_price"]],
        on=key,
    )
    assert len(both) == len(shown)
    assert both["price"].to_numpy() == pytest.approx(both["unit_price"].to_numpy())
    table = exposures_from_store(world.store)
    bought_days = {
        (c, p, d)
        for c, p, d in zip(
            events.loc[events["event_type"] == "purchase", "customer_id"],
            events.loc[events["event_type"] == "purchase", "product_id"],
            pd.to_datetime(events.loc[events["event_type"] == "purchase", "ts"]).dt.floor("D"),
            strict=True,
        )
    }
    expected = [
        (c, p, d.tz_convert("UTC") if d.tzinfo else d.tz_localize("UTC")) in bought_days
        for c, p, d in zip(table["customer_id"], table["product_id"], table["day"], strict=True)
    ]
    assert table["bought"].astype(bool).tolist() == expected
    assert table["bought"].sum() > 0 and (table["log_rel_price"] < 0).sum() > 0
