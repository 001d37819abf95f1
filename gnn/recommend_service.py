"""Build a :class:`~pricegraph.gnn.recommend.Recommender` from a checkpoint and the graph.

Scores of the encoder are :math:`z_c^\\top z_p + b_p` (a dot product plus the
product's activity prior). The recommender ranks by a plain dot product, so the
vectors are augmented: :math:`[z_c, 1]` and :math:`[z_p, b_p]` give exactly the
encoder's scores. A new product gets :math:`[z_{new}, b_{new}]` with the vector its
text gives (:meth:`EncoderCheckpoint.product_from_text`) and the prior of a
product never sold.

When a recommender other than the encoder won on validation, the checkpoint holds
its ranked lists (:mod:`pricegraph.gnn.serving`) and customers get those first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from pricegraph.errors import ModelError
from pricegraph.gnn.checkpoint import EncoderCheckpoint, new_product_activity
from pricegraph.gnn.node_embeddings import NodeEmbeddings
from pricegraph.gnn.recommend import Recommender
from pricegraph.graph.base import GraphStore


def _augmented(checkpoint: EncoderCheckpoint) -> NodeEmbeddings:
    vectors = checkpoint.vectors
    if not vectors:
        raise ModelError(
            f"checkpoint {checkpoint.model_version} holds no vectors: train it again "
            "with 'pricegraph train-gnn'"
        )
    customer = torch.cat([vectors["customer"], torch.ones(len(vectors["customer"]), 1)], dim=1)
    product = torch.cat([vectors["product"], vectors["product_prior"].unsqueeze(1)], dim=1)
    return NodeEmbeddings(
        customer_ids=checkpoint.node_ids["customer"],
        product_ids=checkpoint.node_ids["product"],
        customer=customer,
        product=product,
        model_version=checkpoint.model_version,
    )


def event_positions(
    store: GraphStore, checkpoint: EncoderCheckpoint, rel_type: str = "PURCHASED"
) -> Tensor:
    """Events of ``store`` as positions in the checkpoint's key order: ``[2, n]``.

    Events of customers or products the checkpoint does not know (added after
    training) are left out.

    Args:
        store: The graph.
        checkpoint: Gives the key order.
        rel_type: The customer -> product event type. (default: ``"PURCHASED"``)
    """
    arrays = store.edge_arrays(rel_type)
    customers = pd.Index(checkpoint.node_ids["customer"], dtype=object).get_indexer(
        np.asarray(arrays.source_ids, dtype=object)[arrays.edge_index[0]]
    )
    products = pd.Index(checkpoint.node_ids["product"], dtype=object).get_indexer(
        np.asarray(arrays.target_ids, dtype=object)[arrays.edge_index[1]]
    )
    known = (customers >= 0) & (products >= 0)
    return torch.from_numpy(np.stack([customers[known], products[known]]).astype(np.int64))


def build_recommender(store: GraphStore, checkpoint: EncoderCheckpoint) -> Recommender:
    """A recommender over the checkpoint's vectors, the store's purchases, views and names."""
    products = store.node_frame("Product")
    names = dict(zip(products["id"].astype(str), products["name"].fillna(""), strict=True))
    from_text = checkpoint.product_from_text()
    model = from_text.model
    new_prior = model.product_prior(new_product_activity(1)).detach()

    def augmented_from_text(text_x: Tensor) -> Tensor:
        vectors = from_text(text_x)
        return torch.cat([vectors, new_prior.expand(len(vectors)).unsqueeze(1)], dim=1)

    serving = checkpoint.serving
    top_products, top_scores = serving.get("top_products"), serving.get("top_scores")
    return Recommender(
        _augmented(checkpoint),
        event_positions(store, checkpoint),
        product_names={k: v for k, v in names.items() if v},
        product_from_text=augmented_from_text,
        text_dim=checkpoint.text_dim,
        served_by=checkpoint.served_by,
        top_products=None if top_products is None else top_products.numpy(),
        top_scores=None if top_scores is None else top_scores.numpy(),
        views=event_positions(store, checkpoint, "VIEWED"),
    )


__all__ = ["build_recommender", "event_positions"]
