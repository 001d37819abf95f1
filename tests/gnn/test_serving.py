"""Serving the validation winner: ranked lists, the winner refitted on every purchase."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.recs import FAST, SNAPSHOT, SOURCES, SPLIT

from pricegraph.gnn.compare import baselines, serving_window, tune_and_test
from pricegraph.gnn.data import PURCHASED
from pricegraph.gnn.lightgcn import LightGCNConfig
from pricegraph.gnn.metrics import RankingResult
from pricegraph.gnn.recs_comparison import ENCODER_RERANK, compare_recommenders
from pricegraph.gnn.serving import ranked_lists, serving_record, winner_first_scores
from pricegraph.gnn.split import CustomerItems
from pricegraph.gnn.train import EncoderConfig, train_encoder

TINY_ENCODER = EncoderConfig(
    embedding_dim=8, batch_size=128, max_epochs=1, steps_per_epoch=2, num_windows=3, device="cpu"
)


def test_ranked_lists_leave_out_what_each_customer_bought() -> None:
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.7], [0.4, 0.3, 0.2, 0.1]])
    history = CustomerItems.from_edge_index(torch.tensor([[0, 1, 1], [1, 0, 1]]), 2)
    top, values = ranked_lists(lambda batch: scores[batch], history, 3, batch_size=1)
    assert (
        top.dtype == torch.int32 and top[0].tolist() == [3, 2, 0] and top[1, :2].tolist() == [2, 3]
    )
    assert values[0].tolist() == pytest.approx([0.7, 0.5, 0.1])
    assert values[1, 2] == float("-inf")  # only two products left for customer 1
    with pytest.raises(ValueError, match="num_ranked: expected >= 1, got 0"):
        ranked_lists(lambda batch: scores[batch], history, 0)


def test_winner_first_scores_put_the_list_above_the_encoder_order() -> None:
    encoder = np.array([0.3, 0.1, 0.2, 0.0], dtype=np.float32)
    out = winner_first_scores(encoder, np.array([3, -1]), np.array([2.5, 0.0], np.float32))
    assert out[3] == 2.5
    assert list(np.argsort(-out)) == [3, 0, 2, 1]  # then the encoder's order
    assert out[:3].max() < 2.5


def test_the_serving_record_refits_a_winning_baseline_on_every_purchase() -> None:
    ease = baselines(SNAPSHOT, FAST)["ease"]
    run = tune_and_test("ease", ease.build, ease.grid, SNAPSHOT, SPLIT, k=FAST.k)
    last_s = int(SNAPSHOT.edge_time(PURCHASED).max()) + 1
    encoder = train_encoder(SNAPSHOT, TINY_ENCODER, cutoff_s=last_s, epochs=1)
    record = serving_record(
        SNAPSHOT, run, encoder, compare=FAST, lightgcn=LightGCNConfig(), num_ranked=5
    )
    assert record["method"] == "ease" and record["params"] == run.params
    assert record["val_recall"] == pytest.approx(run.val.recall)
    top = record["top_products"]
    assert top.shape == (120, 5) and top.dtype == torch.int32
    # The lists are EASE^R fitted on every purchase, bought products left out.
    window = serving_window(SNAPSHOT)
    assert window.history_edge_index.shape[1] == SNAPSHOT.edge_index(PURCHASED).shape[1]
    expected = ease.build(SNAPSHOT, window, run.params)(torch.tensor([0]))[0]
    bought = set(window.history.pairs(torch.tensor([0]))[1].tolist())
    ranked = [p for p in torch.argsort(expected, descending=True).tolist() if p not in bought]
    assert top[0].tolist() == ranked[:5]
    encoder_record = serving_record(
        SNAPSHOT,
        type(run)("encoder", {"epochs": 1}, RankingResult(5, 0.1, 0.1, 3), run.test, 0.0, 0.0),
        encoder,
        compare=FAST,
        lightgcn=LightGCNConfig(),
    )
    assert set(encoder_record) == {"method", "params", "val_recall", "val_ndcg"}


def test_a_winning_reranker_serves_with_its_sources_refitted_on_every_purchase() -> None:
    comparison = compare_recommenders(
        SNAPSHOT,
        SPLIT,
        compare=FAST,
        lightgcn=LightGCNConfig(embedding_dim=8, max_epochs=1),
        encoder=TINY_ENCODER,
    )
    run = comparison.run(ENCODER_RERANK)
    last_s = int(SNAPSHOT.edge_time(PURCHASED).max()) + 1
    encoder = train_encoder(SNAPSHOT, TINY_ENCODER, cutoff_s=last_s, epochs=1)
    record = serving_record(
        SNAPSHOT, run, encoder, compare=FAST, lightgcn=LightGCNConfig(), num_ranked=5
    )
    assert record["method"] == ENCODER_RERANK
    assert list(record["params"]["sources"]) == [*SOURCES, "encoder"]
    top = record["top_products"]
    assert top.shape == (120, 5)
    history = CustomerItems.from_edge_index(SNAPSHOT.edge_index(PURCHASED), 120)
    for customer in range(120):
        bought = set(history.pairs(torch.tensor([customer]))[1].tolist())
        assert not bought & set(top[customer].tolist())
    # The lists are the re-ranker over its sources fitted on every purchase.
    window = serving_window(SNAPSHOT)
    builders = baselines(SNAPSHOT, FAST)
    sources = {
        name: encoder.scores() if name == "encoder" else builders[name].build(SNAPSHOT, window, p)
        for name, p in run.params["sources"].items()
    }
    assert run.serve is not None
    expected = run.serve(sources)(torch.tensor([7]))[0]
    bought = set(history.pairs(torch.tensor([7]))[1].tolist())
    ranked = [p for p in torch.argsort(expected, descending=True).tolist() if p not in bought]
    assert top[7].tolist() == ranked[:5]
