"""The learned vectors a trained encoder hands over to serving.

:class:`NodeEmbeddings` is the contract between training and recommending: one
row per customer and per product, in the graph's sorted key order, scored with
a dot product. :class:`~pricegraph.gnn.recommend.Recommender` ranks with it and
:func:`~pricegraph.gnn.recommend_service.build_recommender` builds it from a
checkpoint. No I/O happens here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor


@dataclass(frozen=True)
class NodeEmbeddings:
    """Learned vectors of one trained encoder.

    Attributes:
        customer_ids: object ``[num_customers]``, graph keys, sorted ascending.
        product_ids: object ``[num_products]``, graph keys, sorted ascending.
        customer: float32 ``[num_customers, embedding_dim]``.
        product: float32 ``[num_products, embedding_dim]``.
        model_version: Which trained model produced the vectors.

    ``score(c, p) = customer[c] @ product[p]`` (dot product; higher = more likely
    to buy).

    Raises:
        ValueError: A vector matrix is not 2-D with one row per key, or the
            customer and product widths differ.
    """

    customer_ids: np.ndarray
    product_ids: np.ndarray
    customer: Tensor
    product: Tensor
    model_version: str

    def __post_init__(self) -> None:
        for name, ids, vectors in (
            ("customer", self.customer_ids, self.customer),
            ("product", self.product_ids, self.product),
        ):
            if vectors.dim() != 2 or vectors.shape[0] != len(ids):
                raise ValueError(
                    f"NodeEmbeddings.{name}: expected [{len(ids)}, embedding_dim] "
                    f"(one row per {name}_ids entry), got {list(vectors.shape)}"
                )
        if self.customer.shape[1] != self.product.shape[1]:
            raise ValueError(
                f"NodeEmbeddings: customer and product embedding_dim differ: "
                f"{self.customer.shape[1]} vs {self.product.shape[1]}"
            )


__all__ = ["NodeEmbeddings"]
