r"""Recommendation results, and the evidence and wording of their reasons.

A reason names the strongest link a person can check for themselves, in this
order of preference (see :class:`~pricegraph.gnn.recommend.Recommender`):

1. ``viewed``: the customer viewed the recommended product (counted on the
   graph's views);
2. ``co_purchase``: other customers bought the recommended product together with
   one of the customer's own purchases (counted on the purchase history);
3. ``similar_bought``: the recommended product lies close, by cosine in the
   learned space, to one of the customer's purchases;
4. ``similar_customers`` / ``profile`` / ``popular``: fallbacks for customers
   without purchases (or without any usable link).

Everything here is pure NumPy / scipy on integer positions; mapping positions
to graph keys is the caller's job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import scipy.sparse as sp

ReasonKind = Literal[
    "viewed",
    "co_purchase",
    "similar_bought",
    "bought_before",
    "similar_customers",
    "profile",
    "popular",
    "similar_product",
    "text",
]
"""What a reason rests on:

* ``viewed``: the customer viewed the product (the count is in the text);
* ``co_purchase``: customers who bought both products (the count is in the text);
* ``similar_bought``: cosine in the learned space to a product the customer bought;
* ``bought_before``: the customer already bought it (only with ``include_bought``);
* ``similar_customers``: bought by customers whose vectors are nearest;
* ``profile``: only the customer's own vector supports it;
* ``popular``: the number of distinct buyers (no vector, no history);
* ``similar_product``: cosine in the learned space between two products;
* ``text``: cosine to a new product projected from its description.
"""

Explanation = tuple[ReasonKind, str, int | None]
"""(kind, text, position of the product the reason points at, or ``None``)."""


@dataclass(frozen=True)
class Recommendation:
    """One recommended product.

    Attributes:
        product_id: Graph key of the product.
        score: Ranking score (its meaning depends on the method; higher = better).
        rank: 1-based position in the list.
        reason: Why, in words, e.g. ``"bought by 14 customers who also bought X"``.
        reason_kind: What the reason rests on; see :data:`ReasonKind`.
        via_product_id: Graph key of the product the reason points at, or ``None``.
    """

    product_id: str
    score: float
    rank: int
    reason: str
    reason_kind: ReasonKind
    via_product_id: str | None


@dataclass(frozen=True)
class CustomerRecommendation:
    """One customer picked for a new product (``Recommender.customers_for_new_product``).

    Attributes:
        customer_id: Graph key of the customer.
        score: Dot product of the customer's vector with the product's vector.
        rank: 1-based position in the list.
        reason: Why, in words.
        reason_kind: ``"similar_bought"`` or ``"profile"``.
        via_product_id: The customer's purchase the reason names, or ``None``.
    """

    customer_id: str
    score: float
    rank: int
    reason: str
    reason_kind: ReasonKind
    via_product_id: str | None


_Result = TypeVar("_Result", "Recommendation", "CustomerRecommendation")


def display_names(
    product_ids: np.ndarray, product_names: Mapping[str, str] | Sequence[str] | np.ndarray | None
) -> np.ndarray:
    """Display name per product, object ``[num_products]``; the key where none is known."""
    if product_names is None:
        names: list[object] = [None] * len(product_ids)
    elif isinstance(product_names, Mapping):
        names = [product_names.get(key) for key in product_ids]
    else:
        names = list(product_names)
        if len(names) != len(product_ids):
            raise ValueError(
                f"product_names: expected {len(product_ids)} names aligned with "
                f"product_ids, got {len(names)}"
            )
    return np.array(
        [
            name if isinstance(name, str) and name.strip() else str(key)
            for name, key in zip(names, product_ids, strict=True)
        ],
        dtype=object,
    )


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` ``[num_rows, dim]`` scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def co_purchase_matrix(interactions: sp.csr_array) -> sp.csr_array:
    r"""Item-item co-purchase counts :math:`N = X^\top X` with the diagonal removed.

    Args:
        interactions: Binary float32 ``[num_customers, num_products]``.

    Returns:
        int32 CSR ``[num_products, num_products]``: :math:`N_{ij}` = number of
        distinct customers who bought both ``i`` and ``j``; the diagonal (buyers of
        ``i``) is zero.
    """
    counts = (interactions.T @ interactions).tocsr()
    counts.setdiag(0.0)
    counts.eliminate_zeros()
    counts.data = np.rint(counts.data)
    return counts.astype(np.int32)


def top_k_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best finite scores of ``scores`` ``[n]``, best first.

    Ties go to the lower position; ``-inf`` (excluded) entries never come back, so
    fewer than ``k`` may.
    """
    n = scores.size
    if k < n:
        kth = np.partition(scores, n - k)[n - k]
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(n)
    candidates = candidates[scores[candidates] > -np.inf]
    order = np.lexsort((candidates, -scores[candidates]))[:k]
    return candidates[order]


def top_k_discounted(
    scores: np.ndarray, buyers: np.ndarray, k: int, discount: float, depth: int = 100
) -> np.ndarray:
    r"""Like :func:`top_k_positions`, with popularity discounted by ``discount`` (α >= 0).

    The best ``max(depth, k)`` products by ``scores`` are re-ordered by
    :math:`\log r + \alpha \log(1 + b)`, with :math:`r` the product's rank in that list
    and :math:`b` its distinct buyers, smallest first: with α = 1 a product ten
    places lower comes first when it has ten times fewer buyers. α = 0 keeps the
    order; the scale of ``scores`` does not matter, so it works for any recommender.
    """
    if discount < 0:
        raise ValueError(f"popularity discount: expected >= 0, got {discount}")
    pool = top_k_positions(scores, max(depth, k))
    if discount == 0 or pool.size == 0:
        return pool[:k]
    key = np.log(np.arange(1, pool.size + 1)) + discount * np.log1p(buyers[pool])
    return pool[np.argsort(key, kind="stable")[:k]]


def nearest_customer_buyers(
    unit_customer: np.ndarray,
    interactions: sp.csr_array,
    position: int,
    recommended: np.ndarray,
    *,
    candidates: np.ndarray,
    num_neighbours: int,
) -> tuple[np.ndarray, int]:
    """How many of a customer's nearest customers (cosine) bought each product.

    Args:
        unit_customer: float32 ``[num_customers, embedding_dim]``, unit rows.
        interactions: Binary ``[num_customers, num_products]``.
        position: The customer.
        recommended: int64 ``[k]`` product positions.
        candidates: bool ``[num_customers]``: who may be a neighbour.
        num_neighbours: Neighbourhood size (fewer when fewer candidates).

    Returns:
        ``(buyers, size)``: int64 ``[k]`` counts and the neighbourhood size used.
    """
    cosine = unit_customer @ unit_customer[position]
    cosine[~candidates] = -np.inf
    cosine[position] = -np.inf
    nearest = top_k_positions(cosine, num_neighbours)
    counts = np.asarray(interactions[nearest][:, recommended].sum(axis=0))
    return np.rint(counts).astype(np.int64).ravel(), int(nearest.size)


def strongest_links(
    co_purchases: sp.csr_array,
    unit_product: np.ndarray,
    recommended: np.ndarray,
    bought: np.ndarray,
    buyers: np.ndarray,
    *,
    min_count: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""For each recommended product, its strongest links to the customer's purchases.

    The co-purchase anchor is the bought product most specific to the pick: the
    largest cosine of their buyer sets, :math:`n_{ij} / \sqrt{b_i b_j}` (shared buyers
    over the geometric mean of their buyers), so a best seller everybody buys does
    not anchor every pick; ties go to the nearer one in the learned space.

    Args:
        co_purchases: int32 ``[num_products, num_products]`` from
            :func:`co_purchase_matrix`.
        unit_product: float32 ``[num_products, embedding_dim]``, unit rows.
        recommended: int64 ``[k]`` product positions.
        bought: int64 ``[num_bought]`` product positions (``num_bought >= 1``).
        buyers: int64 ``[num_products]`` distinct buyers per product.
        min_count: Counts below this are treated as no evidence. (default: ``1``)

    Returns:
        ``(count, co_via, cosine, cos_via)``, each ``[k]``: the co-purchase count
        with the anchor and the anchor (``co_via`` is ``-1`` where ``count`` is 0),
        and the largest cosine in the learned space and the bought product it is to.
    """
    counts = co_purchases[recommended][:, bought].toarray().astype(np.int64)
    counts[counts < max(min_count, 1)] = 0
    spread = np.sqrt(np.outer(buyers[recommended], buyers[bought]).astype(np.float64))
    specific = counts / np.maximum(spread, 1.0)  # [k, num_bought], in [0, 1]
    cosine = unit_product[recommended] @ unit_product[bought].T  # [k, num_bought]
    rows = np.arange(recommended.size)
    best_co = np.lexsort((-cosine, -specific), axis=1)[:, 0]
    best_cos = np.argmax(cosine, axis=1)
    count = counts[rows, best_co]
    co_via = np.where(count > 0, bought[best_co], -1)
    return count, co_via, cosine[rows, best_cos], bought[best_cos]


def _customers(count: int) -> str:
    return f"{count} customer" if count == 1 else f"{count} customers"


def explain_for_customer(
    recommended: np.ndarray,
    bought: np.ndarray,
    *,
    co_purchases: sp.csr_array,
    unit_product: np.ndarray,
    names: np.ndarray,
    buyers: np.ndarray,
    min_co_purchases: int = 1,
    neighbour_buyers: np.ndarray | None = None,
    num_neighbours: int = 0,
    views: np.ndarray | None = None,
) -> list[Explanation]:
    """Reasons for products recommended to one customer, best evidence first.

    Per product: ``bought_before`` if it is in ``bought``; else ``viewed`` if the
    customer viewed it (``views``); else ``co_purchase`` if some bought product
    shares at least ``min_co_purchases`` buyers with it (the most specific one
    wins, see :func:`strongest_links`); else ``similar_bought`` if the nearest
    bought product has a positive cosine; else, for a customer with a vector,
    ``similar_customers`` when some of the nearest customers bought it and
    ``profile`` otherwise; else ``popular``.

    Args:
        recommended: int64 ``[k]`` product positions.
        bought: int64 ``[num_bought]`` the customer's distinct products (may be empty).
        co_purchases: int32 ``[num_products, num_products]`` co-purchase counts.
        unit_product: float32 ``[num_products, embedding_dim]``, unit rows.
        names: object ``[num_products]`` display names.
        buyers: int64 ``[num_products]`` distinct buyers per product.
        min_co_purchases: Smallest count that counts as co-purchase evidence.
        neighbour_buyers: int64 ``[k]``: how many of the customer's
            ``num_neighbours`` nearest customers bought each product, or ``None``
            when the customer has no usable vector.
        num_neighbours: Size of that neighbourhood.
        views: int64 ``[k]``: how often the customer viewed each product, or
            ``None`` when the graph holds no views.

    Returns:
        One ``(kind, text, via_position)`` per recommended product.
    """
    k = recommended.size
    explanations: list[Explanation | None] = [None] * k
    if views is not None:
        for i in np.flatnonzero(views > 0).tolist():
            times = "once" if views[i] == 1 else f"{int(views[i])} times"
            explanations[i] = ("viewed", f"you viewed it {times}", int(recommended[i]))
    if bought.size:
        is_bought = np.isin(recommended, bought)
        count, co_via, cosine, cos_via = strongest_links(
            co_purchases, unit_product, recommended, bought, buyers, min_count=min_co_purchases
        )
        for i in range(k):
            if is_bought[i]:
                explanations[i] = ("bought_before", "you bought this before", int(recommended[i]))
            elif explanations[i] is not None:
                continue
            elif count[i] > 0:
                via = int(co_via[i])
                text = f"bought by {_customers(int(count[i]))} who also bought {names[via]}"
                explanations[i] = ("co_purchase", text, via)
            elif cosine[i] > 0:
                via = int(cos_via[i])
                text = f"similar to {names[via]} you bought (similarity {float(cosine[i]):.2f})"
                explanations[i] = ("similar_bought", text, via)
    no_history = "" if bought.size else " (you have no purchases yet)"
    result: list[Explanation] = []
    for i, explanation in enumerate(explanations):
        if explanation is not None:
            result.append(explanation)
        elif neighbour_buyers is not None and neighbour_buyers[i] > 0:
            text = (
                f"bought by {int(neighbour_buyers[i])} of the {num_neighbours} customers "
                f"most similar to you{no_history}"
            )
            result.append(("similar_customers", text, None))
        elif neighbour_buyers is not None:
            result.append(("profile", f"fits your profile{no_history}", None))
        else:
            text = f"popular: bought by {_customers(int(buyers[recommended[i]]))}{no_history}"
            result.append(("popular", text, None))
    return result


def explain_for_product(count: np.ndarray, cosine: np.ndarray, query: int) -> list[Explanation]:
    """Reasons for products shown next to product ``query`` ("also bought").

    Args:
        count: int64 ``[k]`` co-purchase counts with ``query`` (0 = no evidence).
        cosine: float32 ``[k]`` cosine to ``query`` in the learned space.
        query: Position of the product the list is for (every reason points at it).
    """
    return [
        ("co_purchase", f"bought together by {_customers(int(n))}", query)
        if n > 0
        else ("similar_product", f"similar in the learned space ({float(c):.2f})", query)
        for n, c in zip(count, cosine, strict=True)
    ]


def explain_for_new_product(cosine: np.ndarray, new_name: str) -> list[Explanation]:
    """Reasons for existing products nearest to a new product's projected text.

    Args:
        cosine: float32 ``[k]`` cosine between each product and the new one.
        new_name: How the new product is called in the text.
    """
    return [
        ("text", f"closest by description to {new_name} ({float(c):.2f})", None) for c in cosine
    ]


def explain_customers_for_new_product(
    customer_bought: list[np.ndarray], cosine_to_new: np.ndarray, names: np.ndarray, new_name: str
) -> list[Explanation]:
    """Reasons for customers picked for a new product: their purchase nearest to it.

    Args:
        customer_bought: Per picked customer, int64 ``[num_bought]`` positions.
        cosine_to_new: float32 ``[num_products]`` cosine of every product to the new one.
        names: object ``[num_products]`` display names.
        new_name: How the new product is called in the text.
    """
    result: list[Explanation] = []
    for bought in customer_bought:
        if bought.size == 0:
            result.append(("profile", "fits the customer's profile (no purchases yet)", None))
            continue
        best = int(bought[np.argmax(cosine_to_new[bought])])
        text = (
            f"bought {names[best]}, the closest of their purchases to {new_name} "
            f"(similarity {float(cosine_to_new[best]):.2f})"
        )
        result.append(("similar_bought", text, best))
    return result


def to_results(
    result_type: Callable[..., _Result],
    keys: np.ndarray,
    scores: np.ndarray,
    explanations: list[Explanation],
    product_ids: np.ndarray,
) -> list[_Result]:
    """Ranked results (rank 1 first) of ``result_type``, e.g. :class:`Recommendation`.

    Args:
        result_type: :class:`Recommendation` or :class:`CustomerRecommendation`.
        keys: object ``[k]`` graph keys of the results, best first.
        scores: float ``[k]`` their scores.
        explanations: One per result, from an ``explain_*`` function.
        product_ids: object ``[num_products]``, to turn ``via`` positions into keys.
    """
    return [
        result_type(key, float(score), rank, text, kind, None if via is None else product_ids[via])
        for rank, (key, score, (kind, text, via)) in enumerate(
            zip(keys, scores, explanations, strict=True), start=1
        )
    ]


__all__ = [
    "CustomerRecommendation",
    "Explanation",
    "ReasonKind",
    "Recommendation",
    "co_purchase_matrix",
    "display_names",
    "explain_customers_for_new_product",
    "explain_for_customer",
    "explain_for_new_product",
    "explain_for_product",
    "nearest_customer_buyers",
    "strongest_links",
    "to_results",
    "top_k_discounted",
    "top_k_positions",
    "unit_rows",
]
