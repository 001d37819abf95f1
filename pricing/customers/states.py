"""What the system knows about each customer, as state blocks for the price response.

Four blocks, one row per customer (index: customer key), read from the stores the
rest of the system writes:

* ``graph``: the encoder's ``graph`` vector (``pricegraph train-gnn``) from the
  customers collection, through :func:`~pricegraph.gnn.service.graph_vectors`; the
  sensitivity model reads it through the encoder's price-behaviour head
  (:func:`behaviour_basis`);
* ``text``: the customer's ``text`` vector (``pricegraph embed``: the recency-weighted
  mean of the texts of the products they interacted with, plus their profile text);
* ``rfm``: ``log1p`` of recency (days), frequency (orders) and net spend, as
  ``pricegraph segments`` computes them
  (:func:`~pricegraph.segments.clustering.behaviour_features`);
* ``segment``: a one-hot of the customer's graph segment (``IN_SEGMENT``).

And the exposure table of :mod:`~.sensitivity` from the graph: ``VIEWED``
edges priced by the product's price points in force at the view
(:func:`view_prices`), joined with ``PURCHASED`` edges of the same day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...embeddings.base import VectorStore
from ...errors import ModelError, VectorStoreError
from ...gnn.checkpoint import load_checkpoint
from ...gnn.service import graph_vectors
from ...graph.base import GraphStore
from ...segments.clustering import SegmentConfig, behaviour_features, purchase_lines
from ..snapshot import NAT_US, customer_segments, datetimes_us
from .sensitivity import exposures

STATE_NAMES = ("graph", "text", "rfm", "segment")
"""The state blocks, in report order."""


def behaviour_basis(checkpoint_path: Path, width: int) -> np.ndarray | None:
    """The encoder's price-behaviour head ``[6, d]`` (:mod:`pricegraph.gnn.features`): the
    linear read-out training keeps a customer's price behaviour in, the basis the graph
    state is read through (:class:`~.sensitivity.StateReducer`). ``None`` when
    the checkpoint is missing, unreadable, has no head or does not fit vectors of
    ``width``."""
    try:
        checkpoint = load_checkpoint(checkpoint_path)
    except ModelError:
        return None
    weight = checkpoint.state_dict.get("behaviour_head.weight")
    if weight is None or weight.shape[1] != width:
        return None
    return weight.detach().cpu().numpy().astype(float)


def customer_ids(store: GraphStore) -> np.ndarray:
    """Keys of the known (not anonymous) customers, sorted."""
    customers = store.node_frame("Customer")
    if "is_anonymous" in customers:
        customers = customers[~customers["is_anonymous"].fillna(False).astype(bool)]
    return np.sort(customers["id"].astype(str).to_numpy())


def vector_state(
    vectors: VectorStore, collection: str, keys: np.ndarray, using: str
) -> pd.DataFrame:
    """``using`` vectors of ``keys`` as a frame (customers without one are left out).

    Raises:
        VectorStoreError: The collection or the named vector is missing.
    """
    found = (
        graph_vectors(vectors, collection, list(keys))
        if using == "graph"
        else vectors.vectors(collection, list(keys), using)
    )
    if not found:
        return pd.DataFrame(index=pd.Index([], name="customer_id", dtype=object))
    index = pd.Index(list(found), name="customer_id")
    return pd.DataFrame(np.stack(list(found.values())), index=index)


def rfm_state(store: GraphStore, keys: np.ndarray) -> pd.DataFrame:
    """``log1p`` recency (days), frequency and net spend per customer."""
    purchases, returns = purchase_lines(store, SegmentConfig())
    frame = behaviour_features(purchases, returns, keys)
    return np.log1p(frame[["recency_days", "frequency", "monetary"]].astype(float))


def segment_state(store: GraphStore, keys: np.ndarray) -> pd.DataFrame:
    """One-hot of each customer's graph segment (customers without one are left out)."""
    segments = customer_segments(store).reindex(keys).dropna()
    return pd.get_dummies(segments).astype(float).rename_axis("customer_id")


def customer_states(
    store: GraphStore, vectors: VectorStore | None, collection: str | None
) -> dict[str, pd.DataFrame]:
    """Every block of :data:`STATE_NAMES` that the stores hold (module docstring)."""
    keys = customer_ids(store)
    states = {"rfm": rfm_state(store, keys)}
    if vectors is not None and collection is not None:
        for using in ("graph", "text"):
            try:
                block = vector_state(vectors, collection, keys, using)
            except VectorStoreError:
                continue
            if len(block):
                states[using] = block
    segments = segment_state(store, keys)
    if len(segments):
        states["segment"] = segments
    return {name: states[name] for name in STATE_NAMES if name in states}


def view_prices(store: GraphStore) -> pd.DataFrame:
    """``VIEWED`` edges with the price in force at the view: ``customer_id, product_id,
    ts, price`` (views of products without a price in force are left out).

    The price in force is the one :mod:`~pricegraph.pricing.snapshot` quotes from: among the shop's
    points with ``valid_from <= ts < valid_to`` (no ``valid_to``: open), the greatest
    ``(rank, valid_from)``, markdown over list.
    """
    arrays = store.edge_arrays("VIEWED")
    views = pd.DataFrame(
        {
            "customer_id": arrays.source_ids[arrays.edge_index[0]],
            "product_id": arrays.target_ids[arrays.edge_index[1]],
            "ts": pd.to_datetime(arrays.properties["ts"]),
        }
    )
    columns = ["product_id", "kind", "price", "valid_from", "valid_to"]
    points = store.node_frame("PricePoint").reindex(columns=columns)
    points = points[points["kind"].isin(["list", "markdown"])].dropna(subset=["price"])
    begin, stop = datetimes_us(points["valid_from"]), datetimes_us(points["valid_to"])
    points = points.assign(
        rank=(points["kind"] == "markdown").astype(int),
        begin=np.where(begin == NAT_US, np.iinfo(np.int64).max, begin),
        stop=np.where(stop == NAT_US, np.iinfo(np.int64).max, stop),
    )
    at = datetimes_us(views["ts"])
    merged = views.assign(at=at, row=np.arange(len(views))).merge(
        points[["product_id", "rank", "begin", "stop", "price"]], on="product_id"
    )
    in_force = (merged["begin"] <= merged["at"]) & (merged["at"] < merged["stop"])
    merged = merged[in_force].sort_values(["row", "rank", "begin"])
    chosen = merged.groupby("row").tail(1).set_index("row")["price"]
    views["price"] = chosen.reindex(np.arange(len(views))).to_numpy()
    return views.dropna(subset=["price"])


def exposures_from_store(store: GraphStore) -> pd.DataFrame:
    """The exposure table (:func:`~.sensitivity.exposures`) of the graph."""
    products = store.node_frame("Product").set_index("id")
    purchases = purchase_lines(store, SegmentConfig())[0]
    return exposures(view_prices(store), purchases, products["list_price"].astype(float))


__all__ = [
    "STATE_NAMES",
    "behaviour_basis",
    "customer_ids",
    "customer_states",
    "exposures_from_store",
    "rfm_state",
    "segment_state",
    "vector_state",
    "view_prices",
]
