"""Personalisation headroom: group-level over segment-level oracle on hand-made markets."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from pricing_rl_support import tiny_market

from pricegraph.pricing.headroom import Headroom, personalisation_headroom
from pricegraph.pricing.simulator import PriceBounds, SimulatorConfig

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
