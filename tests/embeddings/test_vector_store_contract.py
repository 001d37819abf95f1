"""The vector-store contract, run against every backend.

Backends: ``edge`` (Qdrant Edge in tmp_path) and ``qdrant-local`` (qdrant-client's
local mode in tmp_path) always; ``qdrant-server`` when ``PRICEGRAPH_QDRANT_URL`` is
set (optionally ``PRICEGRAPH_QDRANT_API_KEY``), with a unique collection prefix
and the collections dropped afterwards. The data: 200 unit vectors of size 16 in
four clusters, small enough that every backend searches exactly, so results are
compared with numpy brute force.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pricegraph.embeddings.base import (
    CollectionSpec,
    ScoredItem,
    SearchFilter,
    VectorPoint,
    VectorStore,
)
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.qdrant_store import QdrantVectorStore
from pricegraph.errors import VectorStoreError

DIM = 16
GRAPH_DIM = 4
NUM_POINTS = 200
NUM_CLUSTERS = 4
BRANDS = ("acme", "zenith", "orbit")
SPEC = CollectionSpec(
    name="products",
    vector_sizes={"text": DIM, "graph": GRAPH_DIM},
    payload_indexes={
        "brand": "keyword",
        "categories": "keyword",
        "price": "float",
        "popularity": "integer",
        "in_stock": "bool",
    },
)


@dataclass(frozen=True)
class World:
    """The test data: keys, vectors (raw and normalised), clusters and payloads."""

    keys: list[str]
    x: np.ndarray  # float32 [num_points, DIM], as written
    x_unit: np.ndarray  # float64 [num_points, DIM], unit rows (what cosine stores)
    graph: np.ndarray  # float32 [num_points, GRAPH_DIM]; only the first half is written
    cluster: np.ndarray  # int [num_points]
    payloads: list[dict[str, Any]]


def _make_world(seed: int = 7) -> World:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(NUM_CLUSTERS, DIM))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    cluster = np.repeat(np.arange(NUM_CLUSTERS), NUM_POINTS // NUM_CLUSTERS)
    x = centers[cluster] + 0.1 * rng.normal(size=(NUM_POINTS, DIM))
    x = (x * rng.uniform(0.5, 2.0, size=(NUM_POINTS, 1))).astype(np.float32)  # not unit length
    graph = rng.normal(size=(NUM_POINTS, GRAPH_DIM)).astype(np.float32)
    payloads = [
        {
            "brand": BRANDS[i % 3],
            "categories": ["bags", "leather"] if i % 4 == 0 else ["bags"],
            "price": float(10 + (i * 37) % 500) + 0.5,
            "popularity": i % 10,
            "in_stock": i % 5 < 3,
            "content_hash": f"h{i:04d}",
        }
        for i in range(NUM_POINTS)
    ]
    x64 = x.astype(np.float64)
    return World(
        keys=[f"P{i:04d}" for i in range(NUM_POINTS)],
        x=x,
        x_unit=x64 / np.linalg.norm(x64, axis=1, keepdims=True),
        graph=graph,
        cluster=cluster,
        payloads=payloads,
    )


WORLD = _make_world()


def _points(world: World) -> list[VectorPoint]:
    points = []
    for i, key in enumerate(world.keys):
        vectors = {"text": world.x[i]}
        if i < NUM_POINTS // 2:
            vectors["graph"] = world.graph[i]
        points.append(VectorPoint(key=key, vectors=vectors, payload=world.payloads[i]))
    return points


def _exact(
    query: np.ndarray, mask: np.ndarray | None = None, limit: int = 10
) -> list[tuple[str, float]]:
    """Numpy brute force: (key, cosine) of the top ``limit``, by score desc then key."""
    unit = np.asarray(query, dtype=np.float64)
    unit = unit / np.linalg.norm(unit)
    scores = WORLD.x_unit @ unit
    rows = [i for i in range(NUM_POINTS) if mask is None or mask[i]]
    rows.sort(key=lambda i: (-scores[i], WORLD.keys[i]))
    return [(WORLD.keys[i], float(scores[i])) for i in rows[:limit]]


def _assert_same(got: list[ScoredItem], expected: list[tuple[str, float]]) -> None:
    assert [item.key for item in got] == [key for key, _ in expected]
    np.testing.assert_allclose([item.score for item in got], [s for _, s in expected], atol=1e-4)


# -- backends -------------------------------------------------------------------------


@dataclass
class Backend:
    """How to open (and reopen) one backend on the same data."""

    name: str
    open: Callable[[], VectorStore]


def _server_url() -> str | None:
    return os.environ.get("PRICEGRAPH_QDRANT_URL") or None


@pytest.fixture(params=["edge", "qdrant-local", "qdrant-server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every vector backend; the server one only when PRICEGRAPH_QDRANT_URL is set."""
    if request.param == "edge":
        yield Backend("edge", lambda: EdgeVectorStore(tmp_path / "vectors"))
        return
    if request.param == "qdrant-local":
        from qdrant_client import QdrantClient

        yield Backend(
            "qdrant-local",
            lambda: QdrantVectorStore(QdrantClient(path=str(tmp_path / "qdrant-local"))),
        )
        return
    url = _server_url()
    if url is None:
        pytest.skip("the Qdrant server backend needs PRICEGRAPH_QDRANT_URL")
    prefix = f"pgtest_{uuid.uuid4().hex[:8]}_"
    api_key = os.environ.get("PRICEGRAPH_QDRANT_API_KEY") or None

    def open_server() -> VectorStore:
        return QdrantVectorStore.from_url(url, api_key=api_key, collection_prefix=prefix)

    yield Backend("qdrant-server", open_server)
    cleanup = QdrantVectorStore.from_url(url, api_key=api_key, collection_prefix=prefix)
    for name in (SPEC.name, "other", "empty"):
        cleanup.drop_collection(name)
    cleanup.close()


@pytest.fixture
def store(backend: Backend) -> Iterator[VectorStore]:
    """A backend with the 200-point collection ``products`` written."""
    vector_store = backend.open()
    vector_store.ensure_collection(SPEC)
    vector_store.upsert(SPEC.name, _points(WORLD))
    yield vector_store
    vector_store.close()


# -- search ---------------------------------------------------------------------------


def test_is_a_vector_store(store: VectorStore) -> None:
    assert isinstance(store, VectorStore)
    assert store.count(SPEC.name) == NUM_POINTS


def test_nearest_neighbour_of_a_stored_vector_is_itself(store: VectorStore) -> None:
    for i in (0, 57, 199):
        hits = store.search(SPEC.name, WORLD.x[i], limit=3)
        assert hits[0].key == WORLD.keys[i]
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert hits[0].payload == WORLD.payloads[i]  # payload back, "key" removed
        assert hits[0].score >= hits[1].score >= hits[2].score


def test_search_agrees_with_numpy_brute_force(store: VectorStore) -> None:
    rng = np.random.default_rng(11)
    for query in rng.normal(size=(10, DIM)).astype(np.float32):
        _assert_same(store.search(SPEC.name, query, limit=10), _exact(query))
    assert len(store.search(SPEC.name, WORLD.x[0], limit=NUM_POINTS + 5)) == NUM_POINTS


F = SearchFilter
PRICE_BANDS = {"price": (120.5, 250.5)}
FILTERS: dict[str, tuple[SearchFilter, Callable[[int, dict[str, Any]], bool]]] = {
    "equals-keyword": (F(equals={"brand": "zenith"}), lambda i, p: p["brand"] == "zenith"),
    "equals-any-of": (F(equals={"brand": ["acme", "orbit"]}), lambda i, p: p["brand"] != "zenith"),
    "array-contains": (F(equals={"categories": "leather"}), lambda i, p: i % 4 == 0),
    "equals-integer": (F(equals={"popularity": 3}), lambda i, p: p["popularity"] == 3),
    "equals-integer-any-of": (
        F(equals={"popularity": [1, 2, np.int64(9)]}),
        lambda i, p: p["popularity"] in (1, 2, 9),
    ),
    "bool-true": (F(equals={"in_stock": True}), lambda i, p: p["in_stock"]),
    "bool-false": (F(equals={"in_stock": False}), lambda i, p: not p["in_stock"]),
    "range-low": (F(ranges={"price": (300, None)}), lambda i, p: p["price"] >= 300),
    "range-high": (F(ranges={"price": (None, 100.5)}), lambda i, p: p["price"] <= 100.5),
    "range-both": (F(ranges=PRICE_BANDS), lambda i, p: 120.5 <= p["price"] <= 250.5),
    "range-integer": (F(ranges={"popularity": (2, 4)}), lambda i, p: 2 <= p["popularity"] <= 4),
    "exclude-keys": (F(exclude_keys=["P0000", "P0001", "NOT-THERE"]), lambda i, p: i > 1),
    "combined": (
        F(
            equals={"brand": ["acme", "zenith"], "in_stock": True, "categories": "bags"},
            ranges={"price": (50, 400)},
            exclude_keys=["P0004"],
        ),
        lambda i, p: p["brand"] != "orbit" and p["in_stock"] and 50 <= p["price"] <= 400 and i != 4,
    ),
    "matches-nothing": (F(equals={"brand": "nobody"}), lambda i, p: False),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_filters_agree_with_numpy(store: VectorStore, name: str) -> None:
    where, keep = FILTERS[name]
    mask = np.array([keep(i, p) for i, p in enumerate(WORLD.payloads)])
    for i in (0, 90, 180):
        got = store.search(SPEC.name, WORLD.x[i], limit=10, where=where)
        _assert_same(got, _exact(WORLD.x[i], mask))
        assert all(mask[WORLD.keys.index(item.key)] for item in got)


def test_empty_filter_is_no_filter(store: VectorStore) -> None:
    assert SearchFilter().is_empty
    got = store.search(SPEC.name, WORLD.x[3], limit=5, where=SearchFilter())
    _assert_same(got, _exact(WORLD.x[3], limit=5))


def test_ties_are_ordered_by_key(store: VectorStore) -> None:
    twin = np.ones(DIM, dtype=np.float32)
    store.upsert(SPEC.name, [VectorPoint(key, {"text": twin}) for key in ("T-b", "T-c", "T-a")])
    assert [item.key for item in store.search(SPEC.name, twin, limit=3)] == ["T-a", "T-b", "T-c"]


def test_search_on_the_second_named_vector(store: VectorStore) -> None:
    got = store.search(SPEC.name, WORLD.graph[5], using="graph", limit=1)
    assert got[0].key == WORLD.keys[5]
    assert got[0].score == pytest.approx(1.0, abs=1e-4)
    keys = {item.key for item in store.search(SPEC.name, WORLD.graph[5], using="graph", limit=150)}
    assert keys == set(WORLD.keys[: NUM_POINTS // 2])  # only points that have the vector


# -- recommend ------------------------------------------------------------------------


def _cluster_keys(cluster: int) -> list[str]:
    return [key for key, c in zip(WORLD.keys, WORLD.cluster, strict=True) if c == cluster]


def test_recommend_moves_towards_positives_and_away_from_negatives(store: VectorStore) -> None:
    positive = _cluster_keys(0)[:2]
    negative = _cluster_keys(1)[:2]
    got = store.recommend(SPEC.name, positive, negative, limit=20)
    keys = [item.key for item in got]
    assert len(keys) == 20
    assert not set(keys) & set(positive + negative)  # examples excluded
    assert set(keys) <= set(_cluster_keys(0))  # results from A, none from B
    rows = [WORLD.keys.index(key) for key in positive], [WORLD.keys.index(key) for key in negative]
    query = 2 * WORLD.x_unit[rows[0]].mean(axis=0) - WORLD.x_unit[rows[1]].mean(axis=0)
    examples = np.isin(np.arange(NUM_POINTS), rows[0] + rows[1])
    _assert_same(got, _exact(query, ~examples, limit=20))


def test_recommend_positive_only_with_filter(store: VectorStore) -> None:
    positive = _cluster_keys(2)[:3]
    got = store.recommend(SPEC.name, positive, where=F(equals={"in_stock": True}), limit=5)
    rows = [WORLD.keys.index(key) for key in positive]
    in_stock = np.array([p["in_stock"] for p in WORLD.payloads])
    allowed = in_stock & ~np.isin(np.arange(NUM_POINTS), rows)
    _assert_same(got, _exact(WORLD.x_unit[rows].mean(axis=0), allowed, limit=5))
    assert {item.key for item in got} <= set(_cluster_keys(2))


def test_recommend_unknown_examples_raise(store: VectorStore) -> None:
    with pytest.raises(VectorStoreError, match="NOPE-1") as info:
        store.recommend(SPEC.name, [WORLD.keys[0], "NOPE-1"], ["NOPE-2"])
    assert "NOPE-2" in str(info.value) and "products" in str(info.value)
    with pytest.raises(VectorStoreError, match="positive"):
        store.recommend(SPEC.name, [], [WORLD.keys[0]])


# -- writes ---------------------------------------------------------------------------


def test_upsert_replaces_vector_and_whole_payload(store: VectorStore) -> None:
    key = WORLD.keys[0]
    new_vector = WORLD.x[150]  # a cluster-3 vector
    store.upsert(
        SPEC.name, [VectorPoint(key, {"text": new_vector}, {"brand": "new", "price": 1.0})]
    )
    assert store.count(SPEC.name) == NUM_POINTS
    hits = store.search(SPEC.name, new_vector, limit=2)
    assert {hit.key for hit in hits} == {key, WORLD.keys[150]}
    assert store.payloads(SPEC.name)[key] == {"brand": "new", "price": 1.0}
    assert store.search(SPEC.name, WORLD.x[0], limit=1)[0].key != key
    assert key not in store.vectors(SPEC.name, [key], "graph")  # vectors replaced whole
    assert (
        store.search(SPEC.name, WORLD.x[0], where=SearchFilter(equals={"brand": "new"}))[0].key
        == key
    )


def test_delete(store: VectorStore) -> None:
    gone = WORLD.keys[:2]
    store.delete(SPEC.name, [*gone, "NOT-THERE"])
    store.delete(SPEC.name, [])
    assert store.count(SPEC.name) == NUM_POINTS - 2
    assert store.search(SPEC.name, WORLD.x[0], limit=1)[0].key not in gone
    assert not set(gone) & set(store.payloads(SPEC.name))
    assert store.vectors(SPEC.name, gone, "text") == {}


def test_payloads_of_every_point_with_field_selection(store: VectorStore) -> None:
    everything = store.payloads(SPEC.name)
    assert everything == dict(zip(WORLD.keys, WORLD.payloads, strict=True))
    hashes = store.payloads(SPEC.name, ["content_hash", "no_such_field"])
    assert hashes == {key: {"content_hash": f"h{i:04d}"} for i, key in enumerate(WORLD.keys)}
    assert store.payloads(SPEC.name, []) == {key: {} for key in WORLD.keys}


def test_vectors_come_back_as_float32_unit_vectors(store: VectorStore) -> None:
    keys = [WORLD.keys[0], WORLD.keys[150], "NOT-THERE"]
    got = store.vectors(SPEC.name, keys, "text")
    assert set(got) == {WORLD.keys[0], WORLD.keys[150]}
    for key, vector in got.items():
        assert vector.dtype == np.float32 and vector.shape == (DIM,)
        np.testing.assert_allclose(vector, WORLD.x_unit[WORLD.keys.index(key)], atol=1e-5)
    graph = store.vectors(SPEC.name, keys, "graph")
    assert set(graph) == {WORLD.keys[0]}  # point 150 has no graph vector
    assert store.vectors(SPEC.name, [], "text") == {}


def test_count_and_ensure_collection_is_idempotent(store: VectorStore) -> None:
    assert store.count("empty") == 0  # a collection that does not exist
    store.ensure_collection(SPEC)
    assert store.count(SPEC.name) == NUM_POINTS
    store.ensure_collection(CollectionSpec("empty", {"text": DIM}))
    assert store.count("empty") == 0
    assert store.payloads("empty") == {}
    assert store.search("empty", WORLD.x[0]) == []


def test_optimize_keeps_results(store: VectorStore) -> None:
    store.optimize(SPEC.name)
    _assert_same(store.search(SPEC.name, WORLD.x[9], limit=10), _exact(WORLD.x[9]))
    store.upsert(SPEC.name, [VectorPoint("late", {"text": WORLD.x[9]})])
    assert {hit.key for hit in store.search(SPEC.name, WORLD.x[9], limit=2)} == {
        "late",
        WORLD.keys[9],
    }


def test_data_persists_after_close_and_reopen(backend: Backend) -> None:
    first = backend.open()
    first.ensure_collection(SPEC)
    first.upsert(SPEC.name, _points(WORLD))
    first.delete(SPEC.name, [WORLD.keys[1]])
    first.close()
    second = backend.open()
    try:
        assert second.count(SPEC.name) == NUM_POINTS - 1  # no ensure_collection needed
        mask = np.arange(NUM_POINTS) != 1
        _assert_same(second.search(SPEC.name, WORLD.x[1], limit=10), _exact(WORLD.x[1], mask))
        assert second.payloads(SPEC.name, ["brand"])[WORLD.keys[0]] == {"brand": "acme"}
        with pytest.raises(VectorStoreError, match="expected size 16, got 3"):
            second.search(SPEC.name, np.ones(3, dtype=np.float32))  # sizes known after reopen
    finally:
        second.close()


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.search("unknown", np.ones(DIM, dtype=np.float32)),
        lambda s: s.upsert("unknown", [VectorPoint("k", {"text": np.ones(DIM)})]),
        lambda s: s.payloads("unknown"),
        lambda s: s.vectors("unknown", ["k"], "text"),
        lambda s: s.delete("unknown", ["k"]),
        lambda s: s.recommend("unknown", ["k"]),
        lambda s: s.optimize("unknown"),
    ],
    ids=["search", "upsert", "payloads", "vectors", "delete", "recommend", "optimize"],
)
def test_unknown_collection_raises(store: VectorStore, call: Callable[[VectorStore], Any]) -> None:
    with pytest.raises(VectorStoreError, match="unknown collection 'unknown'"):
        call(store)


def test_wrong_vector_size_raises(store: VectorStore) -> None:
    with pytest.raises(VectorStoreError, match=r"'products'.*expected size 16, got 3"):
        store.upsert(SPEC.name, [VectorPoint("bad", {"text": np.ones(3, dtype=np.float32)})])
    with pytest.raises(VectorStoreError, match="expected size 4, got 16"):
        store.upsert(SPEC.name, [VectorPoint("bad", {"graph": np.ones(DIM, dtype=np.float32)})])
    with pytest.raises(VectorStoreError, match="expected size 16, got 3"):
        store.search(SPEC.name, np.ones(3, dtype=np.float32))
    with pytest.raises(VectorStoreError, match="unknown vector 'image'"):
        store.search(SPEC.name, np.ones(DIM, dtype=np.float32), using="image")
    assert "bad" not in store.payloads(SPEC.name)


def test_invalid_input_raises(store: VectorStore) -> None:
    with pytest.raises(VectorStoreError, match="reserved"):
        store.upsert(SPEC.name, [VectorPoint("k", {"text": WORLD.x[0]}, {"key": "other"})])
    with pytest.raises(VectorStoreError, match=r"ranges\['price'\]"):
        store.search(SPEC.name, WORLD.x[0], where=SearchFilter(ranges={"price": (None, None)}))
    with pytest.raises(VectorStoreError, match=r"equals\['price'\]"):
        store.search(SPEC.name, WORLD.x[0], where=SearchFilter(equals={"price": 10.5}))
    with pytest.raises(VectorStoreError, match="collection name"):
        store.search("../escape", WORLD.x[0])
    with pytest.raises(VectorStoreError, match="exists with vectors"):
        store.ensure_collection(CollectionSpec(SPEC.name, {"text": 8}))


# -- Edge only ------------------------------------------------------------------------


def test_edge_folder_belongs_to_one_store(tmp_path: Path) -> None:
    first = EdgeVectorStore(tmp_path)
    first.ensure_collection(SPEC)
    second = EdgeVectorStore(tmp_path)
    try:
        with pytest.raises(VectorStoreError, match="another process"):
            second.count(SPEC.name)
    finally:
        first.close()
        second.close()
    with pytest.raises(VectorStoreError, match="closed"):
        first.count(SPEC.name)
    assert (tmp_path / SPEC.name).is_dir()


_KILLED_WRITER = """
import os, signal, sys
import numpy as np
from pricegraph.embeddings.base import CollectionSpec, VectorPoint
from pricegraph.embeddings.edge_store import EdgeVectorStore

store = EdgeVectorStore(sys.argv[1])
store.ensure_collection(CollectionSpec("products", {"text": 4}))
store.upsert("products", [VectorPoint(f"k{i}", {"text": np.ones(4) + i}) for i in range(300)])
store.delete("products", ["k0"])
os.kill(os.getpid(), signal.SIGKILL)  # no close(): writes must already be on disk
"""


def test_edge_writes_survive_a_killed_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_WRITER, str(tmp_path)], capture_output=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    store = EdgeVectorStore(tmp_path)
    try:
        assert store.count("products") == 299
        assert "k0" not in store.payloads("products")
    finally:
        store.close()
