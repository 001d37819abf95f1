"""Incremental embedding and similarity on a small synthetic world (real model, real stores)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pricegraph.embeddings.catalog import product_table
from pricegraph.embeddings.config import EmbeddingConfig, VectorConfig
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.encoder import SentenceEncoder
from pricegraph.embeddings.pipeline import collection_specs
from pricegraph.embeddings.service import embed_catalog
from pricegraph.embeddings.similarity import ProductFilter, Similarity, write_similar_edges
from pricegraph.errors import DataValidationError, NotFoundError
from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig

VECTORS = VectorConfig(collection_prefix="t_")
EMBEDDING = EmbeddingConfig()
NAMES = {k: s.name for k, s in collection_specs("t_", 384, 64).items()}


class CountingLoader:
    """Hands out the shared real encoder and counts how often a run asked for it."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder, self.loads = encoder, 0

    def __call__(self) -> SentenceEncoder:
        self.loads += 1
        return self.encoder


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = WorldConfig(seed=5, n_customers=120, n_products=80, n_brands=8, n_days=40)
    out = tmp_path_factory.mktemp("world")
    write_world(generate_world(config), out)
    return out


@pytest.fixture
def graph(tmp_path: Path, world_dir: Path) -> Iterator[GraphStore]:
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    load_files(store, read_mapping(world_dir / "mapping.toml"), rejects_dir=tmp_path / "rejects")
    yield store
    store.close()


@pytest.fixture
def vectors(tmp_path: Path) -> Iterator[EdgeVectorStore]:
    store = EdgeVectorStore(tmp_path / "vectors")
    yield store
    store.close()


def _embed(graph, vectors, loader, **options):
    """:func:`embed_catalog` with the tests' settings (``options``: limit, collections)."""
    return embed_catalog(
        graph, vectors, embedding=EMBEDDING, vector_config=VECTORS, load_encoder=loader, **options
    )


def test_second_run_does_no_model_work(graph, vectors, encoder) -> None:
    loader = CountingLoader(encoder)
    first = _embed(graph, vectors, loader)
    assert loader.loads == 1
    assert first.collections["products"].encoded == 80
    assert first.collections["brands"].encoded == 8
    customers = first.collections["customers"]
    assert customers.written + customers.without_vector == 120 and customers.written > 100
    assert vectors.count(NAMES["products"]) == 80

    again = CountingLoader(encoder)
    second = _embed(graph, vectors, again)
    assert again.loads == 0 and second.model_calls == 0  # the model is not even loaded
    assert all(r.written == 0 and r.deleted == 0 for r in second.collections.values())
    assert second.collections["products"].unchanged == 80


def test_only_changed_items_are_reencoded(graph, vectors, encoder) -> None:
    _embed(graph, vectors, CountingLoader(encoder))
    products = graph.node_frame("Product")
    first, second = products["id"].iloc[0], products["id"].iloc[1]
    graph.upsert_nodes(
        "Product", pd.DataFrame({"id": [first], "description": ["Now in neon green."]})
    )
    graph.upsert_nodes("Product", pd.DataFrame({"id": [second], "list_price": [9999.0]}))
    report = _embed(graph, vectors, CountingLoader(encoder))
    assert report.collections["products"].encoded == 1  # the new description only
    assert report.collections["products"].written == 2  # and the new price, as payload
    assert report.texts_encoded == 1
    payload = vectors.payloads(NAMES["products"], ["price"])[second]
    assert payload["price"] == 9999.0


def test_items_gone_from_the_graph_are_deleted(
    graph, vectors, encoder, tmp_path, world_dir
) -> None:
    _embed(graph, vectors, CountingLoader(encoder))
    smaller = make_graph_store(GraphConfig(path=tmp_path / "smaller", buffer_pool_mb=128))
    mapping = read_mapping(world_dir / "mapping.toml")
    load_files(
        smaller,
        [m for m in mapping if m.kind in ("brands", "categories")],
        rejects_dir=tmp_path / "r",
    )
    smaller.upsert_nodes("Product", graph.node_frame("Product").iloc[:50])
    links = product_table(graph).iloc[:50]
    for rel_type, column in (("OF_BRAND", "brand_id"), ("IN_CATEGORY", "category_id")):
        edges = links[["id", column]].set_axis(["source", "target"], axis=1)
        smaller.upsert_edges(rel_type, edges)
    report = _embed(smaller, vectors, CountingLoader(encoder))
    assert report.collections["products"].deleted == 30
    assert vectors.count(NAMES["products"]) == 50
    assert report.collections["products"].encoded == 0  # same texts: no model work
    assert vectors.count(NAMES["customers"]) == 0  # no events, no profiles in that graph
    smaller.close()


def test_similarity_queries(graph, vectors, encoder) -> None:
    _embed(graph, vectors, CountingLoader(encoder))
    service = Similarity(vectors, NAMES, lambda: encoder)
    catalog = graph.node_frame("Product").set_index("id")
    probe = catalog.index[0]
    hits = service.similar_products(probe, limit=5)
    assert len(hits) == 5 and probe not in [h.key for h in hits]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {"name", "brand", "price", "categories"} <= set(hits[0].payload)
    assert "content_hash" not in hits[0].payload

    cheap = service.products_matching("leather bag", limit=10, where=ProductFilter(max_price=500.0))
    assert cheap and all(h.payload["price"] <= 500.0 for h in cheap)
    brand = hits[0].payload["brand"]
    assert all(
        h.payload["brand"] == brand
        for h in service.similar_products(probe, limit=5, where=ProductFilter(brand=brand))
    )

    liked, disliked = catalog.index[1], catalog.index[2]
    recommended = service.recommend_products([liked], [disliked], limit=5)
    assert {h.key for h in recommended}.isdisjoint({liked, disliked})

    customers = graph.node_frame("Customer")["id"]
    someone = customers.iloc[0]
    peers = service.similar_customers(someone, limit=3)
    assert len(peers) == 3 and someone not in [p.key for p in peers]

    with pytest.raises(NotFoundError):
        service.similar_products("NOPE")
    with pytest.raises(DataValidationError, match="non-empty text"):
        service.products_matching("   ")


def test_category_filter_matches_the_whole_subtree(graph, vectors, encoder) -> None:
    _embed(graph, vectors, CountingLoader(encoder))
    service = Similarity(vectors, NAMES, lambda: encoder)
    root = graph.read_cypher(
        "MATCH (c:Category) WHERE NOT (c)-[:CHILD_OF]->(:Category) RETURN c.id AS id ORDER BY id"
    )["id"].iloc[0]
    hits = service.products_matching("a gift", limit=20, where=ProductFilter(category=root))
    assert hits and all(root in h.payload["categories"] for h in hits)
    assert any(h.payload["categories"][0] != root for h in hits)  # leaves under the root


def test_similar_edges_are_written_and_replaced(graph, vectors, encoder) -> None:
    _embed(graph, vectors, CountingLoader(encoder))
    first = write_similar_edges(graph, vectors, NAMES["products"], k=3)
    assert first.created == 240 and graph.counts()["SIMILAR_TO"] == 240
    again = write_similar_edges(graph, vectors, NAMES["products"], k=3)
    assert again.created == 0 and again.unchanged == 240
    write_similar_edges(graph, vectors, NAMES["products"], k=2)
    assert graph.counts()["SIMILAR_TO"] == 160


def test_reembedding_keeps_graph_vectors(graph, vectors, encoder) -> None:
    import numpy as np

    from pricegraph.embeddings.base import VectorPoint

    _embed(graph, vectors, CountingLoader(encoder))
    key = graph.node_frame("Product")["id"].iloc[3]
    text = vectors.vectors(NAMES["products"], [key], "text")[key]
    payload = vectors.payloads(NAMES["products"])[key]
    graph_vector = np.ones(64, dtype=np.float32) / 8.0
    vectors.upsert(
        NAMES["products"], [VectorPoint(key, {"text": text, "graph": graph_vector}, payload)]
    )
    graph.upsert_nodes(
        "Product", pd.DataFrame({"id": [key], "list_price": [1234.0], "description": ["Restyled."]})
    )
    report = _embed(graph, vectors, CountingLoader(encoder))
    assert report.collections["products"].encoded == 1
    kept = vectors.vectors(NAMES["products"], [key], "graph")[key]
    assert np.allclose(kept, graph_vector)


def test_items_without_text_get_no_vector(graph, vectors, encoder) -> None:
    _embed(graph, vectors, CountingLoader(encoder))
    brand = graph.node_frame("Brand")["id"].iloc[0]
    graph.upsert_nodes(
        "Brand",
        pd.DataFrame({"id": [brand], "name": [None], "tier": [None], "description": [None]}),
    )
    report = _embed(graph, vectors, CountingLoader(encoder)).collections["brands"]
    assert (report.items, report.without_vector, report.deleted) == (8, 1, 1)
    assert vectors.count(NAMES["brands"]) == 7


def test_a_graph_without_brands_embeds(tmp_path, vectors, encoder) -> None:
    bare = make_graph_store(GraphConfig(path=tmp_path / "bare", buffer_pool_mb=128))
    bare.upsert_nodes("Product", pd.DataFrame({"id": ["X1", "X2"], "name": ["Mug", "Teapot"]}))
    report = _embed(bare, vectors, CountingLoader(encoder))
    assert report.collections["brands"].items == 0
    assert report.collections["products"].written == 2
    bare.close()


def test_a_limited_run_writes_its_part_and_the_next_run_embeds_only_the_rest(
    graph, vectors, encoder
) -> None:
    def run(limit=None):
        return _embed(graph, vectors, CountingLoader(encoder), limit=limit)

    first = run(limit=30)
    products = first.collections["products"]
    assert (products.encoded, products.written, products.left) == (30, 30, 50)
    assert vectors.count(NAMES["products"]) == 30  # written, not held until the end
    assert "customers" not in first.collections  # they wait for every product vector
    assert first.collections["brands"].left == 0
    second = run()
    products = second.collections["products"]
    assert (products.encoded, products.unchanged, products.left) == (50, 30, 0)
    customers = second.collections["customers"]  # profiles are encoded once, now
    assert second.texts_encoded == 50 + customers.encoded
    assert vectors.count(NAMES["products"]) == 80 and customers.written > 100


def test_only_the_collections_asked_for_are_synced(graph, vectors, encoder) -> None:
    report = _embed(graph, vectors, CountingLoader(encoder), collections=["brands"])
    assert list(report.collections) == ["brands"] and report.texts_encoded == 8


def _customer_points(vectors: EdgeVectorStore) -> tuple[dict[str, dict], np.ndarray, np.ndarray]:
    """Payloads (without the content hash), text and profile vectors, in key order."""
    name = NAMES["customers"]
    payloads = vectors.payloads(name)
    keys = sorted(payloads)
    texts = vectors.vectors(name, keys, "text")
    profiles = vectors.vectors(name, keys, "profile")
    return (
        {k: {f: v for f, v in payloads[k].items() if f != "content_hash"} for k in keys},
        np.stack([texts[k] for k in keys]),
        np.stack([profiles.get(k, np.zeros(384, np.float32)) for k in keys]),
    )


def test_customers_in_limited_runs_end_as_one_whole_run(graph, vectors, encoder, tmp_path) -> None:
    _embed(graph, vectors, CountingLoader(encoder))  # one whole run
    whole = _customer_points(vectors)
    split = EdgeVectorStore(tmp_path / "split")
    try:
        # products and brands first, then customers 40 at a time
        _embed(graph, split, CountingLoader(encoder), collections=["products", "brands"])
        written, runs = [], 0
        while True:
            report = _embed(
                graph, split, CountingLoader(encoder), limit=40, collections=["customers"]
            )
            customers = report.collections["customers"]
            assert customers.written <= 40 and customers.encoded <= customers.written
            assert split.count(NAMES["customers"]) == sum(written) + customers.written
            written.append(customers.written)
            runs += 1
            if not customers.left:
                break
            assert customers.left == len(whole[0]) - sum(written)
        assert written[:-1] == [40] * (len(written) - 1) and sum(written) == len(whole[0])
        assert runs == -(-len(whole[0]) // 40)
        payloads, texts, profiles = _customer_points(split)
        # the same points; profile texts encoded in other batches differ in float rounding
        assert payloads == whole[0]
        np.testing.assert_allclose(texts, whole[1], atol=1e-5)
        np.testing.assert_allclose(profiles, whole[2], atol=1e-5)
    finally:
        split.close()


def test_customer_chunks_are_written_before_the_next_is_encoded(
    graph, vectors, encoder, monkeypatch
) -> None:
    import pricegraph.embeddings.pipeline as pipeline

    monkeypatch.setattr(pipeline, "EMBED_CHUNK", 16)
    events: list[tuple[str, int]] = []

    class LoggingStore(EdgeVectorStore):
        def upsert(self, collection, points):
            if collection == NAMES["customers"]:
                events.append(("write", len(points)))
            super().upsert(collection, points)

    class LoggingEncoder:  # the real model; logs each call
        def __init__(self, inner: SentenceEncoder) -> None:
            self.inner, self.dimension = inner, inner.dimension

        def encode(self, texts):
            events.append(("encode", len(texts)))
            return self.inner.encode(texts)

    logging = LoggingStore(vectors.path.parent / "logged")
    try:
        _embed(graph, logging, CountingLoader(encoder), collections=["products"])
        report = _embed(graph, logging, lambda: LoggingEncoder(encoder), collections=["customers"])
    finally:
        logging.close()
    customers = report.collections["customers"]
    writes = [n for kind, n in events if kind == "write"]
    assert sum(writes) == customers.written and max(writes) <= 16
    assert len(writes) == -(-customers.written // 16)  # one write per chunk
    encodes = [i for i, (kind, _) in enumerate(events) if kind == "encode"]
    assert len(encodes) > 1 and customers.encoded == sum(events[i][1] for i in encodes)
    # between two encodes of profile texts there is always a written chunk
    assert all(any(kind == "write" for kind, _ in events[a + 1 : b]) for a, b in pairwise(encodes))


def test_customers_wait_for_every_product_vector(graph, vectors, encoder) -> None:
    def run(collections, limit=None):
        return _embed(graph, vectors, CountingLoader(encoder), limit=limit, collections=collections)

    run(["products"], limit=10)
    report = run(["customers"])
    assert "customers" not in report.collections and report.products_without_vector == 70
    assert vectors.count(NAMES["customers"]) == 0
    run(["products"])
    report = run(["customers"])
    assert report.products_without_vector == 0
    assert report.collections["customers"].written > 100
