"""The purchase history a recommender cites as evidence, precomputed once.

:class:`PurchaseHistory` turns (customer, product) purchases, given as positions
aligned with :class:`~pricegraph.gnn.node_embeddings.NodeEmbeddings`, into the
sparse structures reasons are read from: the binary purchase matrix, the
co-purchase counts, the buyers per product and each customer's distinct
products. Pure NumPy / scipy / torch on CPU; no I/O happens here.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from pricegraph.gnn.reasons import co_purchase_matrix
from pricegraph.gnn.split import CustomerItems


def _customer_items(
    purchases: CustomerItems | Tensor, num_customers: int, num_products: int
) -> CustomerItems:
    """Validate ``purchases`` and bring them to CSR form."""
    if isinstance(purchases, Tensor):
        if purchases.dim() != 2 or purchases.shape[0] != 2 or bool((purchases < 0).any()):
            raise ValueError(
                "purchases: expected edge_index [2, num_purchases] of positions >= 0, "
                f"got shape {list(purchases.shape)}"
            )
        purchases = CustomerItems.from_edge_index(purchases.to(torch.long), num_customers)
    if purchases.num_customers != num_customers:
        raise ValueError(
            f"purchases: expected {num_customers} customers (as in the embeddings), "
            f"got {purchases.num_customers}"
        )
    index = purchases.product_index
    if index.numel() and not 0 <= int(index.min()) <= int(index.max()) < num_products:
        raise ValueError(f"purchases: product indices must lie in [0, {num_products})")
    return purchases


class PurchaseHistory:
    """Who bought what, as positions, with the counts reasons rest on.

    Args:
        purchases: A :class:`~pricegraph.gnn.split.CustomerItems` over all
            customers, or int64 ``edge_index`` ``[2, num_purchases]`` (customer,
            product) positions, duplicates allowed.
        num_customers: Number of customers (rows of the customer vectors).
        num_products: Number of products (rows of the product vectors).

    Attributes:
        items: Distinct products per customer (CSR).
        interactions: Binary float32 scipy CSR ``[num_customers, num_products]``.
        co_purchases: int32 scipy CSR ``[num_products, num_products]``, distinct
            customers who bought both products; zero diagonal
            (:func:`~pricegraph.gnn.reasons.co_purchase_matrix`).
        buyers: int ``[num_products]``, distinct buyers per product.
        has_history: bool ``[num_customers]``, whether the customer bought anything.

    Raises:
        ValueError: ``purchases`` is not ``[2, n]`` of positions >= 0, covers
            another number of customers, or names a product outside
            ``[0, num_products)``.
    """

    def __init__(
        self, purchases: CustomerItems | Tensor, num_customers: int, num_products: int
    ) -> None:
        self.items = _customer_items(purchases, num_customers, num_products)
        indptr, index = self.items.indptr.numpy(), self.items.product_index.numpy()
        self.interactions = sp.csr_array(
            (np.ones(index.size, dtype=np.float32), index, indptr),
            shape=(num_customers, num_products),
        )
        self.co_purchases = co_purchase_matrix(self.interactions)
        self.buyers = np.diff(self.interactions.tocsc().indptr)  # distinct buyers
        self.has_history = np.diff(indptr) > 0

    def __repr__(self) -> str:
        num_customers, num_products = self.interactions.shape
        return (
            f"{type(self).__name__}(num_customers={num_customers}, "
            f"num_products={num_products}, num_pairs={self.interactions.nnz})"
        )

    def bought(self, position: int) -> np.ndarray:
        """Distinct products of customer ``position``, int64 ``[num_bought]``, ascending."""
        indptr = self.items.indptr
        return self.items.product_index[int(indptr[position]) : int(indptr[position + 1])].numpy()

    def bought_pairs(self, positions: np.ndarray) -> np.ndarray:
        """Products of a batch of customers, int64 ``[2, num_pairs]`` (batch row, product).

        Args:
            positions: int64 ``[batch_size]`` customer positions.
        """
        return self.items.pairs(torch.from_numpy(positions)).numpy()


__all__ = ["PurchaseHistory"]
