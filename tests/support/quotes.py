"""A small synthetic world in the embedded stores, for the quote-service tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.pipeline import collection_specs
from pricegraph.gnn.service import write_graph_vectors
from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.demand.fit import fit_demand
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.policy import LevelDecision, QuoteState
from pricegraph.pricing.quotes.service import QuoteService
from pricegraph.segments.clustering import SegmentConfig, build_segments, write_segments
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig
from support.pricing import simulate_panel

NOW = datetime(2025, 4, 28, 12, tzinfo=UTC)
SPECS = collection_specs("t_", 384, 8)
COLLECTIONS = {kind: spec.name for kind, spec in SPECS.items()}


@dataclass(frozen=True)
class World:
    store: GraphStore
    vectors: EdgeVectorStore
    customers: list[str]
    products: list[str]
    demand: object


def build_world(folder: Path) -> World:
    """60 customers, 20 products, 3 segments, random 8-d graph vectors, a fitted demand."""
    write_world(
        generate_world(WorldConfig(seed=5, n_brands=8, n_customers=60, n_products=20, n_days=120)),
        folder / "w",
    )
    store = make_graph_store(GraphConfig(path=folder / "graph", buffer_pool_mb=128))
    load_files(store, read_mapping(folder / "w" / "mapping.toml"), rejects_dir=folder / "rejects")
    write_segments(store, build_segments(store, None, None, SegmentConfig(k_min=3, k_max=3)))
    vectors = EdgeVectorStore(folder / "vectors")
    rng = np.random.default_rng(0)
    customers = store.node_frame("Customer")["id"].tolist()
    products = store.node_frame("Product")["id"].tolist()
    for kind, keys in (("customers", customers), ("products", products)):
        matrix = rng.normal(size=(len(keys), 8)).astype(np.float32)
        write_graph_vectors(vectors, SPECS[kind], np.array(keys), matrix, "enc-test")
    panel = simulate_panel(n_products=len(products), n_weeks=30, elasticity=-2.3)
    panel["product_id"] = panel["product_id"].map({f"p{i}": p for i, p in enumerate(products)})
    return World(store, vectors, customers, products, fit_demand(panel))


class DeepDiscountPolicy:
    """Zone 0.4 x list (so the floor binds), -8 % for segmented customers, -2 % personal."""

    version = "deep-discount-1"

    def decide_many(self, states: Sequence[QuoteState]) -> list[LevelDecision]:
        return [self.decide(state) for state in states]

    def decide(self, state: QuoteState) -> LevelDecision:
        personal = -0.02 if state.customer_vector is not None else 0.0
        return LevelDecision(
            zone="clearance",
            zone_multiplier=0.4,
            segment_multiplier=0.92 if state.segment_id else 1.0,
            personal_adjustment=personal,
            is_personalized=personal != 0.0,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("quote-world"))
    yield built
    built.vectors.close()
    built.store.close()


def make_service(world: World, policy=None, audit=None, **guardrails) -> QuoteService:
    config = PricingConfig(guardrails=GuardrailConfig(**guardrails))
    return QuoteService(
        world.store,
        world.vectors,
        policy or DeepDiscountPolicy(),
        config,
        audit=audit,
        collections=COLLECTIONS,
        clock=lambda: NOW,
    )
