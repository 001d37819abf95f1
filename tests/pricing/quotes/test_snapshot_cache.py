"""The quote builder's graph snapshot, refreshed ahead: requests past the TTL keep the
snapshot in hand while one background thread reads the new one; an invalidate still
gives read-your-writes at the next request."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pandas as pd
import pytest
from support.quotes import COLLECTIONS, World

from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.policy import MarketObservation
from pricegraph.pricing.quotes.state import StateBuilder, period_of

LATER = datetime(2025, 6, 1, tzinfo=UTC)
"""Quote time after the markdowns these tests write (they start on 20 May 2025)."""
TTL_S = 60.0


class Ticks:
    """The TTL's clock, moved by hand (seconds)."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


class Gate:
    """A warm-up that holds the refresh in flight until released."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.periods: list[int] = []

    def __call__(self, market: MarketObservation, period: int) -> None:
        self.periods.append(period)
        self.entered.set()
        assert self.release.wait(30)


def _builder(world: World, ticks: Ticks, **kwargs) -> StateBuilder:
    return StateBuilder(
        world.store,
        world.vectors,
        PricingConfig(),
        collections=COLLECTIONS,
        cache_ttl_s=TTL_S,
        monotonic=ticks,
        **kwargs,
    )


def _mark_down(world: World, product: str, price: float) -> float:
    """Write a markdown of ``product`` to ``price`` from 20 May 2025 on; returns it."""
    point = f"PP-{product}-markdown-refresh"
    world.store.upsert_nodes(
        "PricePoint",
        pd.DataFrame(
            {
                "id": [point],
                "product_id": [product],
                "price": [price],
                "currency": ["EUR"],
                "kind": ["markdown"],
                "valid_from": pd.to_datetime(["2025-05-20"]),
                "valid_to": pd.to_datetime([None]),
                "source": ["test"],
            }
        ),
    )
    world.store.upsert_edges("HAS_PRICE", pd.DataFrame({"source": [product], "target": [point]}))
    return price


def test_a_request_past_the_ttl_keeps_the_snapshot_while_the_refresh_runs(world: World) -> None:
    ticks, gate = Ticks(), Gate()
    builder = _builder(world, ticks, warm_up=gate)
    pair = (world.customers[0], world.products[5])
    (before,) = builder.build([pair], LATER)
    price = _mark_down(world, pair[1], 0.5 * before.product.list_price)
    ticks.now_s = TTL_S + 1
    (during,) = builder.build([pair], LATER)
    assert during.product == before.product  # answered from the snapshot in hand
    assert gate.entered.wait(30) and builder.cache.is_refreshing
    (still,) = builder.build([pair], LATER)  # no second refresh while one is in flight
    assert still.product == before.product
    gate.release.set()
    assert builder.cache.wait_for_refresh(30)
    (after,) = builder.build([pair], LATER)
    assert after.product.current_price == price != before.product.current_price
    assert gate.periods == [period_of(LATER, 7)]  # warmed once, for the request's period


def test_without_refresh_ahead_the_request_past_the_ttl_reads_the_store(world: World) -> None:
    ticks, gate = Ticks(), Gate()
    builder = _builder(world, ticks, warm_up=gate, refresh_ahead=False)
    pair = (world.customers[0], world.products[7])
    (before,) = builder.build([pair], LATER)
    price = _mark_down(world, pair[1], 0.5 * before.product.list_price)
    ticks.now_s = TTL_S + 1
    (after,) = builder.build([pair], LATER)
    assert after.product.current_price == price and not builder.cache.is_refreshing
    assert gate.periods == []


def test_invalidate_reads_at_the_next_request_and_discards_an_older_refresh(
    world: World,
) -> None:
    ticks, gate = Ticks(), Gate()
    builder = _builder(world, ticks, warm_up=gate)
    pair = (world.customers[1], world.products[6])
    (before,) = builder.build([pair], LATER)
    ticks.now_s = TTL_S + 1
    builder.build([pair], LATER)  # starts a refresh; it reads the store before the write
    assert gate.entered.wait(30)
    price = _mark_down(world, pair[1], 0.5 * before.product.list_price)
    builder.invalidate()
    (after,) = builder.build([pair], LATER)
    assert after.product.current_price == price  # read-your-writes, refresh or not
    gate.release.set()
    assert builder.cache.wait_for_refresh(30)
    (later,) = builder.build([pair], LATER)
    assert later.product.current_price == price  # the older refresh was not swapped in


def test_a_failing_refresh_keeps_the_snapshot_and_is_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    failures = [RuntimeError("warm-up failed")]

    def warm_up(market: MarketObservation, period: int) -> None:
        if failures:
            raise failures.pop()

    ticks = Ticks()
    builder = _builder(world, ticks, warm_up=warm_up)
    pair = (world.customers[2], world.products[8])
    (before,) = builder.build([pair], LATER)
    price = _mark_down(world, pair[1], 0.5 * before.product.list_price)
    ticks.now_s = TTL_S + 1
    with caplog.at_level(logging.ERROR, logger="pricegraph.pricing"):
        builder.build([pair], LATER)
        assert builder.cache.wait_for_refresh(30)
    [record] = [r for r in caplog.records if r.name == "pricegraph.pricing"]
    assert "refreshing the graph snapshot" in record.getMessage()
    assert record.exc_info and str(record.exc_info[1]) == "warm-up failed"
    (kept,) = builder.build([pair], LATER)  # the old snapshot; this request tries again
    assert kept.product == before.product
    assert builder.cache.wait_for_refresh(30)
    (after,) = builder.build([pair], LATER)
    assert after.product.current_price == price


def test_past_twice_the_ttl_or_once_closed_the_request_reads_the_store(world: World) -> None:
    ticks, gate = Ticks(), Gate()
    gate.release.set()
    builder = _builder(world, ticks, warm_up=gate)
    pair = (world.customers[3], world.products[9])
    (before,) = builder.build([pair], LATER)
    price = _mark_down(world, pair[1], 0.5 * before.product.list_price)
    ticks.now_s = 2 * TTL_S + 1  # no request came to refresh it in time: too old to keep
    (after,) = builder.build([pair], LATER)
    assert after.product.current_price == price and gate.periods == []
    builder.close()
    _mark_down(world, pair[1], 0.4 * before.product.list_price)
    ticks.now_s += TTL_S + 1
    (closed,) = builder.build([pair], LATER)
    assert closed.product.current_price == 0.4 * before.product.list_price
    assert not builder.cache.is_refreshing and gate.periods == []


def test_close_waits_for_the_refresh_in_flight(world: World) -> None:
    """Services.close() closes the quotes before the graph store: no refresh reads it after."""
    ticks, gate = Ticks(), Gate()
    builder = _builder(world, ticks, warm_up=gate)
    pair = (world.customers[4], world.products[10])
    builder.build([pair], LATER)
    ticks.now_s = TTL_S + 1
    builder.build([pair], LATER)
    assert gate.entered.wait(30)
    closing = threading.Thread(target=builder.close)
    closing.start()
    closing.join(0.2)
    assert closing.is_alive() and builder.cache.is_refreshing  # held by the refresh
    gate.release.set()
    closing.join(30)
    assert not closing.is_alive() and not builder.cache.is_refreshing


def test_a_snapshot_marked_stale_is_refreshed_ahead_once_a_second_old(world: World) -> None:
    """Events written (mark_stale) reach the quotes by a refresh ahead about a second
    later, not by a read on the request path at every write."""
    ticks, gate = Ticks(), Gate()
    gate.release.set()
    builder = _builder(world, ticks, warm_up=gate)
    pair = (world.customers[5], world.products[11])
    (before,) = builder.build([pair], LATER)
    price = _mark_down(world, pair[1], 0.5 * before.product.list_price)
    builder.mark_stale()
    builder.mark_stale()  # a stream of writes: one refresh
    ticks.now_s = 0.5
    (young,) = builder.build([pair], LATER)
    assert young.product == before.product and not builder.cache.is_refreshing
    ticks.now_s = 1.5
    (during,) = builder.build([pair], LATER)  # answered from the snapshot in hand
    assert during.product == before.product
    assert builder.cache.wait_for_refresh(30)
    (after,) = builder.build([pair], LATER)
    assert after.product.current_price == price
    assert gate.periods == [period_of(LATER, 7)]
    ticks.now_s = 3.0  # nothing marked since the read: kept until the TTL
    builder.build([pair], LATER)
    assert not builder.cache.is_refreshing and len(gate.periods) == 1


def test_a_mark_during_the_refresh_leaves_the_new_snapshot_stale(world: World) -> None:
    ticks, gate = Ticks(), Gate()
    builder = _builder(world, ticks, warm_up=gate)
    pair = (world.customers[6], world.products[12])
    (before,) = builder.build([pair], LATER)
    first = _mark_down(world, pair[1], 0.5 * before.product.list_price)
    builder.mark_stale()
    ticks.now_s = 1.5
    builder.build([pair], LATER)
    assert gate.entered.wait(30)  # the refresh has read the first markdown
    second = _mark_down(world, pair[1], 0.4 * before.product.list_price)
    builder.mark_stale()
    gate.release.set()
    assert builder.cache.wait_for_refresh(30)
    (swapped,) = builder.build([pair], LATER)
    assert swapped.product.current_price == first and not builder.cache.is_refreshing
    ticks.now_s = 2.6  # the swapped snapshot is a second old and was read before the mark
    builder.build([pair], LATER)
    assert builder.cache.wait_for_refresh(30)
    (after,) = builder.build([pair], LATER)
    assert after.product.current_price == second


def test_without_refresh_ahead_a_snapshot_marked_stale_is_read_by_the_request(
    world: World,
) -> None:
    ticks = Ticks()
    builder = _builder(world, ticks, refresh_ahead=False)
    pair = (world.customers[7], world.products[13])
    (before,) = builder.build([pair], LATER)
    price = _mark_down(world, pair[1], 0.5 * before.product.list_price)
    builder.mark_stale()
    ticks.now_s = 1.5
    (after,) = builder.build([pair], LATER)
    assert after.product.current_price == price and not builder.cache.is_refreshing
