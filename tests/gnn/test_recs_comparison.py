"""Every recommender on the toy world: one table, the validation winner, the verdicts."""

from __future__ import annotations

from support.recs import FAST, SNAPSHOT, SPLIT

from pricegraph.gnn.lightgcn import LightGCNConfig
from pricegraph.gnn.recs_comparison import ENCODER, HYBRID, compare_recommenders
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
    assert names[-3:] == ["lightgcn", ENCODER, HYBRID] and started == names
    winner = comparison.run(comparison.winner)
    assert all(
        (winner.val.recall, winner.val.ndcg) >= (run.val.recall, run.val.ndcg)
        for run in comparison.runs
    )
    hybrid = comparison.run(HYBRID)
    assert hybrid.params["weight"] in FAST.hybrid_weights
    assert hybrid.params["ease_l2"] == comparison.run("ease").params["l2"]
    assert 1 <= comparison.encoder_epochs <= 2
    lines = comparison.summary_lines()
    assert lines[0].startswith(f"validation winner: {comparison.winner} (")
    # The winner against each of the others, plus the encoder against the best baseline.
    others = len(names) - 1 + (comparison.winner != ENCODER)
    assert len(comparison.verdicts) == others == len(lines) - 1
    best = comparison.best_baseline().name
    assert best not in ("lightgcn", ENCODER, HYBRID)
    assert set(comparison.curves) == {"tuning", "lightgcn"}
