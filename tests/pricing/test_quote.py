"""The quote service on a small synthetic world in the embedded stores."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pricing_support import simulate_panel

from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.pipeline import collection_specs
from pricegraph.errors import ConfigError, GuardrailError, ModelError, NotFoundError
from pricegraph.gnn.segments import SegmentConfig, build_segments, write_segments
from pricegraph.gnn.service import write_graph_vectors
from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.loaders.synthetic import generate_world, write_world
from pricegraph.loaders.synthetic_config import WorldConfig
from pricegraph.pricing.audit import AuditLog
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.demand_fit import fit_demand
from pricegraph.pricing.guardrail_config import GuardrailConfig
from pricegraph.pricing.policy import LevelDecision, ListPricePolicy, QuoteState
from pricegraph.pricing.price_memory import PriceMemory
from pricegraph.pricing.quote import QuoteService

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
        world.demand,
        audit,
        collections=COLLECTIONS,
        clock=lambda: NOW,
    )


def test_quotes_stay_inside_every_guardrail(world: World) -> None:
    service = make_service(world, approval_threshold_pct=None)
    pairs = [(c, p) for c in world.customers[:10] for p in world.products]
    nodes = {p: world.store.get_node("Product", p) for p in world.products}
    for quote in service.quote_batch(pairs, requested_by="test"):
        node = nodes[quote.product_id]
        floor = math.ceil(round(node["cost"] * 1.10 * 100, 6)) / 100
        assert quote.price >= floor - 1e-9
        assert quote.price <= node["list_price"] * 1.30 + 1e-9
        assert round(quote.price * 100) == pytest.approx(quote.price * 100)
        if quote.is_personalized and not quote.conflicts:
            assert abs(quote.price - quote.list_price) <= 0.15 * quote.list_price + 0.01
        assert quote.model_versions == {
            "policy": "deep-discount-1",
            "encoder": "enc-test",
            "demand": service.model_versions["demand"],
        }


def test_rationale_names_segment_elasticity_and_bound_rule(world: World) -> None:
    quote = make_service(world).quote(world.customers[0], world.products[0], requested_by="t")
    segment = world.store.neighbors("Customer", world.customers[0], rel_type="IN_SEGMENT")[0].id
    name = world.store.get_node("Segment", segment)["name"]
    assert f"segment '{name}'" in quote.rationale
    assert (
        "elasticity \u22122." in quote.rationale
        and "\u22128 % segment multiplier" in quote.rationale
    )
    assert quote.bound_rules and "rule raised the price" in quote.rationale
    assert quote.decision.zone == "clearance" and quote.proposed_price < quote.guarded_price
    assert 2 <= quote.rationale.count(". ") + 1 <= 4
    assert quote.is_personalized == (
        "Personalised by \u22122.0 % (within \u00b115 %)" in quote.rationale
    )


def test_batch_equals_single_quotes(world: World) -> None:
    service = make_service(world, approval_threshold_pct=None)
    pairs = [(c, p) for c in world.customers[:5] for p in world.products[:4]]
    batch = service.quote_batch(pairs, requested_by="t")
    for (customer, product), quote in zip(pairs, batch, strict=True):
        single = service.quote(customer, product, requested_by="t")
        assert single.output() == quote.output()


def test_list_price_policy_and_reference_price(world: World) -> None:
    memory = PriceMemory().record(world.products[0], datetime(2025, 4, 20, tzinfo=UTC), 1.0)
    service = QuoteService(
        world.store, None, ListPricePolicy(), PricingConfig(), None, None, memory, clock=lambda: NOW
    )
    quote = service.quote(world.customers[0], world.products[0], requested_by="t")
    assert quote.decision.zone == "list" and not quote.is_personalized
    assert quote.reference_price == 1.0 and quote.announced_discount_pct == 0.0
    assert "no elasticity estimate" in quote.rationale
    assert quote.model_versions == {"policy": "list-price", "encoder": "none", "demand": "none"}


@pytest.mark.parametrize(
    ("customer", "product", "kind"), [("NOPE", None, "customer"), (None, "NOPE", "product")]
)
def test_unknown_ids_raise_not_found(world: World, customer, product, kind) -> None:
    service = make_service(world)
    with pytest.raises(NotFoundError) as info:
        service.quote(
            customer or world.customers[0], product or world.products[0], requested_by="t"
        )
    assert (info.value.kind, info.value.key) == (kind, "NOPE")


def test_protected_policy_input_is_refused(world: World) -> None:
    class GenderPolicy(DeepDiscountPolicy):
        feature_names = ("customer_gender", "zipCode")

    with pytest.raises(GuardrailError, match=r"customer_gender.*gender.*zipCode"):
        make_service(world, GenderPolicy())


def test_bad_policies_are_refused(world: World) -> None:
    class Broken:
        version = "broken"

        def decide(self, state: QuoteState) -> LevelDecision:
            return LevelDecision("list", -1.0)

    with pytest.raises(ModelError, match="expected a finite multiplier > 0"):
        make_service(world, Broken()).quote(world.customers[0], world.products[0], requested_by="t")
    with pytest.raises(ConfigError, match="QuotePolicy"):
        make_service(world, object())


def test_batch_is_recorded_in_one_insert(world: World, tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.sqlite") as audit:
        service = make_service(world, audit=audit)
        pairs = [(c, world.products[0]) for c in world.customers[:7]]
        quotes = service.quote_batch(pairs, requested_by="key-1")
        assert audit.count() == 7 and audit.count(product_id=world.products[0]) == 7
        assert [r.quote_id for r in audit.query()] == [q.quote_id for q in quotes]
