"""Profile texts that state demographics stay out of customer vectors unless allowed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pricegraph.embeddings.config import EmbeddingConfig, VectorConfig
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.encoder import SentenceEncoder
from pricegraph.embeddings.service import embed_catalog
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.protected import demographic_terms

VECTORS = VectorConfig(collection_prefix="d_")


def test_demographic_profile_texts_are_withheld_unless_allowed(
    tmp_path: Path, encoder: SentenceEncoder
) -> None:
    graph = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    vectors = EdgeVectorStore(tmp_path / "vectors")
    graph.upsert_nodes("Product", pd.DataFrame({"id": ["P1"], "name": ["Tomato soup"]}))
    graph.upsert_nodes(
        "Customer",
        pd.DataFrame(
            {
                "id": ["C1", "C2", "C3"],
                "profile_text": [
                    "Prefers organic vegetables.",
                    "AGE_DESC: 45-54, MARITAL_STATUS_CODE: A, INCOME_DESC: 35-49K",
                    "Married, buys for a family of four.",
                ],
            }
        ),
    )

    def run(allow: bool):
        return embed_catalog(
            graph,
            vectors,
            embedding=EmbeddingConfig(allow_demographic_text=allow),
            vector_config=VECTORS,
            load_encoder=lambda: encoder,
            collections=["products", "customers"],
        ).collections["customers"]

    withheld = run(allow=False)
    assert (withheld.withheld, withheld.written, withheld.without_vector) == (2, 1, 2)
    stored = vectors.payloads("d_customers", ["profile_hash"])
    assert sorted(stored) == ["C1"]

    allowed = run(allow=True)
    assert (allowed.withheld, allowed.without_vector) == (0, 0)
    assert sorted(vectors.payloads("d_customers", ["profile_hash"])) == ["C1", "C2", "C3"]
    vectors.close()
    graph.close()


def test_plain_preferences_are_not_demographics() -> None:
    for text in (
        "Interested in bags and shoes.",
        "Loyalty programme member since 2021.",
        "Likes aged cheddar and vintage wine.",
        "Single-origin coffee; shops on Saturdays.",
    ):
        assert demographic_terms(text) == [], text
    assert demographic_terms("female, 34 years old") == ["female", "years old"]
