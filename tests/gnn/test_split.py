"""Temporal split on a hand-made snapshot: windows, cold customers, re-purchases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from pricegraph.gnn.data import EVENT_EDGE_TYPES, GraphSnapshot
from pricegraph.gnn.split import CustomerItems, message_passing_data, temporal_split

DAY_S = 86_400


def _snapshot(purchases: list[tuple[int, int, int]], num_customers: int = 4) -> GraphSnapshot:
    """(customer, product, day) purchases; one view per purchase, a day earlier."""
    data = HeteroData()
    data["customer"].num_nodes, data["product"].num_nodes = num_customers, 5
    edge_index = torch.tensor([[c for c, _, _ in purchases], [p for _, p, _ in purchases]])
    time_s = torch.tensor([d * DAY_S for _, _, d in purchases])
    for src, name, dst in EVENT_EDGE_TYPES:
        shift = 0 if name == "purchased" else DAY_S
        data[src, name, dst].edge_index, data[src, name, dst].time = edge_index, time_s - shift
        data[dst, f"rev_{name}", src].edge_index = edge_index.flip(0)
        data[dst, f"rev_{name}", src].time = time_s - shift
    ids = {
        "customer": np.array([f"c{i}" for i in range(num_customers)], dtype=object),
        "product": np.array([f"p{i}" for i in range(5)], dtype=object),
    }
    return GraphSnapshot(data, ids, "toy")


# Last purchase on day 99 (+1 s = end): train before day 57, val [57, 71), test [71, 99].
PURCHASES = [
    (0, 0, 1),
    (0, 1, 20),
    (0, 2, 80),
    (0, 0, 90),  # c0: train 0, 1; test new 2, re-buy 0
    (1, 3, 60),
    (1, 4, 85),  # c1: cold (no train purchase): never evaluated on val
    (2, 0, 5),
    (2, 1, 65),
    (2, 0, 95),  # c2: val new 1; test only a re-purchase
    (3, 2, 10),
    (3, 3, 99),  # c3: test new 3
]


def test_windows_are_disjoint_in_time_and_cover_all_purchases() -> None:
    split = temporal_split(_snapshot(PURCHASES))
    assert split.train_end_s == 57 * DAY_S + 1 and split.test.start_s == 71 * DAY_S + 1
    assert split.val.end_s == split.test.start_s and split.test.end_s == 99 * DAY_S + 1
    assert split.train_edge_index.shape == (2, 4)
    assert split.train_items.counts().tolist() == [2, 0, 1, 1]
    assert split.val.positives.counts().tolist() == [0, 1, 1, 0]
    assert split.test.positives.counts().tolist() == [1, 1, 0, 1]


def test_cold_customers_and_repurchases_are_not_evaluated() -> None:
    split = temporal_split(_snapshot(PURCHASES))
    assert split.val.customer_index.tolist() == [2]
    assert split.test.customer_index.tolist() == [0, 1, 3]  # c1 has a val purchase by then
    assert split.test.positives.pairs(torch.tensor([0])).tolist() == [[0], [2]]
    assert split.test.history.pairs(torch.tensor([0])).tolist() == [[0, 0], [0, 1]]


def test_customer_items_pairs_of_a_batch() -> None:
    items = CustomerItems.from_edge_index(torch.tensor([[2, 0, 2, 2], [4, 1, 3, 4]]), 3)
    assert items.indptr.tolist() == [0, 1, 1, 3]
    assert items.pairs(torch.tensor([2, 1, 0])).tolist() == [[0, 0, 2], [3, 4, 1]]


def test_message_passing_keeps_only_earlier_events() -> None:
    snapshot = _snapshot(PURCHASES)
    split = temporal_split(snapshot)
    data = message_passing_data(snapshot, split.train_end_s)
    for src, name, dst in EVENT_EDGE_TYPES:
        assert int(data[src, name, dst].time.max()) < split.train_end_s
        assert (
            data[dst, f"rev_{name}", src].edge_index.shape == data[src, name, dst].edge_index.shape
        )
    assert data["customer", "purchased", "product"].edge_index.shape == (2, 4)
    assert snapshot.data["customer", "purchased", "product"].edge_index.shape == (2, 11)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_days": 0}, "test_days must be >= 1"),
        ({"val_days": -1}, "val_days >= 0"),
        ({"test_days": 90, "val_days": 10}, "nothing left to train on"),
    ],
)
def test_bad_windows_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        temporal_split(_snapshot(PURCHASES), **kwargs)


def test_an_earlier_origin_never_sees_the_purchases_after_it() -> None:
    # Test window [62, 90), validation [48, 62): the purchases of days 90-99 are unseen.
    split = temporal_split(_snapshot(PURCHASES), test_days=28, val_days=14, end_s=90 * DAY_S)
    assert (split.train_end_s, split.test.start_s) == (48 * DAY_S, 62 * DAY_S)
    assert split.test.end_s == 90 * DAY_S
    assert split.val.positives.counts().tolist() == [0, 1, 0, 0]  # c1 bought 3 on day 60
    assert split.test.positives.counts().tolist() == [1, 1, 1, 0]  # 2 (80), 4 (85), 1 (65)
    assert split.test.customer_index.tolist() == [0, 1, 2]
