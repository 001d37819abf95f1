"""Personalisation headroom: group-level over segment-level oracle on hand-made markets."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from support.pricing_rl import tiny_market

from pricegraph.pricing.evaluation.headroom import Headroom, band_bounds, personalisation_headroom
from pricegraph.pricing.market.simulator import PriceBounds, SimulatorConfig

SIM = SimulatorConfig(horizon_periods=4)


def test_no_headroom_when_the_groups_of_a_segment_are_alike() -> None:
    market = tiny_market(beta=2.0)
    alike = replace(market, beta=np.array([2.0, 2.0, 3.0, 3.0]))
    found = personalisation_headroom(alike, PriceBounds.around_list(alike), SIM)
    assert found.pct == pytest.approx(0.0, abs=1e-6)


def test_headroom_grows_with_the_spread_inside_segments() -> None:
    pcts = []
    for spread in (1.0, 1.5, 3.0):
        market = tiny_market(beta=2.0)
        betas = np.array([2.0, 2.0 * spread, 3.0, 3.0 * spread])
        spread_market = replace(market, beta=betas)
        bounds = PriceBounds.around_list(spread_market, low=0.2, high=3.0)
        pcts.append(personalisation_headroom(spread_market, bounds, SIM).pct)
    assert pcts[0] == pytest.approx(0.0, abs=1e-6) and 0.0 < pcts[1] < pcts[2]


def test_captured_share() -> None:
    room = Headroom(segment_profit=100.0, group_profit=110.0)
    assert room.pct == pytest.approx(10.0)
    assert room.captured_pct(90.0, 95.0) == pytest.approx(50.0)


def test_band_headroom_lies_between_the_segment_and_the_group_oracle() -> None:
    market = tiny_market(beta=2.0)
    spread = replace(market, beta=np.array([1.0, 4.0, 1.5, 6.0]))
    bounds = PriceBounds.around_list(spread, low=0.2, high=3.0)
    rooms = {band: personalisation_headroom(spread, bounds, SIM, band=band) for band in (0, 0.15)}
    # a band of 0 leaves every price at the segment oracle's: no headroom
    assert rooms[0].band_pct == pytest.approx(0.0, abs=1e-6)
    room = rooms[0.15]
    assert 0.0 < room.band_pct <= room.pct + 1e-9
    assert room.captured_pct(90.0, 95.0, band=True) == pytest.approx(
        100 * 5 / (room.band_profit - room.segment_profit)
    )


def test_band_bounds_free_only_prices_inside_the_band() -> None:
    list_price = np.array([10.0, 10.0])
    segment_prices = np.array([[[10.5, 13.0]]])  # [T=1, S=1, P=2]: inside, outside the band
    low, high = band_bounds(
        segment_prices, np.array([0, 0]), list_price, np.array([6.0, 6.0]),
        np.array([13.0, 13.0]), 0.15,
    )  # fmt: skip
    assert low.shape == (1, 2, 2)
    assert low[0, :, 0] == pytest.approx([8.5, 8.5]) and high[0, :, 0] == pytest.approx([11.5] * 2)
    assert low[0, :, 1] == pytest.approx([13.0] * 2) and high[0, :, 1] == pytest.approx([13.0] * 2)
