"""Baselines on hand-made purchases, on a synthetic world, and on the real Online Retail data."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from support.data import ONLINE_RETAIL, requires_online_retail

from pricegraph.embeddings.encoder import SentenceEncoder
from pricegraph.gnn.baselines import (
    interaction_matrix,
    item_knn_scores,
    item_similarity,
    popularity_scores,
    random_scores,
    text_scores,
)
from pricegraph.gnn.data import export_hetero
from pricegraph.gnn.evaluate import evaluate_baselines, print_baselines
from pricegraph.gnn.split import temporal_split
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.loaders.online_retail import load_online_retail
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig

# c0, c1 buy {0, 1}; c2 buys {2, 3}; c3 buys {0}; c4..c6 buy {3}.
# Counts: product 3 is the most bought (4), but only product 1 is co-bought with 0.
PURCHASES = torch.tensor([[0, 0, 1, 1, 2, 2, 3, 4, 5, 6], [0, 1, 0, 1, 2, 3, 0, 3, 3, 3]])
C3 = torch.tensor([3])


def test_popularity_ranks_the_most_bought_product_first() -> None:
    scores = popularity_scores(PURCHASES, num_products=5)(torch.tensor([0, 3]))
    assert scores.shape == (2, 5)
    assert scores[0].tolist() == [3.0, 2.0, 1.0, 4.0, 0.0]
    assert int(scores[1].argmax()) == 3


def test_item_knn_recommends_the_co_purchased_product() -> None:
    scores = item_knn_scores(PURCHASES, num_customers=7, num_products=5)(C3)
    assert scores.shape == (1, 5)
    assert scores[0, 1] == pytest.approx(2 / np.sqrt(3 * 2))  # cosine(0, 1)
    assert scores[0, 2] == 0.0 and scores[0, 3] == 0.0 and scores[0, 0] == 0.0


def test_item_similarity_keeps_num_neighbors_and_no_self_loops() -> None:
    interactions = interaction_matrix(PURCHASES, 7, 5)
    assert interactions.sum() == 10  # binary
    similarity = item_similarity(interactions, num_neighbors=1)
    assert similarity.shape == (5, 5)
    assert np.all(np.diff(similarity.indptr) <= 1)
    assert similarity.diagonal().sum() == 0.0
    assert similarity[[0], [1]][0] == pytest.approx(2 / np.sqrt(6))


def test_text_scores_follow_cosine_and_rank_missing_text_last() -> None:
    x = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.0, 0.0], [-1.0, 0.0]])
    has_text = torch.tensor([True, True, True, False, True])
    scores = text_scores(PURCHASES, x, has_text, num_customers=7)(C3)[0]
    assert scores[0] == pytest.approx(1.0) and scores[4] == pytest.approx(-1.0)
    assert scores[1] > scores[2] and scores[3] == -2.0


def test_random_scores_are_seeded() -> None:
    first = random_scores(5, seed=1)(torch.arange(3))
    assert torch.equal(first, random_scores(5, seed=1)(torch.arange(3)))
    assert not torch.equal(first, random_scores(5, seed=2)(torch.arange(3)))


def test_baselines_beat_random_on_a_synthetic_world(tmp_path: Path) -> None:
    config = WorldConfig(seed=3, n_customers=1500, n_products=400, n_days=150)
    write_world(generate_world(config), tmp_path / "world")
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    try:
        load_files(store, read_mapping(tmp_path / "world" / "mapping.toml"), rejects_dir=tmp_path)
        snapshot = export_hetero(store)
    finally:
        store.close()
    split = temporal_split(snapshot)
    table = evaluate_baselines(snapshot, split, k=20)
    print_baselines(table)
    assert list(table.index) == ["random", "popularity", "popularity_7d", "item_knn"]
    assert list(table.columns) == ["recall@20", "ndcg@20", "customers"]
    assert (table["customers"] == split.test.num_customers).all() and split.test.num_customers > 100
    recall = table["recall@20"]
    assert recall["popularity"] > 2 * recall["random"]
    assert recall["item_knn"] > 2 * recall["random"]
    pd.testing.assert_frame_equal(table, evaluate_baselines(snapshot, split, k=20))


@requires_online_retail
@pytest.mark.online_retail
def test_real_data_export_split_and_baselines(tmp_path: Path) -> None:
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=512))
    try:
        load_online_retail(store, ONLINE_RETAIL, rejects_dir=tmp_path / "rejects")
        products = store.node_frame("Product")
        names = products["name"].fillna("").astype(str)
        named = names.str.strip() != ""
        vectors = SentenceEncoder().encode(names[named].tolist())
        features = dict(zip(products.loc[named, "id"], vectors, strict=True))
        started = time.perf_counter()
        snapshot = export_hetero(store, product_features=features)
        export_s = time.perf_counter() - started
        counts = store.counts()
    finally:
        store.close()
    print(f"export of the real graph: {export_s:.2f} s")
    purchased = snapshot.edge_index()
    assert (
        purchased.shape == (2, counts["PURCHASED"]) and snapshot.num_products == counts["Product"]
    )
    assert bool(snapshot.data["customer"].is_anonymous.any())
    assert float(snapshot.data["product"].has_text.float().mean()) > 0.99

    split = temporal_split(snapshot)
    assert split.test.num_customers > 500 and split.val.num_customers > 200
    table = evaluate_baselines(snapshot, split, k=20)
    print_baselines(table)
    recall, ndcg = table["recall@20"], table["ndcg@20"]
    assert recall["random"] < 0.02
    for method in ("popularity", "item_knn", "text"):
        assert 2 * recall["random"] < recall[method] < 0.5
        assert 2 * ndcg["random"] < ndcg[method] < 0.5


def test_recent_popularity_counts_only_the_look_back_before_the_cutoff() -> None:
    from pricegraph.gnn.baselines import recent_popularity_scores

    day = 86_400
    edge_index = torch.tensor([[0, 1, 2, 0, 1], [0, 0, 1, 2, 2]])
    # product 0: days 1 and 2 (too old); product 1: day 9; product 2: day 10 twice, one at cutoff
    time_s = torch.tensor([1, 2, 9, 10, 11]) * day
    scores = recent_popularity_scores(edge_index, time_s, 3, 11 * day, days=7)(torch.tensor([0, 1]))
    assert scores.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]


def test_ease_weights_match_the_closed_form_by_hand() -> None:
    from pricegraph.gnn.baselines import ease_weights

    # X = [[1, 1], [1, 1], [1, 0]], lambda = 1: G + I = [[4, 2], [2, 3]],
    # P = [[3, -2], [-2, 4]] / 8, B_01 = -P_01 / P_11 = 1/2, B_10 = -P_10 / P_00 = 2/3.
    interactions = interaction_matrix(torch.tensor([[0, 0, 1, 1, 2], [0, 1, 0, 1, 0]]), 3, 2)
    weights = ease_weights(interactions, 1.0)
    assert weights == pytest.approx(np.array([[0.0, 0.5], [2 / 3, 0.0]]))
    with pytest.raises(ValueError, match="expected > 0, got 0"):
        ease_weights(interactions, 0.0)


def test_ease_weights_past_the_in_place_limit_are_the_same(monkeypatch) -> None:
    """Above ``IN_PLACE_MAX_BYTES`` (a 20,000-item matrix crashed SciPy's in-place
    inverse) NumPy inverts: the same weights."""
    from pricegraph.gnn import baselines

    rng = np.random.default_rng(4)
    edges = torch.from_numpy(rng.integers(0, [40, 25], size=(300, 2)).T.astype(np.int64))
    interactions = interaction_matrix(edges, 40, 25)
    in_place = baselines.ease_weights(interactions, 5.0)
    monkeypatch.setattr(baselines, "IN_PLACE_MAX_BYTES", 25 * 25 * 8 - 1)
    np.testing.assert_allclose(baselines.ease_weights(interactions, 5.0), in_place, atol=1e-6)


def test_ease_recommends_the_co_purchased_product_and_truncates_the_catalogue() -> None:
    from pricegraph.gnn.baselines import ease_scores

    scores = ease_scores(PURCHASES, num_customers=7, num_products=5, l2=1.0)(C3)[0]
    assert int(scores[1:].argmax()) + 1 == 1  # c3 bought 0; 1 is co-bought with 0
    assert scores[4] < scores[:4].min()  # never bought: not modelled, ranked last
    # Only the 2 most bought products (3: 4 times, 0: 3 times) are modelled; the
    # others score below both, ordered by purchases (1 and 2 twice/once, 4 never).
    small = ease_scores(PURCHASES, 7, 5, l2=1.0, max_products=2)(C3)[0]
    assert min(small[0], small[3]) > max(small[1], small[2], small[4])
    assert small[1] > small[2] > small[4]


def test_als_separates_two_communities_and_is_seeded() -> None:
    from pricegraph.gnn.baselines import als_scores

    # Customers 0-19 buy products 0-4, customers 20-39 buy products 5-9.
    rng = np.random.default_rng(0)
    rows = [
        (c, int(rng.integers(0, 5)) + (5 if c >= 20 else 0)) for c in range(40) for _ in range(4)
    ]
    edge_index = torch.tensor(rows).T
    build = lambda seed: als_scores(edge_index, 40, 10, factors=4, iterations=10, seed=seed)  # noqa: E731
    scores = build(0)(torch.tensor([0, 39]))
    assert scores.shape == (2, 10)
    assert scores[0, :5].mean() > scores[0, 5:].mean() + 0.3
    assert scores[1, 5:].mean() > scores[1, :5].mean() + 0.3
    assert torch.equal(scores, build(0)(torch.tensor([0, 39])))


def test_recent_neighbours_weigh_a_neighbour_purchase_by_its_age() -> None:
    from pricegraph.gnn.baselines import recent_neighbour_scores

    day = 86_400
    # c0 bought 0; c1 bought 0 and, 7 days before the cut-off, 1; c2 bought 0 and,
    # 14 days before, 2; c3 bought only 3 (not alike). Product 4 is bought after the cut-off.
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 1], [0, 0, 1, 0, 2, 3, 4]])
    time_s = torch.tensor([0, 0, 93, 0, 86, 99, 101]) * day
    scores = recent_neighbour_scores(edge_index, time_s, 4, 5, 100 * day, half_life_days=7.0)(
        torch.tensor([0])
    )[0]
    cosine = 1 / np.sqrt(2)  # c0 = {0}, c1 = {0, 1}
    assert scores[1] == pytest.approx(cosine * 0.5)  # one half-life old
    assert scores[2] == pytest.approx(cosine * 0.25)  # two half-lives old
    assert scores[3] == 0.0 and scores[4] == 0.0  # not a neighbour; after the cut-off
    assert scores[0] == pytest.approx(2 * cosine * 2 ** (-100 / 7))


def test_viewed_puts_recent_browsing_first_then_the_best_sellers() -> None:
    from pricegraph.gnn.baselines import viewed_scores

    day = 86_400
    # c0 viewed 2 on days 8 and 9, carted 4 on day 2 and viewed 1 after the cut-off (day 10).
    browsing = torch.tensor([[0, 0, 0, 0], [2, 2, 4, 1]])
    browsing_s = torch.tensor([8, 9, 2, 12]) * day
    scores = viewed_scores(browsing, browsing_s, PURCHASES, 7, 5, 10 * day, half_life_days=1.0)
    out = scores(torch.tensor([0, 3]))
    popular = [3 / 5, 2 / 5, 1 / 5, 4 / 5, 0.0]  # purchases / (1 + the most bought's 4)
    expected = [popular[0], popular[1], 1 + 2**-2 + 2**-1, popular[3], 1 + 2**-8]
    assert out[0].tolist() == pytest.approx(expected)
    assert out[1].tolist() == pytest.approx(popular)  # c3 browsed nothing
    with pytest.raises(ValueError, match="half_life_days"):
        viewed_scores(browsing, browsing_s, PURCHASES, 7, 5, 10 * day, half_life_days=0.0)
