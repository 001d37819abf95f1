"""Every recommender on the toy world: one table, the validation winner, the verdicts."""

from __future__ import annotations

from support.recs import FAST, SNAPSHOT, SOURCES, SPLIT

from pricegraph.gnn.lightgcn import LightGCNConfig
from pricegraph.gnn.recs_comparison import (
    ENCODER,
    ENCODER_RERANK,
    HYBRID,
    NEURAL,
    RERANK,
    compare_recommenders,
)
from pricegraph.gnn.train import EncoderConfig

TINY_ENCODER = EncoderConfig(
    embedding_dim=8, batch_size=128, max_epochs=2, steps_per_epoch=2, num_windows=3, device="cpu"
)


def test_the_winner_is_chosen_on_validation_and_compared_with_every_method() -> None:
    started: list[str] = []
    comparison = compare_recommenders(
        SNAPSHOT,
        SPLIT,
        compare=FAST,
        lightgcn=LightGCNConfig(embedding_dim=8, max_epochs=2, eval_every=1),
        encoder=TINY_ENCODER,
        on_method=started.append,
    )
    names = list(comparison.table.index)
    assert names[-5:] == ["lightgcn", ENCODER, HYBRID, RERANK, ENCODER_RERANK]
    assert started == names
    winner = comparison.run(comparison.winner)
    assert all(
        (winner.val.recall, winner.val.ndcg) >= (run.val.recall, run.val.ndcg)
        for run in comparison.runs
    )
    hybrid = comparison.run(HYBRID)
    assert hybrid.params["weight"] in FAST.hybrid_weights
    assert hybrid.params["ease_l2"] == comparison.run("ease").params["l2"]
    assert 1 <= comparison.encoder_epochs <= 2
    # The encoder's prior is chosen on validation like every other setting.
    assert comparison.run(ENCODER).params["prior_hidden"] in FAST.encoder_prior_hidden
    # The re-rankers read the tuned baselines (and the encoder) with their chosen settings.
    rerank, both = comparison.run(RERANK), comparison.run(ENCODER_RERANK)
    assert list(rerank.params["sources"]) == SOURCES
    assert list(both.params["sources"]) == [*SOURCES, ENCODER]
    assert both.params["sources"]["ease"] == comparison.run("ease").params
    assert both.params["sources"][ENCODER] == comparison.run(ENCODER).params
    assert rerank.serve is not None and both.serve is not None
    assert rerank.test.recall.size == comparison.run("ease").test.recall.size
    lines = comparison.summary_lines()
    assert lines[0].startswith(f"validation winner: {comparison.winner} (")
    # The winner against each of the others, plus the encoder against the best baseline.
    others = len(names) - 1 + (comparison.winner != ENCODER)
    assert len(comparison.verdicts) == others == len(lines) - 1
    best = comparison.best_baseline().name
    assert best not in NEURAL
    assert set(comparison.curves) == {"tuning", "lightgcn"}


def test_lightgcn_can_be_left_out_of_a_quick_comparison() -> None:
    comparison = compare_recommenders(
        SNAPSHOT, SPLIT, compare=FAST, encoder=TINY_ENCODER, with_lightgcn=False
    )
    names = list(comparison.table.index)
    assert "lightgcn" not in names and names[-4:] == [ENCODER, HYBRID, RERANK, ENCODER_RERANK]
    assert set(comparison.curves) == {"tuning"}
