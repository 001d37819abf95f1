r"""Top-k recommendations from learned vectors, each with a reason a person can read.

A trained encoder hands over
:class:`~pricegraph.gnn.node_embeddings.NodeEmbeddings`; the score of product
:math:`p` for customer :math:`c` is the dot product
:math:`s(c, p) = \mathbf{z}_c^\top \mathbf{z}_p`. :class:`Recommender` ranks with
it and explains each pick with the purchase history (co-purchase counts, from
:class:`~pricegraph.gnn.purchase_history.PurchaseHistory`) or the geometry of the
learned space (cosine); see :mod:`pricegraph.gnn.reasons` for the order in which
reasons are preferred. New products are placed in that space through their text
(:mod:`pricegraph.gnn.text_projection`). Everything is precomputed once, so a
call for one customer costs one ``[num_products, embedding_dim]`` matrix-vector
product plus a few sparse look-ups (milliseconds on CPU for thousands of
customers and products). No I/O happens here.

The inputs and results of :class:`Recommender` are re-exported here
(:data:`TEXT_DIM`, :data:`ProductFromText`, :class:`NodeEmbeddings`,
:class:`Recommendation`, :class:`CustomerRecommendation`), so a caller needs one
import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import Tensor

from pricegraph.errors import ConfigError, NotFoundError
from pricegraph.gnn.node_embeddings import NodeEmbeddings
from pricegraph.gnn.purchase_history import PurchaseHistory
from pricegraph.gnn.reasons import (
    CustomerRecommendation,
    Explanation,
    Recommendation,
    display_names,
    explain_customers_for_new_product,
    explain_for_customer,
    explain_for_new_product,
    explain_for_product,
    nearest_customer_buyers,
    to_results,
    top_k_discounted,
    top_k_positions,
    unit_rows,
)
from pricegraph.gnn.serving import winner_first_scores
from pricegraph.gnn.split import CustomerItems
from pricegraph.gnn.text_projection import TEXT_DIM, ProductFromText, project_text


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k: expected >= 1, got {k}")


class Recommender:
    """Ranks products for customers, products and new products, and explains each pick.

    Args:
        embeddings: The trained vectors; tensors may live on any device (they are
            copied to CPU NumPy once).
        purchases: Purchase history aligned with ``embeddings``: a
            :class:`~pricegraph.gnn.split.CustomerItems` over all customers, or
            int64 ``edge_index`` ``[2, num_purchases]`` (customer, product)
            positions, duplicates allowed. Use the history the model was trained
            on, so that reasons never cite purchases the model did not see.
        product_names: Display names, as a mapping key -> name or a sequence
            aligned with ``embeddings.product_ids``; missing names fall back to the
            key. (default: ``None``, keys only)
        product_from_text: Projection of text vectors into the product space, needed
            by the new-product methods. (default: ``None``)
        text_dim: Expected width of text vectors. (default: ``384``)
        min_co_purchases: Fewest shared buyers that count as co-purchase evidence.
            (default: ``1``)
        num_similar_customers: Neighbourhood size for customers without purchases:
            the reason counts how many of their nearest customers (cosine, among
            customers with purchases) bought the product. (default: ``20``)
        served_by: Name of the recommender whose ranking customers get.
            (default: ``"encoder"``)
        top_products: When another recommender than the encoder won on
            validation, its ranked lists: int ``[num_customers, n]`` product
            positions, best first, ``-1`` = empty; customers get these first
            (:func:`winner_first_scores`). (default: ``None``, the encoder ranks)
        top_scores: float32 ``[num_customers, n]``, the scores of ``top_products``.
        views: int64 ``edge_index`` ``[2, num_views]`` (customer, product) positions of
            product views, duplicates counted: a viewed product's reason says how
            often the customer viewed it. (default: ``None``, no view reasons)

    Precomputed: key -> position maps (``pandas.Index``), the purchase evidence
    (:class:`~pricegraph.gnn.purchase_history.PurchaseHistory`: the binary purchase
    matrix ``[num_customers, num_products]`` and the co-purchase counts
    ``[num_products, num_products]`` (scipy CSR), buyers per product), and unit
    customer and product vectors.
    """

    def __init__(
        self,
        embeddings: NodeEmbeddings,
        purchases: CustomerItems | Tensor,
        *,
        product_names: Mapping[str, str] | Sequence[str] | np.ndarray | None = None,
        product_from_text: ProductFromText | None = None,
        text_dim: int = TEXT_DIM,
        min_co_purchases: int = 1,
        num_similar_customers: int = 20,
        served_by: str = "encoder",
        top_products: np.ndarray | None = None,
        top_scores: np.ndarray | None = None,
        views: Tensor | None = None,
    ) -> None:
        if min(min_co_purchases, num_similar_customers) < 1:
            raise ValueError(
                f"min_co_purchases and num_similar_customers must be >= 1, got "
                f"{min_co_purchases} and {num_similar_customers}"
            )
        self.model_version = embeddings.model_version
        self._customer_keys = pd.Index(embeddings.customer_ids, dtype=object)
        self._product_keys = pd.Index(embeddings.product_ids, dtype=object)
        for kind, keys in (("customer", self._customer_keys), ("product", self._product_keys)):
            if not keys.is_unique:
                raise ValueError(f"NodeEmbeddings.{kind}_ids: keys must be unique")
        num_customers, num_products = len(self._customer_keys), len(self._product_keys)
        self._customer = embeddings.customer.detach().cpu().to(torch.float32).numpy()
        self._product = embeddings.product.detach().cpu().to(torch.float32).numpy()
        self._unit_customer = unit_rows(self._customer)
        self._unit_product = unit_rows(self._product)
        self._has_vector = np.any(self._customer != 0, axis=1)
        self._history = PurchaseHistory(purchases, num_customers, num_products)
        self._names = display_names(self._product_keys.to_numpy(), product_names)
        self._product_from_text = product_from_text
        self._text_dim = text_dim
        self._min_co_purchases = min_co_purchases
        self._num_similar_customers = num_similar_customers
        self.served_by = served_by
        if (top_products is None) != (top_scores is None) or (
            top_products is not None
            and (
                top_products.shape != np.shape(top_scores) or top_products.shape[0] != num_customers
            )
        ):
            raise ValueError(
                "top_products and top_scores: expected both or neither, each "
                f"[{num_customers}, n], got {None if top_products is None else top_products.shape}"
                f" and {None if top_scores is None else np.shape(top_scores)}"
            )
        self._top_products, self._top_scores = top_products, top_scores
        self._views: sp.csr_array | None = None
        if views is not None and views.shape[1]:
            counts = np.ones(views.shape[1], dtype=np.int64)
            self._views = sp.csr_array(
                (counts, (views[0].numpy(), views[1].numpy())),
                shape=(num_customers, num_products),
            )
            self._views.sum_duplicates()

    def __repr__(self) -> str:
        has_text = self._product_from_text is not None
        return (
            f"{type(self).__name__}(model_version={self.model_version!r}, "
            f"served_by={self.served_by!r}, "
            f"num_customers={len(self._customer_keys)}, num_products={len(self._product_keys)}, "
            f"embedding_dim={self._product.shape[1]}, has_text={has_text})"
        )

    def for_customer(
        self,
        customer_id: str,
        k: int = 10,
        *,
        include_bought: bool = False,
        popularity_discount: float = 0.0,
    ) -> list[Recommendation]:
        """Top-``k`` products for one customer; see :meth:`for_customers`."""
        return self.for_customers(
            [customer_id], k, include_bought=include_bought, popularity_discount=popularity_discount
        )[0]

    def for_customers(
        self,
        customer_ids: Sequence[str],
        k: int = 10,
        *,
        include_bought: bool = False,
        popularity_discount: float = 0.0,
    ) -> list[list[Recommendation]]:
        r"""Top-``k`` products for each customer, by :math:`\mathbf{z}_c^\top \mathbf{z}_p`.

        Products the customer bought are excluded unless ``include_bought``. A
        customer whose vector is all zeros (e.g. unseen by the encoder) is ranked by
        popularity (distinct buyers) instead. When another recommender won on
        validation (``top_products``), its list comes first and ``score`` is its
        score. Reasons are chosen by
        :func:`~pricegraph.gnn.reasons.explain_for_customer`: the customer's views,
        else co-purchase path, else nearest bought product, else nearest customers /
        profile / popularity.

        Args:
            customer_ids: Graph keys; one list comes back per key, in the same order.
            k: Cut-off; fewer come back when fewer products are allowed.
                (default: ``10``)
            include_bought: Also rank products the customer already bought.
                (default: ``False``)
            popularity_discount: α of :func:`~pricegraph.gnn.reasons.top_k_discounted`:
                how far best sellers give way to less bought products among the 100
                best. (default: ``0``, the ranking as it is)

        Returns:
            Per customer, up to ``k`` recommendations, best first; ``score`` is the
            dot product (or the buyer count for popularity rankings).

        Raises:
            NotFoundError: A key is not a customer of the embeddings.
            ValueError: ``k`` < 1.
        """
        _check_k(k)
        positions = self._positions(customer_ids, "customer")
        scores = self._customer[positions] @ self._product.T  # [batch_size, num_products]
        no_vector = ~self._has_vector[positions]
        scores[no_vector] = self._history.buyers.astype(np.float32)
        if self._top_products is not None and self._top_scores is not None:
            for row, position in enumerate(positions):
                scores[row] = winner_first_scores(
                    scores[row], self._top_products[position], self._top_scores[position]
                )
        if not include_bought:
            pairs = self._history.bought_pairs(positions)
            scores[pairs[0], pairs[1]] = -np.inf
        results = []
        for row, position in enumerate(positions):
            recommended = top_k_discounted(
                scores[row], self._history.buyers, k, popularity_discount
            )
            explanations = self._explain_customer(int(position), recommended)
            picks = self._products(recommended, scores[row, recommended], explanations)
            if self._top_products is not None:
                note = f"; ranked by {self.served_by}, the validation winner"
                picks = [replace(pick, reason=pick.reason + note) for pick in picks]
            results.append(picks)
        return results

    def _explain_customer(self, position: int, recommended: np.ndarray) -> list[Explanation]:
        bought = self._history.bought(position)
        views = None
        if self._views is not None:
            views = self._views[[position]][:, recommended].toarray()[0]
        neighbour_buyers, num_neighbours = None, 0
        if bought.size == 0 and self._has_vector[position]:
            neighbour_buyers, num_neighbours = nearest_customer_buyers(
                self._unit_customer,
                self._history.interactions,
                position,
                recommended,
                candidates=self._history.has_history,
                num_neighbours=self._num_similar_customers,
            )
        return explain_for_customer(
            recommended,
            bought,
            co_purchases=self._history.co_purchases,
            unit_product=self._unit_product,
            names=self._names,
            buyers=self._history.buyers,
            min_co_purchases=self._min_co_purchases,
            neighbour_buyers=neighbour_buyers,
            num_neighbours=num_neighbours,
            views=views,
        )

    def for_product(
        self, product_id: str, k: int = 10, *, popularity_discount: float = 0.0
    ) -> list[Recommendation]:
        r"""Products "also bought" with ``product_id``: co-purchase first, then cosine.

        Score of candidate :math:`j` for query :math:`q`:
        :math:`n_{qj} + (1 + \cos(\mathbf{z}_q, \mathbf{z}_j)) / 3`, where
        :math:`n_{qj}` is the number of customers who bought both (set to 0 below
        ``min_co_purchases``). The integer part is the co-purchase count and the
        fraction (in ``[0, 2/3]``) the similarity, so every co-purchased product
        ranks above every product that is only similar, and similarity orders
        products with equal counts.

        Args:
            product_id: Graph key of the query product (excluded from the list).
            k: Cut-off. (default: ``10``)
            popularity_discount: As in :meth:`for_customers`. (default: ``0``)

        Returns:
            Up to ``k`` recommendations; reasons ``"bought together by N
            customers"`` (``co_purchase``) or ``"similar in the learned space
            (0.81)"`` (``similar_product``), both pointing at ``product_id``.

        Raises:
            NotFoundError: ``product_id`` is not a product of the embeddings.
            ValueError: ``k`` < 1.
        """
        _check_k(k)
        query = int(self._positions([product_id], "product")[0])
        counts = self._history.co_purchases[[query]].toarray().ravel().astype(np.int64)
        counts[counts < self._min_co_purchases] = 0
        cosine = self._unit_product @ self._unit_product[query]
        scores = counts + (1.0 + cosine.astype(np.float64)) / 3.0
        scores[query] = -np.inf
        recommended = top_k_discounted(scores, self._history.buyers, k, popularity_discount)
        explanations = explain_for_product(counts[recommended], cosine[recommended], query)
        return self._products(recommended, scores[recommended], explanations)

    def for_new_product(
        self, text_vector: np.ndarray | Tensor, k: int = 10, *, name: str = "the new product"
    ) -> list[Recommendation]:
        """Existing products nearest to a new product (no edges yet), via its text.

        The text vector is projected with ``product_from_text``; products are
        ranked by cosine to the projection in the learned space.

        Args:
            text_vector: float ``[text_dim]`` (or ``[1, text_dim]``), e.g. one row of
                ``SentenceEncoder().encode([description])``.
            k: Cut-off. (default: ``10``)
            name: How the reason calls the new product. (default: ``"the new product"``)

        Returns:
            Up to ``k`` recommendations; ``score`` is the cosine in ``[-1, 1]``;
            reason ``"closest by description to <name> (0.77)"`` (``text``).

        Raises:
            ConfigError: The recommender has no ``product_from_text``.
            ValueError: ``text_vector`` has the wrong shape or non-finite values.
            ModelError: ``product_from_text`` returned the wrong shape.
        """
        _check_k(k)
        cosine = self._unit_product @ unit_rows(self._project(text_vector))
        recommended = top_k_positions(cosine, k)
        explanations = explain_for_new_product(cosine[recommended], name)
        return self._products(recommended, cosine[recommended], explanations)

    def customers_for_new_product(
        self, text_vector: np.ndarray | Tensor, k: int = 10, *, name: str = "the new product"
    ) -> list[CustomerRecommendation]:
        """Customers most likely to buy a new product, by the dot product with its projection.

        Args:
            text_vector: float ``[text_dim]`` (or ``[1, text_dim]``) text vector.
            k: Cut-off. (default: ``10``)
            name: How the reason calls the new product. (default: ``"the new product"``)

        Returns:
            Up to ``k`` customers, best first; reason names the customer's purchase
            nearest (cosine) to the new product (``similar_bought``), or
            ``profile`` for customers without purchases.

        Raises:
            ConfigError, ValueError, ModelError: As :meth:`for_new_product`.
        """
        _check_k(k)
        vector = self._project(text_vector)
        scores = self._customer @ vector
        chosen = top_k_positions(scores, k)
        cosine_to_new = self._unit_product @ unit_rows(vector)
        bought = [self._history.bought(int(position)) for position in chosen]
        explanations = explain_customers_for_new_product(bought, cosine_to_new, self._names, name)
        keys, product_keys = self._customer_keys.to_numpy(), self._product_keys.to_numpy()
        return to_results(
            CustomerRecommendation, keys[chosen], scores[chosen], explanations, product_keys
        )

    def _project(self, text_vector: np.ndarray | Tensor) -> np.ndarray:
        """Product-space vector float32 ``[embedding_dim]`` of one text vector.

        Raises:
            ConfigError: The recommender has no ``product_from_text``.
            ValueError, ModelError: As :func:`project_text`.
        """
        if self._product_from_text is None:
            raise ConfigError(
                "new-product recommendations need product_from_text: pass "
                "Recommender(..., product_from_text=<text -> product vector callable>)"
            )
        return project_text(
            text_vector,
            self._product_from_text,
            text_dim=self._text_dim,
            embedding_dim=self._product.shape[1],
        )

    def product_names(self, product_ids: Sequence[str]) -> list[str]:
        """Display names of products (the key where a product has no name).

        Raises:
            NotFoundError: A key is not a product of the embeddings.
        """
        return [str(name) for name in self._names[self._positions(product_ids, "product")]]

    def _positions(self, keys: Sequence[str], kind: str) -> np.ndarray:
        """Positions int64 ``[len(keys)]`` of graph keys; raises on the first unknown key."""
        if isinstance(keys, str):
            raise TypeError(f"expected a sequence of {kind} ids, got the string {keys!r}")
        index = self._customer_keys if kind == "customer" else self._product_keys
        keys = list(keys)
        positions = index.get_indexer(pd.Index(keys, dtype=object))
        missing = np.flatnonzero(positions < 0)
        if missing.size:
            raise NotFoundError(kind, keys[int(missing[0])])
        return positions.astype(np.int64)

    def _products(
        self, positions: np.ndarray, scores: np.ndarray, explanations: list[Explanation]
    ) -> list[Recommendation]:
        keys = self._product_keys.to_numpy()
        return to_results(Recommendation, keys[positions], scores, explanations, keys)


__all__ = [
    "TEXT_DIM",
    "CustomerRecommendation",
    "NodeEmbeddings",
    "ProductFromText",
    "Recommendation",
    "Recommender",
]
