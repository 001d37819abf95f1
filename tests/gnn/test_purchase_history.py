"""The purchase evidence of a recommender, on four customers and four products."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pricegraph.gnn.purchase_history import PurchaseHistory
from pricegraph.gnn.split import CustomerItems

# (customer, product) positions; c0 bought p0 twice, c3 bought nothing.
PURCHASES = torch.tensor([[0, 0, 0, 1, 1, 2], [0, 0, 1, 0, 2, 1]])


def test_counts_distinct_buyers_and_co_purchases() -> None:
    history = PurchaseHistory(PURCHASES, num_customers=4, num_products=4)

    assert history.interactions.shape == (4, 4)
    assert history.buyers.tolist() == [2, 2, 1, 0]
    assert history.has_history.tolist() == [True, True, True, False]
    co_purchases = history.co_purchases.toarray()
    assert co_purchases[0].tolist() == [0, 1, 1, 0]  # p0 with p1 (c0) and p2 (c1)
    assert np.all(np.diag(co_purchases) == 0)
    assert repr(history) == "PurchaseHistory(num_customers=4, num_products=4, num_pairs=5)"


def test_bought_and_bought_pairs() -> None:
    history = PurchaseHistory(PURCHASES, num_customers=4, num_products=4)

    assert history.bought(0).tolist() == [0, 1]
    assert history.bought(3).tolist() == []
    pairs = history.bought_pairs(np.array([2, 0], dtype=np.int64))
    assert pairs.tolist() == [[0, 1, 1], [1, 0, 1]]


def test_customer_items_input_matches_edge_index() -> None:
    items = CustomerItems.from_edge_index(PURCHASES, num_customers=4)
    from_items = PurchaseHistory(items, num_customers=4, num_products=4)
    from_edges = PurchaseHistory(PURCHASES, num_customers=4, num_products=4)

    assert (from_items.interactions != from_edges.interactions).nnz == 0


@pytest.mark.parametrize(
    ("purchases", "message"),
    [
        (torch.tensor([[0, 1]]), r"expected edge_index \[2, num_purchases\]"),
        (torch.tensor([[0], [-1]]), "positions >= 0"),
        (torch.tensor([[0], [4]]), r"must lie in \[0, 4\)"),
        (CustomerItems.from_edge_index(PURCHASES, num_customers=3), "expected 4 customers"),
    ],
)
def test_invalid_purchases_are_rejected(purchases: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PurchaseHistory(purchases, num_customers=4, num_products=4)
