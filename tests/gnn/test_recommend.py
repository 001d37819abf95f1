"""Recommendations and their reasons on a hand-built two-cluster world with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pricegraph.errors import ConfigError, ModelError, NotFoundError
from pricegraph.gnn.baselines import interaction_matrix
from pricegraph.gnn.node_embeddings import NodeEmbeddings
from pricegraph.gnn.reasons import (
    Recommendation,
    co_purchase_matrix,
    strongest_links,
    top_k_discounted,
)
from pricegraph.gnn.recommend import Recommender
from pricegraph.gnn.split import CustomerItems

# Two clusters in 2-d: "red" products along x, "blue" along y.
PRODUCT_IDS = np.array(["p0", "p1", "p2", "p3", "p4", "p5"], dtype=object)
NAMES = ["Red Mug", "Red Plate", "Red Bowl", "Blue Lamp", "Blue Shade", "Blue Bulb"]
PRODUCT = [[1.0, 0.0], [0.8, 0.2], [0.6, 0.1], [0.0, 1.0], [0.1, 0.8], [0.2, 0.5]]
CUSTOMER_IDS = np.array([f"c{i}" for i in range(8)], dtype=object)
CUSTOMER = [
    [1.0, 0.0],  # c0 bought p0
    [0.9, 0.1],  # c1 bought p0, p1 (p1 twice)
    [0.8, 0.1],  # c2 bought p0, p1, p5
    [0.0, 1.0],  # c3 bought p3, p4
    [0.1, 0.9],  # c4 bought p0, p5, p3
    [0.6, 0.5],  # c5 bought p0, p4
    [0.5, 0.45],  # c6 bought nothing
    [0.0, 0.0],  # c7 bought nothing and has no vector
]
# Co-purchases (distinct customers who bought both): p0-p1 2, p0-p5 2, p0-p3 1,
# p0-p4 1, p1-p5 1, p3-p4 1, p3-p5 1; p2 was never bought. Buyers: p0 5, p2 0, others 2.
PURCHASES = torch.tensor(
    [
        [0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5],
        [0, 0, 1, 1, 0, 1, 5, 3, 4, 0, 5, 3, 0, 4],
    ]
)


def _embeddings() -> NodeEmbeddings:
    return NodeEmbeddings(
        customer_ids=CUSTOMER_IDS,
        product_ids=PRODUCT_IDS,
        customer=torch.tensor(CUSTOMER),
        product=torch.tensor(PRODUCT),
        model_version="hand-made-1",
    )


def _text_to_product() -> torch.nn.Linear:
    """Text dim 0 -> "red" axis, text dim 1 -> "blue" axis; the rest is ignored."""
    linear = torch.nn.Linear(384, 2, bias=False)
    with torch.no_grad():
        linear.weight.zero_()
        linear.weight[0, 0] = 1.0
        linear.weight[1, 1] = 1.0
    return linear


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender(
        _embeddings(), PURCHASES, product_names=NAMES, product_from_text=_text_to_product()
    )


def _ids(recommendations: list[Recommendation]) -> list[str]:
    return [r.product_id for r in recommendations]


def _text(first: float, second: float) -> np.ndarray:
    vector = np.zeros(384, dtype=np.float32)
    vector[:2] = first, second
    return vector


def test_co_purchase_matrix_counts_distinct_customers() -> None:
    items = CustomerItems.from_edge_index(PURCHASES, 8)
    counts = co_purchase_matrix(interaction_matrix(PURCHASES, 8, 6)).toarray()
    assert counts.dtype == np.int32 and counts.shape == (6, 6)
    assert np.all(np.diag(counts) == 0) and np.array_equal(counts, counts.T)
    assert counts[0, 1] == 2 and counts[0, 5] == 2 and counts[3, 4] == 1 and counts[2].sum() == 0
    assert items.counts().tolist() == [1, 2, 3, 2, 3, 2, 0, 0]


def test_for_customer_excludes_bought_and_orders_by_dot_product(recommender: Recommender) -> None:
    recommendations = recommender.for_customer("c0", k=3)
    assert _ids(recommendations) == ["p1", "p2", "p5"]
    assert [r.rank for r in recommendations] == [1, 2, 3]
    assert [r.score for r in recommendations] == pytest.approx([0.8, 0.6, 0.2])
    assert len(recommender.for_customer("c0", k=10)) == 5  # all but the bought p0


def test_for_customer_reasons_prefer_co_purchase_then_similar_bought(
    recommender: Recommender,
) -> None:
    p1, p2, p5 = recommender.for_customer("c0", k=3)
    assert (p1.reason_kind, p1.via_product_id) == ("co_purchase", "p0")
    assert p1.reason == "bought by 2 customers who also bought Red Mug"
    assert (p2.reason_kind, p2.via_product_id) == ("similar_bought", "p0")
    assert p2.reason == "similar to Red Mug you bought (similarity 0.99)"
    assert p5.reason_kind == "co_purchase"


def test_co_purchase_beats_a_nearer_bought_item(recommender: Recommender) -> None:
    # c5 bought Red Mug and Blue Shade. Blue Bulb is nearest to Blue Shade by cosine,
    # but it was co-bought with Red Mug by 2 customers: the co-purchase path wins.
    by_id = {r.product_id: r for r in recommender.for_customer("c5", k=4)}
    assert list(by_id) == ["p1", "p3", "p2", "p5"]
    assert by_id["p5"].reason == "bought by 2 customers who also bought Red Mug"
    assert by_id["p5"].via_product_id == "p0"
    # Equal counts (1 with each purchase): the nearer purchase is named; singular form.
    assert by_id["p3"].reason == "bought by 1 customer who also bought Blue Shade"
    assert by_id["p2"].reason == "similar to Red Mug you bought (similarity 0.99)"


def test_min_co_purchases_turns_weak_evidence_into_similarity() -> None:
    strict = Recommender(_embeddings(), PURCHASES, product_names=NAMES, min_co_purchases=2)
    by_id = {r.product_id: r for r in strict.for_customer("c5", k=4)}
    assert by_id["p3"].reason == "similar to Blue Shade you bought (similarity 0.99)"
    assert by_id["p5"].reason_kind == "co_purchase"


def test_include_bought_ranks_and_labels_past_purchases(recommender: Recommender) -> None:
    recommendations = recommender.for_customer("c0", k=3, include_bought=True)
    assert _ids(recommendations) == ["p0", "p1", "p2"]
    assert recommendations[0].reason_kind == "bought_before"
    assert recommendations[0].reason == "you bought this before"


def test_customer_without_history_uses_its_vector_and_nearest_customers() -> None:
    recommender = Recommender(
        _embeddings(), PURCHASES, product_names=NAMES, num_similar_customers=2
    )
    p0, p1, p3 = recommender.for_customer("c6", k=3)  # nearest customers: c5, c2
    assert _ids([p0, p1, p3]) == ["p0", "p1", "p3"]
    assert p0.reason_kind == "similar_customers" and p0.via_product_id is None
    assert p0.reason == (
        "bought by 2 of the 2 customers most similar to you (you have no purchases yet)"
    )
    assert p1.reason.startswith("bought by 1 of the 2 customers")
    assert (p3.reason_kind, p3.reason) == (
        "profile",
        "fits your profile (you have no purchases yet)",
    )


def test_a_viewed_product_says_how_often_the_customer_viewed_it() -> None:
    # c5 viewed Red Plate twice and Red Mug (bought) once; c7 (no history) viewed Blue Lamp.
    views = torch.tensor([[5, 5, 5, 7], [1, 1, 0, 3]])
    recommender = Recommender(_embeddings(), PURCHASES, product_names=NAMES, views=views)
    by_id = {r.product_id: r for r in recommender.for_customer("c5", k=4)}
    assert (by_id["p1"].reason_kind, by_id["p1"].reason) == ("viewed", "you viewed it 2 times")
    assert by_id["p1"].via_product_id == "p1"
    # Without a view, the co-purchase path stays the reason.
    assert by_id["p5"].reason == "bought by 2 customers who also bought Red Mug"
    mug = recommender.for_customer("c5", k=1, include_bought=True)[0]
    assert (mug.product_id, mug.reason_kind) == ("p0", "bought_before")  # bought beats viewed
    lamp = {r.product_id: r for r in recommender.for_customer("c7", k=3)}["p3"]
    assert (lamp.reason_kind, lamp.reason) == ("viewed", "you viewed it once")


def test_the_co_purchase_anchor_is_the_most_specific_purchase_not_the_best_seller() -> None:
    # The customer bought a best seller (product 0, 20 buyers) and a niche product
    # (1, 2 buyers); the pick (2, 5 buyers) shares 4 buyers with 0 and 2 with 1.
    co = sp.csr_array(np.array([[0, 0, 4], [0, 0, 2], [4, 2, 0]], dtype=np.int32))
    unit = np.eye(3, dtype=np.float32)
    buyers = np.array([20, 2, 5])
    count, via, _, _ = strongest_links(co, unit, np.array([2]), np.array([0, 1]), buyers)
    # 2 / sqrt(5 * 2) = 0.63 beats 4 / sqrt(5 * 20) = 0.40: the niche product anchors
    assert (int(via[0]), int(count[0])) == (1, 2)


def test_top_k_discounted_trades_rank_against_buyers() -> None:
    scores = np.array([5.0, 4.0, 3.0, 2.0, 1.0, -np.inf])
    buyers = np.array([1000, 10, 10, 1, 0, 0])
    assert top_k_discounted(scores, buyers, 3, 0.0).tolist() == [0, 1, 2]
    # log(rank) + log(1 + buyers): 6.91, 3.09, 3.50, 2.08, 1.61; excluded never comes back
    assert top_k_discounted(scores, buyers, 6, 1.0).tolist() == [4, 3, 1, 2, 0]
    with pytest.raises(ValueError, match="expected >= 0"):
        top_k_discounted(scores, buyers, 3, -0.5)


def test_popularity_discount_reaches_customer_and_product_lists(recommender: Recommender) -> None:
    # c7 has no vector: ranked by buyers (p0 5; p1, p3, p4, p5 2; p2 0). With α = 1.5
    # log(rank) + 1.5 log(1 + buyers) puts p2 (never bought, rank 6) first.
    plain = _ids(recommender.for_customer("c7", k=6))
    assert plain == ["p0", "p1", "p3", "p4", "p5", "p2"]
    discounted = recommender.for_customer("c7", k=6, popularity_discount=1.5)
    assert _ids(discounted) == ["p2", "p1", "p0", "p3", "p4", "p5"]
    assert {r.product_id: r.score for r in discounted}["p0"] == 5.0  # scores stay
    # Bought with p0: p1, p5 (2 shared buyers), p4, p3 (1), p2 (never bought, last).
    assert _ids(recommender.for_product("p0", k=5)) == ["p1", "p5", "p4", "p3", "p2"]
    also = _ids(recommender.for_product("p0", k=5, popularity_discount=1.5))
    assert also == ["p2", "p1", "p5", "p4", "p3"]


def test_product_names_are_display_names_in_the_order_asked(recommender: Recommender) -> None:
    assert recommender.product_names(["p3", "p0"]) == ["Blue Lamp", "Red Mug"]
    with pytest.raises(NotFoundError):
        recommender.product_names(["nobody"])


def test_customer_without_vector_or_history_gets_popular_products(
    recommender: Recommender,
) -> None:
    recommendations = recommender.for_customer("c7", k=3)
    assert _ids(recommendations) == ["p0", "p1", "p3"]  # 5 buyers, then ties by key
    assert [r.score for r in recommendations] == [5.0, 2.0, 2.0]
    assert {r.reason_kind for r in recommendations} == {"popular"}
    assert recommendations[0].reason == "popular: bought by 5 customers (you have no purchases yet)"


def test_batch_matches_single_calls_and_customer_items_input(recommender: Recommender) -> None:
    ids = ["c5", "c0", "c7"]
    batch = recommender.for_customers(ids, k=4)
    assert batch == [recommender.for_customer(key, k=4) for key in ids]
    from_items = Recommender(
        _embeddings(), CustomerItems.from_edge_index(PURCHASES, 8), product_names=NAMES
    )
    assert from_items.for_customers(ids, k=4) == batch


def test_for_product_puts_co_purchases_before_similarity(recommender: Recommender) -> None:
    recommendations = recommender.for_product("p0", k=5)
    assert _ids(recommendations) == ["p1", "p5", "p4", "p3", "p2"]
    # score = count + (1 + cosine) / 3: the integer part is the co-purchase count.
    assert [int(r.score) for r in recommendations] == [2, 2, 1, 1, 0]
    assert recommendations[0].reason == "bought together by 2 customers"
    assert recommendations[2].reason == "bought together by 1 customer"
    assert recommendations[4].reason == "similar in the learned space (0.99)"
    assert recommendations[4].reason_kind == "similar_product"
    assert {r.via_product_id for r in recommendations} == {"p0"}


def test_for_product_without_purchases_ranks_by_cosine(recommender: Recommender) -> None:
    recommendations = recommender.for_product("p2", k=5)
    assert _ids(recommendations) == ["p1", "p0", "p5", "p4", "p3"]
    assert {r.reason_kind for r in recommendations} == {"similar_product"}


def test_for_new_product_finds_neighbours_through_text(recommender: Recommender) -> None:
    recommendations = recommender.for_new_product(_text(1.0, 0.05), k=3, name="Red Jug")
    assert _ids(recommendations) == ["p0", "p2", "p1"]
    assert recommendations[0].score == pytest.approx(1 / np.sqrt(1 + 0.05**2))
    assert recommendations[0].reason == "closest by description to Red Jug (1.00)"
    assert recommendations[0].reason_kind == "text"
    as_tensor = recommender.for_new_product(torch.from_numpy(_text(1.0, 0.05))[None], k=3)
    assert _ids(as_tensor) == _ids(recommendations)


def test_customers_for_new_product_name_their_nearest_purchase(recommender: Recommender) -> None:
    customers = recommender.customers_for_new_product(_text(0.0, 1.0), k=4, name="Blue Fan")
    assert [c.customer_id for c in customers] == ["c3", "c4", "c5", "c6"]
    assert [c.score for c in customers] == pytest.approx([1.0, 0.9, 0.5, 0.45])
    assert customers[0].reason == (
        "bought Blue Lamp, the closest of their purchases to Blue Fan (similarity 1.00)"
    )
    assert [c.via_product_id for c in customers] == ["p3", "p3", "p4", None]
    assert customers[3].reason_kind == "profile"


def test_unknown_ids_raise_not_found(recommender: Recommender) -> None:
    with pytest.raises(NotFoundError, match="customer 'nobody' not found") as caught:
        recommender.for_customer("nobody")
    assert (caught.value.kind, caught.value.key) == ("customer", "nobody")
    with pytest.raises(NotFoundError, match="customer 'x9'"):
        recommender.for_customers(["c0", "x9"])
    with pytest.raises(NotFoundError, match="product 'p9'"):
        recommender.for_product("p9")


def test_new_product_errors() -> None:
    without_text = Recommender(_embeddings(), PURCHASES)
    with pytest.raises(ConfigError, match="product_from_text"):
        without_text.for_new_product(_text(1.0, 0.0))
    wrong_width = Recommender(
        _embeddings(), PURCHASES, product_from_text=torch.nn.Linear(384, 3, bias=False)
    )
    with pytest.raises(ModelError, match=r"expected a tensor of shape \[1, 2\], got \[1, 3\]"):
        wrong_width.customers_for_new_product(_text(1.0, 0.0))
    with_text = Recommender(_embeddings(), PURCHASES, product_from_text=_text_to_product())
    with pytest.raises(ValueError, match=r"text_vector: expected shape \[384\], got \[2\]"):
        with_text.for_new_product(np.ones(2, dtype=np.float32))


def test_invalid_inputs_are_rejected(recommender: Recommender) -> None:
    with pytest.raises(ValueError, match="k: expected >= 1, got 0"):
        recommender.for_customer("c0", k=0)
    with pytest.raises(ValueError, match=r"expected \[8, embedding_dim\]"):
        NodeEmbeddings(CUSTOMER_IDS, PRODUCT_IDS, torch.zeros(7, 2), torch.zeros(6, 2), "v")
    with pytest.raises(ValueError, match=r"product indices must lie in \[0, 6\)"):
        Recommender(_embeddings(), torch.tensor([[0], [6]]))
    with pytest.raises(ValueError, match="expected 6 names aligned"):
        Recommender(_embeddings(), PURCHASES, product_names=NAMES[:3])


def test_names_fall_back_to_keys() -> None:
    recommender = Recommender(_embeddings(), PURCHASES, product_names={"p4": "Blue Shade"})
    by_id = {r.product_id: r for r in recommender.for_customer("c5", k=4)}
    assert by_id["p5"].reason == "bought by 2 customers who also bought p0"
    assert by_id["p3"].reason == "bought by 1 customer who also bought Blue Shade"


def test_a_validation_winner_other_than_the_encoder_ranks_first_and_says_so() -> None:
    # The winner's list for c0 (bought p0): p2, then p3; every other slot empty.
    top_products = np.full((8, 3), -1, dtype=np.int32)
    top_scores = np.zeros((8, 3), dtype=np.float32)
    top_products[0, :2], top_scores[0, :2] = [2, 3], [0.9, 0.4]
    served = Recommender(
        _embeddings(), PURCHASES, served_by="ease", top_products=top_products, top_scores=top_scores
    )
    assert "served_by='ease'" in repr(served)
    picks = served.for_customer("c0", k=5)
    # The winner's two first with its scores, then the encoder's order (p1, p5, p4).
    assert _ids(picks) == ["p2", "p3", "p1", "p5", "p4"]
    assert [p.score for p in picks[:2]] == pytest.approx([0.9, 0.4])
    assert all(p.reason.endswith("; ranked by ease, the validation winner") for p in picks)
    with pytest.raises(ValueError, match=r"expected both or neither, each \[8, n\]"):
        Recommender(_embeddings(), PURCHASES, top_products=top_products)
