"""Recommendations from the trained graph encoder, each with its reason (role reader)."""

from __future__ import annotations

import logging
from typing import Annotated

import strawberry
from strawberry.types import Info

from ...gnn.reasons import Recommendation as RecommendationModel
from ..context import Context
from ..errors import invalid, unavailable
from ..permissions import IsReader
from ..services import Services, encode_text
from .inputs import check_key, check_text
from .nodes import Product
from .pagination import page_size

logger = logging.getLogger("pricegraph.api")


@strawberry.type(description="A recommended product and why.")
class Recommendation:
    key: str = strawberry.field(description="The product's key.")
    rank: int = strawberry.field(description="1-based.")
    score: float = strawberry.field(description="Higher is better; meaning depends on the query.")
    reason: str = strawberry.field(description='e.g. "bought together by 14 customers".')
    reason_kind: str = strawberry.field(description="What the reason rests on.")
    via_product_id: str | None = strawberry.field(description="The product the reason cites.")

    @strawberry.field
    async def product(self, info: Info[Context, None]) -> Product | None:
        return await Product.load(info, self.key)


def recommend(
    services: Services,
    customer_id: str | None,
    product_id: str | None,
    text: str | None,
    k: int,
    include_bought: bool,
    popularity_discount: float = 0.0,
) -> list[RecommendationModel]:
    """The recommender's picks (a read thread); UNAVAILABLE before ``train-gnn``."""
    recommender = services.recommender
    if recommender is None:
        logger.warning("recommendations: no encoder at %s", services.config.encoder_path)
        raise unavailable(
            "recommendations need a trained encoder: none is loaded (run 'pricegraph "
            "train-gnn', or set PRICEGRAPH_API__ENCODER_PATH)"
        )
    if customer_id is not None:
        return recommender.for_customer(
            customer_id, k, include_bought=include_bought, popularity_discount=popularity_discount
        )
    if product_id is not None:
        return recommender.for_product(product_id, k, popularity_discount=popularity_discount)
    return recommender.for_new_product(encode_text(services, text or ""), k)


@strawberry.type
class RecommendQuery:
    @strawberry.field(
        description=(
            "Products for `customerId`, bought with `productId`, or like a new product's "
            "`newProductText`: give exactly one. UNAVAILABLE before the encoder is trained."
        ),
        permission_classes=[IsReader],
    )
    async def recommendations(
        self,
        info: Info[Context, None],
        customer_id: str | None = None,
        product_id: str | None = None,
        new_product_text: str | None = None,
        first: int | None = None,
        include_bought: bool = False,
        popularity_discount: Annotated[
            float,
            strawberry.argument(
                description="0 (default): the ranking as it is; larger: best sellers give "
                "way to less bought products among the 100 best (at 1, ten places for ten "
                "times fewer buyers). Customer and product lists; at most 5."
            ),
        ] = 0.0,
    ) -> list[Recommendation]:
        services = info.context.services
        k = page_size(first, services.config.limits)
        given = [x for x in (customer_id, product_id, new_product_text) if x is not None]
        if len(given) != 1:
            raise invalid("customerId", "give exactly one of customerId, productId, newProductText")
        if new_product_text is not None:
            check_text(new_product_text, "newProductText")
        if not 0.0 <= popularity_discount <= 5.0:
            raise invalid("popularityDiscount", "expected 0 to 5", popularity_discount)
        if new_product_text is not None and popularity_discount:
            raise invalid(
                "popularityDiscount",
                "applies to customerId and productId lists only, not to newProductText",
                popularity_discount,
            )
        picks = await services.read(
            recommend,
            services,
            check_key(customer_id, "customerId") if customer_id is not None else None,
            check_key(product_id, "productId") if product_id is not None else None,
            new_product_text,
            k,
            include_bought,
            popularity_discount,
        )
        return [
            Recommendation(
                key=p.product_id,
                rank=p.rank,
                score=float(p.score),
                reason=p.reason,
                reason_kind=str(p.reason_kind),
                via_product_id=p.via_product_id,
            )
            for p in picks
        ]


__all__ = ["RecommendQuery", "Recommendation", "recommend"]
