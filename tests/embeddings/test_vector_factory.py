"""``make_vector_store``: which backend a ``VectorConfig`` opens."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from pricegraph.embeddings.base import CollectionSpec, VectorPoint, VectorStore
from pricegraph.embeddings.config import VectorConfig
from pricegraph.embeddings.edge_store import EdgeVectorStore
from pricegraph.embeddings.qdrant_store import QdrantVectorStore
from pricegraph.embeddings.vector_factory import make_vector_store
from pricegraph.errors import VectorStoreError

insecure_key_warning = pytest.mark.filterwarnings(
    "ignore:Api key is used with an insecure connection"
)
requires_qdrant_server = pytest.mark.skipif(
    not os.environ.get("PRICEGRAPH_QDRANT_URL"),
    reason="needs a Qdrant server at PRICEGRAPH_QDRANT_URL",
)


def test_no_url_opens_the_embedded_edge_store(tmp_path: Path) -> None:
    store = make_vector_store(VectorConfig(path=tmp_path / "vectors"))
    try:
        assert isinstance(store, EdgeVectorStore) and isinstance(store, VectorStore)
        assert store.path == tmp_path / "vectors"
        store.ensure_collection(CollectionSpec("brands", {"text": 3}))
        store.upsert("brands", [VectorPoint("b1", {"text": np.array([1.0, 0.0, 0.0])})])
        assert store.count("brands") == 1
        assert (tmp_path / "vectors" / "brands").is_dir()
    finally:
        store.close()


def test_relative_path_is_resolved_against_the_data_dir(tmp_path: Path) -> None:
    store = make_vector_store(VectorConfig(path=Path("vectors")), data_dir=tmp_path)
    try:
        assert isinstance(store, EdgeVectorStore)
        assert store.path == tmp_path / "vectors"
    finally:
        store.close()


@insecure_key_warning
def test_unreachable_url_is_an_error_naming_the_url_not_the_key() -> None:
    config = VectorConfig(url="http://127.0.0.1:1", api_key="s3cret-key-123", timeout_s=2)
    with pytest.raises(VectorStoreError) as info:
        make_vector_store(config)
    message = str(info.value)
    assert "http://127.0.0.1:1" in message and "connect within 2 s" in message
    assert "s3cret-key-123" not in message
    assert "s3cret-key-123" not in repr(info.value.__cause__)


def test_a_server_that_never_answers_times_out_with_the_configured_timeout() -> None:
    """The connection check uses ``timeout_s``: a silent server is an error, not a hang."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(VectorStoreError, match=r"connect within 1 s .*timed out"):
            make_vector_store(VectorConfig(url=url, timeout_s=1))


class _CollectionsHandler(BaseHTTPRequestHandler):
    """Answers ``GET /collections`` as an empty Qdrant server would; records the API key."""

    api_keys: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).api_keys.append(self.headers.get("api-key"))
        found = self.path.split("?")[0] == "/collections"
        body = {"result": {"collections": []}, "status": "ok", "time": 0.0}
        data = json.dumps(body if found else {"status": {"error": "not found"}}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collections_endpoint() -> Iterator[str]:
    """A local HTTP endpoint that answers the connection check, as ``http://host:port``."""
    _CollectionsHandler.api_keys = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CollectionsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@insecure_key_warning
def test_url_selects_the_server_backend(collections_endpoint: str) -> None:
    config = VectorConfig(url=collections_endpoint, api_key="k-42", collection_prefix="w1_")
    store = make_vector_store(config)
    try:
        assert isinstance(store, QdrantVectorStore)
        assert store.location == collections_endpoint
        assert store.collection_prefix == ""  # callers prefix names (pipeline.collection_specs)
        assert _CollectionsHandler.api_keys == ["k-42"]  # checked on open, key sent
        assert "k-42" not in repr(store)
    finally:
        store.close()


@requires_qdrant_server
def test_url_opens_the_server_backend() -> None:
    config = VectorConfig(
        url=os.environ["PRICEGRAPH_QDRANT_URL"],
        api_key=os.environ.get("PRICEGRAPH_QDRANT_API_KEY") or None,
        collection_prefix="pgtest_factory_",
    )
    store = make_vector_store(config)
    try:
        assert isinstance(store, QdrantVectorStore)
        assert store.count("never_created") == 0
    finally:
        store.close()
