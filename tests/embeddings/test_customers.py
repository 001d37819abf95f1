"""The customer history vector, checked against its formula on a hand-made graph.

For a customer ``c`` with events ``e`` on products ``p(e)`` that have text vectors
``x_p``, at times ``t_e`` (the latest ``t_c``):

    v_c = sum_e  w(type_e) * 2^(-(t_c - t_e) / h) * x_p(e)

with ``w`` = :data:`~pricegraph.embeddings.pipeline.EVENT_WEIGHTS` and half-life ``h``
in days; customers without such events get no vector. The stored text vector adds the
profile text's vector ``y_c`` where there is one:

    x_c = normalize(normalize(v_c) + y_c)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import Progress

from pricegraph.embeddings.base import VectorPoint
from pricegraph.embeddings.customers import history_vectors, sync_customers
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.pipeline import EVENT_WEIGHTS, LazyEncoder, collection_specs
from pricegraph.embeddings.texts import customer_profile_text
from pricegraph.graph.base import GraphStore

START = datetime(2025, 1, 1, 12)


def _event(rel_type: str, event_id: str, customer: str, product: str, day: int) -> dict:
    row = {"event_id": event_id, "source": customer, "target": product}
    row["ts"] = START + timedelta(days=day)
    if rel_type == "PURCHASED":
        row |= {"order_id": f"o-{event_id}", "qty": 1, "unit_price": 10.0, "currency": "EUR"}
    if rel_type == "ADDED_TO_CART":
        row["qty"] = 1
    return row


def test_history_vector_is_the_weighted_decayed_sum(embedded: GraphStore) -> None:
    embedded.upsert_nodes("Customer", pd.DataFrame({"id": ["c1", "c2", "c3"]}))
    embedded.upsert_nodes("Product", pd.DataFrame({"id": ["p1", "p2", "p3"], "name": "Tote"}))
    events = {
        "PURCHASED": [_event("PURCHASED", "e1", "c1", "p1", 0)],
        "VIEWED": [
            _event("VIEWED", "e2", "c1", "p2", 10),
            _event("VIEWED", "e3", "c2", "p3", 3),  # p3 has no vector: c2 gets none
        ],
        "ADDED_TO_CART": [_event("ADDED_TO_CART", "e4", "c1", "p2", 5)],
    }
    for rel_type, rows in events.items():
        embedded.upsert_edges(rel_type, pd.DataFrame(rows))
    x = {"p1": np.array([1.0, 0.0], np.float32), "p2": np.array([0.0, 1.0], np.float32)}

    keys, vectors, counts = history_vectors(embedded, x, half_life_days=10.0, dimension=2)

    assert list(keys) == ["c1"] and list(counts) == [3]
    expected = (
        EVENT_WEIGHTS["PURCHASED"] * 0.5 * x["p1"]  # 10 days before c1's latest event
        + EVENT_WEIGHTS["ADDED_TO_CART"] * 2 ** (-0.5) * x["p2"]  # 5 days before
        + EVENT_WEIGHTS["VIEWED"] * 1.0 * x["p2"]  # the latest event
    )
    assert vectors.dtype == np.float32 and vectors.shape == (1, 2)
    np.testing.assert_allclose(vectors[0], expected, rtol=1e-6)


def test_no_events_no_vectors(embedded: GraphStore) -> None:
    embedded.upsert_nodes("Customer", pd.DataFrame({"id": ["c1"]}))
    keys, vectors, counts = history_vectors(embedded, {}, half_life_days=30.0, dimension=4)
    assert len(keys) == 0 and vectors.shape == (0, 4) and len(counts) == 0


class _TableEncoder:
    """A text encoder that looks its unit vectors up in a table (no model)."""

    model_name = "table"
    dimension = 2

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts]).astype(np.float32)


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, np.float32)
    return vector / np.linalg.norm(vector)


def test_stored_vector_adds_the_profile_vector_to_the_history(
    embedded: GraphStore, tmp_path: Path
) -> None:
    customers = pd.DataFrame(
        {
            "id": ["both", "history", "profile", "neither"],
            "country": ["FR", "FR", None, "FR"],
            "profile_text": ["likes wool", None, "buys gifts", None],
        }
    )
    embedded.upsert_nodes("Customer", customers)
    embedded.upsert_nodes("Product", pd.DataFrame({"id": ["p1", "p2"], "name": "Tote"}))
    embedded.upsert_edges(
        "PURCHASED",
        pd.DataFrame(
            [
                _event("PURCHASED", "e1", "both", "p1", 0),
                _event("PURCHASED", "e2", "both", "p2", 0),
                _event("PURCHASED", "e3", "history", "p2", 0),
            ]
        ),
    )
    specs = collection_specs("t_", 2, 4)
    product_x = {"p1": _unit(3, 0), "p2": _unit(0, 1)}
    profile_y = {"likes wool (FR)": _unit(-1, 0), "buys gifts": _unit(1, 1)}
    assert customer_profile_text("likes wool", "FR") in profile_y
    vectors = EdgeVectorStore(tmp_path / "vectors")
    vectors.ensure_collection(specs["products"])
    vectors.upsert(
        "t_products",
        [VectorPoint(k, {"text": v}, {"text_hash": k}) for k, v in product_x.items()],
    )
    encoder = LazyEncoder(lambda: _TableEncoder(profile_y), "table")

    report = sync_customers(
        embedded,
        vectors,
        specs["customers"],
        "t_products",
        encoder,
        Progress(disable=True),
        half_life_days=10.0,
    )

    assert (report.written, report.without_vector) == (3, 1)
    stored = vectors.vectors("t_customers", ["both", "history", "profile", "neither"], "text")
    assert set(stored) == {"both", "history", "profile"}
    # "both": history (1, 1) -> normalized, plus the profile (-1, 0), normalized again
    history = _unit(1, 1)
    np.testing.assert_allclose(stored["both"], _unit(*(history + _unit(-1, 0))), atol=1e-6)
    np.testing.assert_allclose(stored["history"], [0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(stored["profile"], _unit(1, 1), atol=1e-6)
    profiles = vectors.vectors("t_customers", ["both", "history", "profile"], "profile")
    assert set(profiles) == {"both", "profile"}
    np.testing.assert_allclose(profiles["both"], [-1.0, 0.0], atol=1e-6)
    vectors.close()
